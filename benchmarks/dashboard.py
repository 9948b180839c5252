"""``dashboard``: GET /cabinet/ by the firm's admin, for a small firm and a large one; and the
firm's attention board (*À traiter*, GET /cabinet/a-traiter/, whole firm and one site).

DESIGN §10: firm with 5,000 companies, 20,000 users, 20,000 licences — query count constant in
N (≤ 12); p50 < 150 ms. The dashboard includes the board's block (issue 13); the board page's
query count must be constant in N too.

Both firms live in the same database, so the small one is measured next to 5,000 companies of
another tenant. Each company has one dirigeant and three salariés, each holding one licence
(valid, ending within 30 days, or expired; MEG Free or Premium). The figures the page shows are
checked against counts computed here from the generated rows, so that a fast but wrong page
would not pass unnoticed.

Every company also has a ProGBat link (most active, some in error, waiting for consent or
credentials, in a trial ending soon, or without licence), and a share of them have entries to
export, a refused partner event, a failed payment or an integrity failure; half of the
collaborators' ProGBat connections have expired. Collaborators alternate between two sites.
The board's counts on the dashboard are checked against those generated.
"""

import datetime
import re
import time
from dataclasses import dataclass, field

from benchmarks import format_table, percentile, yes_no

SMALL_COMPANIES = 10
LARGE_COMPANIES = 5_000
QUICK_LARGE_COMPANIES = 500
USERS_PER_COMPANY = 4  # one dirigeant, three salariés; one licence each
WARMUPS = 3
REQUESTS = 30
MAX_QUERIES = 12
P50_TARGET_MS = 150.0
BATCH = 2_000
BENCH_PASSWORD = "bench-password-2026"


@dataclass
class Tenant:
    label: str
    firm: object
    admin: object
    companies: int = 0
    users: int = 0
    licences: int = 0
    expected: dict = field(default_factory=dict)  # data-testid on the page → expected figure
    board: dict = field(default_factory=dict)  # attention kind → rows expected on the board
    site_id: int | None = None  # a site to filter the board by


@dataclass
class Measure:
    queries: int
    sql: list
    timings_ms: list

    @property
    def p50(self):
        return percentile(self.timings_ms, 0.50)

    @property
    def p95(self):
        return percentile(self.timings_ms, 0.95)


def luhn_complete(digits):
    from stdnum import luhn

    return digits + luhn.calc_check_digit(digits)


def siret_for(firm_index, index):
    """A valid SIRET: SIREN (8 digits + Luhn key), NIC 0001, then the SIRET's Luhn key."""
    siren = luhn_complete(f"{10_000_000 + firm_index * 1_000_000 + index:08d}")
    return luhn_complete(siren + "0001")


def company_state(index):
    from companies.models import Company

    return {0: Company.State.CREATED, 1: Company.State.CREATED,
            2: Company.State.INACTIVATED}.get(index % 10, Company.State.ACTIVATED)


def licence_dates(index, today):
    """Valid (65 %), ending within the warning window (15 %), or expired (20 %)."""
    slot = index % 20
    if slot < 3:  # valid, ends in 0..29 days: counted as activated and "à expiration"
        ends_on = today + datetime.timedelta(days=index % 30)
        return ends_on - datetime.timedelta(days=365), ends_on
    if slot < 7:  # expired 1..300 days ago
        ends_on = today - datetime.timedelta(days=1 + index % 300)
        return ends_on - datetime.timedelta(days=365), ends_on
    ends_on = today + datetime.timedelta(days=31 + index % 300)
    return ends_on - datetime.timedelta(days=365), ends_on


def progbat_state(index, now):
    """The ProGBat link of company ``index``: ``(fields, board kind or None)``."""
    from partners.progbat.models import ProgbatLink

    Status, Licence = ProgbatLink.Status, ProgbatLink.LicenceStatus
    slot = index % 20
    if slot < 2:
        return {"status": Status.ERROR, "error_code": "unavailable",
                "error_detail": "ProGBat ne répond pas."}, "progbat_link_error"
    if slot < 4:
        return {"status": Status.PENDING_CONSENT}, "progbat_link_pending"
    if slot == 4:
        return {"status": Status.PENDING_CREDENTIALS}, "progbat_link_pending"
    if slot == 5:  # ends within 14 days
        return {"licence_status": Licence.TRIAL, "plan": "start_plus",
                "trial_ends_at": now + datetime.timedelta(days=1 + index % 13)}, \
            "progbat_trial_ending"
    if slot == 6:  # ends later: not on the board
        return {"licence_status": Licence.TRIAL, "plan": "premium",
                "trial_ends_at": now + datetime.timedelta(days=20 + index % 10)}, None
    if slot == 7:
        return {"licence_status": Licence.FREE, "plan": "free"}, "progbat_licence_to_assign"
    return {"licence_status": Licence.LICENSED, "plan": "premium"}, None


def build_board_problems(*, firm, admin, companies, collaborators, now, tag):
    """What the attention board lists, generated in bulk; returns the expected row count per
    kind (entries to export: 30 % of the companies, refused events 5 %, failed payments 3 %,
    integrity failures 1 %; half of the collaborators' connections expired)."""
    from decimal import Decimal

    from accounting.models import Entry, InboxEvent, IntegrityCheck, Journal
    from partners.common.models import PartnerConnection
    from partners.progbat.models import ProgbatLink
    from purchases.models import Payment, SupplierInvoice

    expected = {}

    def count(kind):
        expected[kind] = expected.get(kind, 0) + 1

    links = []
    for i, company in enumerate(companies):
        fields, kind = progbat_state(i, now)
        links.append(ProgbatLink(firm=firm, company=company, activated_at=now, activated_by=admin,
                                 **{"status": ProgbatLink.Status.ACTIVE, **fields}))
        if kind:
            count(kind)
    ProgbatLink.objects.bulk_create(links, batch_size=BATCH)

    with_drafts = [c for i, c in enumerate(companies) if i % 10 < 3]
    journals = Journal.objects.bulk_create(
        [Journal(firm=firm, company=c, code="VT", label="Ventes ProGBat", source="progbat")
         for c in with_drafts], batch_size=BATCH)
    entries = []
    for journal in journals:
        for n in range(3):
            entries.append(Entry(
                firm=firm, company_id=journal.company_id, journal=journal, fiscal_year=now.year,
                date=now.date() - datetime.timedelta(days=n), piece_ref=f"F{n}",
                label="Facture", source_ref=f"inv_{journal.company_id}_{n}", source_version=1,
                validated_at=now))
        count("entries_to_export")
    Entry.objects.bulk_create(entries, batch_size=BATCH)

    events = []
    for i, company in enumerate(companies):
        if i % 20 == 9:
            events.append(InboxEvent(
                firm=firm, company=company, partner="progbat", webhook_id=f"{tag}-{i}",
                event_type="invoice.validated", source_ref=f"inv_{i}", source_version=2,
                payload={}, status=InboxEvent.Status.REJECTED,
                reason="Le document est déjà exporté en comptabilité."))
            count("events")
    InboxEvent.objects.bulk_create(events, batch_size=BATCH)

    IntegrityCheck.objects.bulk_create(
        [IntegrityCheck(firm=firm, company=c, checked_at=now, intact=i % 100 != 11,
                        entry_count=10, problems=[] if i % 100 != 11 else ["Empreinte"])
         for i, c in enumerate(companies)], batch_size=BATCH)
    expected.update(integrity=sum(1 for i in range(len(companies)) if i % 100 == 11))

    failing = [c for i, c in enumerate(companies) if i % 100 in (13, 47, 81)]
    invoices = SupplierInvoice.objects.bulk_create(
        [SupplierInvoice(firm=firm, company=c, supplier_name="Matériaux Rhône", number=f"F-{c.pk}",
                         issue_date=now.date(), due_date=now.date(),
                         amount_excl_tax=Decimal("100.00"), vat_amount=Decimal("20.00"),
                         amount_incl_tax=Decimal("120.00"), created_by=admin)
         for c in failing], batch_size=BATCH)
    Payment.objects.bulk_create(
        [Payment(firm=firm, company_id=inv.company_id, invoice=inv, provider="libeo",
                 idempotency_key=f"{tag}-pay-{inv.pk}", amount=inv.amount_incl_tax,
                 execution_date=inv.due_date, status=Payment.Status.FAILED,
                 error_detail="Solde insuffisant.", requested_by=admin)
         for inv in invoices], batch_size=BATCH)
    if invoices:
        expected["payment_failed"] = len(invoices)

    expired = collaborators[::2]
    PartnerConnection.objects.bulk_create(
        [PartnerConnection(firm=firm, user=user, partner="progbat",
                           status=(PartnerConnection.Status.EXPIRED if user in expired
                                   else PartnerConnection.Status.CONNECTED))
         for user in collaborators])
    expected["connection_expired"] = len(expired)
    return expected


def build_firm(*, firm_index, label, n_companies, password, today):
    """One firm, its admin, one collaborator per 500 companies (each with a portfolio), and
    ``n_companies`` companies with their users and licences. Bulk inserts only."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from stdnum.fr import siret

    from companies.models import (
        Company,
        CompanyAccountant,
        CompanyMembership,
        Licence,
        Tier,
    )
    from firms.models import Firm, FirmMembership, Site

    User = get_user_model()
    horizon = today + datetime.timedelta(days=settings.MEG_LICENCE_EXPIRY_WARNING_DAYS)
    tag = f"f{firm_index}"
    now = timezone.now()

    firm = Firm.objects.create(name=f"Cabinet Bench {n_companies}",
                               siren=luhn_complete(f"{95_000_000 + firm_index:08d}"))
    admin = User.objects.create(email=f"admin@{tag}.bench.meg.test", first_name="Admin",
                                last_name=label, password=password)
    FirmMembership.objects.create(firm=firm, user=admin, role=FirmMembership.Role.ADMIN)
    collaborators = User.objects.bulk_create(
        [User(email=f"collab{i}@{tag}.bench.meg.test", first_name="Collaborateur",
              last_name=f"{i}", password=password)
         for i in range(max(1, n_companies // 500))])
    sites = Site.objects.bulk_create([Site(firm=firm, name=f"Site {n}") for n in (1, 2)])
    FirmMembership.objects.bulk_create(
        [FirmMembership(firm=firm, user=user, role=FirmMembership.Role.COLLABORATEUR,
                        site=sites[i % 2])
         for i, user in enumerate(collaborators)])

    companies = []
    for i in range(n_companies):
        state = company_state(i)
        number = siret_for(firm_index, i)
        if not siret.is_valid(number):
            raise RuntimeError(f"benchmark data generator made an invalid SIRET: {number}")
        companies.append(Company(
            firm=firm, name=f"Entreprise {i:05d}", siret=number,
            dossier_type=(Company.DossierType.TRESORERIE if i % 3 == 0
                          else Company.DossierType.ENGAGEMENT),
            state=state, city="Lyon", postal_code="69001",
            activated_at=None if state == Company.State.CREATED else now))
    Company.objects.bulk_create(companies, batch_size=BATCH)
    CompanyAccountant.objects.bulk_create(
        [CompanyAccountant(firm=firm, company=company,
                           user=collaborators[i % len(collaborators)])
         for i, company in enumerate(companies)], batch_size=BATCH)

    users = User.objects.bulk_create(
        [User(email=f"u{i}@{tag}.bench.meg.test", first_name="Client", last_name=f"{i:06d}",
              password=password)
         for i in range(n_companies * USERS_PER_COMPANY)], batch_size=BATCH)
    memberships, licences = [], []
    counts = dict.fromkeys(("activated", "expiring", "expired"), 0)
    for i, user in enumerate(users):
        company = companies[i // USERS_PER_COMPANY]
        role = (CompanyMembership.Role.DIRIGEANT if i % USERS_PER_COMPANY == 0
                else CompanyMembership.Role.SALARIE)
        memberships.append(CompanyMembership(firm=firm, company=company, user=user, role=role))
        starts_on, ends_on = licence_dates(i, today)
        licences.append(Licence(firm=firm, company=company, user=user,
                                tier=Tier.PREMIUM if i % 10 < 3 else Tier.FREE,
                                starts_on=starts_on, ends_on=ends_on))
        if starts_on <= today <= ends_on:
            counts["activated"] += 1
            counts["expiring"] += ends_on <= horizon
        counts["expired"] += ends_on < today
    CompanyMembership.objects.bulk_create(memberships, batch_size=BATCH)
    Licence.objects.bulk_create(licences, batch_size=BATCH)

    board = build_board_problems(firm=firm, admin=admin, companies=companies,
                                 collaborators=collaborators, now=now, tag=tag)

    states = [company.state for company in companies]
    return Tenant(
        label=label, firm=firm, admin=admin, companies=n_companies, users=len(users),
        licences=len(licences), board=board, site_id=sites[0].pk,
        expected={
            "companies-created": n_companies,
            "companies-activated": states.count(Company.State.ACTIVATED),
            "companies-inactivated": states.count(Company.State.INACTIVATED),
            "licences-activated": counts["activated"],
            "licences-expiring": counts["expiring"],
            "licences-expired": counts["expired"],
        })


def build(*, large_companies):
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone
    from django_scopes import scopes_disabled

    today = timezone.localdate()
    password = make_password(BENCH_PASSWORD)  # hashed once, shared by every bench user
    with scopes_disabled(), transaction.atomic():
        small = build_firm(firm_index=1, label="small firm", n_companies=SMALL_COMPANIES,
                           password=password, today=today)
        large = build_firm(firm_index=2, label="large firm", n_companies=large_companies,
                           password=password, today=today)
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give
        cursor.execute("VACUUM ANALYZE")
    return small, large


def check_page(tenant, response):
    """The dashboard answered 200 and shows the figures computed from the generated rows, and
    the attention block the board's counts."""
    content = response.content.decode()
    wrong = []
    for testid, expected in tenant.expected.items():
        found = re.search(rf'data-testid="{testid}">([^<]*)<', content)
        shown = found.group(1).strip() if found else None
        if shown is None or shown.replace("\u202f", "").replace("\xa0", "") != str(expected):
            wrong.append(f"{testid}: shown {shown!r}, expected {expected}")
    shown = {kind: int(rows) for kind, rows in
             re.findall(r'data-testid="attention-count-(\w+)" data-rows="(\d+)"', content)}
    expected = {kind: rows for kind, rows in tenant.board.items() if rows}
    if shown != expected:
        wrong.append(f"attention block: shown {shown}, expected {expected}")
    return wrong


def check_board(tenant, response):
    """The board lists as many rows as were generated."""
    found = re.search(r"(\d+) points? à traiter", response.content.decode())
    expected = sum(tenant.board.values())
    if not found or int(found.group(1)) != expected:
        return [f"board: shows {found.group(1) if found else None} rows, expected {expected}"]
    return []


def measure(tenant, url, check=None, *, warmups=WARMUPS, requests=REQUESTS):
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(tenant.admin)
    for _ in range(warmups):
        client.get(url)
    # The query log is a deque capped at 9,000 entries: once full (DEBUG=True after the bulk
    # inserts), its length no longer grows and CaptureQueriesContext would count 0.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} as {tenant.admin.email}: HTTP {response.status_code}")
    wrong = check(tenant, response) if check else []
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    return Measure(queries=len(captured.captured_queries),
                   sql=[query["sql"] for query in captured.captured_queries],
                   timings_ms=timings), wrong


def print_sql(tenant, url, result):
    print(f"\nSQL of one GET {url} for the {tenant.label} ({result.queries} queries):")
    for number, statement in enumerate(result.sql, 1):
        flat = " ".join(statement.split())
        print(f"  {number:2d}. {flat[:150]}{'…' if len(flat) > 150 else ''}")



def run(*, quick=False, verbose=False):
    from django.urls import reverse

    large_companies = QUICK_LARGE_COMPANIES if quick else LARGE_COMPANIES
    print(f"\n== dashboard — GET /cabinet/ and the attention board as the firm's admin "
          f"(SQL counted on 1 request; times over {REQUESTS} requests after {WARMUPS} warm-ups)")
    started = time.perf_counter()
    small, large = build(large_companies=large_companies)
    print(f"data built in {time.perf_counter() - started:.1f} s (bulk inserts + VACUUM ANALYZE)")

    dashboard_url, board_url = reverse("firms:dashboard"), reverse("firms:attention")
    pages = {  # label → (url of the tenant, check)
        "dashboard": (lambda t: dashboard_url, check_page),
        "board": (lambda t: board_url, check_board),
        "board, one site": (lambda t: f"{board_url}?site={t.site_id}", None),
    }
    results = {}  # (page, tenant label) → (Measure, wrong)
    for page, (url_of, check) in pages.items():
        for tenant in (small, large):
            results[page, tenant.label] = measure(tenant, url_of(tenant), check)

    def both(page, getter, fmt="{:,}"):
        return [fmt.format(getter(results[page, t.label][0])) for t in (small, large)]

    def correct(page):
        return ["correct" if not results[page, t.label][1] else "WRONG" for t in (small, large)]

    print()
    print(format_table(
        ["", f"small firm (N={small.companies:,})", f"large firm (N={large.companies:,})"],
        [
            ["companies", f"{small.companies:,}", f"{large.companies:,}"],
            ["company users", f"{small.users:,}", f"{large.users:,}"],
            ["licences", f"{small.licences:,}", f"{large.licences:,}"],
            ["rows on the attention board", f"{sum(small.board.values()):,}",
             f"{sum(large.board.values()):,}"],
            ["dashboard: SQL queries / request", *both("dashboard", lambda r: r.queries)],
            ["dashboard: p50 (ms)", *both("dashboard", lambda r: r.p50, "{:.1f}")],
            ["dashboard: p95 (ms)", *both("dashboard", lambda r: r.p95, "{:.1f}")],
            ["dashboard: figures and board counts", *correct("dashboard")],
            ["board: SQL queries / request", *both("board", lambda r: r.queries)],
            ["board: p50 (ms)", *both("board", lambda r: r.p50, "{:.1f}")],
            ["board: p95 (ms)", *both("board", lambda r: r.p95, "{:.1f}")],
            ["board: rows listed", *correct("board")],
            ["board, one site: SQL queries / request",
             *both("board, one site", lambda r: r.queries)],
            ["board, one site: p50 (ms)", *both("board, one site", lambda r: r.p50, "{:.1f}")],
        ]))

    def constant(page):
        return results[page, small.label][0].queries == results[page, large.label][0].queries

    dashboard = results["dashboard", large.label][0]
    board = results["board", large.label][0]
    under_ceiling = dashboard.queries <= MAX_QUERIES
    workload = (f"{large.companies:,} companies, {large.users:,} users, "
                f"{large.licences:,} licences")
    print()
    print(format_table(
        ["target (DESIGN §10)", "measured", "met"],
        [
            [f"dashboard query count constant in N (≤ {MAX_QUERIES})",
             f"{results['dashboard', small.label][0].queries} → {dashboard.queries}",
             yes_no(constant("dashboard") and under_ceiling)],
            [f"dashboard p50 < {P50_TARGET_MS:.0f} ms", f"{dashboard.p50:.1f} ms",
             yes_no(dashboard.p50 < P50_TARGET_MS)],
            ["board query count constant in N (issue 13)",
             f"{results['board', small.label][0].queries} → {board.queries}",
             yes_no(constant("board") and constant("board, one site"))],
        ]))
    print(f"workload: {workload}"
          + ("" if large.companies == LARGE_COMPANIES else
             f" (--quick; DESIGN §10 asks for {LARGE_COMPANIES:,} companies)"))
    for (page, label), (_result, wrong) in results.items():
        for problem in wrong:
            print(f"WRONG on the {page} of the {label}: {problem}")
    for page, (url_of, _check) in pages.items():
        if verbose or not constant(page):
            for tenant in (small, large):
                print_sql(tenant, url_of(tenant), results[page, tenant.label][0])
