"""*Exports mensuels*: month-end batch exports of the firm's companies (list, form, progress)."""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from companies.models import Company
from firms.models import Site
from meg.forms import DateInput
from meg.views import FirmMixin, add_service_errors

from .models import BatchExport, ExportBatch
from .services.batch_exports import (
    batch_export_request,
    batch_progress,
    batch_skipped,
    batch_zip_name,
)


class BatchExportForm(forms.Form):
    scope = forms.ChoiceField(
        label=gettext_lazy("Entreprises"), widget=forms.RadioSelect, initial="all",
        choices=[("all", gettext_lazy("Toutes les entreprises du cabinet")),
                 ("site", gettext_lazy("Les entreprises d'un site")),
                 ("selection", gettext_lazy("Une sélection d'entreprises"))])
    site = forms.ModelChoiceField(label=gettext_lazy("Site"), queryset=Site.objects.none(),
                                  required=False)
    companies = forms.ModelMultipleChoiceField(label=gettext_lazy("Sélection"),
                                               queryset=Company.objects.none(), required=False)
    date_from = forms.DateField(label=gettext_lazy("Du"), widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("Au"), widget=DateInput())
    format = forms.ChoiceField(label=gettext_lazy("Format"), choices=ExportBatch.Format.choices,
                               initial=ExportBatch.Format.FEC, widget=forms.RadioSelect)

    def __init__(self, *args, firm, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(firm=firm).order_by("name")
        self.fields["companies"].queryset = Company.objects.filter(firm=firm).order_by("name")
        # The month just ended: what month-end is about.
        last = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
        self.fields["date_from"].initial = last.replace(day=1)
        self.fields["date_to"].initial = last

    def clean(self):
        data = super().clean()
        if data.get("scope") == "site" and not data.get("site"):
            self.add_error("site", _("Choisissez un site."))
        if data.get("scope") == "selection" and not data.get("companies"):
            self.add_error("companies", _("Choisissez une ou plusieurs entreprises."))
        return data


class BatchExportsView(FirmMixin, TemplateView):
    template_name = "accounting/batch_exports.html"

    def get_context_data(self, **kwargs):
        batches = Paginator(BatchExport.objects.filter(firm=self.firm)
                            .select_related("created_by"), 20).get_page(
            self.request.GET.get("page"))
        for batch in batches:
            batch.percent = batch_progress(batch)
        return super().get_context_data(
            form=kwargs.pop("form", None) or BatchExportForm(firm=self.firm), page=batches,
            **kwargs)

    def post(self, request):
        form = BatchExportForm(request.POST, firm=self.firm)
        if form.is_valid():
            data = form.cleaned_data
            companies = ([c.pk for c in data["companies"]] if data["scope"] == "selection"
                         else "all")
            try:
                batch = batch_export_request(
                    firm=self.firm, actor=request.user, format=data["format"],
                    companies=companies,
                    site=data["site"] if data["scope"] == "site" else None,
                    date_from=data["date_from"], date_to=data["date_to"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Export mensuel demandé : il se poursuit même si "
                                            "vous quittez cette page."))
                return redirect(f"{request.path}?batch={batch.pk}#batch-{batch.pk}")
        return self.render_to_response(self.get_context_data(form=form), status=400)


class BatchExportStatusView(FirmMixin, TemplateView):
    """One batch export's block, polled by htmx while it runs."""

    template_name = "accounting/batch_export_row.html"

    def get_context_data(self, **kwargs):
        batch = get_object_or_404(BatchExport, firm=self.firm, pk=self.kwargs["batch_id"])
        batch.percent = batch_progress(batch)
        return super().get_context_data(batch=batch, skipped=batch_skipped(batch), **kwargs)


class BatchExportFileView(FirmMixin, View):
    def get(self, request, batch_id):
        batch = get_object_or_404(BatchExport, firm=self.firm, pk=batch_id,
                                  status=BatchExport.Status.DONE)
        if not batch.zip_file:
            return redirect("accounting:batch_exports")
        return FileResponse(batch.zip_file.open("rb"), as_attachment=True,
                            filename=batch_zip_name(batch), content_type="application/zip")
