from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from accounting.services.integrity import companies_to_verify, integrity_check_run


class Command(BaseCommand):
    help = ("Vérifie l'inaltérabilité des écritures exportées (chaînage SHA-256, sceau, "
            "fichiers) et signale toute modification. Code de sortie 1 si une altération est "
            "trouvée. Le résultat est gardé par entreprise (affiché dans l'export).")

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="Identifiant d'une seule entreprise.")

    def handle(self, *args, company=None, **options):
        problems = 0
        with scopes_disabled():
            for each in companies_to_verify(company):
                found, count = integrity_check_run(each)
                if found:
                    problems += len(found)
                    self.stdout.write(self.style.ERROR(f"{each.name} (SIRET {each.siret}) :"))
                    for problem in found:
                        self.stdout.write(f"  - {problem}")
                else:
                    self.stdout.write(f"{each.name} : {count} écriture(s) exportée(s), intactes.")
        if problems:
            raise CommandError(f"{problems} altération(s) détectée(s).")
        self.stdout.write(self.style.SUCCESS("Journaux intègres."))
