"""REST API v1 of Achats: the payments of a company (DESIGN §11, « API additions »)."""

from django.core.exceptions import PermissionDenied
from rest_framework import generics, serializers

from companies.selectors import can_manage_company, get_company_for, user_can_use_module
from meg.tenancy import ScopedAPIMixin

from .models import Payment


class PaymentSerializer(serializers.ModelSerializer):
    invoice = serializers.IntegerField(source="invoice_id")
    failure_reason = serializers.CharField(source="error_detail")

    class Meta:
        model = Payment
        fields = ["id", "invoice", "provider", "status", "provider_payment_id", "executed_at",
                  "failure_reason"]
        read_only_fields = fields


class PaymentListView(ScopedAPIMixin, generics.ListAPIView):
    """The company's payments, newest first: those who manage the company, and its users with
    the Achats module. Another tenant's company answers 404."""

    serializer_class = PaymentSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.company = get_company_for(request.user, self.kwargs["company_id"])
        if not (can_manage_company(request.user, self.company)
                or user_can_use_module(request.user, self.company, "achats")):
            raise PermissionDenied

    def get_queryset(self):
        return Payment.objects.filter(company=self.company).order_by("-created_at", "-id")
