"""Module activation per company and per-user access, as the company space shows them."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from companies import services
from companies.models import Module, ModuleActivation
from companies.selectors import is_module_admin, modules_for
from tests import factories
from tests.conftest import client_for


def nav_of(user, company):
    """The module names in the company-space navigation, as the user sees them."""
    response = client_for(user).get(f"/entreprise/{company.pk}/")
    assert response.status_code == 200, user  # an empty nav must not be an error page
    html = response.content.decode()
    return {m.name for m in Module.objects.all() if f'data-testid="nav-module-{m.code}"' in html}


@pytest.fixture
def achats(db):
    return Module.objects.get(code="achats")


def test_catalogue_has_free_and_premium_modules(db):
    tiers = dict(Module.objects.values_list("code", "tier"))
    assert tiers["achats"] == "free" and tiers["progbat"] == "free"
    assert "premium" in tiers.values()


def test_saving_the_module_list_activates_for_dirigeant_and_attached_accountants(
        company, dirigeant, salarie, accountant, collaborateur):
    client = client_for(accountant)
    response = client.post(f"/entreprise/{company.pk}/parametres/modules/",
                           {"modules": ["achats"]}, follow=True)
    assert "Modules enregistrés : Achats." in response.content.decode()
    assert nav_of(dirigeant, company) == {"Achats"}
    assert nav_of(accountant, company) == {"Achats"}
    assert nav_of(salarie, company) == set()
    assert nav_of(collaborateur, company) == set()  # a firm user not attached to the company


def test_unticked_module_is_switched_off(company, dirigeant, accountant):
    services.modules_save(company=company, actor=accountant,
                          enabled_codes=["achats", "facturation"])
    services.modules_save(company=company, actor=accountant, enabled_codes=["facturation"])
    assert nav_of(dirigeant, company) == {"Facturation"}
    assert ModuleActivation.objects.get(company=company, module__code="achats").enabled is False


def test_per_user_override_switches_access_on_and_off(company, dirigeant, salarie, accountant,
                                                      achats):
    services.modules_save(company=company, actor=accountant, enabled_codes=["achats"])
    client = client_for(accountant)
    url = f"/entreprise/{company.pk}/parametres/utilisateurs/"
    client.post(f"{url}{salarie.pk}/", {"module": "achats", "enabled": "on"})
    client.post(f"{url}{dirigeant.pk}/", {"module": "achats"})
    assert nav_of(salarie, company) == {"Achats"}
    assert nav_of(dirigeant, company) == set()
    assert client_for(dirigeant).get(f"/entreprise/{company.pk}/achats/").status_code == 403
    assert client_for(salarie).get(f"/entreprise/{company.pk}/achats/").status_code == 200


def test_module_administrator_is_marked_and_must_have_access(company, dirigeant, accountant,
                                                             achats):
    services.modules_save(company=company, actor=accountant, enabled_codes=["achats"])
    client = client_for(accountant)
    client.post(f"/entreprise/{company.pk}/parametres/utilisateurs/{dirigeant.pk}/",
                {"module": "achats", "enabled": "on", "is_admin": "on"})
    assert is_module_admin(dirigeant, company, "achats")
    with pytest.raises(ValidationError):
        services.user_module_access_set(company=company, actor=accountant, user=dirigeant,
                                        module=achats, enabled=False, is_admin=True)


def test_override_of_a_module_not_activated_is_refused(company, dirigeant, accountant):
    client = client_for(accountant)
    response = client.post(f"/entreprise/{company.pk}/parametres/utilisateurs/{dirigeant.pk}/",
                           {"module": "achats", "enabled": "on"})
    assert response.status_code == 404
    assert modules_for(dirigeant, company) == []


def test_premium_module_needs_a_premium_licence(company, dirigeant, accountant):
    client = client_for(accountant)
    response = client.post(f"/entreprise/{company.pk}/parametres/modules/",
                           {"modules": ["achats", "tresorerie"]})
    assert response.status_code == 400
    assert "licence MEG Premium" in response.content.decode()
    assert not ModuleActivation.objects.filter(company=company).exists()  # nothing half-saved

    today = datetime.date.today()
    factories.LicenceFactory(company=company, user=dirigeant, tier="premium",
                             starts_on=today, ends_on=today + datetime.timedelta(days=30))
    services.modules_save(company=company, actor=accountant, enabled_codes=["tresorerie"])
    assert nav_of(dirigeant, company) == {"Trésorerie"}


def test_accountant_attached_later_gets_the_activated_modules(company, accountant,
                                                              collaborateur):
    services.modules_save(company=company, actor=accountant, enabled_codes=["achats"])
    assert nav_of(collaborateur, company) == set()
    services.accountant_attach(company=company, actor=accountant, user=collaborateur)
    assert nav_of(collaborateur, company) == {"Achats"}


def test_saving_twice_changes_nothing_the_second_time(company, accountant):
    assert services.modules_save(company=company, actor=accountant, enabled_codes=["achats"])
    assert services.modules_save(company=company, actor=accountant,
                                 enabled_codes=["achats"]) == []
    assert ModuleActivation.objects.filter(company=company).count() == 1
