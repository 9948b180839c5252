"""Finding 7: no query string makes a page or the API answer 5xx. Every GET URL of our apps is
walked with the user's own objects and hostile query strings, as a firm accountant and as a
dirigeant; a NUL anywhere in a query string or a form is refused once, for the whole site
(PostgreSQL cannot hold it in text)."""

import datetime

import pytest
import requests
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounting.models import BatchExport, Entry, ExportBatch, Journal
from companies.models import Module
from companies.services import modules_save, user_module_access_set
from firms.models import FirmMembership
from notifications.models import Notification
from partners.progbat.models import ProgbatBackfill, ProgbatLink
from purchases.models import SupplierInvoice
from tests import factories
from tests.conftest import client_for
from tests.purchases.conftest import make_invoice
from tests.test_tenancy import app_patterns

LONG = "9" * 5000
# Few query strings, each carrying several parameters (each view reads only a few of them).
HOSTILE_QUERIES = [
    "q=%00", "journal=%00", "facture=%00&code=%00&%00=1",  # refused once for the whole site
    "page=-1&exports_page=-5&date_from=2026-13-45&date_to=0000-00-00&facture=abc&code=x",
    "page=abc&exports_page=abc&partial=1&date_from=abc&date_to=2026-02-30&facture=-1&error=x",
    "page=99999999999999999999999&facture=²&journal=ZZ&format=xml&encoding=latin-9&kind=x"
    "&onglet=reglements&status=to_pay&payment_method=libeo&state=x&action=x&module=x",
    f"q={LONG}&journal={LONG}&facture={LONG}&page={LONG}&onglet={LONG}&status={LONG}"
    f"&payment_method={LONG}&date_from={LONG}&state={LONG}&code={LONG}",
    "q=%F0%9F%98%80%E2%80%AE%ED%A0%80&page=%E2%80%A8&status=%FF",  # emoji, RTL, bad UTF-8
]


def unreachable(*args, **kwargs):
    raise requests.ConnectionError("no partner in this test")


@pytest.fixture
def own_objects(company, accountant, dirigeant, monkeypatch):
    """Ids of the user's own objects, with every module the company may have switched on."""
    monkeypatch.setattr(requests.Session, "request", unreachable)  # partners are down
    today = datetime.date.today()
    factories.LicenceFactory(company=company, user=dirigeant, tier="premium",
                             starts_on=today, ends_on=today + datetime.timedelta(days=30))
    enabled = []
    for code in Module.objects.values_list("code", flat=True):
        try:  # ProGBat needs a partner connection first: left off
            modules_save(company=company, actor=accountant, enabled_codes=[*enabled, code])
        except ValidationError:
            continue
        enabled.append(code)
    for module in Module.objects.filter(code__in=enabled):
        user_module_access_set(company=company, actor=accountant, user=dirigeant,
                               module=module, enabled=True, is_admin=True)
    invoice = make_invoice(company, dirigeant)
    journal = Journal.objects.create(firm=company.firm, company=company, code="VT",
                                     label="Ventes", source="progbat")
    export = ExportBatch.objects.create(
        firm=company.firm, company=company, format="fec", journal_codes=["VT"],
        created_by=accountant, date_from="2026-01-01", date_to="2026-12-31", status="done")
    entry = Entry.objects.create(firm=company.firm, company=company, journal=journal,
                                 fiscal_year=2026, date="2026-06-10", piece_ref="FAC001",
                                 label="FAC001 X", source_ref="inv_sweep", source_version=1,
                                 validated_at="2026-06-10T09:30:00Z")
    return {"company_id": company.pk, "invoice_id": invoice.pk, "export_id": export.pk,
            "entry_id": entry.pk,
            "journal_id": journal.pk, "end": "2026-12-31", "user_id": dirigeant.pk,
            "token": "not-a-real-invitation-token",
            "supplier_id": invoice.supplier_id,
            "notification_id": Notification.objects.create(
                user=accountant, kind="link_error", fact_key="sweep", title="x").pk,
            "membership_id": FirmMembership.objects.get(user=accountant).pk,
            "backfill_id": _progbat_linked(company, accountant) and ProgbatBackfill.objects.create(
                firm=company.firm, company=company, date_from="2026-01-01",
                date_to="2026-03-31", requested_by=accountant).pk,
            "batch_id": BatchExport.objects.create(
                firm=company.firm, created_by=accountant, selection="Toutes", format="fec",
                date_from="2026-11-01", date_to="2026-11-30").pk,
            "module_code": "facturation", "format": "json"}


def _progbat_linked(company, accountant):
    """An active ProGBat link (made without ProGBat: partners are down here), so that the
    pages of a linked company are walked too."""
    now = datetime.datetime.now(datetime.UTC)
    return ProgbatLink.objects.get_or_create(company=company, defaults={
        "firm": company.firm, "status": "active", "activated_at": now, "activated_by": accountant,
        "progbat_account_id": "acc_sweep", "linked_at": now})


def get_urls(kwargs_source):
    urls = []
    for name, route, pattern in app_patterns():
        names = list(pattern.regex.groupindex)
        missing = set(names) - set(kwargs_source)
        assert not missing, f"{name}: teach this test how to fill {missing}"
        urls.append(reverse(name, kwargs={k: kwargs_source[k] for k in names}) if names
                    else "/" + route)
    return urls


def test_no_page_answers_5xx_to_hostile_query_strings(own_objects, accountant, dirigeant):
    urls = get_urls(own_objects)
    assert len(urls) >= 40
    failures, answers = [], {}
    for user in (accountant, dirigeant):
        client = client_for(user)
        client.raise_request_exception = False  # a 500 is a finding to list, not a stop
        for url in urls:
            for query in HOSTILE_QUERIES:
                status = client.get(f"{url}?{query}").status_code
                answers[status] = answers.get(status, 0) + 1
                if status >= 500:
                    failures.append(f"{user.email} GET {url}?{query[:60]} → {status}")
    assert not failures, "\n".join(failures)
    assert {200, 400} <= set(answers), answers


def test_no_page_answers_5xx_to_ids_beyond_what_the_database_holds(own_objects, accountant,
                                                                   dirigeant):
    huge = {key: 10**20 if isinstance(value, int) else value
            for key, value in own_objects.items()}
    urls = [url for url in get_urls(huge) if str(10**20) in url]
    assert len(urls) >= 12
    failures = []
    for user in (accountant, dirigeant):
        client = client_for(user)
        client.raise_request_exception = False
        failures += [f"{user.email} GET {url}" for url in urls
                     if client.get(url).status_code >= 500]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("url", [
    "/entreprise/{company}/achats/libeo/retour/?facture=abc",
    "/cabinet/parametres/utilisateurs-entreprises/?q=%00",
    "/api/v1/companies/{company}/entries/?journal=%00",
], ids=["libeo-return", "firm-users-search", "api-entries"])
def test_the_reported_urls_no_longer_answer_500(own_objects, accountant, url):
    client = client_for(accountant)
    client.raise_request_exception = False
    assert client.get(url.format(company=own_objects["company_id"])).status_code < 500


def test_a_nul_in_a_query_string_answers_400(own_objects, accountant):
    client = client_for(accountant)
    assert client.get("/cabinet/parametres/utilisateurs-entreprises/?q=%00").status_code == 400
    assert client.get("/cabinet/parametres/utilisateurs-entreprises/?q=a").status_code == 200


def test_a_nul_in_a_form_answers_400_and_changes_nothing(own_objects, accountant):
    client = client_for(accountant)
    url = f"/entreprise/{own_objects['company_id']}/achats/{own_objects['invoice_id']}/"
    response = client.post(url, {"supplier_name": "Bois\x00", "number": "X"})
    assert response.status_code == 400
    assert SupplierInvoice.objects.get().supplier_name == "Matériaux Rhône"
    response = client.post("/cabinet/", {"anything": "ok", "q\x00": "1"})
    assert response.status_code == 400


def test_the_libeo_return_goes_back_to_the_company_s_own_invoice_only(
        own_objects, dirigeant, other_company):
    client = client_for(dirigeant)  # an Achats administrator
    company, invoice = own_objects["company_id"], own_objects["invoice_id"]
    back = f"/entreprise/{company}/achats/libeo/retour/?code=x&facture="
    home = f"/entreprise/{company}/achats/"
    assert client.get(f"{back}{invoice}")["Location"] == f"{home}{invoice}/"
    foreign = make_invoice(other_company, other_company.memberships.first().user)
    for junk in ("abc", "-1", "²", "9" * 40, str(foreign.pk)):
        assert client.get(f"{back}{junk}")["Location"] == home, junk
    connect = f"/entreprise/{company}/achats/libeo/connecter/?facture="
    for junk in ("abc", "²", "9" * 40, str(foreign.pk)):
        assert client.get(f"{connect}{junk}").status_code == 404, junk
