from django.core.management.base import BaseCommand

from meg import demo


class Command(BaseCommand):
    help = "Crée (ou complète) les données de démonstration de MEG. Idempotent."

    def handle(self, *args, **options):
        demo.seed_demo()
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
        self.stdout.write(
            "Connexions de démonstration (mot de passe : %s) :\n"
            "  cabinet       %s\n"
            "  dirigeant     %s  (Dupont Bâtiment)\n"
            "  dirigeant     %s  (Martin Rénovation)\n"
            "  autre cabinet %s"
            % (demo.DEMO_PASSWORD, demo.ACCOUNTANT, demo.DUPONT["dirigeant"][0],
               demo.MARTIN["dirigeant"][0], demo.NEIGHBOUR))
