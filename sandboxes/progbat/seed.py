"""The sandbox's demo data, the partner side of MEG's demo (DESIGN §11).

Idempotent: run on every start and after ``/_sandbox/reset``.
"""

from django.db import transaction

from sandboxes.common.seed import demo_login

from .models import Account, AccountAccess, LicenceStatus, Plan
from .oauth import meg_application_sync

DEMO_PASSWORD = "progbat-demo-2026"

# username, e-mail, back-office (distributeur) user
LOGINS = [
    ("cabinet-demo", "cabinet-demo@progbat.test", True),  # a firm's generic convention login
    ("cabinet-voisin", "cabinet-voisin@progbat.test", False),
    ("dupont", "dirigeant@demo.meg.test", False),
    ("lefevre", "lefevre@demo.meg.test", False),
]

# id, SIREN, SIRET, name, licensed plan, dirigeant's username
ACCOUNTS = [
    ("acc_demo_dupont", "900000019", "90000001900019", "Dupont Bâtiment", Plan.PREMIUM,
     "dupont"),
    # Exists at ProGBat but linked to no MEG company: the "existing account" case.
    ("acc_demo_lefevre", "900000068", "90000006800016", "Lefèvre Couverture", Plan.START_PLUS,
     "lefevre"),
]


@transaction.atomic
def seed():
    meg_application_sync()
    users = {username: demo_login(username, password=DEMO_PASSWORD, email=email, is_staff=staff)
             for username, email, staff in LOGINS}
    for account_id, siren, siret, name, plan, dirigeant in ACCOUNTS:
        account, _ = Account.objects.update_or_create(id=account_id, defaults={
            "siren": siren, "siret": siret, "name": name, "plan": plan,
            "licence_status": LicenceStatus.LICENSED, "trial_ends_at": None})
        AccountAccess.objects.get_or_create(account=account, user=users[dirigeant],
                                            defaults={"role": AccountAccess.Role.DIRIGEANT})
