"""« Importer les factures antérieures » (issue 13): invoices validated in ProGBat before the
link are listed from the live sandbox (``GET /api/v1/invoices``), previewed with totals and
what is left aside, then, once confirmed, journalised as their webhooks would have been —
idempotent with a second backfill and with webhooks of the same version."""

import datetime
import json
import re
from html import unescape

import pytest
from django.utils import timezone

from accounting.models import Entry, FiscalYear, InboxEvent
from audit.models import AuditEvent
from partners.common.models import PartnerConnection
from partners.progbat.models import ProgbatBackfill, ProgbatLink
from tests import factories
from tests.accounting.conftest import signed_headers
from tests.conftest import client_for
from tests.integration.conftest import CALLBACK, connect_progbat
from tests.integration.workers import ProgbatApi, sandbox_token

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ACCOUNT = "acc_demo_dupont"  # seeded in the sandbox: SIREN 900000019
SIRET = "90000001900019"
DETAIL = re.compile(r"/progbat/factures-anterieures/(\d+)/$")


@pytest.fixture
def api(progbat):
    return ProgbatApi(progbat.url, sandbox_token(progbat.url, redirect_uri=CALLBACK))


@pytest.fixture
def dupont(progbat, firm, accountant, prescripteur):
    """Dupont Bâtiment, its accountant connected to ProGBat, the module switched on; the link
    not made yet."""
    company = factories.CompanyFactory(firm=firm, name="Dupont Bâtiment", siret=SIRET)
    factories.CompanyAccountantFactory(company=company, user=accountant)
    client = client_for(accountant)
    connect_progbat(client)
    assert PartnerConnection.objects.get(user=accountant).status == "connected"
    client.post(f"/entreprise/{company.pk}/parametres/modules/", {"modules": ["progbat"]})
    assert ProgbatLink.objects.filter(company=company).exists()
    return company


def link(company):
    """The link becomes active now (as consent and credentials would make it): what ProGBat
    validated before is not retroactive."""
    now = timezone.now()
    ProgbatLink.objects.filter(company=company).update(
        status=ProgbatLink.Status.ACTIVE, consented_at=now, progbat_account_id=ACCOUNT,
        linked_at=now, plan="premium", licence_status="licensed")


def invoice(api, number, day, amount):
    return api.validated_invoice(ACCOUNT, number=number, date=day, amount=amount)


@pytest.fixture
def before_link(dupont, accountant, api):
    """Three invoices validated before the link: two of this year, one dated in last year,
    which is closed."""
    today = timezone.localdate()
    invoices = [invoice(api, "ANT-1", today, "100.00"), invoice(api, "ANT-2", today, "250.00"),
                invoice(api, "ANT-0", today.replace(year=today.year - 1, month=6, day=10),
                        "40.00")]
    FiscalYear.objects.create(firm=dupont.firm, company=dupont,
                              start=datetime.date(today.year - 1, 1, 1),
                              end=datetime.date(today.year - 1, 12, 31), state="closed",
                              closed_at=timezone.now(), closed_by=accountant)
    link(dupont)
    return invoices


def page_url(company):
    return f"/entreprise/{company.pk}/progbat/factures-anterieures/"


def preview(client, company, **period):
    today = timezone.localdate().isoformat()
    response = client.post(page_url(company), {"date_from": period.get("date_from", today),
                                               "date_to": period.get("date_to", today)})
    assert response.status_code == 302, unescape(response.content.decode())[-3000:]
    assert DETAIL.search(response["Location"]), response["Location"]
    return response["Location"]


def text_of(response):
    return unescape(response.content.decode())


def rows(html, verdict=None):
    found = re.findall(r'<tr data-testid="backfill-item" data-verdict="(\w+)">\s*<td>([^<]*)</td>',
                       html)
    return sorted(number for state, number in found if verdict in (None, state))


def total(html, key):
    row = re.search(rf'data-testid="backfill-total-{key}">(.*?)</tr>', html, re.S).group(1)
    return [cell.strip() for cell in re.findall(r'<td class="num">([^<]*)</td>', row)]


def test_the_module_page_offers_the_import_to_the_accountant(before_link, dupont, accountant):
    page = text_of(client_for(accountant).get(f"/entreprise/{dupont.pk}/progbat/"))
    assert "Importer les factures antérieures" in page
    form = text_of(client_for(accountant).get(page_url(dupont)))
    today = timezone.localdate()  # by default: the open year's start up to the link date
    assert f'name="date_from" value="{today.replace(month=1, day=1).isoformat()}"' in form
    assert f'name="date_to" value="{today.isoformat()}"' in form


def test_preview_lists_the_invoices_before_the_link_with_totals(before_link, dupont, accountant):
    client = client_for(accountant)
    html = text_of(client.get(preview(client, dupont)))
    assert rows(html) == ["ANT-0", "ANT-1", "ANT-2"]
    assert rows(html, "import") == ["ANT-1", "ANT-2"]
    assert rows(html, "closed") == ["ANT-0"]
    assert "l'exercice du 01/01" in html and "est clôturé" in html
    assert total(html, "import") == ["2", "350,00 €", "70,00 €", "420,00 €"]
    assert total(html, "closed") == ["1", "40,00 €", "8,00 €", "48,00 €"]
    assert total(html, "all")[0] == "3"
    assert 'data-testid="backfill-confirm"' in html
    assert not Entry.objects.filter(company=dupont).exists()  # a preview imports nothing
    assert not InboxEvent.objects.filter(company=dupont).exists()


def test_confirm_journalises_them_once_even_clicked_twice_or_run_again(
        before_link, dupont, accountant):
    client = client_for(accountant)
    detail = preview(client, dupont)
    for _click in range(2):  # a double click
        assert client.post(detail).status_code == 302
    entries = Entry.objects.filter(company=dupont).order_by("piece_ref")
    assert [(e.piece_ref, e.journal.code, e.state) for e in entries] == [
        ("ANT-1", "VT", "draft"), ("ANT-2", "VT", "draft")]
    assert [line.debit for line in entries[1].lines.order_by("position")][:1] == [300]
    html = text_of(client.get(detail))
    assert "2 facture(s) importée(s), 1 écartée(s)" in html
    backfill = ProgbatBackfill.objects.get()
    assert (backfill.status, backfill.imported, backfill.skipped) == ("done", 2, 1)

    # A second backfill of the same period: all listed, nothing more to import.
    again = text_of(client.get(preview(client, dupont)))
    assert rows(again, "already") == ["ANT-1", "ANT-2"]
    assert 'data-testid="backfill-nothing"' in again
    assert Entry.objects.filter(company=dupont).count() == 2


def test_a_replayed_webhook_adds_nothing_and_a_newer_version_updates_the_draft(
        before_link, dupont, accountant, api, progbat, client):
    web = client_for(accountant)
    web.post(preview(web, dupont))
    assert Entry.objects.filter(company=dupont).count() == 2
    first = before_link[0]
    listed = api.call("GET", "/invoices", params={
        "account_id": ACCOUNT, "validated_from": timezone.localdate().isoformat(),
        "validated_to": timezone.localdate().isoformat()}).json()["results"]
    body = json.dumps({"type": "invoice.validated", "data": {
        "account_id": ACCOUNT, "siren": SIRET[:9],
        "invoice": next(item for item in listed if item["id"] == first["id"])}})
    replay = client.post("/partners/progbat/webhooks/", data=body,
                         content_type="application/json", **signed_headers(body))
    assert replay.status_code == 200, replay.content
    assert Entry.objects.filter(company=dupont).count() == 2

    # The client edits the invoice in ProGBat after the link: version 2 replaces the draft.
    edited = api.call("PATCH", f"/invoices/{first['id']}", json={"lines": [
        {"label": "Travaux", "amount_excl_tax": "150.00", "vat_rate": "20.00"}]})
    assert edited.status_code == 200 and edited.json()["version"] == 2
    current = api.call("GET", "/invoices", params={
        "account_id": ACCOUNT, "validated_from": timezone.localdate().isoformat(),
        "validated_to": timezone.localdate().isoformat()}).json()["results"]
    body = json.dumps({"type": "invoice.updated", "data": {
        "account_id": ACCOUNT, "siren": SIRET[:9],
        "invoice": next(item for item in current if item["id"] == first["id"])}})
    update = client.post("/partners/progbat/webhooks/", data=body,
                         content_type="application/json", **signed_headers(body))
    assert update.status_code == 202, update.content
    entry = Entry.objects.get(company=dupont, source_ref=first["id"])
    assert entry.source_version == 2
    assert entry.lines.get(position=1).debit == 180
    assert Entry.objects.filter(company=dupont).count() == 2


def test_confirm_is_audited_with_who_the_period_and_the_counts(before_link, dupont, accountant):
    client = client_for(accountant)
    client.post(preview(client, dupont))
    confirmed = AuditEvent.objects.get(action="progbat.backfill_confirmed")
    assert (confirmed.actor, confirmed.company) == (accountant, dupont)
    today = timezone.localdate().isoformat()
    assert confirmed.data["date_from"] == confirmed.data["date_to"] == today
    assert confirmed.data["counts"] == {"import": 2, "closed": 1, "all": 3}
    done = AuditEvent.objects.get(action="progbat.backfill_done")
    assert (done.data["imported"], done.data["skipped"]) == (2, 1)
    assert done.data["skipped_by_reason"]["closed"] == 1


def test_the_invoices_page_by_page(before_link, dupont, accountant, progbat):
    progbat.control("pages", {"invoices": 1})  # ProGBat answers one invoice per page
    client = client_for(accountant)
    html = text_of(client.get(preview(client, dupont)))
    assert rows(html) == ["ANT-0", "ANT-1", "ANT-2"]


def test_a_period_after_the_link_date_is_refused(before_link, dupont, accountant):
    client = client_for(accountant)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(page_url(dupont), {"date_from": tomorrow, "date_to": tomorrow})
    assert response.status_code == 400
    assert "au plus tard à la date de la liaison" in text_of(response)
    reversed_period = client.post(page_url(dupont), {"date_from": "2026-02-01",
                                                     "date_to": "2026-01-01"})
    assert reversed_period.status_code == 400
    assert not ProgbatBackfill.objects.exists()


@pytest.mark.parametrize(("fault", "message"), [
    ("500", "ProGBat ne répond pas pour le moment"),
    ("revoked", "doit être renouvelée"),
])
def test_progbat_failures_show_a_french_message_and_import_nothing(
        before_link, dupont, accountant, progbat, fault, message):
    if fault == "revoked":
        progbat.control("tokens/revoke")
    else:
        progbat.control("faults", {"api": fault})
    client = client_for(accountant)
    today = timezone.localdate().isoformat()
    response = client.post(page_url(dupont), {"date_from": today, "date_to": today})
    assert response.status_code == 400
    assert message in text_of(response)
    assert not ProgbatBackfill.objects.exists()
    assert not Entry.objects.filter(company=dupont).exists()


def test_another_firms_company_and_users_without_rights_are_refused(
        before_link, dupont, accountant, other_firm_user):
    client = client_for(accountant)
    detail = preview(client, dupont)
    stranger = client_for(other_firm_user)
    assert stranger.get(page_url(dupont)).status_code == 404
    assert stranger.get(detail).status_code == 404
    assert stranger.post(detail).status_code == 404
    dirigeant = factories.CompanyMembershipFactory(company=dupont,
                                                   user__email="patron@dupont.test").user
    assert client_for(dirigeant).get(page_url(dupont)).status_code == 403
    assert client_for(dirigeant).post(detail).status_code == 403
    assert ProgbatBackfill.objects.get().status == "preview"
    assert not Entry.objects.filter(company=dupont).exists()
