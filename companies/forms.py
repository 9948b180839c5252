from django import forms
from django.utils.translation import gettext_lazy as _

from meg.forms import DateInput
from meg.validators import normalize_siret

from .models import Company, CompanyMembership, Tier


class CompanyForm(forms.ModelForm):
    # Wider than the 14 stored digits: people type SIRETs with spaces or dots.
    siret = forms.CharField(label=_("SIRET"), max_length=24,
                            help_text=_("14 chiffres ; le SIREN en est les 9 premiers."))

    class Meta:
        model = Company
        fields = ["name", "siret", "dossier_type", "address", "postal_code", "city",
                  "fiscal_year_end_day", "fiscal_year_end_month"]

    def clean_siret(self):
        return normalize_siret(self.cleaned_data["siret"])


class CompanyCreateForm(CompanyForm):
    dirigeant_email = forms.EmailField(label=_("E-mail du dirigeant"))
    dirigeant_first_name = forms.CharField(label=_("Prénom du dirigeant"), max_length=150)
    dirigeant_last_name = forms.CharField(label=_("Nom du dirigeant"), max_length=150)


class CompanyFilterForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder":
                                                      _("Nom, SIRET ou ville")}))
    state = forms.ChoiceField(label=_("État"), required=False,
                              choices=[("", _("Tous les états")), *Company.State.choices])
    dossier_type = forms.ChoiceField(label=_("Dossier"), required=False,
                                     choices=[("", _("Tous les dossiers")),
                                              *Company.DossierType.choices])


class CompanyUserForm(forms.Form):
    email = forms.EmailField(label=_("Adresse e-mail"))
    first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Rôle"), choices=CompanyMembership.Role.choices,
                             initial=CompanyMembership.Role.SALARIE)


class LicenceForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Utilisateur"), queryset=None)
    tier = forms.ChoiceField(label=_("Offre"), choices=Tier.choices)
    starts_on = forms.DateField(label=_("Début"), widget=DateInput())
    ends_on = forms.DateField(label=_("Fin"), widget=DateInput())

    def __init__(self, *args, company, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(
            company_memberships__company=company)

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("La fin de la licence doit suivre son début."))
        return data
