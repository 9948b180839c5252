"""Inalterability checks (``verify_journals``): the chain, the seal and the stored files of
each company, with the last result kept per company and the firm's admins alerted when a
company's books stop being intact."""

import hashlib

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from companies.models import Company
from firms.models import FirmMembership
from notifications.models import Kind
from notifications.services import notify

from ..chain import verify_chain
from ..models import Entry, ExportBatch, IntegrityCheck
from .exports import export_file_altered


def company_problems(company):
    """French sentences for every alteration found in the company's books (empty: intact)."""
    return verify_chain(company) + [
        _("Fichier %(name)s (export n° %(id)s) : ses octets ne correspondent plus à son "
          "empreinte SHA-256 (modifié ou supprimé)") % {"name": batch.file_name, "id": batch.pk}
        for batch in ExportBatch.objects.filter(company=company, status=ExportBatch.Status.DONE)
        if export_file_altered(batch)]


def companies_to_verify(company_id=None):
    companies = Company.objects.filter(pk__in=Entry.objects.exclude(chain_hash="")
                                       .values("company"))
    if company_id:
        companies = companies.filter(pk=company_id)
    return companies.select_related("firm").order_by("name")


def integrity_check_run(company):
    """Verify one company, keep the result, alert its firm's admins when it turns bad."""
    problems = company_problems(company)
    count = Entry.objects.filter(company=company, state=Entry.State.EXPORTED).count()
    previous = IntegrityCheck.objects.filter(company=company).first()
    IntegrityCheck.objects.update_or_create(company=company, defaults={
        "firm_id": company.firm_id, "checked_at": timezone.now(), "intact": not problems,
        "entry_count": count, "problems": problems})
    if problems and (previous is None or previous.intact or previous.problems != problems):
        _alert_firm_admins(company, problems)
    return problems, count


def integrity_check_all():
    """The nightly run: every company with final entries."""
    with scopes_disabled():
        for company in companies_to_verify():
            integrity_check_run(company)


def _alert_firm_admins(company, problems):
    admins = [m.user for m in FirmMembership.objects.filter(
        firm_id=company.firm_id, role=FirmMembership.Role.ADMIN).select_related("user")]
    fingerprint = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:16]
    notify(users=admins, kind=Kind.INTEGRITY_FAILED,
           fact_key=f"integrity:{company.pk}:{fingerprint}",
           title=lambda: _("Anomalie d'inaltérabilité pour %(company)s") % {
               "company": company.name},
           body=lambda: _("Le contrôle des journaux de %(company)s (SIRET %(siret)s) a trouvé "
                          "%(n)d anomalie(s) :\n%(list)s\nLes écritures exportées ne doivent "
                          "jamais changer : vérifiez ce qui s'est passé et signalez-le à "
                          "l'administrateur de MEG.") % {
               "company": company.name, "siret": company.siret, "n": len(problems),
               "list": "\n".join(f"- {problem}" for problem in problems)},
           url=reverse("accounting:export_space", args=[company.pk]) + "#integrite")
