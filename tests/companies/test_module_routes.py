"""Each module with a page of its own registers it; the placeholder serves only the others,
whatever the order of the URL includes."""

import re

import pytest
from django.urls import NoReverseMatch, include, path, resolve, reverse

from companies import services
from companies.module_pages import module_url
from tests.conftest import client_for

OWN_PAGES = {"achats": "purchases:home", "export-ecritures": "accounting:export_space",
             "progbat": "progbat:module"}

# The project's includes with the company space (and its catch-all) first: the rule must not
# depend on the order.
urlpatterns = [
    path("", include("companies.urls")),
    path("", include("partners.progbat.urls")),
    path("", include("accounting.urls")),
    path("", include("purchases.urls")),
    path("cabinet/", include("firms.urls")),
]


@pytest.mark.parametrize("urlconf", [None, __name__])
def test_modules_with_their_own_page_never_reach_the_placeholder(urlconf):
    for code, url_name in OWN_PAGES.items():
        match = resolve(f"/entreprise/7/{code}/", urlconf=urlconf)
        assert match.view_name == url_name and match.kwargs == {"company_id": 7}
    match = resolve("/entreprise/7/facturation/", urlconf=urlconf)
    assert match.view_name == "companies:module"
    assert match.kwargs == {"company_id": 7, "module_code": "facturation"}


def test_the_placeholder_url_cannot_be_built_for_a_module_with_its_own_page():
    with pytest.raises(NoReverseMatch):
        reverse("companies:module", kwargs={"company_id": 7, "module_code": "achats"})


def test_module_urls_keep_their_paths():
    assert [module_url(7, code) for code in ["achats", "export-ecritures", "progbat",
                                             "facturation"]] == [
        "/entreprise/7/achats/", "/entreprise/7/export-ecritures/", "/entreprise/7/progbat/",
        "/entreprise/7/facturation/"]


def test_navigation_links_each_module_to_its_page(company, accountant):
    services.modules_save(company=company, actor=accountant,
                          enabled_codes=["achats", "export-ecritures", "facturation"])
    html = client_for(accountant).get(f"/entreprise/{company.pk}/").content.decode()
    links = dict(re.findall(r'data-testid="nav-module-([\w-]+)"><a href="([^"]+)"', html))
    assert links == {code: f"/entreprise/{company.pk}/{code}/"
                     for code in ["achats", "facturation", "export-ecritures"]}
    placeholder = client_for(accountant).get(links["facturation"])
    assert "Ses écrans arrivent" in placeholder.content.decode()
    assert "Ses écrans arrivent" not in client_for(accountant).get(links["achats"]).content.decode()
