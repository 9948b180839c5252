"""REST API v1 for journals, entries and exports of a company (DESIGN §11)."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError as APIValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from companies.selectors import can_manage_company, get_company_for, user_can_use_module
from firms.models import Site
from firms.selectors import firm_membership_for
from meg.tenancy import ScopedAPIMixin

from . import selectors
from .formats import CSV_ENCODINGS
from .models import BatchExport, Entry, EntryLine, ExportBatch, Journal
from .services.batch_exports import (
    batch_export_request,
    batch_progress,
    batch_skipped,
    batch_zip_name,
)
from .services.exports import (
    ExportFileAltered,
    export_file_open,
    export_progress,
    export_request,
)
from .services.fiscal_years import AlreadyClosed, fiscal_year_close, fiscal_years_list
from .services.journals import journal_update


class CompanyAPIMixin(ScopedAPIMixin):
    """The company in the URL, if the token's user may see its accounting (else 404/403),
    checked before anything else, so that another tenant's ids answer 404 whatever the
    method."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.company()

    def company(self):
        if not hasattr(self, "_company"):
            company = get_company_for(self.request.user, self.kwargs["company_id"])
            if not (can_manage_company(self.request.user, company)
                    or user_can_use_module(self.request.user, company, "export-ecritures")):
                raise PermissionDenied
            self._company = company
        return self._company


class JournalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    label = serializers.CharField()
    source = serializers.CharField()
    entry_count = serializers.IntegerField()
    draft_count = serializers.IntegerField()
    total_debit = serializers.DecimalField(max_digits=17, decimal_places=2, allow_null=True)


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = EntryLine
        fields = ["account", "account_label", "aux_account", "aux_label", "label", "debit",
                  "credit"]


class EntrySerializer(serializers.ModelSerializer):
    journal = serializers.CharField(source="journal.code")
    reference = serializers.CharField()
    lines = LineSerializer(many=True)
    document = serializers.SerializerMethodField(
        help_text="Adresse de la pièce (PDF) de l'écriture, ou null.")

    class Meta:
        model = Entry
        fields = ["id", "journal", "reference", "fiscal_year", "number", "date", "piece_date",
                  "piece_ref", "label", "note", "state", "source_ref", "source_version",
                  "document", "lines"]

    def get_document(self, entry) -> str | None:
        if entry.pk not in self.context.get("with_document", ()):
            return None
        return self.context["request"].build_absolute_uri(
            reverse("accounting:entry_document", args=[entry.company_id, entry.pk]))



class ExportSerializer(serializers.ModelSerializer):
    journals = serializers.ListField(source="journal_codes", child=serializers.CharField())
    progress = serializers.SerializerMethodField()
    created_by = serializers.EmailField(source="created_by.email", read_only=True)

    class Meta:
        model = ExportBatch
        fields = ["id", "kind", "format", "encoding", "include_exported", "include_documents",
                  "journals",
                  "date_from", "date_to", "status", "progress",
                  "entry_count", "line_count", "file_name", "sha256", "created_by",
                  "created_at", "finished_at", "error"]
        read_only_fields = fields

    def get_progress(self, batch) -> int:
        return export_progress(batch)


class ExportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=ExportBatch.Format.choices)
    journals = serializers.ListField(child=serializers.CharField(max_length=8),
                                     allow_empty=False, required=False,
                                     help_text=_("Codes des journaux (tous par défaut)."))
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    include_exported = serializers.BooleanField(default=False)
    include_documents = serializers.BooleanField(
        default=False, help_text=_("Un ZIP : le fichier et les pièces (pieces/<PieceRef>.pdf)."))
    encoding = serializers.ChoiceField(choices=CSV_ENCODINGS, default="utf-8-sig")


class JournalListView(CompanyAPIMixin, generics.ListAPIView):
    serializer_class = JournalSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.journals_summary(company=self.company())


class JournalUpdateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=8, required=False)
    label = serializers.CharField(max_length=100, required=False)


class JournalDetailView(CompanyAPIMixin, APIView):
    """One journal; ``PATCH`` its code and label (firm users who manage the company)."""

    @extend_schema(responses={200: JournalSerializer})
    def get(self, request, company_id, journal_id):
        journal = get_object_or_404(selectors.journals_summary(company=self.company()),
                                    pk=journal_id)
        return Response(JournalSerializer(journal).data)

    @extend_schema(request=JournalUpdateSerializer, responses={200: JournalSerializer})
    def patch(self, request, company_id, journal_id):
        company = self.company()
        if not can_manage_company(request.user, company):
            raise PermissionDenied
        journal = get_object_or_404(Journal, company=company, pk=journal_id)
        data = JournalUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            journal_update(journal=journal, actor=request.user,
                           code=data.validated_data.get("code", journal.code),
                           label=data.validated_data.get("label", journal.label))
        except ValidationError as error:
            raise APIValidationError(error.message_dict if hasattr(error, "error_dict")
                                     else {"detail": error.messages}) from None
        summary = selectors.journals_summary(company=company).get(pk=journal.pk)
        return Response(JournalSerializer(summary).data)


@extend_schema(parameters=[
    OpenApiParameter("journal", OpenApiTypes.STR, description=_("Code du journal (ex. VT)")),
    OpenApiParameter("date_from", OpenApiTypes.DATE),
    OpenApiParameter("date_to", OpenApiTypes.DATE)])
class EntryListView(CompanyAPIMixin, generics.ListAPIView):
    serializer_class = EntrySerializer

    def get_queryset(self):
        entries = (Entry.objects.filter(company=self.company()).select_related("journal")
                   .prefetch_related("lines").order_by("date", "journal__code", "number"))
        params = self.request.query_params
        if params.get("journal"):
            entries = entries.filter(journal__code=params["journal"])
        for name, lookup in (("date_from", "date__gte"), ("date_to", "date__lte")):
            if params.get(name):
                try:
                    day = datetime.date.fromisoformat(params[name])
                except ValueError:
                    raise APIValidationError({name: "Date au format AAAA-MM-JJ."}) from None
                entries = entries.filter(**{lookup: day})
        return entries

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(),
                   "with_document": selectors.entries_with_document(page)}
        return self.get_paginated_response(
            EntrySerializer(page, many=True, context=context).data)


class FiscalYearSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    state = serializers.CharField()
    closed_at = serializers.DateTimeField(source="row.closed_at", allow_null=True,
                                          default=None)
    closed_by = serializers.EmailField(source="row.closed_by.email", allow_null=True,
                                      default=None)
    fec_export_id = serializers.IntegerField(source="row.fec_export_id", allow_null=True,
                                             default=None)


class FiscalYearListView(CompanyAPIMixin, APIView):
    @extend_schema(responses={200: FiscalYearSerializer(many=True)})
    def get(self, request, company_id):
        years = fiscal_years_list(self.company())
        return Response(FiscalYearSerializer(years, many=True).data)


class FiscalYearCloseView(CompanyAPIMixin, APIView):
    """Close the fiscal year ending on ``end`` (YYYY-MM-DD): 202 with the legal FEC's export."""

    @extend_schema(request=None, responses={202: ExportSerializer})
    def post(self, request, company_id, end):
        company = self.company()
        if not can_manage_company(request.user, company):
            raise PermissionDenied
        try:
            day = datetime.date.fromisoformat(end)
        except ValueError:
            raise APIValidationError({"end": "Date au format AAAA-MM-JJ."}) from None
        try:
            year = fiscal_year_close(company=company, end=day, actor=request.user)
        except AlreadyClosed as error:
            return Response({"error": "already_closed", "detail": str(error)},
                            status=status.HTTP_409_CONFLICT)
        except ValidationError as error:
            raise APIValidationError({"detail": error.messages}) from None
        data = ExportSerializer(year.fec_export).data
        return Response({**data, "export_id": year.fec_export_id},
                        status=status.HTTP_202_ACCEPTED)


class ExportListView(CompanyAPIMixin, generics.ListAPIView):
    serializer_class = ExportSerializer

    def get_queryset(self):
        return selectors.exports_of(company=self.company())

    @extend_schema(request=ExportRequestSerializer, responses={201: ExportSerializer})
    def post(self, request, company_id):
        company = self.company()
        if not can_manage_company(request.user, company):
            raise PermissionDenied
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        journals = fields.get("journals") or list(
            Journal.objects.filter(company=company).values_list("code", flat=True))
        try:
            batch = export_request(company=company, actor=request.user,
                                   format=fields["format"], journal_codes=journals,
                                   date_from=fields["date_from"], date_to=fields["date_to"],
                                   include_exported=fields["include_exported"],
                                   include_documents=fields["include_documents"],
                                   encoding=fields["encoding"])
        except ValidationError as error:
            raise APIValidationError(error.message_dict if hasattr(error, "error_dict")
                                     else {"detail": error.messages}) from None
        return Response(ExportSerializer(batch).data, status=status.HTTP_201_CREATED)


class ExportDetailView(CompanyAPIMixin, generics.RetrieveAPIView):
    serializer_class = ExportSerializer
    lookup_url_kwarg = "export_id"

    def get_queryset(self):
        return selectors.exports_of(company=self.company())


class ExportFileView(CompanyAPIMixin, APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              (200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, company_id, export_id):
        batch = get_object_or_404(ExportBatch, company=self.company(), pk=export_id)
        if batch.status != ExportBatch.Status.DONE:
            return Response({"error": "not_ready", "status": batch.status,
                             "progress": export_progress(batch), "detail": batch.error},
                            status=status.HTTP_409_CONFLICT)
        try:
            handle = export_file_open(batch)
        except ExportFileAltered as error:
            return Response({"error": "file_altered", "detail": str(error)},
                            status=status.HTTP_409_CONFLICT)
        if batch.include_documents:
            return FileResponse(handle, as_attachment=True, filename=batch.served_file_name,
                                content_type="application/zip")
        return FileResponse(handle, as_attachment=True, filename=batch.file_name)


class FirmAPIMixin(ScopedAPIMixin):
    """Firm users only (403 otherwise; 404 on an object's URL, which reveals nothing of it):
    ``self.firm`` is their firm."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        membership = firm_membership_for(request.user)
        if membership is None:
            raise Http404 if kwargs else PermissionDenied
        self.firm = membership.firm


class BatchExportSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    created_by = serializers.EmailField(source="created_by.email", read_only=True)
    companies = serializers.ListField(source="results", child=serializers.DictField())
    skipped = serializers.SerializerMethodField()

    class Meta:
        model = BatchExport
        fields = ["id", "selection", "site", "format", "date_from", "date_to", "status",
                  "progress", "companies", "skipped", "created_by", "created_at",
                  "finished_at", "error"]
        read_only_fields = fields

    def get_progress(self, batch) -> int:
        return batch_progress(batch)

    def get_skipped(self, batch) -> list[dict]:
        return [{"company_id": item["company_id"], "name": item["name"],
                 "reason_kind": item["reason_kind"], "reason": item["reason"]}
                for item in batch_skipped(batch)]


@extend_schema_field({"oneOf": [{"type": "string", "enum": ["all"]},
                             {"type": "array", "items": {"type": "integer"}}]})
class CompaniesField(serializers.Field):
    """``"all"`` or a list of company ids."""

    def to_internal_value(self, data):
        if data == "all":
            return data
        if isinstance(data, list) and data and all(
                isinstance(pk, int) and not isinstance(pk, bool) for pk in data):
            return data
        raise serializers.ValidationError(
            _("« all » ou une liste d'identifiants d'entreprises."))

    def to_representation(self, value):
        return value


class BatchExportRequestSerializer(serializers.Serializer):
    companies = CompaniesField(default="all")
    site = serializers.IntegerField(required=False, allow_null=True)
    format = serializers.ChoiceField(choices=ExportBatch.Format.choices)
    date_from = serializers.DateField()
    date_to = serializers.DateField()


class BatchExportListView(FirmAPIMixin, generics.ListAPIView):
    serializer_class = BatchExportSerializer

    def get_queryset(self):
        return BatchExport.objects.filter(firm=self.firm).select_related("created_by")

    @extend_schema(request=BatchExportRequestSerializer, responses={202: BatchExportSerializer})
    def post(self, request):
        data = BatchExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        site = None
        if fields.get("site") is not None:
            site = Site.objects.filter(firm=self.firm, pk=fields["site"]).first()
            if site is None:
                raise APIValidationError({"site": "Site inconnu."})
        try:
            batch = batch_export_request(firm=self.firm, actor=request.user,
                                         format=fields["format"], companies=fields["companies"],
                                         site=site, date_from=fields["date_from"],
                                         date_to=fields["date_to"])
        except ValidationError as error:
            raise APIValidationError(error.message_dict if hasattr(error, "error_dict")
                                     else {"detail": error.messages}) from None
        return Response(BatchExportSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class BatchExportDetailView(FirmAPIMixin, generics.RetrieveAPIView):
    serializer_class = BatchExportSerializer
    lookup_url_kwarg = "batch_id"

    def get_queryset(self):
        return BatchExport.objects.filter(firm=self.firm).select_related("created_by")


class BatchExportFileView(FirmAPIMixin, APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request, batch_id):
        batch = get_object_or_404(BatchExport, firm=self.firm, pk=batch_id)
        if batch.status != BatchExport.Status.DONE or not batch.zip_file:
            return Response({"error": "not_ready", "status": batch.status,
                             "progress": batch_progress(batch), "detail": batch.error},
                            status=status.HTTP_409_CONFLICT)
        return FileResponse(batch.zip_file.open("rb"), as_attachment=True,
                            filename=batch_zip_name(batch), content_type="application/zip")
