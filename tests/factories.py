"""factory-boy factories for the domain; SIRETs are valid unless a test says otherwise."""

import datetime
import itertools

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
