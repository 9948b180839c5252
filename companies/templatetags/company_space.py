from django import template

from companies.module_pages import module_url as _module_url

register = template.Library()


@register.simple_tag
def module_url(company, module):
    """The page a module of the company-space navigation opens."""
    return _module_url(company.pk, module.code)
