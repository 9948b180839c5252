"""The sandbox's demo data, the partner side of MEG's demo (DESIGN §11).

Idempotent: run on every start and after ``/_sandbox/reset``; it puts the documented objects
back as documented (plan, users, demo key) and leaves everything else alone.
"""

from django.db import transaction

from sandboxes.common.seed import demo_login

from .models import API_KEY_PREFIX_CHARS, ApiKey, Company, Membership, Plan, secret_digest

DEMO_PASSWORD = "libeo-demo-2026"
# Fixed so that people and suites can paste it into MEG (Achats → Options → Clé d'api LIBEO).
DEMO_API_KEY = "libeo_demo_dupont_0123456789abcdef"
DEMO_SIREN = "900000019"

# username, e-mail, first name, last name
LOGINS = [
    ("dupont", "dirigeant@demo.meg.test", "Jean", "Dupont"),
    ("expert", "expert@demo.meg.test", "Claire", "Expert"),
]
MEMBERS = [("dupont", Membership.Role.OWNER), ("expert", Membership.Role.ACCOUNTANT)]


@transaction.atomic
def seed():
    users = {username: demo_login(username, password=DEMO_PASSWORD, email=email,
                                  first_name=first_name, last_name=last_name)
             for username, email, first_name, last_name in LOGINS}
    company, _ = Company.objects.update_or_create(siren=DEMO_SIREN, defaults={
        "name": "Dupont Bâtiment", "plan": Plan.FREE, "origin": Company.Origin.SEED})
    for username, role in MEMBERS:
        (Membership.objects.filter(company=company)
         .filter(role=role).exclude(user=users[username]).delete())
        Membership.objects.filter(company=company, user=users[username]).exclude(
            role=role).delete()
        Membership.objects.get_or_create(company=company, user=users[username],
                                         defaults={"role": role})
    ApiKey.objects.update_or_create(digest=secret_digest(DEMO_API_KEY), defaults={
        "company": company, "prefix": DEMO_API_KEY[:API_KEY_PREFIX_CHARS],
        "origin": ApiKey.Origin.SEED, "revoked_at": None})
    return company
