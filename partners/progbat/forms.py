from django import forms
from django.utils.translation import gettext_lazy as _


class CredentialsForm(forms.Form):
    username = forms.CharField(label=_("Identifiant ProGBat"), max_length=150)
    password = forms.CharField(label=_("Mot de passe ProGBat"), widget=forms.PasswordInput,
                               max_length=200)
