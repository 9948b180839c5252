"""« Importer les factures antérieures » pages: choose a period, preview, confirm, follow."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from meg.forms import DateInput
from meg.views import CompanyMixin, add_service_errors

from .backfill import (
    backfill_default_period,
    backfill_progress,
    backfill_totals,
    link_day,
    progbat_backfill_confirm,
    progbat_backfill_preview,
)
from .models import ProgbatBackfill, ProgbatLink

ITEMS_PER_PAGE = 50
VERDICTS = [("import", gettext_lazy("À importer")),
            ("already", gettext_lazy("Déjà au journal")),
            ("closed", gettext_lazy("Exercice clôturé")),
            ("invalid", gettext_lazy("Écriture invalide")),
            ("all", gettext_lazy("Total listé"))]


def total_rows(backfill):
    totals = backfill_totals(backfill)
    return [{"key": key, "label": label, **totals.get(key, {"count": 0, "amounts": [0, 0, 0]})}
            for key, label in VERDICTS]


class BackfillForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("Factures validées du"), widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("au"), widget=DateInput())


class BackfillMixin(CompanyMixin):
    """Firm users managing the company (403 otherwise), on a company linked to ProGBat (404
    without a link)."""

    manage = True

    def load_objects(self):
        self.link = ProgbatLink.objects.filter(company=self.company).first()
        if self.link is None:
            raise Http404


class BackfillView(BackfillMixin, TemplateView):
    template_name = "partners/progbat/backfill.html"

    def get_context_data(self, **kwargs):
        form = kwargs.pop("form", None)
        if form is None and self.link.is_active and self.link.linked_at:
            start, end = backfill_default_period(self.link)
            form = BackfillForm(initial={"date_from": start, "date_to": end})
        backfills = Paginator(ProgbatBackfill.objects.filter(company=self.company)
                              .select_related("requested_by"), 10).get_page(
            self.request.GET.get("page"))
        return super().get_context_data(
            link=self.link, form=form, page=backfills, module_name="ProGBat",
            link_day=link_day(self.link) if self.link.linked_at else None, **kwargs)

    def post(self, request, company_id):
        form = BackfillForm(request.POST)
        if form.is_valid():
            try:
                backfill = progbat_backfill_preview(
                    company=self.company, actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("progbat:backfill_detail", company_id=company_id,
                                backfill_id=backfill.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class BackfillDetailView(BackfillMixin, TemplateView):
    """The preview (with its confirmation), then the import's progress and outcome."""

    def load_objects(self):
        super().load_objects()
        self.backfill = get_object_or_404(ProgbatBackfill, company=self.company,
                                          pk=self.kwargs["backfill_id"])

    def get_template_names(self):
        if self.request.GET.get("partial"):
            return ["partners/progbat/_backfill_status.html"]
        return ["partners/progbat/backfill_detail.html"]

    def get_context_data(self, **kwargs):
        backfill = self.backfill
        items = Paginator(backfill.items, ITEMS_PER_PAGE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            link=self.link, backfill=backfill, items=items, page=items,
            totals=total_rows(backfill), percent=backfill_progress(backfill),
            module_name="ProGBat", **kwargs)

    def post(self, request, company_id, backfill_id):
        try:
            _backfill, confirmed = progbat_backfill_confirm(backfill=self.backfill,
                                                            actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if confirmed:
                messages.success(request, _("Import confirmé : il se poursuit même si vous "
                                            "quittez cette page."))
        return redirect("progbat:backfill_detail", company_id=company_id,
                        backfill_id=backfill_id)
