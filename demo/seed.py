"""The stable demo surface of DESIGN §11, created by ``manage.py seed_demo`` (idempotent).

It builds on every app, partners included: this package sits above them all (DESIGN §2)."""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from stdnum import luhn

from companies import services as company_services
from companies.catalogue import ensure_catalogue
from companies.invitations import invitation_accept
from companies.models import (
    Company,
    CompanyMembership,
    Invitation,
    Licence,
    Module,
    ModuleActivation,
    Tier,
)
from firms.models import Firm, FirmMembership, PartnerConvention, Site
from partners.common.models import Consent, Partner
from partners.progbat.consent import CONSENT_TEXT, CONSENT_VERSION
from partners.progbat.models import ProgbatLink, ProgbatUserAccess

DEMO_PASSWORD = "demo-password-2026"
DEMO_FIRM = {"name": "Cabinet Démo", "siren": "900000043"}
NEIGHBOUR_FIRM = {"name": "Cabinet Voisin", "siren": "900000050"}
ACCOUNTANT = "expert@demo.meg.test"
NEIGHBOUR = "voisin@demo.meg.test"
DUPONT = {"name": "Dupont Bâtiment", "siret": "90000001900019", "city": "Lyon",
          "dirigeant": ("dirigeant@demo.meg.test", "Jean", "Dupont")}
MARTIN = {"name": "Martin Rénovation", "siret": "90000002700012", "city": "Villeurbanne",
          "dirigeant": ("martin@demo.meg.test", "Sophie", "Martin")}
NEIGHBOUR_COMPANY = {"name": "Voisin Plomberie", "siret": "90000003500015", "city": "Paris",
                     "dirigeant": ("plombier@voisin.meg.test", "Paul", "Voisin")}
DUPONT_PROGBAT_ACCOUNT = "acc_demo_dupont"
# Known to the ProGBat sandbox as an existing, unlinked account: the guide's first case.
LEFEVRE = {"name": "Lefèvre Couverture", "siret": "90000006800016", "city": "Bron",
           "dirigeant": ("lefevre@demo.meg.test", "Luc", "Lefèvre")}
EXTRA_COMPANIES = 50
TRADES = ["Maçonnerie", "Électricité", "Plomberie", "Menuiserie", "Peinture", "Couverture",
          "Carrelage", "Charpente", "Serrurerie", "Paysage"]
# The attention board (*À traiter*) of Cabinet Démo is not empty: two sites, a collaborateur on
# each with a portfolio of the extra companies, and one problem of each kind the board lists
# (DESIGN §11's stable objects above are left as they are).
SITES = [("Lyon", "Lyon"), ("Grenoble", "Grenoble")]
COLLABORATEURS = {
    "Lyon": ("lea@demo.meg.test", "Léa", "Rousseau", [4, 5, 6, 7]),
    "Grenoble": ("hugo@demo.meg.test", "Hugo", "Bernard", [14, 15, 16, 17]),
}
LEA, HUGO = COLLABORATEURS["Lyon"][0], COLLABORATEURS["Grenoble"][0]
TOWNS = ["Lyon", "Grenoble", "Annecy", "Valence", "Chambéry", "Saint-Étienne", "Bourg-en-Bresse",
         "Mâcon", "Vienne", "Villefranche"]


def siret_for(index):
    """A valid, deterministic SIRET for the index-th extra demo company (SIREN 91xxxxxxx)."""
    siren8 = f"{91000000 + index:08d}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    nic4 = "0001"
    return siren + nic4 + luhn.calc_check_digit(siren + nic4)


def _user(email, first_name="", last_name=""):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first_name, "last_name": last_name})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def _firm(data, admin_email, admin_name):
    firm, _ = Firm.objects.get_or_create(siren=data["siren"], defaults={"name": data["name"]})
    admin = _user(admin_email, *admin_name)
    FirmMembership.objects.get_or_create(user=admin, defaults={
        "firm": firm, "role": FirmMembership.Role.ADMIN})
    return firm, admin


def _company(firm, actor, data, *, state, dossier_type=Company.DossierType.ENGAGEMENT):
    company = Company.objects.filter(firm=firm, siret=data["siret"]).first()
    if company is not None:
        return company, False
    email, first_name, last_name = data["dirigeant"]
    dirigeant = _user(email, first_name, last_name)
    company = company_services.company_create(
        firm=firm, actor=actor, name=data["name"], siret=data["siret"], city=data["city"],
        dossier_type=dossier_type, dirigeant_email=email, dirigeant_first_name=first_name,
        dirigeant_last_name=last_name)
    # The demo dirigeant accepts at once (no e-mail goes out: it is no longer pending).
    invitation_accept(invitation=Invitation.objects.get(company=company, email=email),
                      user=dirigeant)
    if state != Company.State.CREATED:
        company = company_services.company_set_state(company=company, actor=actor,
                                                     state=Company.State.ACTIVATED)
    if state == Company.State.INACTIVATED:
        company = company_services.company_set_state(company=company, actor=actor, state=state)
    return company, True


def _progbat_link(company, accountant, dirigeant):
    """Dupont Bâtiment's link, active since the seed ran, with the sandbox's demo account.

    Written directly: the seed cannot go through OAuth. Calls for this company use the
    accountant's own ProGBat connection, made from Connexions partenaires.
    """
    now = timezone.now()
    ModuleActivation.objects.create(firm=company.firm, company=company, changed_by=accountant,
                                    module=Module.objects.get(code="progbat"), enabled=True)
    Consent.objects.create(firm=company.firm, company=company, user=dirigeant,
                           partner=Partner.PROGBAT, text_version=CONSENT_VERSION,
                           text_sha256=Consent.fingerprint(CONSENT_TEXT))
    link = ProgbatLink.objects.create(
        firm=company.firm, company=company, status=ProgbatLink.Status.ACTIVE, activated_at=now,
        activated_by=accountant, consented_at=now, consented_by=dirigeant,
        progbat_account_id=DUPONT_PROGBAT_ACCOUNT, linked_at=now, plan="premium",
        licence_status=ProgbatLink.LicenceStatus.LICENSED)
    ProgbatUserAccess.objects.create(firm=company.firm, link=link, user=dirigeant,
                                     role="dirigeant")


def _supplier_invoices(company, user, today):
    """Dupont's supplier invoices, each booked in the purchases journal (HA) as it is
    recorded: one per kind of account, one with two VAT rates, one fixed asset."""
    from decimal import Decimal

    from purchases.services import VatLine, invoice_create

    cent = Decimal("0.01")
    for number, supplier, iban, excl, method, due_in, account in [
        ("MR-2611", "Matériaux Rhône", "FR7630006000011234567890189", "1250.00", "libeo", 20,
         "601000"),
        ("EL-0457", "Électricité Générale Lyon", "FR7610107001011234567890129", "480.00",
         "libeo", 35, "611000"),
        ("LOC-88", "Loca'Engins", "", "310.00", "cheque", 10, "613500"),
        ("OP-5521", "Outilpro Rhône", "", "1890.00", "transfer", 30, "215400"),
    ]:
        excl = Decimal(excl)
        vat = (excl * Decimal("0.20")).quantize(cent)
        invoice_create(company=company, actor=user, supplier_name=supplier, supplier_iban=iban,
                       number=number, issue_date=today - datetime.timedelta(days=10),
                       due_date=today + datetime.timedelta(days=due_in),
                       amount_excl_tax=excl, vat_amount=vat, amount_incl_tax=excl + vat,
                       payment_method=method, expense_account=account)
    # Two rates on one invoice: site supplies at 20 %, drinking water for the crew at 5.5 %.
    invoice_create(company=company, actor=user, supplier_name="Cash Pro Lyon", supplier_iban="",
                   number="CP-20931", issue_date=today - datetime.timedelta(days=7),
                   due_date=today - datetime.timedelta(days=7), payment_method="cash",
                   expense_account="606300", vat_lines=[
                       VatLine(Decimal("20"), Decimal("240.00"), Decimal("48.00")),
                       VatLine(Decimal("5.5"), Decimal("60.00"), Decimal("3.30"))])


def _book_supplier_invoices(company):
    """Invoices recorded before the purchases journal existed are booked too (each run is a
    no-op once they are)."""
    from bridges.purchases_books import invoices_book

    invoices_book(company.supplier_invoices.all())


# What the demo shows of DESIGN §7.2 on Dupont Bâtiment (README, « Achats et paiements dans
# les écritures »): which invoice is paid, which payment failed, which invoice was edited after
# its entry was exported.
DEMO_PAID_INVOICE = "MR-2611"
DEMO_FAILED_INVOICE = "EL-0457"
DEMO_FAILURE_REASON = "IBAN du fournisseur clôturé : demandez-lui un nouveau RIB."
DEMO_CORRECTED_INVOICE = "LOC-88"
DEMO_INVOICES = ["MR-2611", "EL-0457", "LOC-88", "OP-5521", "CP-20931"]


def _demo_payment(invoice, user, *, status, executed_at=None, reason=""):
    """A Libeo payment as Libeo would have reported it: scheduled, then ``status``.

    Written around Libeo (the seed calls no partner, as for the ProGBat link) but settled
    through ``payment_settle``, the one write path of payment states: a paid one is booked in
    the Libeo payments journal (BQLB) and lettered with its invoice, a failed one leaves the
    invoice payable again with its reason."""
    from purchases.models import Payment
    from purchases.providers import PaymentResult
    from purchases.services import payment_settle

    payment = Payment.objects.create(
        firm_id=invoice.firm_id, company=invoice.company, invoice=invoice, provider="libeo",
        attempt=1, idempotency_key=f"meg-demo-pay:{invoice.pk}:1",
        amount=invoice.amount_incl_tax,
        execution_date=timezone.localdate(executed_at) if executed_at else invoice.due_date,
        requested_by=user)
    reference = f"pay_demo_{invoice.pk:06d}"
    payment_settle(payment=payment, result=PaymentResult(
        status=Payment.Status.SCHEDULED, provider_payment_id=reference))
    return payment_settle(payment=payment, result=PaymentResult(
        status=status, provider_payment_id=reference, executed_at=executed_at,
        error_code="" if status == Payment.Status.PAID else f"libeo_{status}",
        error_detail=reason))


def demo_invoice_pdf(number, supplier, total):
    """A one-page PDF invoice (« Facture <number> », the supplier, the total), written by hand
    so that the demo needs no PDF library: Helvetica, WinAnsi text, a valid cross-reference."""
    def text(value):
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    lines = [(72, 760, 20, f"Facture {number}"), (72, 730, 12, supplier),
             (72, 700, 12, f"Total TTC : {total} EUR"),
             (72, 670, 9, "Document de démonstration MEG (Dupont Bâtiment).")]
    stream = "\n".join(f"BT /F1 {size} Tf {x} {y} Td ({text(value)}) Tj ET"
                        for x, y, size, value in lines).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number_, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number_ + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _attach_demo_pdfs(company, user):
    """Each demo invoice has its PDF: the pièce of its purchases entry (paperclip in the
    export space, ``pieces/<PieceRef>.pdf`` in an export with pièces)."""
    from django.core.files.base import ContentFile

    from purchases.services import invoice_update

    for invoice in company.supplier_invoices.filter(number__in=DEMO_INVOICES, pdf=""):
        invoice_update(invoice=invoice, actor=user, pdf=ContentFile(
            demo_invoice_pdf(invoice.number, invoice.supplier_name,
                             f"{invoice.amount_incl_tax:.2f}".replace(".", ",")),
            name=f"{invoice.number}.pdf"))


def _books_demo(company, user, accountant, today):
    """Dupont's purchases in the books, each step once (a step already done is left):
    the first invoices' HA entries exported, one of them edited afterwards (a correcting
    entry), one invoice paid by Libeo (its BQLB entry lettered with the invoice), one Libeo
    payment failed (the invoice payable again, with the reason)."""
    from accounting.models import Entry
    from accounting.services.exports import export_request, export_run
    from bridges.purchases_books import source_ref
    from purchases.models import Payment
    from purchases.services import invoice_update

    invoices = {invoice.number: invoice for invoice in company.supplier_invoices.filter(
        number__in=[DEMO_PAID_INVOICE, DEMO_FAILED_INVOICE, DEMO_CORRECTED_INVOICE])}
    corrected = invoices.get(DEMO_CORRECTED_INVOICE)
    if corrected is not None and not Entry.objects.filter(
            company=company, source_ref__startswith=source_ref(corrected) + "#c").exists():
        entry = Entry.objects.filter(company=company, source_ref=source_ref(corrected)).first()
        if entry is not None and entry.state == Entry.State.DRAFT:
            day = entry.date
            batch = export_request(company=company, actor=accountant, format="fec",
                                   journal_codes=["HA"], date_from=day, date_to=day)
            export_run(batch.pk)  # now, so that the edit below finds the entry exported
            entry.refresh_from_db()
        if entry is not None and entry.state == Entry.State.EXPORTED:
            # The rental was longer than invoiced: 340 € HT instead of 310 €.
            invoice_update(invoice=corrected, actor=user, amount_excl_tax=Decimal("340.00"),
                           vat_amount=Decimal("68.00"), amount_incl_tax=Decimal("408.00"))
    paid = invoices.get(DEMO_PAID_INVOICE)
    if paid is not None and not paid.payments.exists():
        executed_at = timezone.make_aware(datetime.datetime.combine(
            today - datetime.timedelta(days=3), datetime.time(10, 30)))
        _demo_payment(paid, user, status=Payment.Status.PAID, executed_at=executed_at)
    failed = invoices.get(DEMO_FAILED_INVOICE)
    if failed is not None and not failed.payments.exists():
        _demo_payment(failed, user, status=Payment.Status.FAILED, reason=DEMO_FAILURE_REASON)
    _attach_demo_pdfs(company, user)


def register_libeo_client():
    """The Libeo sandbox as a client of MEG's OpenID provider ("Me connecter avec MEG")."""
    from django.conf import settings
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    application = Application.objects.filter(client_id=settings.LIBEO_OIDC_CLIENT_ID).first()
    if application is None:
        application = Application(client_id=settings.LIBEO_OIDC_CLIENT_ID)
    application.name = "Libeo"
    application.client_secret = settings.LIBEO_OIDC_CLIENT_SECRET
    application.client_type = Application.CLIENT_CONFIDENTIAL
    application.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    application.redirect_uris = settings.LIBEO_OIDC_REDIRECT_URIS
    application.algorithm = Application.RS256_ALGORITHM
    application.skip_authorization = False
    application.save()
    return application


def _licence(company, user, *, tier, starts_on, ends_on):
    Licence.objects.get_or_create(company=company, user=user, defaults={
        "firm": company.firm, "tier": tier, "starts_on": starts_on, "ends_on": ends_on})


def extra_company_name(index):
    return f"{TRADES[index % 10]} {TOWNS[index // 10 % 10]} {index:02d}"


def last_month(today):
    """The first and last days of the month before ``today``: what a month-end export takes
    (the default period of *Exports mensuels*)."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def _purchases(company, accountant, dirigeant, invoices):
    """Achats for the company, its dirigeant its administrator, and its supplier invoices (each
    booked in the purchases journal as a draft entry: « à exporter »). Returns them."""
    from decimal import Decimal

    from purchases.services import invoice_create

    company_services.modules_save(company=company, actor=accountant,
                                  enabled_codes=["achats", "export-ecritures"])
    company_services.user_module_access_set(
        company=company, actor=accountant, user=dirigeant,
        module=Module.objects.get(code="achats"), enabled=True, is_admin=True)
    made = []
    for number, supplier, iban, excl, method, issued, account in invoices:
        excl = Decimal(excl)
        vat = (excl * Decimal("0.20")).quantize(Decimal("0.01"))
        made.append(invoice_create(
            company=company, actor=dirigeant, supplier_name=supplier, supplier_iban=iban,
            number=number, issue_date=issued, due_date=issued + datetime.timedelta(days=30),
            amount_excl_tax=excl, vat_amount=vat, amount_incl_tax=excl + vat,
            payment_method=method, expense_account=account))
    return made


def _demo_link(company, accountant, **fields):
    """A ProGBat link of the board's demo (written directly, as Dupont's): the module on."""
    ModuleActivation.objects.get_or_create(
        firm=company.firm, company=company, module=Module.objects.get(code="progbat"),
        defaults={"enabled": True, "changed_by": accountant})
    return ProgbatLink.objects.create(firm=company.firm, company=company,
                                      activated_at=timezone.now(), activated_by=accountant,
                                      **fields)


def _attention_board(firm, accountant, today):
    """Sites, collaborateurs and their portfolios, and one problem of each kind (created once:
    each is skipped when its object exists)."""
    from accounting.models import InboxEvent
    from partners.common.models import PartnerConnection
    from purchases.models import Payment

    companies = {}
    for site_name, city in SITES:
        site, _ = Site.objects.get_or_create(firm=firm, name=site_name, defaults={"city": city})
        email, first_name, last_name, portfolio = COLLABORATEURS[site_name]
        user = _user(email, first_name, last_name)
        FirmMembership.objects.get_or_create(user=user, defaults={
            "firm": firm, "role": FirmMembership.Role.COLLABORATEUR, "site": site})
        for index in portfolio:
            company = Company.objects.get(firm=firm, siret=siret_for(index))
            company_services.accountant_attach(company=company, actor=accountant, user=user)
            companies[index] = company

    def boss(company):
        return CompanyMembership.objects.get(company=company, role="dirigeant").user

    # Each site's links were activated by its collaborateur (the board names them).
    hugo = get_user_model().objects.get(email=HUGO)

    first, _end = last_month(today)
    mid = first + datetime.timedelta(days=14)
    # Lyon: Léa's ProGBat connection expired (she reconnects it herself); two companies with
    # entries of last month to export; a link in error; a company with nothing to export.
    lea = get_user_model().objects.get(email=LEA)
    PartnerConnection.objects.get_or_create(user=lea, partner=Partner.PROGBAT, defaults={
        "firm": firm, "status": PartnerConnection.Status.EXPIRED,
        "connected_at": timezone.now() - datetime.timedelta(days=95),
        "last_error": "invalid_grant: refresh token expired"})
    for index, invoices in [
        (4, [("BM-1041", "Bétons du Rhône", "FR7630006000011234567890189", "2400.00",
              "transfer", first + datetime.timedelta(days=4), "601000"),
             ("GL-0077", "Garage Lumière", "", "380.00", "cheque", mid, "615500")]),
        (5, [("SF-3310", "Sanitaires Fournitures", "", "920.00", "transfer",
              first + datetime.timedelta(days=9), "601000")]),
    ]:
        if not companies[index].supplier_invoices.exists():
            _purchases(companies[index], accountant, boss(companies[index]), invoices)
    if not ProgbatLink.objects.filter(company=companies[6]).exists():
        _demo_link(companies[6], lea, status=ProgbatLink.Status.ERROR,
                   error_code="siren_taken",
                   error_detail="Ce SIREN est déjà relié à un autre compte ProGBat (409) : "
                                "saisissez les identifiants du compte existant.")
    # Grenoble: a link waiting for the consent, a trial ending in 10 days, a refused partner
    # event, and a payment that failed.
    if not ProgbatLink.objects.filter(company=companies[14]).exists():
        _demo_link(companies[14], hugo, status=ProgbatLink.Status.PENDING_CONSENT)
    if not ProgbatLink.objects.filter(company=companies[15]).exists():
        _demo_link(companies[15], hugo, status=ProgbatLink.Status.ACTIVE,
                   consented_at=timezone.now(), consented_by=boss(companies[15]),
                   linked_at=timezone.now(), progbat_account_id="acc_demo_trial_15",
                   plan="start_plus", licence_status=ProgbatLink.LicenceStatus.TRIAL,
                   trial_ends_at=timezone.now() + datetime.timedelta(days=10))
    if not ProgbatLink.objects.filter(company=companies[16]).exists():
        _demo_link(companies[16], hugo, status=ProgbatLink.Status.ACTIVE,
                   consented_at=timezone.now(), consented_by=boss(companies[16]),
                   linked_at=timezone.now(), progbat_account_id="acc_demo_linked_16",
                   plan="premium", licence_status=ProgbatLink.LicenceStatus.LICENSED)
        InboxEvent.objects.create(
            firm=firm, company=companies[16], partner=Partner.PROGBAT,
            webhook_id="msg_demo_refused_16", event_type="invoice.validated",
            source_ref="inv_demo_16_001", source_version=1,
            payload={"type": "invoice.validated", "data": {"invoice": {
                "id": "inv_demo_16_001", "number": "F2026-0412", "version": 1}}},
            status=InboxEvent.Status.REJECTED, processed_at=timezone.now(),
            reason="Compte 7061 sans compte parent au plan comptable : créez-le dans ProGBat "
                   "(Paramètres → Comptabilité) puis revalidez la facture.")
    if not companies[17].supplier_invoices.exists():
        (invoice,) = _purchases(companies[17], accountant, boss(companies[17]), [
            ("EA-5120", "Échafaudages Alpes", "FR7610107001011234567890129", "1650.00",
             "libeo", mid, "613500")])
        Payment.objects.create(
            firm=firm, company=companies[17], invoice=invoice, provider="libeo", attempt=1,
            idempotency_key=f"demo-failed-{invoice.pk}", amount=invoice.amount_incl_tax,
            execution_date=today - datetime.timedelta(days=2),
            status=Payment.Status.FAILED, error_code="insufficient_funds",
            error_detail="Solde insuffisant sur le compte Libeo.",
            requested_by=boss(companies[17]))


@transaction.atomic
def seed_demo(today=None):
    today = today or timezone.localdate()
    with scopes_disabled():
        ensure_catalogue(Module)
        firm, accountant = _firm(DEMO_FIRM, ACCOUNTANT, ("Claire", "Expert"))
        PartnerConvention.objects.get_or_create(firm=firm, partner="progbat", defaults={
            "kind": PartnerConvention.Kind.PRESCRIPTEUR, "signed_at": datetime.date(2026, 1, 5)})
        neighbour_firm, neighbour = _firm(NEIGHBOUR_FIRM, NEIGHBOUR, ("Victor", "Voisin"))
        _company(neighbour_firm, neighbour, NEIGHBOUR_COMPANY, state=Company.State.ACTIVATED)

        dupont, created = _company(firm, accountant, DUPONT, state=Company.State.ACTIVATED)
        dirigeant = CompanyMembership.objects.get(company=dupont, role="dirigeant").user
        if created:
            company_services.modules_save(company=dupont, actor=accountant,
                                          enabled_codes=["achats", "export-ecritures"])
            _progbat_link(dupont, accountant, dirigeant)
            _supplier_invoices(dupont, dirigeant, today)
            company_services.user_module_access_set(
                company=dupont, actor=accountant, user=dirigeant,
                module=Module.objects.get(code="achats"), enabled=True, is_admin=True)
        _book_supplier_invoices(dupont)
        _books_demo(dupont, dirigeant, accountant, today)
        _licence(dupont, dirigeant, tier=Tier.PREMIUM,
                 starts_on=today - datetime.timedelta(days=90),
                 ends_on=today + datetime.timedelta(days=275))
        martin, _ = _company(firm, accountant, MARTIN, state=Company.State.ACTIVATED)
        martin_user = CompanyMembership.objects.get(company=martin, role="dirigeant").user
        _licence(martin, martin_user, tier=Tier.FREE,
                 starts_on=today - datetime.timedelta(days=30),
                 ends_on=today + datetime.timedelta(days=335))

        _company(firm, accountant, LEFEVRE, state=Company.State.ACTIVATED)
        register_libeo_client()
        for index in range(1, EXTRA_COMPANIES + 1):
            state = (Company.State.CREATED if index % 10 in (1, 2) else
                     Company.State.INACTIVATED if index % 10 == 3 else Company.State.ACTIVATED)
            dossier = (Company.DossierType.TRESORERIE if index % 3 == 0
                       else Company.DossierType.ENGAGEMENT)
            data = {"name": extra_company_name(index),
                    "siret": siret_for(index), "city": TOWNS[index // 10 % 10],
                    "dirigeant": (f"dirigeant{index:02d}@demo.meg.test", "Client",
                                  f"N°{index:02d}")}
            company, _ = _company(firm, accountant, data, state=state, dossier_type=dossier)
            owner = CompanyMembership.objects.get(company=company, role="dirigeant").user
            ends_in = {0: -10, 1: 15}.get(index % 5, 200)
            _licence(company, owner,
                     tier=Tier.PREMIUM if index % 3 == 0 else Tier.FREE,
                     starts_on=today - datetime.timedelta(days=200),
                     ends_on=today + datetime.timedelta(days=ends_in))
        _attention_board(firm, accountant, today)
    return firm
