from django.core.management.base import BaseCommand

from demo import seed as demo


class Command(BaseCommand):
    help = "Crée (ou complète) les données de démonstration de MEG. Idempotent."

    def handle(self, *args, **options):
        demo.seed_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(
            f"Connexions de démonstration (mot de passe : {demo.DEMO_PASSWORD}) :\n"
            f"  cabinet       {demo.ACCOUNTANT}\n"
            f"  dirigeant     {demo.DUPONT['dirigeant'][0]}  (Dupont Bâtiment)\n"
            f"  dirigeant     {demo.MARTIN['dirigeant'][0]}  (Martin Rénovation)\n"
            f"  autre cabinet {demo.NEIGHBOUR}")
