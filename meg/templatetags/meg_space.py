from django import template

from companies.selectors import modules_for

register = template.Library()


@register.simple_tag(takes_context=True)
def space_modules(context, company):
    """The company-space navigation: the activated modules the current user may use."""
    return modules_for(context["request"].user, company)
