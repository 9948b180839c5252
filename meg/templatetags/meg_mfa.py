from django import template

from meg.mfa import mfa_requirement_for

register = template.Library()


@register.simple_tag(takes_context=True)
def mfa_requirement(context):
    """Why the current user must use MFA (``"firm"``, ``"staff"``) or None: for the MFA pages."""
    return mfa_requirement_for(context["request"].user)
