"""Tenant isolation: another firm's ids answer 404, firm pages refuse company users (403),
and a query made outside any scope raises instead of reading every firm's rows."""

import inspect
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django_scopes import scope
from django_scopes.exceptions import ScopeError
from django_scopes.state import state as scope_state

from accounting.models import BatchExport, Entry, ExportBatch, Journal
from companies.invitations import invitation_send, token_hash
from companies.models import Company, CompanyMembership, Invitation, ModuleActivation
from firms.models import FirmMembership
from notifications.models import Notification
from partners.progbat.models import ProgbatBackfill
from purchases.models import Supplier, SupplierInvoice
from tests import factories
from tests.conftest import client_for
from users.models import ApiToken

ROOT = Path(settings.BASE_DIR).resolve()


def is_ours(view):
    """A view written in this repository (pages and API alike), not in a library."""
    source = Path(inspect.getfile(sys.modules[view.__module__])).resolve()
    return source.is_relative_to(ROOT) and "site-packages" not in source.parts


def app_patterns(resolver=None, namespace=None, prefix=""):
    """Yield ``(namespace:name, route, pattern)`` for every URL of our own apps."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from app_patterns(entry, ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and is_ours(entry.callback):
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern), entry.pattern


@pytest.fixture
def foreign_objects(other_company):
    """Ids that belong to Cabinet Bêta, to be walked by users of Cabinet Alpha."""
    ModuleActivation.objects.create(firm=other_company.firm, company=other_company,
                                    module_id=1, enabled=True)
    export = ExportBatch.objects.create(
        firm=other_company.firm, company=other_company, format="fec", journal_codes=["VT"],
        created_by=FirmMembership.objects.filter(firm=other_company.firm).first().user,
        date_from="2026-01-01", date_to="2026-12-31", status="done")
    supplier = Supplier.objects.create(firm=other_company.firm, company=other_company,
                                       name="X", aux_account="FX")
    invoice = SupplierInvoice.objects.create(
        firm=other_company.firm, company=other_company, supplier_name="X", number="1",
        issue_date="2026-01-01", due_date="2026-01-31", amount_excl_tax=10, vat_amount=2,
        amount_incl_tax=12, created_by=export.created_by, supplier=supplier)
    invitation_send(firm=other_company.firm, actor=export.created_by, company=other_company,
                    email="invitee@beta.test", role="salarie")
    invitation = Invitation.objects.get(email="invitee@beta.test")
    token = "invitation-token-of-beta"  # only its hash is stored: plant a known one
    Invitation.objects.filter(pk=invitation.pk).update(token_hash=token_hash(token))
    journal = Journal.objects.create(firm=other_company.firm, company=other_company, code="VT",
                                     label="Ventes", source="progbat")
    entry = Entry.objects.create(firm=other_company.firm, company=other_company, journal=journal,
                                 fiscal_year=2026, date="2026-06-10", piece_ref="FAC001",
                                 label="FAC001 X", source_ref="inv_beta", source_version=1,
                                 validated_at="2026-06-10T09:30:00Z")
    return {
        "token": token,  # an invitation link sent by Bêta to someone else
        "entry_id": entry.pk,
        "invoice_id": invoice.pk,
        "supplier_id": supplier.pk,
        "export_id": export.pk,
        "journal_id": journal.pk,
        "batch_id": BatchExport.objects.create(
            firm=other_company.firm, created_by=export.created_by, selection="Toutes",
            format="fec", date_from="2026-11-01", date_to="2026-11-30", status="done").pk,
        "end": "2026-12-31",
        "backfill_id": ProgbatBackfill.objects.create(
            firm=other_company.firm, company=other_company, date_from="2026-01-01",
            date_to="2026-03-31", requested_by=export.created_by).pk,
        "notification_id": Notification.objects.create(
            user=export.created_by, kind="link_error", fact_key="tenancy-test", title="x").pk,
        "company_id": other_company.pk,
        "user_id": CompanyMembership.objects.get(company=other_company).user_id,
        "membership_id": FirmMembership.objects.filter(firm=other_company.firm).first().pk,
        "module_code": "facturation",  # the placeholder serves modules without a page of their own
        "format": "json",  # the API's format-suffixed routes
    }


def accepts_post(view):
    """Whether the view has a POST handler at all (if not, 405 says nothing of the object)."""
    if hasattr(view, "actions"):  # a route of a DRF viewset
        return "post" in view.actions
    return hasattr(view.view_class, "post")


def object_urls(kwargs_source):
    """``(name, url, accepts POST)`` for every URL of ours that names an object."""
    urls = []
    for name, _route, pattern in app_patterns():
        names = list(pattern.regex.groupindex)
        if not set(names) - {"format"}:  # no object in it
            continue
        missing = set(names) - set(kwargs_source)
        assert not missing, f"{name}: teach this test how to fill {missing}"
        url = reverse(name, kwargs={k: kwargs_source[k] for k in names})
        urls.append((name, url, accepts_post(resolve(url).func)))
    return urls


def test_every_object_url_answers_404_to_a_user_of_another_firm(accountant, company,
                                                                 foreign_objects):
    client = client_for(accountant)
    urls = object_urls(foreign_objects)
    assert len(urls) >= 12
    before = Company.objects.get(pk=foreign_objects["company_id"])
    for name, url, post in urls:
        assert client.get(url).status_code == 404, f"GET {name} {url}"
        response = client.post(url, {"state": "inactivated", "modules": ["achats"],
                                     "action": "remove", "user_id": foreign_objects["user_id"],
                                     "module": "achats", "enabled": "on"})
        # Without a POST handler, 405 may come before the lookup: it says nothing either.
        assert response.status_code in ({404} if post else {404, 405}), f"POST {name} {url}"
    after = Company.objects.get(pk=foreign_objects["company_id"])
    assert (after.state, after.updated_at) == (before.state, before.updated_at)
    assert CompanyMembership.objects.filter(company_id=foreign_objects["company_id"]).count() == 1


def test_every_object_url_answers_404_to_a_company_user_of_another_firm(dirigeant,
                                                                        foreign_objects):
    client = client_for(dirigeant)
    for name, url, _post in object_urls(foreign_objects):
        # Firm pages refuse company users before looking at any id (403); the company
        # space looks the id up and does not reveal that it exists (404).
        expected = 403 if url.startswith("/cabinet/") else 404
        assert client.get(url).status_code == expected, f"GET {name} {url}"


def test_firm_pages_answer_403_to_company_users(dirigeant):
    client = client_for(dirigeant)
    pages = [route for name, route, pattern in app_patterns()
             if not pattern.regex.groupindex and route.startswith("cabinet/")]
    assert "cabinet/" in pages and "cabinet/entreprises/" in pages
    for route in pages:
        assert client.get("/" + route).status_code == 403, route


def test_company_settings_answer_403_to_the_dirigeant(company, dirigeant):
    client = client_for(dirigeant)
    assert client.get(f"/entreprise/{company.pk}/").status_code == 200
    assert client.get(f"/entreprise/{company.pk}/parametres/modules/").status_code == 403
    response = client.post(f"/entreprise/{company.pk}/parametres/modules/",
                           {"modules": ["achats"]})
    assert response.status_code == 403
    assert not ModuleActivation.objects.filter(company=company).exists()


def test_anonymous_visitors_are_sent_to_login(company):
    response = Client().get("/cabinet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_api_hides_other_firms_companies(accountant, company, other_company):
    _row, token = ApiToken.objects.create(user=accountant)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    listing = client.get("/api/v1/companies/").json()
    assert [c["name"] for c in listing["results"]] == [company.name]
    assert client.get(f"/api/v1/companies/{other_company.pk}/").status_code == 404
    assert client.get(f"/api/v1/companies/{company.pk}/").json()["siren"] == company.siret[:9]


def test_api_requires_a_token():
    assert Client().get("/api/v1/companies/").status_code == 401


def test_a_query_outside_any_scope_raises(company):
    token = scope_state.set({})  # leave the fixtures' "scopes disabled" for a bare context
    try:
        with pytest.raises(ScopeError):
            list(Company.objects.all())
    finally:
        scope_state.reset(token)


def test_a_scope_only_reads_its_own_firms(company, other_company):
    with scope(firm=[company.firm_id]):
        assert list(Company.objects.all()) == [company]


def test_foreign_user_id_in_own_company_answers_404(accountant, company, dirigeant):
    stranger = factories.UserFactory()
    client = client_for(accountant)
    url = f"/entreprise/{company.pk}/parametres/utilisateurs/{stranger.pk}/"
    assert client.get(url).status_code == 404
