from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum import iban

from meg.forms import DateInput

from .models import Payment, SupplierInvoice
from .providers import provider_for_method
from .services import invoice_pdf_check


@dataclass(frozen=True)
class AttachedDocument:
    """What the file input shows of the stored PDF: a label and the view that serves it."""

    url: str
    label: str

    def __str__(self):
        return self.label


class DocumentInput(forms.ClearableFileInput):
    """The stored PDF is linked to the invoice's document view (it has no address of its
    own), never named by its storage name."""

    document_url = ""

    def is_initial(self, value):
        return isinstance(value, FieldFile) and bool(value)

    def format_value(self, value):
        if self.is_initial(value):
            return AttachedDocument(self.document_url, gettext("facture jointe"))
        return None


class SupplierInvoiceForm(forms.ModelForm):
    class Meta:
        model = SupplierInvoice
        fields = ["supplier_name", "supplier_iban", "number", "issue_date", "due_date",
                  "amount_excl_tax", "vat_amount", "amount_incl_tax", "payment_method", "pdf"]
        widgets = {"issue_date": DateInput(), "due_date": DateInput(),
                   "pdf": DocumentInput(attrs={"accept": "application/pdf"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["pdf"].widget.document_url = reverse(
                "purchases:document", args=[self.instance.company_id, self.instance.pk])

    def clean_supplier_iban(self):
        value = iban.compact(self.cleaned_data.get("supplier_iban") or "")
        if value and not iban.is_valid(value):
            raise ValidationError(_("IBAN invalide : vérifiez-le sur le RIB du fournisseur."))
        return value

    def clean_pdf(self):
        pdf = self.cleaned_data.get("pdf")
        if pdf and not isinstance(pdf, FieldFile):  # a new upload
            try:
                invoice_pdf_check(pdf)
            except ValidationError as error:
                raise ValidationError(error.message_dict["pdf"]) from None
        return pdf

    def clean(self):
        data = super().clean()
        excl, vat = data.get("amount_excl_tax"), data.get("vat_amount")
        if excl is not None and vat is not None and data.get("amount_incl_tax") in (None, ""):
            data["amount_incl_tax"] = excl + vat
        method = data.get("payment_method")
        if provider_for_method(method) is not None and not data.get("supplier_iban"):
            self.add_error("supplier_iban", _("L'IBAN est nécessaire pour un « %(method)s ».")
                           % {"method": SupplierInvoice.PaymentMethod(method).label})
        return data


class PurchaseFilterForm(forms.Form):
    q = forms.CharField(label=_("Rechercher"), required=False,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("Fournisseur ou numéro")}))
    payment_method = forms.ChoiceField(label=_("Mode de règlement"), required=False,
                                       choices=[("", _("Tous")),
                                                *SupplierInvoice.PaymentMethod.choices])
    status = forms.ChoiceField(label=_("Paiement"), required=False,
                               choices=[("", _("Tous")), ("to_pay", _("À payer")),
                                        *Payment.Status.choices])
