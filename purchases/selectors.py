"""Reads of the Achats module."""

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery

from .models import Payment, Supplier, SupplierInvoice


def invoices_for(*, company, query="", payment_method="", status=""):
    latest = Payment.objects.filter(invoice=OuterRef("pk")).order_by("-created_at", "-id")
    invoices = (SupplierInvoice.objects.filter(company=company)
                .annotate(payment_status=Subquery(latest.values("status")[:1]))
                .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by(
                    "-created_at", "-id"), to_attr="payment_list")))
    if query:
        invoices = invoices.filter(Q(supplier_name__icontains=query) | Q(number__icontains=query))
    if payment_method:
        invoices = invoices.filter(payment_method=payment_method)
    if status == "to_pay":
        invoices = invoices.filter(Q(payment_status__isnull=True)
                                   | Q(payment_status__in=Payment.UNDONE))
    elif status:
        invoices = invoices.filter(payment_status=status)
    return invoices.order_by("due_date", "id")


def suppliers_for(*, company):
    return (Supplier.objects.filter(company=company).annotate(invoice_count=Count("invoices"))
            .order_by("name"))
