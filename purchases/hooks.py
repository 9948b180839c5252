"""What Achats announces, in its own words; what sits above it listens (DESIGN §2).

Receivers register at import time from their app's ``ready()``. They run inside the
transaction of the change, after it is validated and saved: what they write commits or rolls
back with it, and a receiver may refuse the change by raising ``ValidationError`` (keyed by
the invoice's field names where it can), which the user then sees on the form.
"""

_invoice_recorded = []
_supplier_changed = []
_payment_paid = []


def _add(receivers, receiver):
    if receiver not in receivers:
        receivers.append(receiver)
    return receiver


def on_invoice_recorded(receiver):
    """``receiver(invoice, actor)``: an invoice was created, or edited (its ``version`` went
    up)."""
    return _add(_invoice_recorded, receiver)


def on_supplier_changed(receiver):
    """``receiver(supplier, invoices, actor)``: a supplier's auxiliary account changed;
    ``invoices`` is the queryset of its invoices."""
    return _add(_supplier_changed, receiver)


def on_payment_paid(receiver):
    """``receiver(payment)``: a provider reported ``payment`` paid (``payment.executed_at``
    says when the money left); called once per payment, in the settling transaction."""
    return _add(_payment_paid, receiver)


def invoice_recorded(invoice, actor):
    for receiver in _invoice_recorded:
        receiver(invoice, actor)


def supplier_changed(supplier, invoices, actor):
    for receiver in _supplier_changed:
        receiver(supplier, invoices, actor)


def payment_paid(payment):
    for receiver in _payment_paid:
        receiver(payment)
