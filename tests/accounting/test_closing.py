"""Closing a fiscal year (DESIGN §7.1): the legal FEC of the year, then nothing enters it."""

import hashlib

import pytest

from accounting.formats import FEC_COLUMNS, fec_check
from accounting.models import Entry, FiscalYear
from tests.accounting.conftest import invoice_event
from users.models import ApiToken


@pytest.fixture
def api(accountant):
    from django.test import Client

    _row, token = ApiToken.objects.create(user=accountant)
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def close(api, company, end, capture):
    with capture(execute=True):
        return api.post(f"/api/v1/companies/{company.pk}/fiscal-years/{end}/close")


def download(api, company, export_id):
    response = api.get(f"/api/v1/companies/{company.pk}/exports/{export_id}/file")
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


@pytest.fixture
def year_2026(linked_company, post_webhook, api, django_capture_on_commit_callbacks):
    """Three invoices of 2026 (one exported during the year), one of 2027; 2026 closed."""
    for n, day in enumerate(["2026-06-10", "2026-09-01", "2026-12-31"], start=1):
        post_webhook(invoice_event(linked_company, invoice_id=f"inv_{n}", number=f"F{n}",
                                   date=day))
    post_webhook(invoice_event(linked_company, invoice_id="inv_27", number="F27",
                               date="2027-01-05"))
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/companies/{linked_company.pk}/exports/",
                 {"format": "csv", "date_from": "2026-06-01", "date_to": "2026-06-30"},
                 content_type="application/json")
    response = close(api, linked_company, "2026-12-31", django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    return linked_company, response.json()["export_id"]


def test_closing_produces_the_legal_fec_of_the_whole_year(year_2026, api):
    company, export_id = year_2026
    body = download(api, company, export_id)
    lines = body.split(b"\r\n")
    assert fec_check(line + b"\r\n" for line in lines if line) == 9  # 3 entries x 3 lines
    rows = [dict(zip(FEC_COLUMNS, line.decode().split("\t"), strict=True))
            for line in lines[1:] if line]
    assert sorted({row["PieceRef"] for row in rows}) == ["F1", "F2", "F3"]
    assert sorted({row["EcritureNum"] for row in rows}) == [
        "VT-2026-000001", "VT-2026-000002", "VT-2026-000003"]
    listing = api.get(f"/api/v1/companies/{company.pk}/exports/{export_id}/").json()
    assert listing["file_name"] == f"{company.siren}FEC20261231.txt"
    assert listing["kind"] == "closing"
    assert hashlib.sha256(body).hexdigest() == listing["sha256"]
    assert download(api, company, export_id) == body  # byte for byte, again


def test_closed_year_is_listed_with_its_fec(year_2026, api, accountant):
    company, export_id = year_2026
    years = api.get(f"/api/v1/companies/{company.pk}/fiscal-years/").json()
    by_end = {year["end"]: year for year in years}
    assert by_end["2026-12-31"]["state"] == "closed"
    assert by_end["2026-12-31"]["fec_export_id"] == export_id
    assert by_end["2026-12-31"]["closed_by"] == accountant.email
    assert by_end["2027-12-31"]["state"] == "open"
    assert not Entry.objects.filter(date__year=2026, state="draft").exists()
    assert Entry.objects.get(source_ref="inv_27").state == "draft"


def test_closing_twice_answers_409(year_2026, api, django_capture_on_commit_callbacks):
    company, _export_id = year_2026
    again = close(api, company, "2026-12-31", django_capture_on_commit_callbacks)
    assert again.status_code == 409
    assert FiscalYear.objects.count() == 1


def test_a_day_that_is_not_a_closing_date_is_refused(linked_company, api,
                                                     django_capture_on_commit_callbacks):
    response = close(api, linked_company, "2026-06-30", django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert not FiscalYear.objects.exists()


def test_an_invoice_arriving_later_lands_in_the_next_open_year(year_2026, post_webhook, api):
    company, _export_id = year_2026
    response = post_webhook(invoice_event(company, invoice_id="inv_late", number="LATE",
                                          date="2026-11-15"))
    assert response.status_code == 202
    entry = Entry.objects.get(source_ref="inv_late")
    assert (str(entry.date), str(entry.piece_date), entry.fiscal_year) == (
        "2027-01-01", "2026-11-15", 2027)
    assert "clôturé" in entry.note
    listed = api.get(f"/api/v1/companies/{company.pk}/entries/",
                     {"date_from": "2027-01-01"}).json()["results"]
    assert {e["piece_ref"]: e["piece_date"] for e in listed}["LATE"] == "2026-11-15"


def test_nothing_enters_a_closed_year_through_an_update_either(year_2026, post_webhook):
    company, _export_id = year_2026
    response = post_webhook(invoice_event(company, invoice_id="inv_27", number="F27", version=2,
                                          event_type="invoice.updated", date="2026-12-20"))
    assert response.status_code == 202
    entry = Entry.objects.get(source_ref="inv_27")
    assert (str(entry.date), str(entry.piece_date)) == ("2027-01-01", "2026-12-20")


def test_import_export_of_a_carried_over_entry_keeps_its_piece_date(
        year_2026, post_webhook, api, django_capture_on_commit_callbacks):
    company, _export_id = year_2026
    post_webhook(invoice_event(company, invoice_id="inv_late", number="LATE",
                               date="2026-11-15"))
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(f"/api/v1/companies/{company.pk}/exports/",
                           {"format": "fec", "date_from": "2027-01-01",
                            "date_to": "2027-01-31"}, content_type="application/json")
    assert created.status_code == 201, created.content
    body = download(api, company, created.json()["id"]).decode()
    late = [line.split("\t") for line in body.split("\r\n") if "\tLATE\t" in line]
    assert {(row[3], row[9]) for row in late} == {("20270101", "20261115")}


def test_closing_from_the_export_space_needs_a_confirmation(linked_company, post_webhook,
                                                            client, accountant,
                                                            django_capture_on_commit_callbacks):
    post_webhook(invoice_event(linked_company))
    client.force_login(accountant)
    url = f"/entreprise/{linked_company.pk}/export-ecritures/exercices/2026-12-31/cloturer/"
    client.post(url)
    assert not FiscalYear.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirm": "1"})
    assert response.status_code == 302
    year = FiscalYear.objects.get()
    assert year.state == "closed"
    page = client.get(f"/entreprise/{linked_company.pk}/export-ecritures/").content.decode()
    assert f"{linked_company.siren}FEC20261231.txt" in page


def test_firm_of_another_tenant_cannot_close(linked_company, other_firm_user, client,
                                             django_capture_on_commit_callbacks):
    client.force_login(other_firm_user)
    response = client.post(f"/entreprise/{linked_company.pk}/export-ecritures/exercices/"
                           "2026-12-31/cloturer/", {"confirm": "1"})
    assert response.status_code == 404
    assert not FiscalYear.objects.exists()
