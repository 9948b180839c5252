"""Forms of the pages; they validate only, the writes go through services."""

from django import forms
from stdnum.fr import siren as siren_number


def _clean_siren(value):
    value = siren_number.compact(value or "")
    if not siren_number.is_valid(value):
        raise forms.ValidationError("SIREN invalide : 9 chiffres avec leur clé de contrôle.")
    return value


class MegAccountForm(forms.Form):
    """« Créer votre compte Libeo »: the company is asked only when MEG's claims lacked it."""

    siren = forms.CharField(label="SIREN de l'entreprise", max_length=11)
    name = forms.CharField(label="Raison sociale", max_length=200)
    accountant_email = forms.EmailField(
        label="E-mail de votre expert-comptable (facultatif)", required=False,
        help_text="Il pourra payer vos factures depuis MEG (1 accès expert-comptable inclus).")

    def __init__(self, *args, ask_company, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_company:
            del self.fields["siren"]
            del self.fields["name"]

    def clean_siren(self):
        return _clean_siren(self.cleaned_data["siren"])


class AccountantForm(forms.Form):
    email = forms.EmailField(label="E-mail de l'expert-comptable")
