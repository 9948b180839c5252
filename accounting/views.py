"""*Export des écritures comptables*: journals, preview, exports and their files."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from companies.selectors import user_can_use_module
from meg.views import CompanyMixin, FirmMixin, add_service_errors

from . import selectors
from .forms import ExportForm, PeriodForm
from .models import Entry, ExportBatch, IntegrityCheck, Journal
from .services.document_zip import piece_file_stem
from .services.exports import (
    ExportFileAltered,
    export_file_open,
    export_progress,
    export_request,
)
from .services.fiscal_years import AlreadyClosed, fiscal_year_close, fiscal_years_list
from .services.journals import journal_update

MODULE = "export-ecritures"


class ExportSpaceMixin(CompanyMixin):
    """Firm users of the company's firm, and users given the module, may open the space."""

    def load_objects(self):
        if not (self.can_manage or user_can_use_module(self.request.user, self.company, MODULE)):
            raise PermissionDenied
        self.journals = list(selectors.journals_summary(company=self.company))


class ExportSpaceView(ExportSpaceMixin, TemplateView):
    template_name = "accounting/export_space.html"

    def get_template_names(self):
        if self.request.headers.get("HX-Request") and self.request.GET.get("partial"):
            return ["accounting/_preview.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        period = PeriodForm(self.request.GET or None, journals=self.journals)
        filters = period.cleaned_data if period.is_valid() else {}
        lines = selectors.preview_lines(company=self.company,
                                        journal_codes=filters.get("journals"),
                                        date_from=filters.get("date_from"),
                                        date_to=filters.get("date_to"))
        exports = Paginator(selectors.exports_of(company=self.company), 10).get_page(
            self.request.GET.get("exports_page"))
        page = Paginator(lines, 50).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            journals=self.journals, period_form=period,
            export_form=kwargs.pop("export_form", None) or ExportForm(journals=self.journals),
            page=page,
            with_document=selectors.entries_with_document(
                list({line.entry_id: line.entry for line in page.object_list}.values())),
            exports=exports,
            events=selectors.partner_events_needing_attention(company=self.company)[:20],
            fiscal_years=fiscal_years_list(self.company),
            integrity=IntegrityCheck.objects.filter(company=self.company).first(),
            carried_over=selectors.entries_carried_over(company=self.company)[:50],
            **kwargs)

    def post(self, request, company_id):
        if not self.can_manage:
            raise PermissionDenied
        form = ExportForm(request.POST, journals=self.journals)
        if form.is_valid():
            try:
                batch = export_request(company=self.company, actor=request.user,
                                       format=form.cleaned_data["format"],
                                       journal_codes=form.cleaned_data["journals"],
                                       date_from=form.cleaned_data["date_from"],
                                       date_to=form.cleaned_data["date_to"],
                                       include_exported=form.cleaned_data["include_exported"],
                                       include_documents=form.cleaned_data[
                                           "include_documents"],
                                       encoding=form.cleaned_data["encoding"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Export demandé : le fichier sera prêt dans un "
                                            "instant."))
                return redirect(f"{request.path}?export={batch.pk}#exports")
        return self.render_to_response(self.get_context_data(export_form=form), status=400)


class JournalEditView(ExportSpaceMixin, View):
    """Rename a journal (code and label used by exports from now on)."""

    def post(self, request, company_id, journal_id):
        if not self.can_manage:
            raise PermissionDenied
        journal = get_object_or_404(Journal, company=self.company, pk=journal_id)
        try:
            journal = journal_update(journal=journal, actor=request.user,
                                     code=request.POST.get("code", ""),
                                     label=request.POST.get("label", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Journal enregistré : %(code)s — %(label)s.")
                             % {"code": journal.code, "label": journal.label})
        return redirect(f"{reverse('accounting:export_space', args=[company_id])}#journaux")


class FiscalYearCloseView(ExportSpaceMixin, View):
    """« Clôturer l'exercice »: firm users who manage the company, after an explicit
    confirmation (the year's entries become final and nothing enters it afterwards)."""

    def post(self, request, company_id, end):
        if not self.can_manage:
            raise PermissionDenied
        try:
            day = datetime.date.fromisoformat(end)
        except ValueError:
            raise Http404 from None
        if request.POST.get("confirm") != "1":
            messages.error(request, _("Cochez la case de confirmation pour clôturer "
                                      "l'exercice."))
        else:
            try:
                year = fiscal_year_close(company=self.company, end=day, actor=request.user)
            except (ValidationError, AlreadyClosed) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            else:
                messages.success(request, _(
                    "Clôture de l'exercice demandée : son FEC légal sera prêt dans un instant "
                    "et plus aucune écriture n'y entrera."))
                return redirect(f"{reverse('accounting:export_space', args=[company_id])}"
                                f"?export={year.fec_export_id}#exports")
        return redirect(f"{reverse('accounting:export_space', args=[company_id])}#exercices")


class ExportStatusView(ExportSpaceMixin, TemplateView):
    """One export's row, polled by htmx while it runs (progress shown)."""

    template_name = "accounting/_export_row.html"

    def get_context_data(self, **kwargs):
        batch = get_object_or_404(ExportBatch, company=self.company, pk=self.kwargs["export_id"])
        return super().get_context_data(batch=batch, progress=export_progress(batch), **kwargs)


class ExportFileView(ExportSpaceMixin, View):
    """The exact bytes of a past export."""

    def get(self, request, company_id, export_id):
        batch = get_object_or_404(ExportBatch, company=self.company, pk=export_id,
                                  status=ExportBatch.Status.DONE)
        content_type = ("application/zip" if batch.include_documents
                        else "text/plain; charset=utf-8" if batch.format == ExportBatch.Format.FEC
                        else f"text/csv; charset={batch.encoding.removesuffix('-sig')}")
        try:
            handle = export_file_open(batch)
        except ExportFileAltered as error:
            return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
        return FileResponse(handle, as_attachment=True, filename=batch.served_file_name,
                            content_type=content_type)


class EntryDocumentView(ExportSpaceMixin, View):
    """The pièce of an entry (the paperclip of the preview), to whoever may open the export
    space of its company; the file itself has no address."""

    def get(self, request, company_id, entry_id):
        entry = get_object_or_404(Entry, company=self.company, pk=entry_id)
        document = selectors.entry_document(entry)
        if document is None:
            raise Http404
        try:
            handle = document.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        # inline: opened by the browser's viewer in the new tab, not downloaded
        response = FileResponse(handle, content_type="application/pdf",
                                filename=f"{piece_file_stem(entry.piece_ref)}.pdf")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class PartnerEventsView(FirmMixin, TemplateView):
    """Partner events the firm should know about: ignored or refused, with the reason."""

    template_name = "accounting/partner_events.html"

    def get_context_data(self, **kwargs):
        events = selectors.partner_events_needing_attention(firm=self.firm)
        return super().get_context_data(
            page=Paginator(events, 50).get_page(self.request.GET.get("page")), **kwargs)
