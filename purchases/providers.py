"""How a payment provider plugs into Achats (DESIGN §2): the protocol purchases calls, the
registry partner packages fill from their ``AppConfig.ready()``, and the result they report.

Purchases never imports a provider; a provider serves one ``SupplierInvoice.PaymentMethod`` and
reports every outcome through ``purchases.services.payment_settle``.
"""

import datetime
from dataclasses import dataclass
from typing import Protocol


class PaymentProvider(Protocol):
    code: str  # stored on each Payment it makes (``Payment.provider``)
    name: str  # shown to users: "payés par <name>"
    payment_method: str  # the SupplierInvoice.PaymentMethod it pays

    def can_pay(self, user, invoice) -> bool:
        """Whether « Payer » is offered to this user for this invoice."""

    def is_connected(self, company) -> bool:
        """Whether the company's account at the provider is ready to pay."""

    def connect_url(self, company, invoice) -> str:
        """Where « Payer » sends a user whose company is not connected yet."""

    def options_url(self, company) -> str | None:
        """The provider's page under *Achats → ⚙ Options* (administrators only), if any."""

    def request_payment(self, payment) -> None:
        """Called inside ``invoice_pay``'s transaction: persist the intent (outbox), never
        call the provider before commit."""

    def invoice_changed(self, invoice) -> None:
        """An invoice was edited; send it again if the provider already has it."""


@dataclass(frozen=True)
class PaymentResult:
    """What a provider reports about a payment, applied by ``payment_settle``."""

    status: str  # a Payment.Status other than pending
    provider_payment_id: str = ""
    error_code: str = ""
    error_detail: str = ""
    executed_at: datetime.datetime | None = None  # when the money left (paid)


_providers: dict[str, PaymentProvider] = {}


def register_payment_provider(code, provider):
    _providers[code] = provider


def payment_providers():
    return [_providers[code] for code in sorted(_providers)]


def payment_provider(code):
    return _providers.get(code)


def provider_for_method(payment_method):
    """The provider that pays invoices of this payment method, or None (paid outside MEG)."""
    return next((p for p in payment_providers() if p.payment_method == payment_method), None)
