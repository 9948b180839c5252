"""The shapes of API requests (validation) and answers (representation)."""

import base64
import json
from datetime import datetime
from decimal import Decimal

from django.db.models import prefetch_related_objects
from rest_framework import serializers

from sandboxes.common.formats import money

from ..formats import iso_utc
from ..models import (
    DEFAULT_CUSTOMER_ACCOUNT,
    DEFAULT_REVENUE_ACCOUNT,
    DEFAULT_REVENUE_ACCOUNT_LABEL,
    DEFAULT_VAT_ACCOUNT,
    AccountAccess,
    Plan,
)

ACCOUNT_NUMBER = r"^\d{3,12}$"
PAID_PLANS = [Plan.START_PLUS, Plan.PREMIUM]


def validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class SirenQuery(serializers.Serializer):
    siren = serializers.RegexField(r"^\d{9}$", error_messages={
        "invalid": "Un SIREN comporte 9 chiffres."})


class Dirigeant(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, allow_blank=True, default="")


class AccountCreate(serializers.Serializer):
    siret = serializers.RegexField(r"^\d{14}$", error_messages={
        "invalid": "Un SIRET comporte 14 chiffres."})
    name = serializers.CharField(max_length=200)
    address = serializers.JSONField(allow_null=True, default=None)
    dirigeant = Dirigeant()
    # null, absent or "free": an account without licence.
    plan = serializers.ChoiceField([*PAID_PLANS, Plan.FREE], allow_null=True, default=None)
    trial_days = serializers.IntegerField(min_value=0, max_value=365, default=0)

    def validate_address(self, value):
        if value is not None and not isinstance(value, str | dict):
            raise serializers.ValidationError("Une adresse est un texte ou un objet.")
        return value


class Credentials(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)


class AccessGrant(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(AccountAccess.Role.values)


class Licence(serializers.Serializer):
    plan = serializers.ChoiceField(PAID_PLANS)


class SsoRequest(serializers.Serializer):
    email = serializers.EmailField()


class AccountingSettings(serializers.Serializer):
    """PUT semantics: an omitted field goes back to ProGBat's default."""

    customer_account = serializers.RegexField(ACCOUNT_NUMBER, default=DEFAULT_CUSTOMER_ACCOUNT)
    revenue_account = serializers.RegexField(ACCOUNT_NUMBER, default=DEFAULT_REVENUE_ACCOUNT)
    revenue_account_label = serializers.CharField(max_length=100,
                                                  default=DEFAULT_REVENUE_ACCOUNT_LABEL)
    vat_account = serializers.RegexField(ACCOUNT_NUMBER, default=DEFAULT_VAT_ACCOUNT)


class Customer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    account = serializers.RegexField(r"^[0-9A-Za-z]{1,20}$", error_messages={
        "invalid": "Un compte client comporte de 1 à 20 lettres ou chiffres."})


class InvoiceLine(serializers.Serializer):
    label = serializers.CharField(max_length=200)
    amount_excl_tax = serializers.DecimalField(max_digits=12, decimal_places=2,
                                               min_value=Decimal("0.01"))
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=Decimal(0),
                                        max_value=Decimal(100))


class InvoiceCreate(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    date = serializers.DateField()
    customer = Customer()
    lines = InvoiceLine(many=True, allow_empty=False)


class LockRequest(serializers.Serializer):
    export_id = serializers.CharField(max_length=100)


class LockBatchRequest(LockRequest):
    invoice_ids = serializers.ListField(child=serializers.CharField(max_length=40),
                                        allow_empty=False, max_length=1000)


class InvoicesQuery(serializers.Serializer):
    """``GET /api/v1/invoices``: one account's invoices validated between two days (inclusive),
    a page at a time (``cursor`` as given in the previous page's ``next_cursor``)."""

    account_id = serializers.CharField(max_length=40)
    validated_from = serializers.DateField()
    validated_to = serializers.DateField()
    cursor = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def validate(self, data):
        if data["validated_from"] > data["validated_to"]:
            raise serializers.ValidationError(
                {"validated_to": "La fin de la période doit suivre son début."})
        if data.get("cursor"):
            data["after"] = cursor_decode(data["cursor"])
        return data


def cursor_encode(invoice):
    """An opaque position: after this invoice in (validated_at, id) order."""
    raw = json.dumps([invoice.validated_at.isoformat(), invoice.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, invoice_id = json.loads(raw)
        when = datetime.fromisoformat(moment)
    except (ValueError, TypeError):
        raise serializers.ValidationError({"cursor": "Curseur invalide."}) from None
    if when.tzinfo is None or not isinstance(invoice_id, str):
        raise serializers.ValidationError({"cursor": "Curseur invalide."})
    return when, invoice_id


class InvoicePatch(InvoiceCreate):
    """Any field may be left out; a customer or lines given are given whole."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


def invoice_changes(data):
    """Validated PATCH data as keyword arguments of ``services.invoice_update``."""
    changes = {key: data[key] for key in ("number", "date", "lines") if key in data}
    if "customer" in data:
        changes["customer_name"] = data["customer"]["name"]
        changes["customer_account"] = data["customer"]["account"]
    return changes


def account_data(account):
    return {
        "id": account.id,
        "siren": account.siren,
        "name": account.name,
        "plan": account.plan,
        "licence_status": account.licence_status,
        "trial_ends_at": iso_utc(account.trial_ends_at),
    }


def settings_data(account):
    return {
        "customer_account": account.customer_account,
        "revenue_account": account.revenue_account,
        "revenue_account_label": account.revenue_account_label,
        "vat_account": account.vat_account,
    }


def invoice_data(invoice):
    prefetch_related_objects([invoice], "lines")
    return {
        "id": invoice.id,
        "account_id": invoice.account_id,
        "number": invoice.number,
        "date": invoice.date.isoformat(),
        "customer": {"name": invoice.customer_name, "account": invoice.customer_account},
        "lines": [
            {"label": line.label, "amount_excl_tax": money(line.amount_excl_tax),
             "vat_rate": f"{line.vat_rate:.2f}", "vat_amount": money(line.vat_amount)}
            for line in invoice.lines.all()
        ],
        "total_excl_tax": money(invoice.total_excl_tax),
        "total_vat": money(invoice.total_vat),
        "total_incl_tax": money(invoice.total_incl_tax),
        "status": invoice.status,
        "version": invoice.version,
        "validated_at": iso_utc(invoice.validated_at),
        "locked": invoice.is_locked,
        "export_id": invoice.export_id or None,
    }
