"""Suppliers of a company: found or created from the name typed on an invoice, each with an
auxiliary account code unique in the company (derived from the name, editable) and a default
expense account."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record

from . import hooks
from .models import AUX_CODE_LENGTH, DEFAULT_EXPENSE_ACCOUNT, Supplier, aux_code_from_name


def supplier_name_clean(name):
    return " ".join((name or "").split())


def supplier_find(company, name):
    return Supplier.objects.filter(company=company,
                                   name__iexact=supplier_name_clean(name)).first()


def aux_code_free(company, name):
    """The name's code (``FMATERIAUX``), or the first free ``FMATERIA2``, ``FMATERIA3``…"""
    base = aux_code_from_name(name)
    taken = set(Supplier.objects.filter(company=company, aux_account__startswith=base[:6])
                .values_list("aux_account", flat=True))
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = base[:AUX_CODE_LENGTH - len(str(number))] + str(number)
    return candidate


def supplier_for(*, company, name, expense_account=""):
    """The company's supplier of that name (case and spaces aside), created on first use with
    a free auxiliary code and ``expense_account`` (or 607000) as its default account."""
    supplier = supplier_find(company, name)
    if supplier is not None:
        return supplier
    supplier = Supplier(firm_id=company.firm_id, company=company,
                        name=supplier_name_clean(name), aux_account=aux_code_free(company, name),
                        expense_account=expense_account or DEFAULT_EXPENSE_ACCOUNT)
    supplier.full_clean()
    try:
        with transaction.atomic():
            supplier.save()
    except IntegrityError:  # created meanwhile by a concurrent invoice of the same supplier
        supplier = supplier_find(company, name)
        if supplier is None:
            raise
    return supplier


@transaction.atomic
def supplier_update(*, supplier, actor, aux_account, expense_account):
    """Edit a supplier's auxiliary account and default expense account. A new auxiliary code
    is announced (``hooks.supplier_changed``): the books follow it."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    before = (supplier.aux_account, supplier.expense_account)
    supplier.aux_account = "".join((aux_account or "").split()).upper()
    supplier.expense_account = "".join((expense_account or "").split())
    supplier.full_clean()
    if (supplier.aux_account, supplier.expense_account) == before:
        return supplier
    supplier.save(update_fields=["aux_account", "expense_account", "updated_at"])
    audit_record(firm=supplier.company.firm, company=supplier.company, actor=actor,
                 action="purchase.supplier_updated",
                 summary=lambda: _("Fournisseur %(name)s : compte auxiliaire %(aux)s, compte "
                                   "de charge par défaut %(account)s") % {
                     "name": supplier.name, "aux": supplier.aux_account,
                     "account": supplier.expense_account},
                 data={"before": list(before)})
    if supplier.aux_account != before[0]:
        hooks.supplier_changed(supplier, supplier.invoices.all(), actor)
    return supplier
