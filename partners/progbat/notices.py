"""What ProGBat tells people through MEG's notifications: an expired connection, a link in
error, a trial about to end (the guide: « Avant la fin du mois d'essai, demandez à votre client
de procéder à l'achat de sa licence »)."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from companies.models import CompanyAccountant, CompanyMembership
from notifications.models import Kind
from notifications.services import notify
from partners.common.models import PartnerConnection

from .models import ProgbatLink

TRIAL_REMINDERS = (14, 3)  # days before the end of the trial


def company_people(company, *, dirigeant=True):
    """The company's accountants (and its dirigeant): who hears about its ProGBat link."""
    people = [a.user for a in CompanyAccountant.objects.filter(company=company)
              .select_related("user")]
    if dirigeant:
        people += [m.user for m in CompanyMembership.objects.filter(
            company=company, role=CompanyMembership.Role.DIRIGEANT).select_related("user")]
    return people


def connection_expired(connection_id, reason):
    connection = PartnerConnection.objects.select_related("user").get(pk=connection_id)
    notify(users=[connection.user], kind=Kind.CONNECTION_EXPIRED,
           fact_key=f"progbat-connection-expired:{connection.pk}:{timezone.localdate()}",
           title=lambda: _("Votre connexion ProGBat a expiré"),
           body=lambda: _("Reconnectez-la pour que MEG puisse continuer à travailler avec "
                          "ProGBat pour vos entreprises (%(reason)s).") % {"reason": reason},
           url=reverse("firms:partner_connections"))


def link_error(link):
    notify(users=[link.activated_by, *company_people(link.company, dirigeant=False)],
           kind=Kind.LINK_ERROR,
           fact_key=f"progbat-link-error:{link.pk}:{link.error_code}:{timezone.localdate()}",
           title=lambda: _("Liaison ProGBat en erreur : %(company)s") % {
               "company": link.company.name},
           body=link.error_detail, url=reverse("companies:detail", args=[link.company_id]))


def trials_remind(today=None):
    """Daily: J-14 and J-3 before a trial ends, to the dirigeant and the accountants."""
    today = today or timezone.localdate()
    with scopes_disabled():
        for days in TRIAL_REMINDERS:
            day = today + datetime.timedelta(days=days)
            links = ProgbatLink.objects.filter(
                licence_status=ProgbatLink.LicenceStatus.TRIAL,
                trial_ends_at__date=day).select_related("company")
            for link in links:
                _trial_ending(link, days, day)


def _trial_ending(link, days, day):
    notify(users=company_people(link.company), kind=Kind.TRIAL_ENDING,
           fact_key=f"progbat-trial:{link.pk}:{link.trial_ends_at:%Y%m%d}:J-{days}",
           title=lambda: _("L'essai ProGBat de %(company)s se termine le %(day)s") % {
               "company": link.company.name, "day": day.strftime("%d/%m/%Y")},
           body=lambda: _("Avant la fin du mois d'essai, la licence doit être achetée dans "
                          "ProGBat, sinon l'accès sera restreint."),
           url=reverse("companies:space", args=[link.company_id]))
