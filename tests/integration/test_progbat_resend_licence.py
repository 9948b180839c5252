"""Re-send an entry and licence events, live: MEG (gunicorn + a Celery worker) and the ProGBat
sandbox as separate processes talking HTTP, as in ``test_ingestion_live``."""

import re
from html import unescape

import pytest

from accounting.models import Entry
from partners.common.models import OutboxMessage, PartnerConnection
from partners.progbat.models import ProgbatLink
from tests.conftest import client_for
from tests.integration import test_ingestion_live as ingestion
from tests.integration.conftest import CALLBACK, connect_progbat
from tests.integration.test_ingestion_live import ACCOUNT, CSRF, deliveries, meg_session, today
from tests.integration.workers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
# The live stack of test_ingestion_live (its fixtures, started once for this module too).
stack, live, dupont, api = ingestion.stack, ingestion.live, ingestion.dupont, ingestion.api
RESEND_FORM = re.compile(r'<form method="post" action="([^"]+/mise-a-jour/)"')


def test_resend_replaces_the_draft_with_the_version_computed_from_current_settings(
        live, dupont, accountant, api, settings):
    settings.PROGBAT_BASE_URL = live.sandbox.url
    settings.PROGBAT_REDIRECT_URI = CALLBACK
    connect_progbat(client_for(accountant))
    assert PartnerConnection.objects.get(user=accountant).status == "connected"
    live.start_worker()
    invoice = api.validated_invoice(ACCOUNT, number="RS1", date=today())
    wait_until(lambda: Entry.objects.filter(company=dupont).count() == 1, timeout=30,
               message=live.report)
    assert Entry.objects.get(company=dupont).lines.get(position=2).account == "706000"

    # The client changes its revenue account in ProGBat: only new validations would use it.
    changed = api.call("PUT", f"/accounts/{ACCOUNT}/settings", json={
        "revenue_account": "704000", "revenue_account_label": "Travaux"})
    assert changed.status_code == 200, changed.text

    # The accountant asks for the update from the export space's preview.
    web = meg_session(live, accountant)
    space = f"{live.web_url}/entreprise/{dupont.pk}/export-ecritures/"
    page = web.get(space, timeout=30)
    assert "Demander la mise à jour à ProGBat" in unescape(page.text)
    action = RESEND_FORM.search(page.text).group(1)
    answer = web.post(f"{live.web_url}{action}", data={
        "csrfmiddlewaretoken": CSRF.search(page.text).group(1)},
        headers={"Referer": space}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text[:2000]

    message = OutboxMessage.objects.filter(company=dupont, action="progbat.resend_invoice")
    wait_until(lambda: message.filter(status="sent").exists(), timeout=30,
               message=lambda: f"{list(message.values())}\n{live.report()}")
    sent = wait_until(lambda: deliveries(live.sandbox, type="invoice.updated",
                                         status="delivered"),
                      timeout=30, message=lambda: live.sandbox.state()["deliveries"])
    assert [(d["invoice_id"], d["version"]) for d in sent] == [(invoice["id"], 2)]
    wait_until(lambda: Entry.objects.get(company=dupont).source_version == 2, timeout=30,
               message=live.report)
    entry = Entry.objects.get(company=dupont)  # the draft was replaced, not duplicated
    assert (entry.state, entry.source_ref) == ("draft", invoice["id"])
    revenue = entry.lines.get(position=2)
    assert (revenue.account, revenue.account_label) == ("704000", "Travaux")
    assert api.call("GET", f"/invoices/{invoice['id']}").json()["version"] == 2


def test_a_licence_assigned_in_progbat_shows_in_meg_at_once(live, dupont, accountant, api):
    ProgbatLink.objects.filter(company=dupont).update(
        plan="free", licence_status="free", trial_ends_at=None)
    web = meg_session(live, accountant)
    before = unescape(web.get(f"{live.web_url}/cabinet/", timeout=30).text)
    assert "Compte sans licence" in before

    assigned = api.call("POST", f"/accounts/{ACCOUNT}/licence", json={"plan": "start_plus"})
    assert assigned.status_code == 200, assigned.text
    sent = wait_until(lambda: deliveries(live.sandbox, type="account.licence_changed",
                                         status="delivered"),
                      timeout=30, message=lambda: live.sandbox.state()["deliveries"])
    assert [d["last_status"] for d in sent] == [200]
    link = ProgbatLink.objects.get(company=dupont)
    assert (link.plan, link.licence_status, link.trial_ends_at) == (
        "start_plus", "licensed", None)
    after = unescape(web.get(f"{live.web_url}/cabinet/", timeout=30).text)
    assert "Compte sans licence" not in after
    # ProGBat's account reads the same.
    account = api.call("GET", f"/accounts/{ACCOUNT}").json()
    assert (account["plan"], account["licence_status"]) == ("start_plus", "licensed")
