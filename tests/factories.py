"""factory-boy factories for the domain; SIRETs are valid unless a test says otherwise."""

import datetime
import itertools
from decimal import Decimal

import factory
from stdnum import luhn

from companies.models import (
    Company,
    CompanyAccountant,
    CompanyMembership,
    Licence,
    ModuleActivation,
    Tier,
)
from firms.models import Firm, FirmMembership
from users.models import User

PASSWORD = "test-password-2026"
_siren_counter = itertools.count(1)


def valid_siren():
    base = f"{80000000 + next(_siren_counter):08d}"
    return base + luhn.calc_check_digit(base)


def valid_siret(siren=None):
    siren = siren or valid_siren()
    head = siren + "0001"
    return head + luhn.calc_check_digit(head)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = "Prénom"
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    name = factory.Sequence(lambda n: f"Cabinet {n}")
    siren = factory.LazyFunction(valid_siren)


class FirmMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FirmMembership

    firm = factory.SubFactory(FirmFactory)
    user = factory.SubFactory(UserFactory)
    role = FirmMembership.Role.ADMIN


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    firm = factory.SubFactory(FirmFactory)
    name = factory.Sequence(lambda n: f"Entreprise {n}")
    siret = factory.LazyFunction(valid_siret)
    state = Company.State.ACTIVATED


class CompanyMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyMembership

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    user = factory.SubFactory(UserFactory)
    role = CompanyMembership.Role.DIRIGEANT


class CompanyAccountantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyAccountant

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    user = factory.SubFactory(UserFactory)


class ModuleActivationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModuleActivation

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    enabled = True


class LicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Licence

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    user = factory.SubFactory(UserFactory)
    tier = Tier.FREE
    starts_on = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=10))
    ends_on = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=300))


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "firms.Site"

    firm = factory.SubFactory(FirmFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    city = "Lyon"


class PartnerConventionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "firms.PartnerConvention"

    firm = factory.SubFactory(FirmFactory)
    partner = "progbat"
    kind = "prescripteur"
    signed_at = datetime.date(2026, 1, 5)


class FirmNewsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "firms.FirmNews"

    firm = factory.SubFactory(FirmFactory)
    title = factory.Sequence(lambda n: f"Actualité {n}")
    body = "Les bureaux ferment le 24 décembre."


class SupplierInvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "purchases.SupplierInvoice"

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    supplier_name = "Matériaux Rhône"
    number = factory.Sequence(lambda n: f"F-{n:05d}")
    issue_date = datetime.date(2026, 11, 2)
    due_date = datetime.date(2026, 12, 2)
    amount_excl_tax = Decimal("1000.00")
    vat_amount = Decimal("200.00")
    amount_incl_tax = Decimal("1200.00")
    created_by = factory.SubFactory(UserFactory)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "purchases.Payment"

    invoice = factory.SubFactory(SupplierInvoiceFactory)
    company = factory.SelfAttribute("invoice.company")
    firm = factory.SelfAttribute("invoice.firm")
    idempotency_key = factory.Sequence(lambda n: f"pay-{n}")
    amount = factory.SelfAttribute("invoice.amount_incl_tax")
    execution_date = factory.SelfAttribute("invoice.due_date")
    requested_by = factory.SelfAttribute("invoice.created_by")


class ChartAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounting.ChartAccount"

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    number = "401000"
    label = "Fournisseurs"


class JournalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounting.Journal"

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    code = factory.Sequence(lambda n: f"J{n}")
    label = "Achats"
    source = "manual"


class EntryFactory(factory.django.DjangoModelFactory):
    """A draft entry, written directly (not balanced by itself: add its lines)."""

    class Meta:
        model = "accounting.Entry"

    journal = factory.SubFactory(JournalFactory)
    company = factory.SelfAttribute("journal.company")
    firm = factory.SelfAttribute("journal.firm")
    fiscal_year = 2026
    number = factory.Sequence(lambda n: n + 1)
    date = datetime.date(2026, 11, 2)
    piece_ref = factory.Sequence(lambda n: f"P-{n}")
    label = "Facture Matériaux Rhône"
    source_ref = factory.Sequence(lambda n: f"doc-{n}")
    source_version = 1
    validated_at = factory.LazyFunction(lambda: datetime.datetime(2026, 11, 2, 9, 0,
                                                                  tzinfo=datetime.UTC))


class EntryLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounting.EntryLine"

    entry = factory.SubFactory(EntryFactory)
    firm = factory.SelfAttribute("entry.firm")
    position = factory.Sequence(lambda n: n + 1)
    account = "607000"
    account_label = "Achats de marchandises"
    label = "Facture Matériaux Rhône"
    debit = Decimal("100.00")


class ExportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounting.ExportBatch"

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    created_by = factory.SubFactory(UserFactory)
    format = "fec"
    date_from = datetime.date(2026, 1, 1)
    date_to = datetime.date(2026, 12, 31)


class InboxEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounting.InboxEvent"

    company = factory.SubFactory(CompanyFactory)
    firm = factory.SelfAttribute("company.firm")
    partner = "progbat"
    webhook_id = factory.Sequence(lambda n: f"msg_{n}")
    event_type = "invoice.validated"
    payload = factory.LazyFunction(dict)
