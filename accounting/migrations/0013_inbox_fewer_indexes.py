from django.db import migrations, models

# Every webhook's INSERT updates each index of the inbox: the status alone is indexed with
# received_at already (and the waiting events by id), and no query looks webhook-ids up by
# LIKE (PostgreSQL's varchar_pattern_ops copy of the unique index).
LIKE_INDEX = "accounting_inboxevent_webhook_id_9bd5bd50_like"


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{LIKE_INDEX}"')


def create_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{LIKE_INDEX}" ON '
                              '"accounting_inboxevent" ("webhook_id" varchar_pattern_ops)')


class Migration(migrations.Migration):

    dependencies = [
        ("accounting", "0012_merge_perf_books"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inboxevent",
            name="status",
            field=models.CharField(choices=[("received", "Reçu"), ("processed", "Journalisé"),
                                            ("ignored", "Ignoré"), ("rejected", "Refusé")],
                                   default="received", max_length=10, verbose_name="état"),
        ),
        migrations.RunPython(drop_like_index, create_like_index),
    ]
