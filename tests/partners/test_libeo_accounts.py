"""What MEG sent to Libeo is remembered per Libeo account (DESIGN §6, 2026-11-30): a key of
another account sends the invoice there (``PUT``) before its first payment, an unknown account
is never trusted, and Libeo saying it lacks the invoice (404 ``invoice_not_found``) sends it
again then pays, instead of failing for good."""

import pytest

from partners.common.exceptions import PartnerRejected
from partners.common.models import OutboxMessage
from partners.common.outbox import outbox_deliver_one
from partners.libeo import client
from partners.libeo.models import LibeoConnection, LibeoInvoice
from partners.libeo.services import libeo_key_set, libeo_refresh
from purchases.models import Payment
from purchases.providers import PaymentResult
from purchases.services import invoice_pay, invoice_update, payment_settle
from tests.purchases.conftest import connect_libeo, make_invoice


class FakeLibeo:
    """Stands in for the client's calls: one Libeo account per key, each with the invoices
    it was sent; records every call in order."""

    def __init__(self, monkeypatch, company):
        self.company, self.calls = company, []
        self.accounts = {}  # api key → account id
        self.invoices = {}  # account id → external ids
        self.forget_next = False
        monkeypatch.setattr(client, "me", self.me)
        monkeypatch.setattr(client, "upsert_invoice", self.upsert_invoice)
        monkeypatch.setattr(client, "create_payment", self.create_payment)

    def me(self, api_key):
        self.calls.append(("me", self.accounts[api_key]))
        return client.Me(siren=self.company.siren, name=self.company.name, plan="partnerships",
                         users=[], payments_this_month=0, payments_limit=None,
                         account_id=self.accounts[api_key])

    def upsert_invoice(self, api_key, *, external_id, invoice):
        account = self.accounts[api_key]
        self.calls.append(("PUT", account))
        created = external_id not in self.invoices.setdefault(account, set())
        self.invoices[account].add(external_id)
        return created

    def create_payment(self, api_key, *, idempotency_key, invoice_external_id, amount,
                       execution_date):
        account = self.accounts[api_key]
        self.calls.append(("POST", account))
        if self.forget_next:  # the account lost the invoice whatever MEG remembers
            self.forget_next = False
            self.invoices[account].discard(invoice_external_id)
        if invoice_external_id not in self.invoices.get(account, set()):
            raise PartnerRejected("invoice_not_found", "Aucune facture.", status=404)
        return {"id": f"pay_{len(self.calls)}", "status": "scheduled"}


@pytest.fixture
def libeo(monkeypatch, achats):
    fake = FakeLibeo(monkeypatch, achats)
    fake.accounts = {"lk_key_of_account_A": "acc_A", "lk_key_of_account_B": "acc_B",
                     "lk_test_0123456789abcdef": "acc_A"}
    return fake


@pytest.fixture
def invoice(achats, dirigeant):
    return make_invoice(achats, dirigeant)


def pay(invoice, user):
    payment = invoice_pay(invoice=invoice, actor=user)
    outbox_deliver_one(OutboxMessage.objects.get(
        action="libeo.pay", payload__payment_id=payment.pk).pk)
    payment.refresh_from_db()
    return payment


def fail(payment):
    payment_settle(payment=payment, result=PaymentResult(
        status=Payment.Status.FAILED, error_code="libeo_failed", error_detail="IBAN clôturé."))


def sent_to(invoice):
    return dict(LibeoInvoice.objects.filter(invoice=invoice)
                .values_list("account_id", "sent_version"))


def test_the_account_of_a_saved_key_is_stored_and_kept_up_to_date(libeo, achats, dirigeant):
    connection = libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_A")
    assert connection.account_id == "acc_A"
    connection = libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_B")
    assert LibeoConnection.objects.get().account_id == "acc_B"
    libeo.accounts["lk_key_of_account_B"] = "acc_B2"  # /me is the truth
    assert libeo_refresh(company=achats).account_id == "acc_B2"


def test_paying_again_on_the_same_account_does_not_send_the_invoice_again(libeo, achats,
                                                                         dirigeant, invoice):
    libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_A")
    first = pay(invoice, dirigeant)
    assert first.status == "scheduled"
    fail(first)
    assert pay(invoice, dirigeant).status == "scheduled"
    assert [c for c in libeo.calls if c[0] != "me"] == [
        ("PUT", "acc_A"), ("POST", "acc_A"), ("POST", "acc_A")]
    assert sent_to(invoice) == {"acc_A": 1}


def test_a_key_of_another_account_sends_the_invoice_there_before_paying(libeo, achats,
                                                                       dirigeant, invoice):
    libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_A")
    fail(pay(invoice, dirigeant))
    libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_B")
    libeo.calls.clear()

    again = pay(invoice, dirigeant)  # « Payer de nouveau »
    assert again.status == "scheduled"
    assert libeo.calls == [("PUT", "acc_B"), ("POST", "acc_B")]
    assert sent_to(invoice) == {"acc_A": 1, "acc_B": 1}


def test_an_unknown_account_is_never_trusted_until_me_names_it(libeo, achats, dirigeant,
                                                               invoice):
    connect_libeo(achats, dirigeant)  # no account_id: saved before MEG asked /me for it
    # Sent before accounts were tracked (the migration leaves them unknown).
    LibeoInvoice.objects.create(firm=invoice.firm, invoice=invoice, sent_version=1)
    fail(pay(invoice, dirigeant))
    fail(pay(invoice, dirigeant))
    assert libeo.calls == [("PUT", "acc_A"), ("POST", "acc_A")] * 2
    assert sent_to(invoice) == {"": 1}

    assert libeo_refresh(company=achats).account_id == "acc_A"  # the options page
    libeo.calls.clear()
    pay(invoice, dirigeant)
    assert libeo.calls == [("PUT", "acc_A"), ("POST", "acc_A")]  # the first time it is known
    assert sent_to(invoice) == {"": 1, "acc_A": 1}


def test_libeo_lacking_the_invoice_sends_it_again_then_pays(libeo, achats, dirigeant,
                                                           invoice):
    libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_A")
    fail(pay(invoice, dirigeant))
    libeo.calls.clear()
    libeo.forget_next = True  # MEG remembers it sent v1; Libeo answers 404

    again = pay(invoice, dirigeant)
    assert (again.status, again.error_code) == ("scheduled", "")
    assert libeo.calls == [("POST", "acc_A"), ("PUT", "acc_A"), ("POST", "acc_A")]


def test_a_second_invoice_not_found_after_sending_it_fails_the_payment(libeo, achats,
                                                                      dirigeant, invoice,
                                                                      monkeypatch):
    libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_A")
    monkeypatch.setattr(libeo, "upsert_invoice", lambda *a, **kw: True)  # PUT lost at Libeo
    monkeypatch.setattr(client, "upsert_invoice", libeo.upsert_invoice)
    payment = pay(invoice, dirigeant)
    assert (payment.status, payment.error_code) == ("failed", "invoice_not_found")
    assert [c[0] for c in libeo.calls] == ["me", "POST", "POST"]


def test_an_edit_is_sent_to_the_current_account_only_if_it_has_the_invoice(libeo, achats,
                                                                          dirigeant, invoice):
    libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_A")
    fail(pay(invoice, dirigeant))  # payable again, so editable
    libeo.calls.clear()
    invoice_update(invoice=invoice, actor=dirigeant, number="F-EDIT-1")
    outbox_deliver_one(OutboxMessage.objects.get(action="libeo.resend_invoice").pk)
    assert libeo.calls == [("PUT", "acc_A")]
    assert sent_to(invoice) == {"acc_A": 2}

    libeo_key_set(company=achats, actor=dirigeant, api_key="lk_key_of_account_B")
    libeo.calls.clear()
    invoice.refresh_from_db()
    invoice_update(invoice=invoice, actor=dirigeant, number="F-EDIT-2")
    outbox_deliver_one(OutboxMessage.objects.get(action="libeo.resend_invoice",
                                                 idempotency_key__endswith=":v3").pk)
    assert libeo.calls == []  # account B gets it before its first payment there
    assert sent_to(invoice) == {"acc_A": 2}
