# Invoices' PDFs leave the public media storage for the private "documents" one, under names
# nobody can guess; they are served only by the invoice's document view.

import uuid

from django.core.files.storage import storages
from django.db import migrations, models

import meg.storage
import purchases.models


def move_documents(apps, schema_editor):
    public, private = storages["default"], storages["documents"]
    SupplierInvoice = apps.get_model("purchases", "SupplierInvoice")
    for invoice in SupplierInvoice.objects.exclude(pdf="").only("pk", "company_id", "pdf"):
        old = invoice.pdf.name
        if private.exists(old) or not public.exists(old):
            continue
        with public.open(old, "rb") as handle:
            new = private.save(f"achats/{invoice.company_id}/{uuid.uuid4().hex}.pdf", handle)
        SupplierInvoice.objects.filter(pk=invoice.pk).update(pdf=new)
        public.delete(old)


class Migration(migrations.Migration):

    dependencies = [
        ('purchases', '0002_payment_provider_without_default'),
    ]

    operations = [
        migrations.AlterField(
            model_name='supplierinvoice',
            name='pdf',
            field=models.FileField(blank=True, storage=meg.storage.documents, upload_to=purchases.models.invoice_document_name, verbose_name='facture (PDF)'),
        ),
        migrations.RunPython(move_documents, migrations.RunPython.noop, elidable=True),
    ]
