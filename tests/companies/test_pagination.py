"""Pagination links keep the page's filters, whichever list they page."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory

from tests import factories
from tests.conftest import client_for


def pagination_links(query):
    request = RequestFactory().get("/liste/", query)
    page = Paginator(range(100), 10).get_page(request.GET.get("page"))
    return render_to_string("meg/pagination.html", {"page": page}, request=request)


def test_links_keep_every_filter_and_change_only_the_page():
    html = pagination_links({"q": "dupont", "journals": ["AC", "VT"], "page": "3"})
    assert 'href="?q=dupont&amp;journals=AC&amp;journals=VT&amp;page=2"' in html
    assert 'href="?q=dupont&amp;journals=AC&amp;journals=VT&amp;page=4"' in html


def test_links_never_carry_the_htmx_fragment_marker():
    html = pagination_links({"partial": "1", "date_from": "2026-01-01"})
    assert 'href="?date_from=2026-01-01&amp;page=2"' in html
    assert "partial" not in html


def test_company_list_pages_keep_the_search(accountant, firm):
    for index in range(26):
        factories.CompanyFactory(firm=firm, name=f"Dupont {index:02d}")
    html = client_for(accountant).get("/cabinet/entreprises/", {"q": "Dupont"}).content.decode()
    assert 'href="?q=Dupont&amp;page=2"' in html
