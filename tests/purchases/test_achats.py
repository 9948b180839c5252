"""The Achats module without Libeo on the line: who sees what, and what would be sent."""

from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from companies.models import Module
from companies.services import user_module_access_set
from partners.common.models import OutboxMessage
from partners.libeo.models import LibeoInvoice
from purchases.models import Payment, SupplierInvoice
from purchases.services import invoice_pay, invoice_update
from tests import factories
from tests.conftest import client_for
from tests.purchases.conftest import a_pdf, connect_libeo, make_invoice


def url(company, path=""):
    return f"/entreprise/{company.pk}/achats/{path}"


def test_the_dirigeant_enters_an_invoice_and_finds_it_in_reglements(achats, dirigeant):
    client = client_for(dirigeant)
    response = client.post(url(achats, "nouvelle/"), {
        "supplier_name": "Bois & Cie", "supplier_iban": "FR76 3000 6000 0112 3456 7890 189",
        "number": "B-17", "issue_date": "2026-11-01", "due_date": "2026-11-30",
        "amount_excl_tax": "500.00", "vat_amount": "100.00", "amount_incl_tax": "600.00",
        "payment_method": "libeo"})
    assert response.status_code == 302
    assert SupplierInvoice.objects.get().supplier_iban == "FR7630006000011234567890189"
    html = unescape(client.get(url(achats) + "?onglet=reglements").content.decode())
    assert "Bois & Cie" in html and "Virement par Libeo" in html and "À payer" in html


@pytest.mark.parametrize(("field", "value", "message"), [
    ("supplier_iban", "FR7630006000011234567890188", "IBAN invalide"),
    ("amount_incl_tax", "700.00", "Le TTC doit être égal au HT plus la TVA"),
    ("due_date", "2026-10-01", "L'échéance ne peut précéder la date de facture"),
])
def test_bad_invoices_are_refused_with_a_clear_message(achats, dirigeant, field, value,
                                                       message):
    data = {"supplier_name": "Bois & Cie", "supplier_iban": "FR7630006000011234567890189",
            "number": "B-17", "issue_date": "2026-11-01", "due_date": "2026-11-30",
            "amount_excl_tax": "500.00", "vat_amount": "100.00", "amount_incl_tax": "600.00",
            "payment_method": "transfer", field: value}
    response = client_for(dirigeant).post(url(achats, "nouvelle/"), data)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not SupplierInvoice.objects.exists()


def test_a_pdf_attachment_must_be_a_pdf(achats, dirigeant):
    data = {"supplier_name": "Bois & Cie", "number": "B-18", "issue_date": "2026-11-01",
            "due_date": "2026-11-30", "amount_excl_tax": "10.00", "vat_amount": "2.00",
            "amount_incl_tax": "12.00", "payment_method": "cheque"}
    fake = SimpleUploadedFile("facture.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client_for(dirigeant).post(url(achats, "nouvelle/"), {**data, "pdf": fake})
    assert "format PDF" in unescape(response.content.decode())
    real = SimpleUploadedFile("facture.pdf", a_pdf(), content_type="application/pdf")
    assert client_for(dirigeant).post(url(achats, "nouvelle/"),
                                      {**data, "pdf": real}).status_code == 302


def test_only_achats_administrators_open_the_options(achats, dirigeant, salarie, accountant):
    user_module_access_set(company=achats, actor=accountant, user=salarie,
                           module=Module.objects.get(code="achats"), enabled=True)
    assert client_for(dirigeant).get(url(achats, "options/")).status_code == 200
    assert client_for(salarie).get(url(achats, "options/")).status_code == 403
    response = client_for(salarie).post(url(achats, "options/"), {"api_key": "lk_whatever"})
    assert response.status_code == 403
    assert client_for(accountant).get(url(achats, "options/")).status_code == 403


def test_the_options_link_comes_from_the_provider_for_administrators_only(achats, dirigeant,
                                                                         salarie, accountant):
    user_module_access_set(company=achats, actor=accountant, user=salarie,
                           module=Module.objects.get(code="achats"), enabled=True)
    link = f'href="{url(achats, "options/")}" title="Options" data-testid="achats-options"'
    assert link in client_for(dirigeant).get(url(achats)).content.decode()
    assert "achats-options" not in client_for(salarie).get(url(achats)).content.decode()


def test_payer_without_libeo_leads_to_me_connecter_avec_meg(invoice, dirigeant):
    client = client_for(dirigeant)
    response = client.post(url(invoice.company, f"{invoice.pk}/payer/"))
    assert response.status_code == 302
    assert response["Location"] == url(invoice.company, f"libeo/connecter/?facture={invoice.pk}")
    assert "Me connecter avec MEG" in client.get(response["Location"]).content.decode()
    assert not Payment.objects.exists() and not OutboxMessage.objects.exists()


def test_double_click_makes_one_payment_and_one_outbox_message(invoice, dirigeant):
    """MEG's side only; what Libeo receives is checked against the live sandbox in
    tests/integration/test_libeo_live.py (test_a_double_click_sends_one_payment_to_libeo)."""
    connect_libeo(invoice.company, dirigeant)
    first = invoice_pay(invoice=invoice, actor=dirigeant)
    second = invoice_pay(invoice=invoice, actor=dirigeant)
    assert first.pk == second.pk
    assert Payment.objects.count() == 1
    assert OutboxMessage.objects.filter(action="libeo.pay").count() == 1
    assert first.idempotency_key == f"meg-pay:{invoice.pk}:1"


def test_payer_is_hidden_from_firm_users_not_accountants_at_libeo(invoice, dirigeant,
                                                                  accountant, firm):
    connect_libeo(invoice.company, dirigeant, users=[
        {"email": "patron@alpha.test", "role": "owner"},
        {"email": "expert@alpha.test", "role": "accountant"}])
    page = url(invoice.company, f"{invoice.pk}/")
    assert 'data-testid="pay-button"' in client_for(accountant).get(page).content.decode()
    other = factories.FirmMembershipFactory(firm=firm, user__email="autre@alpha.test").user
    factories.CompanyAccountantFactory(company=invoice.company, user=other)
    assert 'data-testid="pay-button"' not in client_for(other).get(page).content.decode()
    assert client_for(other).post(page + "payer/").status_code == 403
    assert not Payment.objects.exists()


def test_invoices_not_paid_through_libeo_are_never_sent(achats, dirigeant):
    invoice = make_invoice(achats, dirigeant, payment_method="cheque", number="C-1")
    connect_libeo(achats, dirigeant)
    invoice_update(invoice=invoice, actor=dirigeant, number="C-1b")
    libeo_invoice = make_invoice(achats, dirigeant, number="L-1")
    invoice_update(invoice=libeo_invoice, actor=dirigeant, number="L-1b")  # never paid yet
    assert not OutboxMessage.objects.exists()
    with pytest.raises(ValidationError):
        invoice_pay(invoice=invoice, actor=dirigeant)
    assert not Payment.objects.exists()


def test_an_invoice_already_sent_is_sent_again_when_edited(invoice, dirigeant):
    connect_libeo(invoice.company, dirigeant)
    LibeoInvoice.objects.create(firm=invoice.firm, invoice=invoice, sent_version=1)
    invoice_update(invoice=invoice, actor=dirigeant, due_date=invoice.due_date.replace(day=20))
    message = OutboxMessage.objects.get(action="libeo.resend_invoice")
    assert message.idempotency_key == f"libeo-upsert:{invoice.pk}:v2"


def test_other_tenants_invoices_answer_404(invoice, other_firm_user):
    client = client_for(other_firm_user)
    for path in ["", "payer/", "paiement/"]:
        assert client.get(url(invoice.company, f"{invoice.pk}/{path}")).status_code == 404
    assert client.post(url(invoice.company, f"{invoice.pk}/payer/")).status_code == 404


def test_a_pay_error_is_shown_in_the_payment_box_under_htmx(achats, dirigeant):
    invoice = make_invoice(achats, dirigeant, supplier_iban="", payment_method="transfer")
    SupplierInvoice.objects.filter(pk=invoice.pk).update(payment_method="libeo")
    connect_libeo(achats, dirigeant)
    response = client_for(dirigeant).post(url(achats, f"{invoice.pk}/payer/"),
                                          HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Renseignez l&#x27;IBAN du fournisseur" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_payment_whose_retries_are_exhausted_fails_with_its_reason(invoice, dirigeant,
                                                                     settings):
    from partners.common.outbox import MAX_ATTEMPTS, outbox_deliver_one

    connect_libeo(invoice.company, dirigeant)
    settings.LIBEO_BASE_URL = "http://127.0.0.1:9"  # Libeo unreachable
    invoice_pay(invoice=invoice, actor=dirigeant)
    message = OutboxMessage.objects.get(action="libeo.pay")
    for _ in range(MAX_ATTEMPTS):
        outbox_deliver_one(message.pk)
    payment = Payment.objects.get()
    assert payment.status == "failed" and "Libeo n'a pas répondu" in payment.error_detail
    failed = AuditEvent.objects.get(action="purchase.payment_failed")  # through payment_settle
    assert failed.data == {"payment_id": payment.pk, "provider": "libeo",
                           "provider_payment_id": "", "error_code": "libeo_unavailable"}
    assert OutboxMessage.objects.get(pk=message.pk).status == "failed"
    page = client_for(dirigeant).get(url(invoice.company, f"{invoice.pk}/")).content.decode()
    assert "Payer de nouveau" in page


def test_an_invoice_paid_outside_meg_says_which_method_pays_in_one_click(achats, dirigeant):
    invoice = make_invoice(achats, dirigeant, payment_method="cheque", number="C-7")
    page = unescape(client_for(dirigeant).get(url(achats, f"{invoice.pk}/")).content.decode())
    assert ("Pour payer en un clic, choisissez « Virement par Libeo » comme mode de règlement."
            in page)
    assert 'data-testid="pay-button"' not in page
