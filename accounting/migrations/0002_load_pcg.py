from django.db import migrations


def load_pcg(apps, schema_editor):
    from accounting.chart import load_pcg as load

    load(apps.get_model("accounting", "PcgAccount"))


class Migration(migrations.Migration):
    dependencies = [("accounting", "0001_initial")]

    operations = [migrations.RunPython(load_pcg, migrations.RunPython.noop)]
