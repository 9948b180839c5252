"""Purchases owns payment states: providers report through ``payment_settle``, which allows
only the transitions of a payment's life, audits what users see, and refuses the rest."""

import datetime
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from purchases import providers
from purchases.models import Payment
from purchases.providers import PaymentResult
from purchases.services import invoice_pay, payment_settle
from tests.conftest import client_for
from tests.purchases.conftest import connect_libeo, make_invoice

VALID = [
    ("pending", "retrying", None),
    ("pending", "scheduled", "purchase.payment_scheduled"),
    ("pending", "paid", "purchase.paid"),
    ("pending", "failed", "purchase.payment_failed"),
    ("retrying", "retrying", None),
    ("retrying", "scheduled", "purchase.payment_scheduled"),
    ("retrying", "paid", "purchase.paid"),
    ("retrying", "failed", "purchase.payment_failed"),
    ("scheduled", "paid", "purchase.paid"),
    ("scheduled", "failed", "purchase.payment_failed"),
    ("scheduled", "cancelled", "purchase.payment_cancelled"),
]
INVALID = [
    ("pending", "pending"),
    ("scheduled", "scheduled"),
    ("scheduled", "retrying"),
    ("scheduled", "pending"),
    ("paid", "failed"),
    ("paid", "scheduled"),
    ("paid", "retrying"),
    ("failed", "scheduled"),
    ("failed", "paid"),
    ("failed", "retrying"),
    ("pending", "cancelled"),
    ("paid", "cancelled"),
    ("cancelled", "scheduled"),
    ("cancelled", "paid"),
    ("pending", "bogus"),
]


@pytest.fixture
def payment(invoice, dirigeant):
    connect_libeo(invoice.company, dirigeant)
    return invoice_pay(invoice=invoice, actor=dirigeant)


def payment_audits():
    return AuditEvent.objects.filter(action__startswith="purchase.pa").exclude(
        action="purchase.pay_requested")


def put_in(payment, status):
    Payment.objects.filter(pk=payment.pk).update(status=status)


@pytest.mark.parametrize(("before", "after", "audited"), VALID)
def test_a_valid_transition_is_applied_and_audited_when_users_see_it(payment, before, after,
                                                                     audited):
    put_in(payment, before)
    settled = payment_settle(payment=payment, result=PaymentResult(
        status=after, provider_payment_id="pay_42", error_code="x" if after == "failed" else "",
        error_detail="Refusé par la banque." if after == "failed" else ""))
    stored = Payment.objects.get(pk=payment.pk)
    assert settled.status == stored.status == after
    assert stored.provider_payment_id == "pay_42"
    events = list(payment_audits())
    if audited is None:
        assert events == []
    else:
        (event,) = events
        assert (event.action, event.actor, event.company) == (audited, None, payment.company)
        assert event.data["payment_id"] == payment.pk and event.data["provider"] == "libeo"
        assert payment.invoice.number in event.summary


@pytest.mark.parametrize(("before", "after"), INVALID)
def test_an_invalid_transition_is_refused_and_changes_nothing(payment, before, after):
    put_in(payment, before)
    before_row = Payment.objects.values().get(pk=payment.pk)
    with pytest.raises(ValidationError):
        payment_settle(payment=payment, result=PaymentResult(
            status=after, provider_payment_id="pay_99", error_detail="trop tard"))
    assert Payment.objects.values().get(pk=payment.pk) == before_row
    assert not payment_audits().exists()


def test_a_failure_keeps_its_reason_and_its_audit_says_it(payment):
    payment_settle(payment=payment, result=PaymentResult(
        status="failed", error_code="plan_limit_reached", error_detail="Limite atteinte."))
    stored = Payment.objects.get(pk=payment.pk)
    assert (stored.error_code, stored.error_detail) == ("plan_limit_reached", "Limite atteinte.")
    assert "Limite atteinte." in payment_audits().get().summary


def test_success_clears_the_reason_of_an_earlier_retry(payment):
    payment_settle(payment=payment, result=PaymentResult(
        status="retrying", error_detail="Libeo ne répond pas : nouvel essai automatique."))
    payment_settle(payment=payment, result=PaymentResult(status="scheduled",
                                                         provider_payment_id="pay_7"))
    stored = Payment.objects.get(pk=payment.pk)
    assert (stored.status, stored.error_detail, stored.provider_payment_id) == (
        "scheduled", "", "pay_7")


class FakeProvider:
    code = "fakebank"
    name = "Fake Bank"
    payment_method = "direct_debit"

    def __init__(self):
        self.requested = []

    def can_pay(self, user, invoice):
        return True

    def is_connected(self, company):
        return True

    def connect_url(self, company, invoice):
        return "/nowhere/"

    def options_url(self, company):
        return None

    def request_payment(self, payment):
        self.requested.append(payment.pk)

    def invoice_changed(self, invoice):
        pass


def test_the_provider_is_chosen_by_the_invoice_payment_method(achats, dirigeant, monkeypatch):
    fake = FakeProvider()
    monkeypatch.setitem(providers._providers, fake.code, fake)
    invoice = make_invoice(achats, dirigeant, payment_method="direct_debit", number="P-1")
    payment = invoice_pay(invoice=invoice, actor=dirigeant)
    assert payment.provider == "fakebank" and fake.requested == [payment.pk]
    settled = payment_settle(payment=payment, result=PaymentResult(status="paid"))
    assert "Fake Bank" in payment_audits().get().summary and settled.status == "paid"


def test_the_payment_box_names_the_provider_that_paid(payment, dirigeant):
    payment_settle(payment=payment, result=PaymentResult(status="paid"))
    page = client_for(dirigeant).get(
        f"/entreprise/{payment.company_id}/achats/{payment.invoice_id}/paiement/")
    assert "€ payés par Libeo." in page.content.decode()


def test_a_paid_payment_keeps_when_the_money_left_and_the_box_says_it(payment, dirigeant):
    put_in(payment, "scheduled")
    left = datetime.datetime(2026, 12, 2, 8, 30, tzinfo=datetime.UTC)
    payment_settle(payment=payment, result=PaymentResult(status="paid", executed_at=left))
    assert Payment.objects.get(pk=payment.pk).executed_at == left
    assert payment_audits().get().data["executed_at"] == left.isoformat()
    page = client_for(dirigeant).get(
        f"/entreprise/{payment.company_id}/achats/{payment.invoice_id}/paiement/")
    html = page.content.decode()
    assert "€ payés par Libeo." in html
    assert "Virement parti le 02/12/2026 à 09:30." in html  # Paris time


def test_a_paid_payment_without_a_moment_from_its_provider_is_dated_when_meg_learnt_it(
        payment):
    before = timezone.now()
    settled = payment_settle(payment=payment, result=PaymentResult(status="paid"))
    assert before <= settled.executed_at <= timezone.now()


@pytest.mark.parametrize("undone", ["failed", "cancelled"])
def test_a_failed_or_cancelled_payment_leaves_the_invoice_to_pay_again_with_its_reason(
        payment, dirigeant, undone):
    put_in(payment, "scheduled")
    reason = ("Virement rejeté par la banque du fournisseur." if undone == "failed"
              else "Paiement annulé dans Libeo.")
    payment_settle(payment=payment, result=PaymentResult(
        status=undone, error_code=f"libeo_{undone}", error_detail=reason))
    client = client_for(dirigeant)
    box = unescape(client.get(
        f"/entreprise/{payment.company_id}/achats/{payment.invoice_id}/paiement/")
        .content.decode())
    assert reason in box and "Payer de nouveau" in box
    def listed(status):
        page = client.get(f"/entreprise/{payment.company_id}/achats/", {"status": status})
        return payment.invoice.number in page.content.decode()

    assert listed("to_pay") and listed(undone) and not listed("scheduled")
    again = invoice_pay(invoice=payment.invoice, actor=dirigeant)
    assert (again.pk != payment.pk, again.attempt, again.status) == (True, 2, "pending")
