"""Company invariants: SIRET, one dirigeant, licence dates, state transitions."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from companies import services
from companies.invitations import invitation_accept
from companies.models import Company, CompanyMembership, Invitation
from tests import factories
from tests.conftest import client_for
from users.models import User

VALID_SIRET = "90000001900019"


def create(firm, actor, siret, **extra):
    return services.company_create(firm=firm, actor=actor, name="Nouvelle SARL", siret=siret,
                                   dirigeant_email="boss@nouvelle.test", **extra)


class TestSiret:
    def test_valid_siret_is_accepted_and_spaces_are_removed(self, firm, accountant):
        client = client_for(accountant)
        response = client.post("/cabinet/entreprises/nouvelle/", {
            "name": "Nouvelle SARL", "siret": "900 000 019 00019", "dossier_type": "engagement",
            "fiscal_year_end_day": 31, "fiscal_year_end_month": 12,
            "dirigeant_email": "boss@nouvelle.test", "dirigeant_first_name": "Léa",
            "dirigeant_last_name": "Boss"})
        company = Company.objects.get(firm=firm, name="Nouvelle SARL")
        assert response.status_code == 302
        assert company.siret == VALID_SIRET
        assert company.siren == "900000019"

    @pytest.mark.parametrize(("siret", "message"), [
        ("90000001900018", "clé de contrôle est fausse"),
        ("9000000190001", "exactement 14 chiffres"),
        ("900000019000199", "exactement 14 chiffres"),
        ("9000000190001A", "ne doit contenir que des chiffres"),
    ], ids=["bad-check-digit", "too-short", "too-long", "letters"])
    def test_invalid_siret_is_refused_in_french_and_nothing_is_created(
            self, firm, accountant, siret, message):
        client = client_for(accountant)
        response = client.post("/cabinet/entreprises/nouvelle/", {
            "name": "Nouvelle SARL", "siret": siret, "dossier_type": "engagement",
            "fiscal_year_end_day": 31, "fiscal_year_end_month": 12,
            "dirigeant_email": "boss@nouvelle.test", "dirigeant_first_name": "Léa",
            "dirigeant_last_name": "Boss"})
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not Company.objects.filter(name="Nouvelle SARL").exists()

    def test_service_refuses_bad_check_digit(self, firm, accountant):
        with pytest.raises(ValidationError) as error:
            create(firm, accountant, "90000001900018")
        assert "clé de contrôle" in str(error.value)

    def test_siret_is_unique_within_a_firm(self, firm, accountant):
        create(firm, accountant, VALID_SIRET)
        with pytest.raises(ValidationError):
            create(firm, accountant, VALID_SIRET)
        assert Company.objects.filter(siret=VALID_SIRET).count() == 1

    def test_two_firms_may_follow_the_same_siret(self, firm, accountant, other_firm,
                                                 other_firm_user):
        create(firm, accountant, VALID_SIRET)
        create(other_firm, other_firm_user, VALID_SIRET)
        assert Company.objects.filter(siret=VALID_SIRET).count() == 2

    def test_database_refuses_a_malformed_siret(self, firm):
        with pytest.raises(IntegrityError), transaction.atomic():
            Company.objects.create(firm=firm, name="X", siret="ABC")


class TestOneDirigeant:
    def test_company_is_created_with_its_dirigeant_invited(self, firm, accountant):
        company = create(firm, accountant, VALID_SIRET)
        dirigeants = CompanyMembership.objects.filter(company=company, role="dirigeant")
        assert not dirigeants.exists()  # not before the person accepts (tests/security)
        invitation = Invitation.objects.get(company=company)
        assert (invitation.email, invitation.role) == ("boss@nouvelle.test", "dirigeant")
        invitation_accept(invitation=invitation,
                          user=User.objects.get(email="boss@nouvelle.test"))
        assert [m.user.email for m in dirigeants] == ["boss@nouvelle.test"]

    def test_second_dirigeant_is_refused_by_the_service(self, company, dirigeant, accountant):
        with pytest.raises(ValidationError) as error:
            services.company_user_add(company=company, actor=accountant,
                                      email="autre@alpha.test", role="dirigeant")
        assert "déjà un dirigeant" in str(error.value)
        assert CompanyMembership.objects.filter(company=company, role="dirigeant").count() == 1

    def test_second_dirigeant_is_refused_by_the_database(self, company, dirigeant):
        with pytest.raises(IntegrityError), transaction.atomic():
            CompanyMembership.objects.create(firm=company.firm, company=company,
                                             user=factories.UserFactory(), role="dirigeant")

    def test_changing_dirigeant_demotes_the_former_one(self, company, dirigeant, salarie,
                                                       accountant):
        services.company_dirigeant_change(company=company, actor=accountant, user=salarie)
        roles = dict(CompanyMembership.objects.filter(company=company)
                     .values_list("user__email", "role"))
        assert roles == {"patron@alpha.test": "salarie", "salarie@alpha.test": "dirigeant"}

    def test_dirigeant_cannot_be_removed(self, company, dirigeant, accountant):
        with pytest.raises(ValidationError):
            services.company_user_remove(company=company, actor=accountant, user=dirigeant)
        assert CompanyMembership.objects.filter(company=company, user=dirigeant).exists()


class TestLicenceDates:
    def test_licence_ending_before_it_starts_is_refused(self, company, dirigeant, accountant):
        with pytest.raises(ValidationError):
            services.licence_grant(company=company, actor=accountant, user=dirigeant,
                                   tier="free", starts_on=datetime.date(2026, 5, 1),
                                   ends_on=datetime.date(2026, 4, 1))

    def test_database_refuses_incoherent_dates(self, company, dirigeant):
        with pytest.raises(IntegrityError), transaction.atomic():
            factories.LicenceFactory(company=company, user=dirigeant,
                                     starts_on=datetime.date(2026, 5, 1),
                                     ends_on=datetime.date(2026, 4, 1))


class TestStates:
    def test_created_then_activated_then_inactivated_then_activated(self, firm, accountant):
        company = create(firm, accountant, VALID_SIRET)
        assert company.state == "created"
        for state in ("activated", "inactivated", "activated"):
            company = services.company_set_state(company=company, actor=accountant, state=state)
            assert company.state == state
        actions = list(AuditEvent.objects.filter(company=company).order_by("id")
                       .values_list("action", flat=True))
        assert actions == ["company.created", "invitation.sent", "company.activated",
                           "company.inactivated", "company.activated"]

    def test_created_company_cannot_be_inactivated(self, firm, accountant):
        company = create(firm, accountant, VALID_SIRET)
        with pytest.raises(ValidationError):
            services.company_set_state(company=company, actor=accountant, state="inactivated")
        company.refresh_from_db()
        assert company.state == "created"

    def test_inactivate_button_posts_and_updates_the_list(self, company, accountant, firm):
        still_active = factories.CompanyFactory(firm=firm, name="Toujours Active SARL")
        client = client_for(accountant)
        response = client.post(f"/cabinet/entreprises/{company.pk}/etat/",
                               {"state": "inactivated"})
        assert response.status_code == 302
        company.refresh_from_db()
        assert company.state == "inactivated"
        listing = client.get("/cabinet/entreprises/?state=inactivated").content.decode()
        assert company.name in listing
        assert still_active.name not in listing  # the list shows the inactivated ones only


def test_company_list_sorts_names_the_french_way(firm, accountant):
    for name in ["Martin", "Électricité Lyon", "Zinc", "Enduits"]:
        factories.CompanyFactory(firm=firm, name=name)
    html = client_for(accountant).get("/cabinet/entreprises/").content.decode()
    positions = [html.index(f">{name}<") for name in
                 ["Électricité Lyon", "Enduits", "Martin", "Zinc"]]
    assert positions == sorted(positions)
