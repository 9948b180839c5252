"""Against the live Libeo sandbox: what becomes of a payment after « programmé » reaches MEG
(paid with when the money left, failed or cancelled with the reason), a payment call whose
answer never came is retried with the same key and pays once, and Libeo's Retry-After is
honoured."""

import datetime
from html import unescape

import pytest
from django.db import transaction
from django.utils import timezone

from partners.common.models import OutboxAttempt, OutboxMessage
from partners.common.outbox import outbox_deliver_one
from partners.libeo.extensions import _send_invoice
from partners.libeo.models import LibeoConnection, LibeoInvoice, LibeoPaymentPoll
from partners.libeo.polling import libeo_payments_poll
from partners.libeo.services import connection_of
from purchases.models import Payment
from purchases.services import invoice_pay
from tests.conftest import client_for
from tests.integration.test_libeo_live import deliver_all, libeo_key
from tests.purchases.conftest import make_invoice

pytestmark = pytest.mark.integration


@pytest.fixture
def connected(libeo, achats, dirigeant):
    response = client_for(dirigeant).post(f"/entreprise/{achats.pk}/achats/options/", {
        "api_key": libeo_key(libeo, achats, plan="partnerships")})
    assert response.status_code == 302
    return achats


def later_invoice(company, user, number="F-2026-101"):
    """An invoice due in a month: Libeo schedules its payment."""
    today = timezone.localdate()
    return make_invoice(company, user, number=number, issue_date=today,
                        due_date=today + datetime.timedelta(days=30))


def scheduled_payment(company, user, number="F-2026-101"):
    invoice = later_invoice(company, user, number)
    invoice_pay(invoice=invoice, actor=user)
    deliver_all()
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "scheduled" and payment.provider_payment_id
    return payment


def already_at_libeo(invoice):
    """The invoice sent (PUT) while Libeo works, so that the faults hit the payment call."""
    with transaction.atomic():
        _send_invoice(connection_of(invoice.company), invoice)


def poll_now():
    """The beat's run, with every followed payment due now (not those MEG stopped following)."""
    LibeoPaymentPoll.objects.filter(next_check_at__isnull=False).update(
        next_check_at=timezone.now())
    return libeo_payments_poll()


def box(user, payment):
    return unescape(client_for(user).get(
        f"/entreprise/{payment.company_id}/achats/{payment.invoice_id}/paiement/")
        .content.decode())


def test_a_payment_libeo_executes_on_its_own_becomes_paid_in_meg_with_when_the_money_left(
        connected, dirigeant, libeo):
    payment = scheduled_payment(connected, dirigeant)
    assert poll_now() == 1  # still scheduled at Libeo: followed, nothing changes
    assert Payment.objects.get(pk=payment.pk).status == "scheduled"

    libeo.control("clock", {"pay_after_seconds": 0})  # Libeo's own schedule, fast
    assert poll_now() == 1
    payment.refresh_from_db()
    (at_libeo,) = libeo.state()["payments"]
    assert (payment.status, at_libeo["status"]) == ("paid", "paid")
    assert payment.executed_at == datetime.datetime.fromisoformat(at_libeo["executed_at"])
    assert not LibeoPaymentPoll.objects.exists()
    local = timezone.localtime(payment.executed_at)
    assert f"Virement parti le {local:%d/%m/%Y} à {local:%H:%M}." in box(dirigeant, payment)


def test_a_payment_the_bank_pays_at_a_given_moment_keeps_that_moment(connected, dirigeant,
                                                                     libeo):
    payment = scheduled_payment(connected, dirigeant)
    libeo.control(f"payments/{payment.provider_payment_id}", {
        "status": "paid", "executed_at": "2026-12-01T09:30:00+01:00"})
    poll_now()
    payment.refresh_from_db()
    assert payment.status == "paid"
    assert payment.executed_at == datetime.datetime(2026, 12, 1, 8, 30, tzinfo=datetime.UTC)
    assert "Virement parti le 01/12/2026 à 09:30." in box(dirigeant, payment)


@pytest.mark.parametrize(("status", "reason"), [
    ("failed", "IBAN du fournisseur clôturé."),
    ("cancelled", "Annulé par le dirigeant dans Libeo."),
])
def test_a_failed_or_cancelled_payment_leaves_the_invoice_payable_with_the_reason(
        connected, dirigeant, libeo, status, reason):
    payment = scheduled_payment(connected, dirigeant)
    libeo.control(f"payments/{payment.provider_payment_id}",
                  {"status": status, "failure_reason": reason})
    poll_now()
    payment.refresh_from_db()
    assert (payment.status, payment.error_detail) == (status, reason)
    html = box(dirigeant, payment)
    assert reason in html and 'data-testid="pay-button"' in html

    # Paid again: Libeo takes it (the failed or cancelled payment freed the invoice).
    invoice_pay(invoice=payment.invoice, actor=dirigeant)
    deliver_all()
    again = Payment.objects.get(invoice=payment.invoice, attempt=2)
    assert again.status == "scheduled" and again.provider_payment_id != \
        payment.provider_payment_id
    assert libeo.state()["payments_by_invoice"][f"meg-{payment.invoice_id}"] == 2


def test_a_payment_call_that_timed_out_is_retried_with_the_same_key_and_pays_once(
        connected, dirigeant, libeo, settings):
    """Libeo made the payment but its answer never came (MEG gave up waiting): the retry
    sends the same Idempotency-Key, Libeo answers what it did then, nothing is paid twice."""
    settings.LIBEO_TIMEOUT_SECONDS = 1
    invoice = later_invoice(connected, dirigeant)
    invoice_pay(invoice=invoice, actor=dirigeant)
    already_at_libeo(invoice)
    message = OutboxMessage.objects.get(action="libeo.pay")
    # Every call does its work, then answers 30 s later: MEG stops waiting after 1 s.
    libeo.control("faults", {"rate": 1.0, "kinds": ["timeout_after"], "except_me": True})
    outbox_deliver_one(message.pk)  # the payment is made; its answer never comes
    payment = Payment.objects.get()
    assert payment.status == "retrying" and "nouvel essai" in payment.error_detail
    (made,) = libeo.state()["payments"]
    assert made["idempotency_key"] == payment.idempotency_key
    outbox_deliver_one(message.pk)  # the retry: same key, lost again, still one payment
    assert [p["id"] for p in libeo.state()["payments"]] == [made["id"]]

    libeo.control("faults", {"rate": 0})
    outbox_deliver_one(message.pk)  # the same key: Libeo replays the payment it made
    payment.refresh_from_db()
    assert (payment.status, payment.provider_payment_id) == ("scheduled", made["id"])
    assert libeo.state()["payments_by_invoice"] == {f"meg-{invoice.pk}": 1}
    attempts = list(OutboxAttempt.objects.filter(message=message).order_by("number"))
    assert [(a.outcome, a.status_code) for a in attempts] == [
        ("retry", None), ("retry", None), ("sent", 201)]
    assert all("Timeout" in a.error for a in attempts[:2])


def test_paying_again_after_a_given_up_payment_finds_the_one_libeo_made(connected, dirigeant,
                                                                       libeo):
    """Every answer lost until MEG gave up (« vérifiez dans Libeo »); « Payer de nouveau »
    ends with the payment Libeo made the first time, not a second one."""
    from partners.common.outbox import MAX_ATTEMPTS

    invoice = later_invoice(connected, dirigeant)
    first = invoice_pay(invoice=invoice, actor=dirigeant)
    already_at_libeo(invoice)
    message = OutboxMessage.objects.get(action="libeo.pay")
    libeo.control("faults", {"rate": 1.0, "kinds": ["500_after"], "except_me": True})
    for _ in range(MAX_ATTEMPTS):
        outbox_deliver_one(message.pk)
    first.refresh_from_db()
    assert (first.status, first.error_code) == ("failed", "libeo_unavailable")
    (made,) = libeo.state()["payments"]

    libeo.control("faults", {"rate": 0})
    second = invoice_pay(invoice=invoice, actor=dirigeant)
    deliver_all()
    second.refresh_from_db()
    assert (second.status, second.provider_payment_id) == ("scheduled", made["id"])
    assert libeo.state()["payments_by_invoice"] == {f"meg-{invoice.pk}": 1}


def test_libeo_asking_to_wait_is_honoured(connected, dirigeant, libeo):
    invoice = later_invoice(connected, dirigeant)
    invoice_pay(invoice=invoice, actor=dirigeant)
    message = OutboxMessage.objects.get(action="libeo.pay")
    libeo.control("faults", {"rate": 1.0, "kinds": ["429"], "retry_after": 40,
                             "except_me": True})
    before = timezone.now()
    assert outbox_deliver_one(message.pk) == 40
    message.refresh_from_db()
    assert message.status == "retrying" and 39 <= (
        message.next_attempt_at - before).total_seconds() <= 42
    (attempt,) = OutboxAttempt.objects.filter(message=message)
    assert attempt.status_code == 429 and "Retry-After 40 s" in attempt.error
    assert Payment.objects.get().status == "retrying"

    libeo.control("faults", {"rate": 0})
    outbox_deliver_one(message.pk)
    assert Payment.objects.get().status == "scheduled"


@pytest.fixture
def libeo_calls(monkeypatch):
    """The invoice and payment calls MEG makes to Libeo, in order (still made for real)."""
    from partners.libeo import client

    calls = []
    real_upsert, real_pay = client.upsert_invoice, client.create_payment

    def upsert_invoice(api_key, **kwargs):
        calls.append("PUT")
        return real_upsert(api_key, **kwargs)

    def create_payment(api_key, **kwargs):
        calls.append("POST")
        return real_pay(api_key, **kwargs)

    monkeypatch.setattr(client, "upsert_invoice", upsert_invoice)
    monkeypatch.setattr(client, "create_payment", create_payment)
    return calls


def another_libeo_account(libeo, company, user):
    """The company's Libeo account is closed and another one opened for it (the sandbox gives
    a re-created company another ``account_id``); the administrator pastes its key."""
    libeo.control("reset")
    response = client_for(user).post(f"/entreprise/{company.pk}/achats/options/", {
        "api_key": libeo_key(libeo, company, plan="partnerships")})
    assert response.status_code == 302
    return LibeoConnection.objects.get().account_id


def failed_payment(company, user, libeo):
    payment = scheduled_payment(company, user)
    libeo.control(f"payments/{payment.provider_payment_id}",
                  {"status": "failed", "failure_reason": "IBAN du fournisseur clôturé."})
    poll_now()
    payment.refresh_from_db()
    assert payment.status == "failed"
    return payment


def test_after_a_key_of_another_libeo_account_the_invoice_is_sent_there_before_paying_again(
        connected, dirigeant, libeo, libeo_calls):
    account_a = LibeoConnection.objects.get().account_id
    assert account_a.startswith("acc_")  # /me's account_id, stored with the key
    first = failed_payment(connected, dirigeant, libeo)
    account_b = another_libeo_account(libeo, connected, dirigeant)
    assert account_b and account_b != account_a
    libeo_calls.clear()

    response = client_for(dirigeant).post(  # « Payer de nouveau »
        f"/entreprise/{connected.pk}/achats/{first.invoice_id}/payer/")
    assert response.status_code in (200, 302)
    deliver_all()
    again = Payment.objects.get(invoice_id=first.invoice_id, attempt=2)
    assert (again.status, again.error_code) == ("scheduled", "")
    assert libeo_calls == ["PUT", "POST"]  # sent there first, not healed after a 404
    state = libeo.state()
    assert [i["external_id"] for i in state["invoices"]] == [f"meg-{first.invoice_id}"]
    assert state["payments_by_invoice"] == {f"meg-{first.invoice_id}": 1}
    assert LibeoInvoice.objects.filter(invoice_id=first.invoice_id).count() == 2
    message = OutboxMessage.objects.get(action="libeo.pay", payload__payment_id=again.pk)
    assert [a.outcome for a in OutboxAttempt.objects.filter(message=message)] == ["sent"]


def test_libeo_answering_invoice_not_found_gets_the_invoice_then_the_payment(
        connected, dirigeant, libeo, libeo_calls):
    """MEG believes the account has the invoice, Libeo says it does not (404
    ``invoice_not_found``): the invoice is sent, then paid — not a failure for good."""
    first = failed_payment(connected, dirigeant, libeo)
    account_b = another_libeo_account(libeo, connected, dirigeant)
    invoice = first.invoice
    LibeoInvoice.objects.create(firm_id=invoice.firm_id, invoice=invoice, account_id=account_b,
                                sent_version=invoice.version)  # MEG's memory is wrong
    libeo_calls.clear()

    invoice_pay(invoice=invoice, actor=dirigeant)
    deliver_all()
    again = Payment.objects.get(invoice=invoice, attempt=2)
    assert (again.status, again.error_code) == ("scheduled", "")
    assert libeo_calls == ["POST", "PUT", "POST"]
    assert libeo.state()["payments_by_invoice"] == {f"meg-{invoice.pk}": 1}


def paste_key(user, company, api_key):
    response = client_for(user).post(f"/entreprise/{company.pk}/achats/options/",
                                     {"api_key": api_key})
    assert response.status_code == 302
    return LibeoConnection.objects.get().account_id


def second_libeo_account_key(libeo, company):
    """A second live Libeo account of the company (the first one keeps its payments)."""
    return libeo.control("companies", {
        "siren": company.siren, "name": f"{company.name} — second compte",
        "plan": "partnerships", "users": [{"email": "patron@alpha.test", "role": "owner"}],
        "another_account": True})["api_key"]


def test_a_payment_scheduled_before_a_key_of_another_account_is_followed_on_its_own_account(
        connected, dirigeant, libeo):
    """Scheduled on account A; the administrator pastes a key of account B: the payment is
    still asked about at A (with A's key), and its « paid » reaches MEG — B does not know it
    (asked there: 404 ``payment_not_found``, « programmé » forever)."""
    account_a = LibeoConnection.objects.get().account_id
    payment = scheduled_payment(connected, dirigeant)
    account_b = paste_key(dirigeant, connected, second_libeo_account_key(libeo, connected))
    assert account_b != account_a

    assert poll_now() == 1
    payment.refresh_from_db()
    assert (payment.status, payment.error_detail) == ("scheduled", "")
    assert LibeoPaymentPoll.objects.get().last_error == ""

    libeo.control(f"payments/{payment.provider_payment_id}", {"status": "paid"})
    poll_now()
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.executed_at is not None
    assert not LibeoPaymentPoll.objects.exists()


def test_without_a_key_of_its_account_a_payment_says_so_and_a_key_of_it_resumes_it(
        connected, dirigeant, libeo):
    """The key is removed from MEG: the payment is no longer asked about (not in vain
    forever) and the user reads why; a key of its account pasted again resumes it."""
    payment = scheduled_payment(connected, dirigeant)
    key_a = LibeoConnection.objects.get().api_key  # the administrator still has it
    response = client_for(dirigeant).post(f"/entreprise/{connected.pk}/achats/options/",
                                          {"remove": "1"})
    assert response.status_code == 302 and not LibeoConnection.objects.exists()
    assert LibeoPaymentPoll.objects.get().api_key == ""  # no key of the company stays

    assert poll_now() == 1
    payment.refresh_from_db()
    assert payment.status == "scheduled"
    assert "MEG ne suit plus ce paiement" in payment.error_detail
    assert LibeoPaymentPoll.objects.get().next_check_at is None
    html = box(dirigeant, payment)
    assert "MEG ne suit plus ce paiement" in html and "Programmé" in html
    assert poll_now() == 0  # not asked again

    # A key of another account changes nothing for it.
    paste_key(dirigeant, connected, second_libeo_account_key(libeo, connected))
    assert poll_now() == 0
    assert LibeoPaymentPoll.objects.get().next_check_at is None

    paste_key(dirigeant, connected, key_a)  # a key of its account again
    poll = LibeoPaymentPoll.objects.get()
    assert poll.next_check_at is not None and poll.last_error == ""
    payment.refresh_from_db()
    assert (payment.status, payment.error_detail) == ("scheduled", "")
    libeo.control(f"payments/{payment.provider_payment_id}", {"status": "paid"})
    assert poll_now() == 1
    payment.refresh_from_db()
    assert payment.status == "paid"
