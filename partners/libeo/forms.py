from django import forms
from django.utils.translation import gettext_lazy as _


class LibeoKeyForm(forms.Form):
    api_key = forms.CharField(label=_("Clé d'api LIBEO"), max_length=200,
                              widget=forms.PasswordInput(render_value=False,
                                                         attrs={"autocomplete": "off"}))
