from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum import iban

from meg.forms import DateInput

from .models import Payment, Supplier, SupplierInvoice
from .providers import provider_for_method
from .services import VatLine, invoice_pdf_check


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

VAT_RATES = [("20", "20 %"), ("10", "10 %"), ("5.5", "5,5 %"), ("2.1", "2,1 %"), ("0", "0 %")]
CENT = Decimal("0.01")


class VatLineForm(forms.Form):
    """One rate of a multi-rate invoice; a row without amounts is left out. The VAT may be
    left empty (computed); typed, it must be the rate applied to the base, give or take the
    roundings made item by item on the invoice (5 cents, or 0.5 % of the VAT)."""

    rate = forms.TypedChoiceField(label=_("Taux"), choices=VAT_RATES, coerce=Decimal,
                                  initial="20")
    base_amount = forms.DecimalField(label=_("Base HT"), max_digits=12, decimal_places=2,
                                     min_value=0, required=False)
    vat_amount = forms.DecimalField(label=_("TVA"), max_digits=12, decimal_places=2,
                                    min_value=0, required=False)

    def clean(self):
        data = super().clean()
        base, vat, rate = data.get("base_amount"), data.get("vat_amount"), data.get("rate")
        if (base is None and vat is None) or rate is None:
            return data
        if base is None:
            self.add_error("base_amount", _("Indiquez la base HT de ce taux."))
            return data
        expected = (base * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        if vat is None:
            data["vat_amount"] = expected
        elif abs(vat - expected) > max(Decimal("0.05"), expected * Decimal("0.005")):
            self.add_error("vat_amount", _(
                "La TVA à %(rate)s %% de %(base)s € est de %(expected)s €.") % {
                "rate": f"{rate.normalize():f}".replace(".", ","), "base": base,
                "expected": expected})
        return data

    @property
    def line(self):
        data = getattr(self, "cleaned_data", {})
        if data.get("base_amount") is None:
            return None
        return (data["rate"], data["base_amount"], data["vat_amount"])


class BaseVatLineFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        rates = [form.line[0] for form in self.forms if form.line]
        if len(rates) != len(set(rates)):
            raise ValidationError(_("Une seule ligne par taux de TVA."))


VatLineFormSet = forms.formset_factory(VatLineForm, formset=BaseVatLineFormSet, extra=2,
                                       max_num=6, validate_max=True)


class SupplierInvoiceForm(forms.ModelForm):
    """The invoice, with its VAT lines (``vat_formset``, prefix ``tva``): when they are
    given, the HT and TVA totals are their sums; without them, the totals are typed."""

    class Meta:
        model = SupplierInvoice
        fields = ["supplier_name", "supplier_iban", "number", "issue_date", "due_date",
                  "amount_excl_tax", "vat_amount", "amount_incl_tax", "payment_method", "pdf",
                  "expense_account"]
        widgets = {"issue_date": DateInput(), "due_date": DateInput(),
                   "pdf": DocumentInput(attrs={"accept": "application/pdf"}),
                   "supplier_name": forms.TextInput(attrs={"list": "fournisseurs",
                                                           "autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["pdf"].widget.document_url = reverse(
                "purchases:document", args=[self.instance.company_id, self.instance.pk])
        for name in ("amount_excl_tax", "vat_amount", "amount_incl_tax"):
            self.fields[name].required = False  # the VAT lines may give them; TTC is HT + TVA
            if self.instance.pk is None:
                # Not the model's default (0.00): posted back, it would contradict the lines.
                self.initial.pop(name, None)
                self.fields[name].initial = None
        lines = [{"rate": f"{line.rate.normalize():f}", "base_amount": line.base_amount,
                  "vat_amount": line.vat_amount}
                 for line in (self.instance.vat_lines.all() if self.instance.pk else [])]
        if not self.is_bound:
            self.vat_formset = VatLineFormSet(prefix="tva", initial=lines)
        elif "tva-TOTAL_FORMS" in self.data:
            # Without ``initial``: a posted row equal to the stored line still counts.
            self.vat_formset = VatLineFormSet(self.data, prefix="tva")
        else:
            self.vat_formset = None  # posted without lines (scripts, older pages)

    def is_valid(self):
        valid = super().is_valid()  # both run, so that every error shows at once
        return (self.vat_formset is None or self.vat_formset.is_valid()) and valid

    @property
    def vat_lines(self):
        """The lines as the service takes them, or None when none was given or they are the
        invoice's own, unchanged (its totals then say what changed)."""
        if self.vat_formset is None or not self.vat_formset.is_valid():
            return None
        lines = sorted(VatLine(*form.line) for form in self.vat_formset.forms if form.line)
        stored = sorted(VatLine(line.rate, line.base_amount, line.vat_amount)
                        for line in (self.instance.vat_lines.all() if self.instance.pk else []))
        return lines if lines and lines != stored else None

    def clean_expense_account(self):
        return "".join((self.cleaned_data.get("expense_account") or "").split())

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
        lines = self.vat_lines
        for name, total in (("amount_excl_tax", sum(line.base_amount for line in lines or [])),
                            ("vat_amount", sum(line.vat_amount for line in lines or [])),
                            ("amount_incl_tax", sum(line.base_amount + line.vat_amount
                                                    for line in lines or []))):
            typed = data.get(name)
            # New lines set the totals; a total typed as well must agree, unless it is the
            # invoice's own, left as it was.
            kept = self.instance.pk is not None and typed == getattr(self.instance, name)
            if lines and typed is not None and typed != total and not kept:
                self.add_error(name, _("%(typed)s € n'est pas la somme des lignes de TVA "
                                       "(%(total)s €).") % {"typed": typed, "total": total})
            elif lines:
                data[name] = total
            elif typed is None and name != "amount_incl_tax" and name not in self.errors:
                self.add_error(name, _("Indiquez ce montant, ou les lignes de TVA."))
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


class SupplierForm(forms.ModelForm):
    class Meta:
        model = Supplier
        fields = ["aux_account", "expense_account"]

    def clean_aux_account(self):
        return "".join((self.cleaned_data.get("aux_account") or "").split()).upper()
