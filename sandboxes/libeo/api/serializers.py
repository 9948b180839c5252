"""The shapes of API requests (validation) and answers (representation)."""

import re
from decimal import Decimal

from rest_framework import serializers
from stdnum import iban as iban_number
from stdnum.exceptions import ValidationError as NumberError

from sandboxes.common.formats import iso_utc, money

MONEY = re.compile(r"^\d{1,10}\.\d{2}$")
EXTERNAL_ID = re.compile(r"^[\w.:@-]{1,100}$")


def validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def check_external_id(external_id):
    if not EXTERNAL_ID.match(external_id):
        raise serializers.ValidationError({"external_id": [
            "Identifiant de 1 à 100 caractères : lettres, chiffres, « _ . : @ - »."]})


class MoneyString(serializers.Field):
    """An amount as MEG sends it: a JSON string with exactly 2 decimals, never a float."""

    default_error_messages = {
        "invalid": 'Montant attendu sous forme de chaîne à 2 décimales, positif ou nul '
                   '(par exemple "120.00").',
        "positive": "Le montant doit être strictement positif.",
    }

    def __init__(self, *, positive=False, **kwargs):
        self.positive = positive
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not MONEY.match(data):
            self.fail("invalid")
        amount = Decimal(data)
        if self.positive and amount <= 0:
            self.fail("positive")
        return amount

    def to_representation(self, value):
        return money(value)


class Iban(serializers.CharField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return iban_number.validate(value)
        except NumberError as error:
            raise serializers.ValidationError(
                "IBAN invalide (format du pays ou clé de contrôle).") from error


class Supplier(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    iban = Iban(max_length=50)


class InvoiceUpsert(serializers.Serializer):
    supplier = Supplier()
    number = serializers.CharField(max_length=60)
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    amount_excl_tax = MoneyString()
    vat_amount = MoneyString()
    amount_incl_tax = MoneyString()
    currency = serializers.ChoiceField(["EUR"], error_messages={
        "invalid_choice": "Libeo ne règle que des factures en euros (EUR)."})
    status = serializers.CharField(max_length=40)

    def validate(self, attrs):
        if attrs["amount_excl_tax"] + attrs["vat_amount"] != attrs["amount_incl_tax"]:
            raise serializers.ValidationError({"amount_incl_tax": [
                "Le TTC doit être égal au HT plus la TVA."]})
        return attrs


class PaymentCreate(serializers.Serializer):
    invoice_external_id = serializers.RegexField(EXTERNAL_ID, error_messages={
        "invalid": "Identifiant de facture de 1 à 100 caractères."})
    amount = MoneyString(positive=True)
    execution_date = serializers.DateField()


class ExchangeRequest(serializers.Serializer):
    code = serializers.CharField(max_length=200)


def me_data(company, payments_this_month):
    return {
        "account_id": company.account_id,
        "company": {"siren": company.siren, "name": company.name},
        "plan": company.plan,
        "users": [{"email": membership.user.email, "role": membership.role}
                  for membership in company.memberships.select_related("user")],
        "payments_this_month": payments_this_month,
        "payments_limit": company.payments_limit,
    }


def invoice_data(invoice):
    return {
        "external_id": invoice.external_id,
        "supplier": {"name": invoice.supplier_name, "iban": invoice.supplier_iban},
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "amount_excl_tax": money(invoice.amount_excl_tax),
        "vat_amount": money(invoice.vat_amount),
        "amount_incl_tax": money(invoice.amount_incl_tax),
        "currency": invoice.currency,
        "status": invoice.status,
        "version": invoice.versions,
        "updated_at": iso_utc(invoice.updated_at),
    }

