import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meg.forms import DateInput

from .models import ExportBatch


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("Du"), required=False,
                                widget=DateInput())
    date_to = forms.DateField(label=_("Au"), required=False,
                              widget=DateInput())
    journals = forms.MultipleChoiceField(label=_("Journaux"), required=False,
                                         widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, journals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["journals"].choices = [(j.code, f"{j.code} — {j.label}") for j in journals]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("La fin de la période doit suivre son début."))
        return data


class ExportForm(PeriodForm):
    format = forms.ChoiceField(label=_("Format"), choices=ExportBatch.Format.choices,
                               initial=ExportBatch.Format.FEC, widget=forms.RadioSelect)
    encoding = forms.ChoiceField(
        label=_("Encodage (CSV)"), initial="utf-8-sig", required=False,
        choices=[("utf-8-sig", _("UTF-8 avec BOM (Excel, la plupart des logiciels)")),
                 ("iso-8859-15", _("ISO-8859-15 (anciens logiciels comptables)"))])
    include_exported = forms.BooleanField(
        label=_("Ré-exporter : inclure les écritures déjà exportées de la période"),
        required=False)
    include_documents = forms.BooleanField(
        label=_("Inclure les pièces"), required=False,
        help_text=_("Une archive ZIP : le fichier et le PDF de chaque écriture qui en a un, "
                    "nommé par sa pièce (pieces/<PieceRef>.pdf)."))

    def clean(self):
        data = super().clean()
        if data.get("format") == ExportBatch.Format.FEC or not data.get("encoding"):
            data["encoding"] = "utf-8-sig"  # a FEC is UTF-8 only
        return data

    def __init__(self, *args, journals, **kwargs):
        super().__init__(*args, journals=journals, **kwargs)
        today = timezone.localdate()
        self.fields["date_from"].required = self.fields["date_to"].required = True
        self.fields["journals"].required = True
        self.fields["date_from"].initial = datetime.date(today.year, 1, 1)
        self.fields["date_to"].initial = today
        self.fields["journals"].initial = [code for code, _label in
                                           self.fields["journals"].choices]
