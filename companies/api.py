"""REST API v1 for companies: list and detail, limited to what the token's user may see."""

from rest_framework import serializers, viewsets

from meg.tenancy import ScopedAPIMixin

from .models import Company
from .selectors import companies_for


class CompanySerializer(serializers.ModelSerializer):
    siren = serializers.CharField(read_only=True)
    firm = serializers.CharField(source="firm.name", read_only=True)

    class Meta:
        model = Company
        fields = ["id", "name", "siret", "siren", "dossier_type", "state", "firm", "address",
                  "postal_code", "city", "fiscal_year_end_day", "fiscal_year_end_month",
                  "activated_at", "created_at"]
        read_only_fields = fields


class CompanyViewSet(ScopedAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Companies of the user's firm and those the user belongs to."""

    serializer_class = CompanySerializer
    lookup_url_kwarg = "company_id"

    def get_queryset(self):
        return companies_for(self.request.user).order_by("name", "id")
