import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfWriter

from partners.libeo.models import LibeoConnection
from purchases.services import invoice_create

IBAN = "FR7630006000011234567890189"


def a_pdf(*, pages=1, password=None):
    """A small real PDF (blank A4 pages), made with pypdf."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_invoice(company, user, **extra):
    fields = {"supplier_name": "Matériaux Rhône", "supplier_iban": IBAN, "number": "F-2026-001",
              "issue_date": datetime.date(2026, 11, 2), "due_date": datetime.date(2026, 12, 2),
              "amount_excl_tax": Decimal("1000.00"), "vat_amount": Decimal("200.00"),
              "amount_incl_tax": Decimal("1200.00"), "payment_method": "libeo"}
    fields.update(extra)
    return invoice_create(company=company, actor=user, **fields)


@pytest.fixture
def invoice(achats, dirigeant):
    return make_invoice(achats, dirigeant)


def connect_libeo(company, user, *, api_key="lk_test_0123456789abcdef", users=None,
                  plan="free"):
    """A LibeoConnection as ``/me`` would have filled it (for tests without the sandbox)."""
    return LibeoConnection.objects.create(
        firm=company.firm, company=company, api_key=api_key, key_last4=api_key[-4:],
        source="api_key", libeo_company_name=company.name, libeo_siren=company.siren,
        plan=plan, users=users or [{"email": "patron@alpha.test", "role": "owner"}],
        payments_this_month=0, payments_limit=5 if plan == "free" else None,
        checked_at=timezone.now(), connected_by=user)
