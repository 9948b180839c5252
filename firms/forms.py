from django import forms
from django.utils.translation import gettext_lazy as _

from meg.forms import DateInput

from .models import FirmMembership, FirmNews, PartnerConvention, Site


class FirmUserForm(forms.Form):
    email = forms.EmailField(label=_("Adresse e-mail"))
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    role = forms.ChoiceField(label=_("Rôle"), choices=FirmMembership.Role.choices,
                             initial=FirmMembership.Role.COLLABORATEUR)
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)

    def __init__(self, *args, firm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(firm=firm)


class FirmUserEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Rôle"), choices=FirmMembership.Role.choices)
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)

    def __init__(self, *args, firm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(firm=firm)


class FirmSecurityForm(forms.Form):
    mfa_required = forms.BooleanField(
        label=_("MFA obligatoire"), required=False,
        help_text=_("Chaque utilisateur du cabinet devra configurer une application "
                    "d'authentification (ou une clé de sécurité) avant d'accéder à MEG."))


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "city"]


class NewsForm(forms.ModelForm):
    class Meta:
        model = FirmNews
        fields = ["title", "body", "published"]


class ConventionForm(forms.ModelForm):
    class Meta:
        model = PartnerConvention
        fields = ["partner", "kind", "signed_at", "trial_plan"]
        widgets = {"signed_at": DateInput()}


class AuditFilterForm(forms.Form):
    company = forms.ModelChoiceField(label=_("Entreprise"), queryset=None, required=False,
                                     empty_label=_("Toutes les entreprises"))
    date_from = forms.DateField(label=_("Du"), required=False,
                                widget=DateInput())
    date_to = forms.DateField(label=_("Au"), required=False,
                              widget=DateInput())

    def __init__(self, *args, firm, **kwargs):
        from companies.models import Company

        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.filter(firm=firm).only("id", "name")


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=100, required=False,
                           help_text=_("À quoi sert ce jeton (logiciel, script…)."))
    expires_in_days = forms.TypedChoiceField(
        label=_("Validité"), coerce=int, empty_value=None, required=False, initial=90,
        choices=[(30, _("30 jours")), (90, _("90 jours")), (365, _("1 an")),
                 ("", _("Sans expiration"))])
