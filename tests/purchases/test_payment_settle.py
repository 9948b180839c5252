"""Purchases owns payment states: providers report through ``payment_settle``, which allows
only the transitions of a payment's life, audits what users see, and refuses the rest."""

import pytest
from django.core.exceptions import ValidationError

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
