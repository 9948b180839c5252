import pytest
from django.db import connection
from django.test import Client
from django_scopes import scopes_disabled

from companies.models import CompanyMembership
from tests import factories


@pytest.fixture(autouse=True)
def _postgres_only(request):
    if "django_db_setup" in request.fixturenames:
        assert connection.vendor == "postgresql", (
            "The suite runs on PostgreSQL: use `make test` (it sets DATABASE_URL).")


@pytest.fixture(autouse=True)
def _unscoped_setup():
    """Fixtures and assertions read across tenants; requests still run inside their own scope."""
    with scopes_disabled():
        yield


@pytest.fixture
def firm(db):
    return factories.FirmFactory(name="Cabinet Alpha")


@pytest.fixture
def accountant(firm):
    """The firm's admin accountant."""
    return factories.FirmMembershipFactory(firm=firm, user__email="expert@alpha.test").user


@pytest.fixture
def collaborateur(firm):
    return factories.FirmMembershipFactory(firm=firm, role="collaborateur",
                                           user__email="collab@alpha.test").user


@pytest.fixture
def company(firm, accountant):
    company = factories.CompanyFactory(firm=firm, name="Alpha Maçonnerie")
    factories.CompanyAccountantFactory(company=company, user=accountant)
    return company


@pytest.fixture
def dirigeant(company):
    return factories.CompanyMembershipFactory(company=company,
                                              user__email="patron@alpha.test").user


@pytest.fixture
def salarie(company, dirigeant):
    return factories.CompanyMembershipFactory(company=company, role=CompanyMembership.Role.SALARIE,
                                              user__email="salarie@alpha.test").user


@pytest.fixture
def other_firm(db):
    return factories.FirmFactory(name="Cabinet Bêta")


@pytest.fixture
def other_firm_user(other_firm):
    return factories.FirmMembershipFactory(firm=other_firm, user__email="expert@beta.test").user


@pytest.fixture
def other_company(other_firm, other_firm_user):
    company = factories.CompanyFactory(firm=other_firm, name="Bêta Plomberie")
    factories.CompanyMembershipFactory(company=company, user__email="patron@beta.test")
    return company


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def accountant_client(accountant):
    return client_for(accountant)


@pytest.fixture(autouse=True)
def _fast_password_hasher_and_own_media(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _french_after_each_test():
    """A request in English leaves English active in this thread (as Django's LocaleMiddleware
    does): the next test starts in French, as every process does."""
    yield
    from django.utils import translation

    translation.activate("fr")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits live in the cache: each test starts with a clean slate."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def achats(company, dirigeant, accountant):
    """Achats activated for the company; the dirigeant is its administrator."""
    from companies.models import Module
    from companies.services import modules_save, user_module_access_set

    modules_save(company=company, actor=accountant, enabled_codes=["achats"])
    user_module_access_set(company=company, actor=accountant, user=dirigeant,
                           module=Module.objects.get(code="achats"), enabled=True,
                           is_admin=True)
    return company
