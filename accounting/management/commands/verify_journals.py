from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from accounting.chain import verify_chain
from accounting.models import Entry, ExportBatch
from accounting.services.exports import export_file_altered
from companies.models import Company


class Command(BaseCommand):
    help = ("Vérifie l'inaltérabilité des écritures exportées (chaînage SHA-256) et signale "
            "toute modification. Code de sortie 1 si une altération est trouvée.")

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, help="Identifiant d'une seule entreprise.")

    def handle(self, *args, company=None, **options):
        with scopes_disabled():
            companies = Company.objects.filter(
                pk__in=Entry.objects.exclude(chain_hash="").values("company"))
            if company:
                companies = companies.filter(pk=company)
            problems = 0
            for each in companies.order_by("name"):
                found = verify_chain(each) + [
                    f"Fichier {batch.file_name} (export n° {batch.pk}) : ses octets ne "
                    "correspondent plus à son empreinte SHA-256 (modifié ou supprimé)"
                    for batch in ExportBatch.objects.filter(company=each,
                                                            status=ExportBatch.Status.DONE)
                    if export_file_altered(batch)]
                count = Entry.objects.filter(company=each, state=Entry.State.EXPORTED).count()
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
