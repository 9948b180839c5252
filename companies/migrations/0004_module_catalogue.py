from django.db import migrations

from companies.catalogue import ensure_catalogue


def add_catalogue(apps, schema_editor):
    ensure_catalogue(apps.get_model("companies", "Module"))


class Migration(migrations.Migration):
    dependencies = [("companies", "0003_initial")]

    operations = [migrations.RunPython(add_catalogue, migrations.RunPython.noop)]
