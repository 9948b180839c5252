"""Scheduled Libeo payments are followed until Libeo says what became of them: paid (with when
the money left), failed or cancelled reach MEG through ``payment_settle``; checks come soon
after scheduling, then less and less often, and soon again once the execution date has come."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from partners.common.exceptions import PartnerRejected, PartnerUnauthorized, PartnerUnavailable
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_deliver_one
from partners.libeo import client, polling, tasks
from partners.libeo.models import LibeoConnection, LibeoPaymentPoll
from partners.libeo.polling import libeo_payment_follow, libeo_payments_poll
from purchases.models import Payment
from purchases.services import invoice_pay
from tests.purchases.conftest import connect_libeo, make_invoice


class FakeLibeo:
    """Stands in for ``client.payment_status``: an answer (or an exception) per payment id."""

    def __init__(self, **answers):
        self.answers, self.asked = answers, []

    def __call__(self, api_key, payment_id):
        self.asked.append(payment_id)
        answer = self.answers[payment_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def state(payment_id, status, executed_at=None, reason=""):
    return client.PaymentState(id=payment_id, status=status, executed_at=executed_at,
                               failure_reason=reason)


@pytest.fixture
def scheduled(achats, dirigeant):
    """A payment Libeo has scheduled for a date two months ahead, followed by MEG."""
    connect_libeo(achats, dirigeant)
    return make_scheduled(achats, dirigeant, "pay_1", "F-1")


def make_scheduled(company, user, libeo_id, number, *, due_in_days=60):
    today = timezone.localdate()
    invoice = make_invoice(company, user, number=number,
                           issue_date=today - datetime.timedelta(days=5),
                           due_date=today + datetime.timedelta(days=due_in_days))
    payment = invoice_pay(invoice=invoice, actor=user)
    Payment.objects.filter(pk=payment.pk).update(status="scheduled", provider_payment_id=libeo_id)
    payment.refresh_from_db()
    libeo_payment_follow(payment=payment, connection=LibeoConnection.objects.get(company=company))
    return payment


def poll_of(payment):
    return LibeoPaymentPoll.objects.filter(payment=payment).first()


def make_due(payment):
    LibeoPaymentPoll.objects.filter(payment=payment).update(next_check_at=timezone.now())


def seconds_until(poll):
    return (poll.next_check_at - timezone.now()).total_seconds()


def test_a_scheduled_payment_is_first_checked_5_seconds_later(scheduled):
    assert 4 - 0.1 <= seconds_until(poll_of(scheduled)) <= 6
    assert poll_of(scheduled).libeo_payment_id == "pay_1"


def test_not_paid_yet_it_is_checked_less_and_less_often_up_to_an_hour(scheduled, monkeypatch):
    monkeypatch.setattr(client, "payment_status", FakeLibeo(pay_1=state("pay_1", "scheduled")))
    delays = []
    for _ in range(4):
        make_due(scheduled)
        assert libeo_payments_poll() == 1
        delays.append(seconds_until(poll_of(scheduled)))
    for delay, base in zip(delays, [10, 20, 40, 80], strict=True):
        assert base * 0.8 - 1 <= delay <= base * 1.2
    LibeoPaymentPoll.objects.filter(payment=scheduled).update(checks=30)
    make_due(scheduled)
    libeo_payments_poll()
    assert 3600 * 0.8 - 1 <= seconds_until(poll_of(scheduled)) <= 3600 * 1.2
    poll = poll_of(scheduled)
    assert poll.last_error == "" and poll.last_checked_at is not None
    assert Payment.objects.get(pk=scheduled.pk).status == "scheduled"


def test_the_execution_date_brings_the_next_check_forward():
    now = timezone.now()
    due = now + datetime.timedelta(minutes=10)
    assert polling._next_check_at(now, 12, due) == due  # an hour later would be too late
    assert polling._next_check_at(now, 0, due) < due


def test_once_the_execution_date_has_come_checks_are_frequent_again(achats, dirigeant,
                                                                    monkeypatch):
    connect_libeo(achats, dirigeant)
    payment = make_scheduled(achats, dirigeant, "pay_today", "F-T", due_in_days=0)
    due = polling.execution_moment(payment)
    LibeoPaymentPoll.objects.filter(payment=payment).update(
        checks=12, last_checked_at=due - datetime.timedelta(hours=1))
    monkeypatch.setattr(client, "payment_status",
                        FakeLibeo(pay_today=state("pay_today", "scheduled")))
    make_due(payment)
    libeo_payments_poll()
    poll = poll_of(payment)
    assert poll.checks == 1 and seconds_until(poll) <= 12


def test_paid_at_libeo_is_paid_in_meg_with_when_the_money_left(scheduled, monkeypatch):
    left = datetime.datetime(2026, 12, 3, 7, 15, tzinfo=datetime.UTC)
    monkeypatch.setattr(client, "payment_status",
                        FakeLibeo(pay_1=state("pay_1", "paid", executed_at=left)))
    make_due(scheduled)
    assert libeo_payments_poll() == 1
    payment = Payment.objects.get(pk=scheduled.pk)
    assert (payment.status, payment.executed_at, payment.error_detail) == ("paid", left, "")
    assert poll_of(payment) is None  # settled: no longer followed
    audit = AuditEvent.objects.get(action="purchase.paid")
    assert audit.data["provider_payment_id"] == "pay_1"


@pytest.mark.parametrize(("status", "reason", "shown"), [
    ("failed", "IBAN du fournisseur clôturé.", "IBAN du fournisseur clôturé."),
    ("failed", "", "Libeo n'a pas pu effectuer le virement."),
    ("cancelled", "Annulé par Marie Dupont.", "Annulé par Marie Dupont."),
    ("cancelled", "", "Paiement annulé dans Libeo."),
])
def test_failed_or_cancelled_at_libeo_reaches_meg_with_its_reason(scheduled, monkeypatch,
                                                                  status, reason, shown):
    monkeypatch.setattr(client, "payment_status",
                        FakeLibeo(pay_1=state("pay_1", status, reason=reason)))
    make_due(scheduled)
    libeo_payments_poll()
    payment = Payment.objects.get(pk=scheduled.pk)
    assert (payment.status, payment.error_code, payment.error_detail, payment.executed_at) == (
        status, f"libeo_{status}", shown, None)
    assert poll_of(payment) is None
    assert not payment.is_alive  # the invoice is to pay again


def test_libeo_unavailable_is_asked_again_no_sooner_than_its_retry_after(scheduled,
                                                                        monkeypatch):
    monkeypatch.setattr(client, "payment_status", FakeLibeo(
        pay_1=PartnerUnavailable("HTTP 429", status_code=429, retry_after=120)))
    make_due(scheduled)
    libeo_payments_poll()
    poll = poll_of(scheduled)
    assert 119 <= seconds_until(poll) <= 121
    assert "Libeo ne répond pas (HTTP 429)" in poll.last_error
    assert Payment.objects.get(pk=scheduled.pk).status == "scheduled"


def test_a_check_without_answer_is_retried_soon_like_an_outbox_call(scheduled, monkeypatch):
    fake = FakeLibeo(pay_1=PartnerUnavailable("HTTP 500", status_code=500))
    monkeypatch.setattr(client, "payment_status", fake)
    for failures, base in enumerate([1, 2, 4], start=1):
        make_due(scheduled)
        libeo_payments_poll()
        poll = poll_of(scheduled)
        assert poll.failures == failures and poll.checks == 0  # not a doubled check interval
        assert seconds_until(poll) <= base * 1.2
    fake.answers["pay_1"] = state("pay_1", "scheduled")
    make_due(scheduled)
    libeo_payments_poll()
    poll = poll_of(scheduled)
    assert (poll.failures, poll.checks, poll.last_error) == (0, 1, "")


def test_a_refusal_is_kept_and_asked_again_later(scheduled, monkeypatch):
    fake = FakeLibeo(pay_1=PartnerRejected("invalid_request", "Requête refusée."))
    monkeypatch.setattr(client, "payment_status", fake)
    make_due(scheduled)
    libeo_payments_poll()
    poll = poll_of(scheduled)
    assert poll.last_error == "Requête refusée."
    assert poll.checks == 1 and seconds_until(poll) > 0 and fake.asked == ["pay_1"]
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.error_detail) == ("scheduled", "")


def test_a_payment_libeo_does_not_know_is_no_longer_asked_about_and_the_user_is_told(
        scheduled, monkeypatch, dirigeant):
    """Asking again would get the same 404 forever, the payment « programmé » meanwhile."""
    fake = FakeLibeo(pay_1=PartnerRejected("payment_not_found", "Aucun paiement « pay_1 »."))
    monkeypatch.setattr(client, "payment_status", fake)
    make_due(scheduled)
    libeo_payments_poll()
    poll = poll_of(scheduled)
    assert poll.next_check_at is None and "Libeo ne trouve pas ce paiement" in poll.last_error
    libeo_payments_poll()
    assert fake.asked == ["pay_1"]
    scheduled.refresh_from_db()
    assert scheduled.status == "scheduled"  # what became of it is not known
    assert scheduled.error_detail.startswith("Libeo ne trouve pas ce paiement sur le compte")
    assert "Vérifiez dans Libeo" in payment_box(dirigeant, scheduled)


def test_a_disconnected_company_is_not_asked_about_and_the_user_is_told(
        scheduled, monkeypatch, dirigeant):
    fake = FakeLibeo(pay_1=state("pay_1", "scheduled"))
    monkeypatch.setattr(client, "payment_status", fake)
    LibeoConnection.objects.all().delete()
    make_due(scheduled)
    libeo_payments_poll()
    assert fake.asked == [] and poll_of(scheduled).next_check_at is None
    scheduled.refresh_from_db()
    assert scheduled.status == "scheduled" and "MEG ne suit plus ce paiement" in \
        scheduled.error_detail
    assert "collez de nouveau une clé de ce compte" in payment_box(dirigeant, scheduled)


def payment_box(user, payment):
    from html import unescape

    from tests.conftest import client_for

    return unescape(client_for(user).get(
        f"/entreprise/{payment.company_id}/achats/{payment.invoice_id}/paiement/")
        .content.decode())


def test_a_payment_settled_another_way_is_no_longer_followed(scheduled, monkeypatch):
    fake = FakeLibeo()
    monkeypatch.setattr(client, "payment_status", fake)
    Payment.objects.filter(pk=scheduled.pk).update(status="paid")
    make_due(scheduled)
    libeo_payments_poll()
    assert poll_of(scheduled) is None and fake.asked == []


def test_a_bug_on_one_payment_does_not_stop_the_others(scheduled, achats, dirigeant,
                                                       monkeypatch):
    other = make_scheduled(achats, dirigeant, "pay_2", "F-2")
    monkeypatch.setattr(client, "payment_status", FakeLibeo(
        pay_1=KeyError("status"), pay_2=state("pay_2", "paid")))
    make_due(scheduled)
    make_due(other)
    assert libeo_payments_poll() == 2
    assert poll_of(scheduled).last_error == "KeyError: 'status'"
    assert Payment.objects.get(pk=other.pk).status == "paid"


def test_only_due_payments_are_checked_and_a_claimed_one_is_not_claimed_twice(
        scheduled, achats, dirigeant, monkeypatch):
    later = make_scheduled(achats, dirigeant, "pay_later", "F-3")
    fake = FakeLibeo(pay_1=state("pay_1", "scheduled"))
    monkeypatch.setattr(client, "payment_status", fake)
    make_due(scheduled)
    assert polling._claim(10) == [poll_of(scheduled).pk]
    assert polling._claim(10) == []  # pushed forward while the first run checks it
    assert libeo_payments_poll() == 0 and fake.asked == []
    make_due(scheduled)
    assert libeo_payments_poll(budget_seconds=0) == 0  # out of time: nothing claimed
    assert libeo_payments_poll() == 1 and fake.asked == ["pay_1"]
    assert poll_of(later).checks == 0


def test_the_beat_polls_every_few_seconds_with_the_task(settings, db):
    entry = settings.CELERY_BEAT_SCHEDULE["libeo-payments-poll"]
    assert entry["task"] == tasks.libeo_payments_poll.name and entry["schedule"] <= 10
    tasks.libeo_payments_poll.delay()  # eager in tests: runs, nothing is due


# ---- the pay handler starts following, and reconciles by idempotency key ------------------

@pytest.fixture
def fake_pay(monkeypatch):
    """``client.create_payment`` answering per idempotency key; the invoice PUT succeeds."""
    calls, answers = [], {}

    def create_payment(api_key, *, idempotency_key, **body):
        calls.append(idempotency_key)
        answer = answers[idempotency_key]
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(client, "upsert_invoice", lambda *args, **kwargs: True)
    monkeypatch.setattr(client, "create_payment", create_payment)
    return calls, answers


def deliver(payment):
    message = OutboxMessage.objects.get(action="libeo.pay", payload={"payment_id": payment.pk})
    return outbox_deliver_one(message.pk)


def test_a_payment_libeo_schedules_is_followed(achats, dirigeant, fake_pay):
    _calls, answers = fake_pay
    connect_libeo(achats, dirigeant)
    payment = invoice_pay(invoice=make_invoice(achats, dirigeant), actor=dirigeant)
    answers[payment.idempotency_key] = {"id": "pay_9", "status": "scheduled",
                                        "executed_at": None, "failure_reason": None}
    deliver(payment)
    assert Payment.objects.get(pk=payment.pk).status == "scheduled"
    assert poll_of(payment).libeo_payment_id == "pay_9"


def test_a_payment_libeo_pays_at_once_is_paid_with_its_moment_and_not_followed(
        achats, dirigeant, fake_pay):
    _calls, answers = fake_pay
    connect_libeo(achats, dirigeant)
    payment = invoice_pay(invoice=make_invoice(achats, dirigeant), actor=dirigeant)
    answers[payment.idempotency_key] = {"id": "pay_8", "status": "paid",
                                        "executed_at": "2026-11-30T10:00:00Z"}
    deliver(payment)
    payment.refresh_from_db()
    assert payment.status == "paid" and poll_of(payment) is None
    assert payment.executed_at == datetime.datetime(2026, 11, 30, 10, tzinfo=datetime.UTC)


def test_paying_again_after_a_given_up_attempt_takes_over_the_payment_libeo_made(
        achats, dirigeant, fake_pay):
    """The first « Payer » never got an answer (given up): Libeo did pay. « Payer de nouveau »
    is refused as already paid; MEG asks Libeo with the first key and takes that payment over,
    instead of failing — and never pays twice."""
    calls, answers = fake_pay
    connect_libeo(achats, dirigeant)
    invoice = make_invoice(achats, dirigeant)
    first = invoice_pay(invoice=invoice, actor=dirigeant)
    Payment.objects.filter(pk=first.pk).update(status="failed", error_code="libeo_unavailable")
    second = invoice_pay(invoice=invoice, actor=dirigeant)
    answers[second.idempotency_key] = PartnerRejected("invoice_already_paid", "Déjà payée.",
                                                      status=409)
    answers[first.idempotency_key] = {"id": "pay_lost", "status": "scheduled"}
    deliver(second)
    second.refresh_from_db()
    assert (second.status, second.provider_payment_id) == ("scheduled", "pay_lost")
    assert calls == [second.idempotency_key, first.idempotency_key]
    assert poll_of(second).libeo_payment_id == "pay_lost"


def test_already_paid_without_an_earlier_lost_attempt_stays_a_refusal(achats, dirigeant,
                                                                      fake_pay):
    calls, answers = fake_pay
    connect_libeo(achats, dirigeant)
    payment = invoice_pay(invoice=make_invoice(achats, dirigeant), actor=dirigeant)
    answers[payment.idempotency_key] = PartnerRejected("invoice_already_paid", "Déjà payée.",
                                                       status=409)
    deliver(payment)
    payment.refresh_from_db()
    assert (payment.status, payment.error_code) == ("failed", "invoice_already_paid")
    assert calls == [payment.idempotency_key]


def test_after_a_key_of_another_account_the_payment_is_asked_about_with_its_own_account_key(
        achats, dirigeant, monkeypatch):
    """Paid on account A, then a key of account B pasted: A's key (kept with the payment) asks;
    refused by Libeo (revoked since), the payment is no longer asked about and says why."""
    connection = connect_libeo(achats, dirigeant, api_key="lk_key_of_account_A")
    LibeoConnection.objects.filter(pk=connection.pk).update(account_id="acc_A")
    payment = make_scheduled(achats, dirigeant, "pay_1", "F-1")
    LibeoConnection.objects.filter(pk=connection.pk).update(
        account_id="acc_B", api_key="lk_key_of_account_B", key_last4="#_B_")
    keys = []

    def payment_status(api_key, payment_id):
        keys.append(api_key)
        if len(keys) > 1:
            raise PartnerUnauthorized("invalid_api_key", "Clé révoquée.")
        return state(payment_id, "scheduled")

    monkeypatch.setattr(client, "payment_status", payment_status)
    make_due(payment)
    libeo_payments_poll()
    assert keys == ["lk_key_of_account_A"] and poll_of(payment).next_check_at is not None
    make_due(payment)
    libeo_payments_poll()
    assert keys == ["lk_key_of_account_A"] * 2
    poll = poll_of(payment)
    assert poll.next_check_at is None and poll.api_key == ""  # a refused key is not kept
    payment.refresh_from_db()
    assert payment.status == "scheduled"
    assert payment.error_detail.startswith("MEG ne peut plus suivre ce paiement : Libeo refuse "
                                           "la clé du compte")
    assert f"« {achats.name} » (clé …nt_A)" in payment.error_detail
