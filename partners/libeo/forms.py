from django import forms
from django.utils.translation import gettext_lazy as _


class LibeoKeyForm(forms.Form):
    api_key = forms.CharField(label=_("Clé d'api LIBEO"), max_length=200,
                              widget=forms.PasswordInput(render_value=False,
                                                         attrs={"autocomplete": "off"}))


class LibeoBankAccountForm(forms.Form):
    bank_account = forms.CharField(
        label=_("Compte de banque des paiements"), max_length=10,
        help_text=_("Compte 512… crédité par le journal Banque Libeo (ex. 512000)."))
