"""Forms of the pages; model forms used to validate only, the writes go through services."""

from django import forms

from .models import Account, Invoice, InvoiceLine, Plan

VAT_RATES = [("20.00", "20 %"), ("10.00", "10 %"), ("5.50", "5,5 %"), ("2.10", "2,1 %"),
             ("0.00", "0 %")]


class AccountingSettingsForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["customer_account", "revenue_account", "revenue_account_label", "vat_account"]


class InvoiceForm(forms.ModelForm):
    class Meta:
        model = Invoice
        fields = ["number", "date", "customer_name", "customer_account"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class InvoiceLineForm(forms.ModelForm):
    class Meta:
        model = InvoiceLine
        fields = ["label", "amount_excl_tax", "vat_rate"]
        widgets = {"vat_rate": forms.Select(choices=VAT_RATES)}


InvoiceLineFormSet = forms.formset_factory(InvoiceLineForm, extra=0, min_num=1,
                                           validate_min=True)


def invoice_lines(formset):
    return [form.cleaned_data for form in formset.forms if form.cleaned_data]


class LicenceForm(forms.Form):
    plan = forms.ChoiceField(label="Licence", choices=[(Plan.START_PLUS, Plan.START_PLUS.label),
                                                        (Plan.PREMIUM, Plan.PREMIUM.label)])
