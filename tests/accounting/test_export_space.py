"""The export space and the API: what accountants see, download, and may do."""

import datetime
import hashlib
from html import unescape

import pytest
from django.test import Client

from accounting.models import Entry, ExportBatch, Journal
from accounting.services.journals import journal_for
from companies.services import modules_save
from tests import factories
from tests.accounting.conftest import invoice_event
from tests.conftest import client_for
from users.models import ApiToken


@pytest.fixture
def with_invoices(linked_company, post_webhook):
    post_webhook(invoice_event(linked_company))
    post_webhook(invoice_event(linked_company, invoice_id="inv_2", number="FAC002",
                               date="2026-07-01"))
    return linked_company


def space(company):
    return f"/entreprise/{company.pk}/export-ecritures/"


def test_journals_with_counts_and_totals_and_the_preview(with_invoices, accountant):
    html = unescape(client_for(accountant).get(space(with_invoices)).content.decode())
    assert "VT" in html and "Ventes ProGBat" in html
    assert "240,00 €" in html  # total debit of the two invoices
    for header in ["Date", "Pièce", "Libellé", "Compte", "Débit", "Crédit"]:
        assert "<th" in html and header in html
    assert html.count('data-testid="preview-line"') == 6
    assert "10/06/2026" in html and "FAC001 DUPONT" in html


def test_preview_filters_by_period(with_invoices, accountant):
    html = client_for(accountant).get(space(with_invoices), {
        "date_from": "2026-07-01", "date_to": "2026-07-31"}).content.decode()
    assert html.count('data-testid="preview-line"') == 3 and "FAC002" in html
    assert "FAC001" not in html


def test_export_then_redownload_the_same_bytes(with_invoices, accountant,
                                               django_capture_on_commit_callbacks):
    client = client_for(accountant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(space(with_invoices), {
            "date_from": "2026-01-01", "date_to": "2026-12-31", "journals": ["VT"],
            "format": "fec"})
    assert response.status_code == 302
    batch = ExportBatch.objects.get()
    assert (batch.status, batch.entry_count, batch.created_by) == ("done", 2, accountant)
    url = f"{space(with_invoices)}exports/{batch.pk}/fichier/"
    first = b"".join(client.get(url).streaming_content)
    second = b"".join(client.get(url).streaming_content)
    assert first == second and hashlib.sha256(first).hexdigest() == batch.sha256
    html = client.get(space(with_invoices)).content.decode()
    assert batch.file_name in html and accountant.display_name in html


def test_export_with_nothing_to_export_says_so(linked_company, accountant):
    client = client_for(accountant)
    journal_for(linked_company, Journal.Source.PROGBAT)
    response = client.post(space(linked_company), {
        "date_from": "2026-01-01", "date_to": "2026-12-31", "journals": ["VT"],
        "format": "csv"})
    assert response.status_code == 400
    assert "Aucune écriture à exporter" in unescape(response.content.decode())


def test_dirigeant_without_the_module_cannot_open_the_space(with_invoices, dirigeant):
    assert client_for(dirigeant).get(space(with_invoices)).status_code == 403


def test_dirigeant_with_the_module_reads_but_cannot_export(with_invoices, dirigeant,
                                                           accountant):
    modules_save(company=with_invoices, actor=accountant, enabled_codes=["export-ecritures"])
    client = client_for(dirigeant)
    assert client.get(space(with_invoices)).status_code == 200
    response = client.post(space(with_invoices), {"date_from": "2026-01-01",
                                                  "date_to": "2026-12-31",
                                                  "journals": ["VT"], "format": "fec"})
    assert response.status_code == 403
    assert not ExportBatch.objects.exists()


def test_api_journals_entries_and_exports(with_invoices, accountant,
                                          django_capture_on_commit_callbacks):
    _row, token = ApiToken.objects.create(user=accountant)
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    base = f"/api/v1/companies/{with_invoices.pk}/"
    journals = api.get(f"{base}journals/").json()
    journal_id = journals[0].pop("id")
    assert journal_id == Journal.objects.get(company=with_invoices).pk
    assert journals == [{"code": "VT", "label": "Ventes ProGBat", "source": "progbat",
                         "entry_count": 2, "draft_count": 2, "total_debit": "240.00"}]
    entries = api.get(f"{base}entries/", {"journal": "VT", "date_from": "2026-07-01"}).json()
    assert [e["piece_ref"] for e in entries["results"]] == ["FAC002"]
    assert entries["results"][0]["lines"][0]["aux_account"] == "DUPO"
    assert api.get(f"{base}entries/", {"date_from": "juin"}).status_code == 400

    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(f"{base}exports/", {"format": "fec", "journals": ["VT"],
                                               "date_from": "2026-01-01",
                                               "date_to": "2026-12-31"},
                           content_type="application/json")
    assert created.status_code == 201
    export_id = created.json()["id"]
    detail = api.get(f"{base}exports/{export_id}/").json()
    assert detail["status"] == "done" and detail["entry_count"] == 2
    file = api.get(f"{base}exports/{export_id}/file")
    assert b"".join(file.streaming_content).startswith(b"JournalCode\tJournalLib")
    assert set(Entry.objects.values_list("state", flat=True)) == {"exported"}


def test_api_hides_other_firms_accounting(with_invoices, other_firm_user):
    _row, token = ApiToken.objects.create(user=other_firm_user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    base = f"/api/v1/companies/{with_invoices.pk}/"
    for path in ["journals/", "entries/", "exports/"]:
        assert api.get(base + path).status_code == 404
    response = api.post(f"{base}exports/", {"format": "fec", "journals": ["VT"],
                                            "date_from": "2026-01-01",
                                            "date_to": "2026-12-31"},
                        content_type="application/json")
    assert response.status_code == 404
    assert not ExportBatch.objects.exists()


def test_partner_events_page_lists_ignored_events(linked_company, post_webhook, accountant):
    post_webhook(invoice_event(linked_company, validated_at="2026-05-01T10:00:00Z"))
    html = unescape(client_for(accountant).get("/cabinet/evenements-partenaires/")
                    .content.decode())
    assert "FAC001" in html and "non rétroactif" in html
    other = factories.FirmMembershipFactory().user
    assert "FAC001" not in client_for(other).get("/cabinet/evenements-partenaires/")\
        .content.decode()


def test_export_requested_while_the_broker_is_down_is_kept_and_swept_later(
        with_invoices, accountant, django_capture_on_commit_callbacks, monkeypatch):
    from kombu.exceptions import OperationalError

    from accounting import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.export_run, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(accountant).post(space(with_invoices), {
                "date_from": "2026-01-01", "date_to": "2026-12-31", "journals": ["VT"],
                "format": "fec"})
    assert response.status_code == 302  # the accountant is not shown an error page
    batch = ExportBatch.objects.get()
    assert batch.status == "pending"
    ExportBatch.objects.filter(pk=batch.pk).update(
        created_at=batch.created_at - datetime.timedelta(minutes=5))
    tasks.export_sweep()  # the periodic sweeper, once the broker is back
    batch.refresh_from_db()
    assert batch.status == "done" and batch.entry_count == 2
