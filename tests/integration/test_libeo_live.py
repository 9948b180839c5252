"""Libeo end to end against the live sandbox: the API key, one-click payments, and nothing
ever paid twice — double clicks, retried tasks, lost answers, a sandbox failing 20 %."""

from html import unescape

import pytest
from django.db import connection as db

from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_deliver_one
from partners.libeo.models import LibeoConnection
from purchases.models import Payment
from purchases.services import invoice_pay, invoice_update
from tests.conftest import client_for
from tests.purchases.conftest import make_invoice

pytestmark = pytest.mark.integration


def libeo_key(libeo, company, *, plan="free", accountant=None):
    users = [{"email": "patron@alpha.test", "role": "owner"}]
    if accountant:
        users.append({"email": accountant, "role": "accountant"})
    return libeo.control("companies", {"siren": company.siren, "name": company.name,
                                       "plan": plan, "users": users})["api_key"]


def payments_at_libeo(libeo, invoice):
    return libeo.state()["payments_by_invoice"].get(f"meg-{invoice.pk}", 0)


def deliver_all(rounds=30):
    """Play the relay until every message is settled, as retries would (without waiting)."""
    for _ in range(rounds):
        waiting = list(OutboxMessage.objects.exclude(status__in=["sent", "failed"])
                       .values_list("pk", flat=True))
        if not waiting:
            return
        for message_id in waiting:
            outbox_deliver_one(message_id)
    raise AssertionError("the outbox did not settle")


@pytest.fixture
def connected(libeo, achats, dirigeant):
    client = client_for(dirigeant)
    response = client.post(f"/entreprise/{achats.pk}/achats/options/",
                           {"api_key": libeo_key(libeo, achats, accountant="expert@alpha.test")})
    assert response.status_code == 302
    return achats


def test_a_good_key_is_checked_saved_encrypted_and_shown_masked(libeo, achats, dirigeant):
    key = libeo_key(libeo, achats)
    client = client_for(dirigeant)
    client.post(f"/entreprise/{achats.pk}/achats/options/", {"api_key": key})
    html = unescape(client.get(f"/entreprise/{achats.pk}/achats/options/").content.decode())
    assert key not in html and key[-4:] in html
    assert "0 / 5" in html and "gratuite" in html
    with db.cursor() as cursor:
        cursor.execute("SELECT api_key FROM libeo_libeoconnection")
        assert key not in cursor.fetchone()[0]
    assert LibeoConnection.objects.get().api_key == key


def test_a_bad_key_is_refused_with_a_message(libeo, achats, dirigeant):
    response = client_for(dirigeant).post(f"/entreprise/{achats.pk}/achats/options/",
                                          {"api_key": "lk_this_key_does_not_exist"})
    assert response.status_code == 400
    assert "Libeo refuse cette clé" in unescape(response.content.decode())
    assert not LibeoConnection.objects.exists()


def test_a_key_of_another_company_is_refused(libeo, achats, dirigeant):
    response = client_for(dirigeant).post(f"/entreprise/{achats.pk}/achats/options/",
                                          {"api_key": "libeo_demo_dupont_0123456789abcdef"})
    assert response.status_code == 400
    assert "Dupont Bâtiment" in unescape(response.content.decode())
    assert not LibeoConnection.objects.exists()


def test_one_click_pays(connected, dirigeant, libeo, django_capture_on_commit_callbacks):
    invoice = make_invoice(connected, dirigeant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(dirigeant).post(
            f"/entreprise/{connected.pk}/achats/{invoice.pk}/payer/")
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.status in ("scheduled", "paid") and payment.provider_payment_id
    assert payments_at_libeo(libeo, invoice) == 1
    html = client_for(dirigeant).get(f"/entreprise/{connected.pk}/achats/{invoice.pk}/")
    assert payment.get_status_display() in html.content.decode()


def calls_received(libeo):
    """How many ``/api/v1`` calls (``/me`` aside) reached Libeo since faults were set to
    ``slow`` at rate 1: every such call is counted, and answered normally 2 s later."""
    return libeo.state()["faults"]["injected"].get("slow", 0)


def test_a_double_click_sends_one_payment_to_libeo(connected, dirigeant, libeo,
                                                   django_capture_on_commit_callbacks):
    """Counted at Libeo, not in MEG: a second payment would be a second call even though
    Libeo itself would refuse it (409 ``invoice_already_paid``, so never in its payments)."""
    invoice = make_invoice(connected, dirigeant)
    client = client_for(dirigeant)
    libeo.control("faults", {"rate": 1.0, "kinds": ["slow"], "except_me": True})
    # Both clicks land before the first payment is delivered, as a real double click does.
    with django_capture_on_commit_callbacks() as deliveries:
        for _ in range(2):
            client.post(f"/entreprise/{connected.pk}/achats/{invoice.pk}/payer/")
    for deliver in deliveries:
        deliver()
    assert calls_received(libeo) == 2  # the invoice (PUT), then its payment (POST), once
    (paid,) = [p for p in libeo.state()["payments"]
               if p["invoice_external_id"] == f"meg-{invoice.pk}"]
    assert paid["idempotency_key"] == f"meg-pay:{invoice.pk}:1"
    payment = Payment.objects.get()
    assert payment.provider_payment_id == str(paid["id"])
    assert payment.status in ("scheduled", "paid")


def test_a_retried_task_and_a_lost_answer_pay_once(connected, dirigeant, libeo):
    invoice = make_invoice(connected, dirigeant)
    libeo.control("faults", {"rate": 1.0, "kinds": ["500_after"], "except_me": True})
    invoice_pay(invoice=invoice, actor=dirigeant)
    message = OutboxMessage.objects.get(action="libeo.pay")
    outbox_deliver_one(message.pk)  # Libeo pays, but its answer is lost (500)
    assert Payment.objects.get().status == "retrying"
    assert "nouvel essai" in Payment.objects.get().error_detail
    libeo.control("faults", {"rate": 0})
    outbox_deliver_one(message.pk)  # the retry, same idempotency key
    outbox_deliver_one(message.pk)  # a duplicate delivery of the same task
    assert Payment.objects.get().status in ("scheduled", "paid")
    assert payments_at_libeo(libeo, invoice) == 1


def test_a_sandbox_failing_20_percent_still_pays_each_invoice_once(libeo, achats, dirigeant):
    client_for(dirigeant).post(f"/entreprise/{achats.pk}/achats/options/",
                               {"api_key": libeo_key(libeo, achats, plan="partnerships")})
    invoices = [make_invoice(achats, dirigeant, number=f"F-{n:03d}") for n in range(40)]
    libeo.control("faults", {"rate": 0.2, "kinds": ["500", "500_after"], "seed": 7,
                             "except_me": True})
    for invoice in invoices:
        invoice_pay(invoice=invoice, actor=dirigeant)
    deliver_all()
    assert set(Payment.objects.values_list("status", flat=True)) <= {"scheduled", "paid"}
    counts = libeo.state()["payments_by_invoice"]
    assert [counts.get(f"meg-{invoice.pk}") for invoice in invoices] == [1] * 40


def test_the_sixth_payment_of_the_month_on_free_is_refused_and_stays_payable(
        connected, dirigeant, libeo):
    invoices = [make_invoice(connected, dirigeant, number=f"F-{n}") for n in range(6)]
    for invoice in invoices:
        invoice_pay(invoice=invoice, actor=dirigeant)
    deliver_all()
    statuses = [Payment.objects.get(invoice=i).status for i in invoices]
    assert statuses[:5] == [statuses[0]] * 5 and statuses[0] in ("scheduled", "paid")
    refused = Payment.objects.get(invoice=invoices[5])
    assert refused.status == "failed" and refused.error_code == "plan_limit_reached"
    assert "Partnerships (9 €/mois" in refused.error_detail
    page = client_for(dirigeant).get(f"/entreprise/{connected.pk}/achats/{invoices[5].pk}/")
    html = unescape(page.content.decode())
    assert "Partnerships" in html and 'data-testid="pay-button"' in html  # still payable

    assert payments_at_libeo(libeo, invoices[5]) == 0


def test_edits_are_resent_and_never_for_invoices_not_paid_through_libeo(
        connected, dirigeant, libeo):
    invoice = make_invoice(connected, dirigeant)
    cheque = make_invoice(connected, dirigeant, number="CHQ-1", payment_method="cheque")
    invoice_pay(invoice=invoice, actor=dirigeant)
    deliver_all()
    Payment.objects.filter(invoice=invoice).update(status="failed")  # e.g. refused by the bank
    invoice_update(invoice=invoice, actor=dirigeant, supplier_name="Matériaux Rhône SAS")
    invoice_update(invoice=cheque, actor=dirigeant, supplier_name="Quincaillerie")
    deliver_all()
    received = {i["external_id"]: i for i in libeo.state()["invoices"]}
    assert received[f"meg-{invoice.pk}"]["versions"] == 2
    assert received[f"meg-{invoice.pk}"]["last_body"]["supplier"]["name"] == \
        "Matériaux Rhône SAS"
    assert f"meg-{cheque.pk}" not in received


def test_the_libeo_account_is_stored_with_the_key_however_it_was_connected(libeo, achats,
                                                                          dirigeant):
    """``/me``'s ``account_id``, with a pasted key and through « Me connecter avec MEG »
    (what MEG sent is remembered per Libeo account)."""
    from partners.libeo import client

    key = libeo_key(libeo, achats)
    client_for(dirigeant).post(f"/entreprise/{achats.pk}/achats/options/", {"api_key": key})
    pasted = LibeoConnection.objects.get()
    assert pasted.account_id and pasted.account_id == client.me(key).account_id

    libeo.control("reset")  # the account is re-created: another account for the same company
    libeo_key(libeo, achats)
    code = libeo.control("exchange_codes", {"siren": achats.siren})["code"]
    response = client_for(dirigeant).get(f"/entreprise/{achats.pk}/achats/libeo/retour/",
                                         {"code": code})
    assert response.status_code == 302
    connected = LibeoConnection.objects.get()
    assert connected.source == "meg_connect"
    assert connected.account_id == client.me(connected.api_key).account_id
    assert connected.account_id not in ("", pasted.account_id)
