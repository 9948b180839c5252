"""``dashboard``: GET /cabinet/ by the firm's admin, for a small firm and a large one.

DESIGN §10: firm with 5,000 companies, 20,000 users, 20,000 licences — query count constant in
N (≤ 12); p50 < 150 ms.

Both firms live in the same database, so the small one is measured next to 5,000 companies of
another tenant. Each company has one dirigeant and three salariés, each holding one licence
(valid, ending within 30 days, or expired; MEG Free or Premium). The figures the page shows are
checked against counts computed here from the generated rows, so that a fast but wrong page
would not pass unnoticed.
"""

import datetime
import re
import time
from dataclasses import dataclass, field

from benchmarks import format_table, percentile

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
    from firms.models import Firm, FirmMembership

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
    FirmMembership.objects.bulk_create(
        [FirmMembership(firm=firm, user=user, role=FirmMembership.Role.COLLABORATEUR)
         for user in collaborators])

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

    states = [company.state for company in companies]
    return Tenant(
        label=label, firm=firm, admin=admin, companies=n_companies, users=len(users),
        licences=len(licences),
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
    """The page answered 200 and shows the figures computed from the generated rows."""
    if response.status_code != 200:
        raise RuntimeError(f"GET /cabinet/ as {tenant.admin.email}: HTTP "
                           f"{response.status_code}")
    content = response.content.decode()
    wrong = []
    for testid, expected in tenant.expected.items():
        found = re.search(rf'data-testid="{testid}">([^<]*)<', content)
        shown = found.group(1).strip() if found else None
        if shown is None or shown.replace("\u202f", "").replace("\xa0", "") != str(expected):
            wrong.append(f"{testid}: shown {shown!r}, expected {expected}")
    return wrong


def measure(tenant, *, warmups=WARMUPS, requests=REQUESTS):
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("firms:dashboard")
    client = Client()
    client.force_login(tenant.admin)
    for _ in range(warmups):
        client.get(url)
    # The query log is a deque capped at 9,000 entries: once full (DEBUG=True after the bulk
    # inserts), its length no longer grows and CaptureQueriesContext would count 0.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    wrong = check_page(tenant, response)
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


def print_sql(tenant, result):
    print(f"\nSQL of one GET /cabinet/ for the {tenant.label} ({result.queries} queries):")
    for number, statement in enumerate(result.sql, 1):
        flat = " ".join(statement.split())
        print(f"  {number:2d}. {flat[:150]}{'…' if len(flat) > 150 else ''}")


def yes_no(met):
    return "yes" if met else "NO"


def run(*, quick=False, verbose=False):
    large_companies = QUICK_LARGE_COMPANIES if quick else LARGE_COMPANIES
    print(f"\n== dashboard — GET /cabinet/ as the firm's admin "
          f"(SQL counted on 1 request; times over {REQUESTS} requests after {WARMUPS} warm-ups)")
    started = time.perf_counter()
    small, large = build(large_companies=large_companies)
    print(f"data built in {time.perf_counter() - started:.1f} s (bulk inserts + VACUUM ANALYZE)")

    results = {}
    for tenant in (small, large):
        results[tenant.label] = measure(tenant)
    (small_result, small_wrong), (large_result, large_wrong) = results.values()

    def both(getter, fmt="{:,}"):
        return [fmt.format(getter(small, small_result)), fmt.format(getter(large, large_result))]

    print()
    print(format_table(
        ["", f"small firm (N={small.companies:,})", f"large firm (N={large.companies:,})"],
        [
            ["companies", *both(lambda t, r: t.companies)],
            ["company users", *both(lambda t, r: t.users)],
            ["licences", *both(lambda t, r: t.licences)],
            ["SQL queries / request", *both(lambda t, r: r.queries)],
            ["p50 (ms)", *both(lambda t, r: r.p50, "{:.1f}")],
            ["p95 (ms)", *both(lambda t, r: r.p95, "{:.1f}")],
            ["figures on the page", "correct" if not small_wrong else "WRONG",
             "correct" if not large_wrong else "WRONG"],
        ]))

    constant = small_result.queries == large_result.queries
    under_ceiling = large_result.queries <= MAX_QUERIES
    fast = large_result.p50 < P50_TARGET_MS
    workload = (f"{large.companies:,} companies, {large.users:,} users, "
                f"{large.licences:,} licences")
    print()
    print(format_table(
        ["target (DESIGN §10)", "measured", "met"],
        [
            [f"query count constant in N (≤ {MAX_QUERIES})",
             f"{small_result.queries} → {large_result.queries}",
             yes_no(constant and under_ceiling)],
            [f"p50 < {P50_TARGET_MS:.0f} ms", f"{large_result.p50:.1f} ms",
             yes_no(fast)],
        ]))
    print(f"workload: {workload}"
          + ("" if large.companies == LARGE_COMPANIES else
             f" (--quick; DESIGN §10 asks for {LARGE_COMPANIES:,} companies)"))
    for tenant, wrong in ((small, small_wrong), (large, large_wrong)):
        for problem in wrong:
            print(f"WRONG figure for the {tenant.label}: {problem}")
    if verbose or not constant:
        for tenant, result in ((small, small_result), (large, large_result)):
            print_sql(tenant, result)
