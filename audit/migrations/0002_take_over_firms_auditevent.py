"""Databases created before the activity log had its own app keep their events.

The log used to live in ``firms`` (table ``firms_auditevent``); its model has been removed from
firms' initial migrations, so a fresh database never has that table. An existing one does: its
rows are copied here, ids included, and the old table is dropped. The content type moves too, so
admin history and permissions stay attached.
"""

from django.core.management.color import no_style
from django.db import migrations

OLD_TABLE = "firms_auditevent"
COLUMNS = "id, firm_id, company_id, actor_id, action, summary, data, created_at"


def take_over_old_table(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if OLD_TABLE not in connection.introspection.table_names(cursor):
            return
    AuditEvent = apps.get_model("audit", "AuditEvent")
    new_table = schema_editor.quote_name(AuditEvent._meta.db_table)
    schema_editor.execute(f"INSERT INTO {new_table} ({COLUMNS}) "
                          f"SELECT {COLUMNS} FROM {schema_editor.quote_name(OLD_TABLE)}")
    for sql in connection.ops.sequence_reset_sql(no_style(), [AuditEvent]):
        schema_editor.execute(sql)
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(OLD_TABLE)}")

    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="audit", model="auditevent").exists():
        ContentType.objects.filter(app_label="firms", model="auditevent").update(
            app_label="audit")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    # Going back leaves the rows in audit_auditevent (dropped with it if audit goes to zero).
    operations = [migrations.RunPython(take_over_old_table, migrations.RunPython.noop)]
