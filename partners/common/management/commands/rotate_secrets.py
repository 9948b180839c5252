from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from partners.common.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = ("Re-chiffre tous les secrets (jetons, clés d'API) avec la première clé de "
            "MEG_FERNET_KEYS. Ensuite, les anciennes clés peuvent être retirées.")

    @transaction.atomic
    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            with connection.cursor() as cursor:
                for field in fields:
                    column = connection.ops.quote_name(field.column)
                    # Raw SQL: the ciphertext itself is rotated, never the decrypted value.
                    cursor.execute(f"SELECT {pk}, {column} FROM {table} "  # noqa: S608
                                   f"WHERE {column} <> ''")
                    for row_id, token in cursor.fetchall():
                        cursor.execute(f"UPDATE {table} SET {column} = %s "  # noqa: S608
                                       f"WHERE {pk} = %s", [rotate(token), row_id])
                        total += 1
        self.stdout.write(self.style.SUCCESS(f"{total} secret(s) re-chiffré(s)."))
