"""Which page of the company space opens each module.

A module with a page of its own (Achats, Export des écritures, ProGBat) registers the URL name of
that page from its app's ``ready()``; the page lives at ``entreprise/<company_id>/<code>/`` and
its URL takes ``company_id`` only. Every other module opens the generic placeholder page
(``companies:module``), whose converter refuses the codes of modules with a page of their own:
which view answers never depends on the order of the URL includes.
"""

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

_pages: dict[str, str] = {}


def register_module_page(code, url_name):
    """Declare that module ``code`` is served by the view named ``url_name``."""
    if _pages.get(code, url_name) != url_name:
        raise ImproperlyConfigured(f"Module {code!r} already has the page {_pages[code]!r}.")
    _pages[code] = url_name


def own_page(code):
    """The URL name of the module's own page, or None for modules shown by the placeholder."""
    return _pages.get(code)


def module_url(company_id, code):
    url_name = own_page(code)
    if url_name:
        return reverse(url_name, kwargs={"company_id": company_id})
    return reverse("companies:module", kwargs={"company_id": company_id, "module_code": code})


class PlaceholderModuleConverter:
    """A module code that has no page of its own (else the URL does not match)."""

    regex = "[-a-zA-Z0-9_]+"

    def to_python(self, value):
        if own_page(value):
            raise ValueError(value)  # Django moves on to the module's own URL
        return value

    def to_url(self, value):
        if own_page(value):
            raise ValueError(value)  # reverse() answers NoReverseMatch
        return value
