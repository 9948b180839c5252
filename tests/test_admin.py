"""Every model of MEG has an admin screen, and each of its pages opens for support staff.

For every model registered in the admin (ours and the libraries' we install): the list (and a
search), the add page — or a 403 where the admin forbids adding on purpose — and the change page
of a real object, as a superuser. Secrets planted in the data never show on any of these pages.
"""

import datetime
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.crypto import hash_token
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from accounting.models import (
    BatchExport,
    ChainSeal,
    EntryDocument,
    FiscalYear,
    IntegrityCheck,
    LetteredLine,
    Lettering,
)
from companies.invitations import invitation_send
from notifications.models import Notification, Preference
from partners.common.models import Consent, OutboxAttempt, OutboxMessage, PartnerConnection
from partners.libeo.models import (
    LibeoConnectIntent,
    LibeoConnection,
    LibeoInvoice,
    LibeoPaymentPoll,
    RedeemedAuthorizationCode,
)
from partners.progbat.models import ProgbatBackfill, ProgbatLink, ProgbatUserAccess
from purchases.models import Supplier, SupplierInvoiceVatLine
from tests import factories
from users.models import ApiToken

# Secrets planted in the sample data: none may appear in any admin page.
PARTNER_ACCESS_TOKEN = "partner-access-token-never-shown-0001"
PARTNER_REFRESH_TOKEN = "partner-refresh-token-never-shown-0002"
LIBEO_API_KEY = "lk_live_libeo-api-key-never-shown-0003"
OAUTH_CLIENT_SECRET = "oauth-client-secret-never-shown-0004"
OAUTH_ACCESS_TOKEN = "oauth-access-token-never-shown-0005"
OAUTH_REFRESH_TOKEN = "oauth-refresh-token-never-shown-0006"
OAUTH_GRANT_CODE = "oauth-grant-code-never-shown-0007"
API_TOKEN = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9"  # a DRF token (40 hex), now hashed
TOTP_SECRET = "TOTPSECRETNEVERSHOWN234567ABCDEF"  # base32, as allauth.mfa stores it
RECOVERY_SEED = "recovery-seed-never-shown-0008"
SECRETS = [PARTNER_ACCESS_TOKEN, PARTNER_REFRESH_TOKEN, LIBEO_API_KEY, OAUTH_CLIENT_SECRET,
           OAUTH_ACCESS_TOKEN, OAUTH_REFRESH_TOKEN, OAUTH_GRANT_CODE, API_TOKEN, TOTP_SECRET,
           RECOVERY_SEED]

# Admins that forbid adding on purpose (rows written by MEG or by the OAuth flows only): their
# add page must answer 403. Keyed by model name alone: the audit trail is moving to its own app.
ADD_FORBIDDEN = {
    "pcgaccount", "journalsequence", "entry", "entryline", "exportbatch", "batchexport",
    "inboxevent", "progbatbackfill",
    "fiscalyear", "chainseal", "outboxattempt", "integritycheck", "libeopaymentpoll",
    "auditevent", "lettering", "letteredline", "entrydocument",
    "apitoken", "invitation",  # a token or an invitation link is shown once, where it is made
    "accesstoken", "refreshtoken", "grant", "idtoken", "redeemedauthorizationcode",
    "authenticator",  # MFA factors are set up by their owner only
}


def our_models():
    """Models of the apps that live in this repository (not in site-packages)."""
    root = Path(settings.BASE_DIR).resolve()
    return [model for config in apps.get_app_configs()
            if Path(config.path).resolve().is_relative_to(root)
            and "site-packages" not in config.path
            for model in config.get_models()]


def registered_models():
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def test_every_model_has_an_admin_screen():
    assert len(our_models()) > 30  # the repository's apps were found
    missing = [m._meta.label for m in our_models() if m not in admin.site._registry]
    assert missing == []


@pytest.fixture
def staff(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def one_of_each(achats, firm, accountant, dirigeant, staff):
    """At least one row of every registered model, with secrets where a model holds some.

    ``achats`` activates a module through the services: module activation, user access and
    audit rows come from there. The rest is written directly.
    """
    company, now = achats, timezone.now()
    site = factories.SiteFactory(firm=firm)
    factories.FirmMembershipFactory(firm=firm, site=site, role="collaborateur")
    factories.PartnerConventionFactory(firm=firm)
    factories.FirmNewsFactory(firm=firm, author=accountant)
    factories.LicenceFactory(company=company, user=dirigeant)
    factories.ChartAccountFactory(company=company)
    line = factories.EntryLineFactory(entry__journal__company=company)
    factories.EntryLineFactory(entry=line.entry, position=2, account="401000",
                               account_label="Fournisseurs", debit=0, credit=line.debit)
    line.entry.journal.sequences.create(fiscal_year=2026, last_number=line.entry.number)
    lettering = Lettering.objects.create(firm=firm, company=company, code="A",
                                         date=datetime.date(2026, 11, 21))
    LetteredLine.objects.create(firm=firm, lettering=lettering, line=line)
    factories.ExportBatchFactory(company=company, created_by=accountant,
                                 include_documents=True, archive="exports/2026/11/a.zip")
    EntryDocument.objects.create(firm=firm, company=company, journal=line.entry.journal,
                                 source_ref=line.entry.source_ref, source_version=1,
                                 origin="partner", file="pieces/1/piece.pdf", size=1000)
    factories.InboxEventFactory(company=company, payload={"id": "doc-1"})
    supplier = Supplier.objects.create(firm=firm, company=company, name="Matériaux Rhône",
                                       aux_account="FMATERIAUX")
    invoice = factories.SupplierInvoiceFactory(company=company, created_by=dirigeant,
                                               payment_method="libeo", supplier=supplier,
                                               expense_account="607000")
    SupplierInvoiceVatLine.objects.create(firm=firm, company=company, invoice=invoice,
                                          rate=20, base_amount=invoice.amount_excl_tax,
                                          vat_amount=invoice.vat_amount)
    payment = factories.PaymentFactory(invoice=invoice, status="scheduled",
                                       provider_payment_id="pay_admin_test")

    PartnerConnection.objects.create(firm=firm, user=accountant, partner="progbat",
                                     access_token=PARTNER_ACCESS_TOKEN,
                                     refresh_token=PARTNER_REFRESH_TOKEN)
    Consent.objects.create(firm=firm, company=company, user=dirigeant, partner="progbat",
                           text_version="v1", text_sha256=Consent.fingerprint("texte"))
    message = OutboxMessage.objects.create(firm=firm, company=company, partner="libeo",
                                           action="invoice.send", idempotency_key="outbox-1")
    OutboxAttempt.objects.create(firm=firm, company=company, message=message, number=1,
                                 started_at=now, outcome="sent", status_code=200)
    batch = factories.ExportBatchFactory(company=company, created_by=accountant)
    FiscalYear.objects.create(firm=firm, company=company, start=datetime.date(2025, 1, 1),
                              end=datetime.date(2025, 12, 31), state="closed", closed_at=now,
                              closed_by=accountant, fec_export=batch)
    ChainSeal.objects.create(company=company, last_position=0, head_hash="0" * 64)
    BatchExport.objects.create(firm=firm, created_by=accountant, selection="Toutes",
                               format="fec", date_from=datetime.date(2026, 11, 1),
                               date_to=datetime.date(2026, 11, 30), status="done",
                               results=[{"company_id": company.pk, "name": company.name,
                                         "siren": company.siren, "status": "done"}])
    IntegrityCheck.objects.create(firm=firm, company=company, checked_at=now, intact=True)
    Notification.objects.create(user=accountant, kind="link_error", fact_key="admin-test",
                                title="Liaison en erreur")
    Preference.objects.create(user=accountant, kind="link_error", mode="digest")
    link = ProgbatLink.objects.create(firm=firm, company=company, status="active",
                                      activated_at=now, activated_by=accountant,
                                      progbat_account_id="acc_admin_test")
    ProgbatUserAccess.objects.create(firm=firm, link=link, user=dirigeant, role="dirigeant")
    ProgbatBackfill.objects.create(firm=firm, company=company, date_from=datetime.date(2026, 1, 1),
                                   date_to=datetime.date(2026, 3, 31), requested_by=accountant,
                                   items=[{"id": "inv_admin", "number": "F1", "date": "2026-02-01",
                                           "customer": "X", "version": 1, "amounts": None,
                                           "verdict": "import", "reason": "", "result": None}])
    LibeoConnection.objects.create(
        firm=firm, company=company, api_key=LIBEO_API_KEY, key_last4=LIBEO_API_KEY[-4:],
        source="api_key", libeo_company_name=company.name, libeo_siren=company.siren,
        plan="free", checked_at=now, connected_by=dirigeant)
    LibeoInvoice.objects.create(firm=firm, invoice=invoice, sent_version=1, sent_at=now)
    LibeoConnectIntent.objects.create(firm=firm, company=company, user=dirigeant)
    LibeoPaymentPoll.objects.create(firm=firm, payment=payment, libeo_payment_id="pay_admin_test",
                                    next_check_at=now)

    Group.objects.create(name="Support")
    EmailAddress.objects.create(user=dirigeant, email=dirigeant.email, verified=True,
                                primary=True)
    # A DRF token as the migration keeps it (digest and first characters), and a new one.
    ApiToken(user=accountant, digest=hash_token(API_TOKEN), token_key=API_TOKEN[:15],
             name="Intégration").save()
    ApiToken.objects.create(user=dirigeant)
    invitation_send(firm=firm, actor=accountant, company=company, email="invite@example.test",
                    role="salarie")
    Authenticator.objects.create(user=accountant, type=Authenticator.Type.TOTP,
                                 data={"secret": TOTP_SECRET})
    Authenticator.objects.create(user=accountant, type=Authenticator.Type.RECOVERY_CODES,
                                 data={"seed": RECOVERY_SEED, "used_mask": 0})
    application = get_application_model().objects.create(
        name="Libeo", client_id="libeo-admin-test", client_secret=OAUTH_CLIENT_SECRET,
        client_type="confidential", authorization_grant_type="authorization-code",
        redirect_uris="https://libeo.example.test/callback")
    expires = now + datetime.timedelta(hours=1)
    id_token = get_id_token_model().objects.create(user=dirigeant, application=application,
                                                   expires=expires)
    access = get_access_token_model().objects.create(
        user=dirigeant, application=application, token=OAUTH_ACCESS_TOKEN, expires=expires,
        id_token=id_token)
    get_refresh_token_model().objects.create(user=dirigeant, application=application,
                                             token=OAUTH_REFRESH_TOKEN, access_token=access)
    get_grant_model().objects.create(user=dirigeant, application=application,
                                     code=OAUTH_GRANT_CODE, expires=expires,
                                     redirect_uri="https://libeo.example.test/callback")
    RedeemedAuthorizationCode.objects.create(code_digest="0" * 64, client_id=application.client_id,
                                             user=dirigeant, access_token_id=access.pk)


@pytest.fixture
def staff_client(staff):
    client = Client(raise_request_exception=False)  # a server error is a failure, not a crash
    client.force_login(staff)
    return client


def admin_url(model, page, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def open_page(client, url, params=None):
    response = client.get(url, params or {})
    return response.status_code, response.content.decode()


def leaked_secrets(html):
    return [secret for secret in SECRETS if secret in html]


def test_every_admin_list_opens_with_its_rows_and_a_search(one_of_each, staff_client):
    failures = []
    for model in registered_models():
        url = admin_url(model, "changelist")
        for params in [None, {"q": "x"}]:
            status, html = open_page(staff_client, url, params)
            if status != 200:
                failures.append(f"{url} {params or ''} → {status}")
            elif params is None and 'id="result_list"' not in html:
                failures.append(f"{url} lists no row")  # every model has a row here
    assert failures == []


def test_every_admin_add_page_opens_or_is_forbidden_on_purpose(one_of_each, staff_client):
    failures = []
    for model in registered_models():
        url = admin_url(model, "add")
        status, html = open_page(staff_client, url)
        expected = 403 if model._meta.model_name in ADD_FORBIDDEN else 200
        if status != expected:
            failures.append(f"{url} → {status}, expected {expected}")
        elif expected == 200 and 'type="submit"' not in html:
            failures.append(f"{url} has no form to submit")
    assert failures == []


def test_every_admin_change_page_opens_on_a_real_object(one_of_each, staff_client):
    failures = []
    for model in registered_models():
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            failures.append(f"{model._meta.label}: no sample row, add one to one_of_each")
            continue
        url = admin_url(model, "change", quote(obj.pk))
        status, html = open_page(staff_client, url)
        if status != 200:
            failures.append(f"{url} → {status}")
        elif 'id="content"' not in html:
            failures.append(f"{url} is not an admin page")
    assert failures == []


def secrets_shown(client, models):
    """Every leak of a planted secret in the list, search and change pages of ``models``."""
    leaks = []
    for model in models:
        obj = model._default_manager.order_by("pk").first()
        urls = [admin_url(model, "changelist"), admin_url(model, "change", quote(obj.pk))]
        for url in urls:
            _, html = open_page(client, url)
            leaks += [f"{url}: {secret}" for secret in leaked_secrets(html)]
    return leaks


def test_no_admin_page_shows_a_secret(one_of_each, staff_client):
    assert secrets_shown(staff_client, registered_models()) == []


def test_api_tokens_are_not_shown_in_the_admin(one_of_each, staff_client):
    assert secrets_shown(staff_client, [ApiToken]) == []
    html = open_page(staff_client, admin_url(ApiToken, "changelist"))[1]
    assert API_TOKEN[:15] + "…" in html  # recognisable by its first characters only
