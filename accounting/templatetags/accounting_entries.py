"""``{% entry_actions entry as actions %}``: the buttons partners registered for an entry."""

from django import template
from django.urls import reverse

from accounting import hooks

register = template.Library()


@register.simple_tag
def entry_actions(entry):
    return [{"label": action.label, "confirm": action.confirm,
             "url": reverse(action.url_name, kwargs={"company_id": entry.company_id,
                                                      "entry_id": entry.pk})}
            for action in hooks.entry_actions(entry)]
