"""What ProGBat puts on the firm's attention board (*À traiter*): links in error or waiting for
the consent or the credentials, trials ending within 14 days, accounts whose licence the firm
(distributeur) must assign. One query per kind whatever the number of companies; each row
opens the company's ProGBat page, where consent, credentials and « Réessayer » are."""

import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from meg.extensions import (
    AttentionRow,
    AttentionSource,
    Severity,
    register_attention_source,
    short_date,
)

from .models import ProgbatLink

TRIAL_WARNING = datetime.timedelta(days=14)  # the reminders start at J-14 (notices.py)

Status, Licence = ProgbatLink.Status, ProgbatLink.LicenceStatus


def links_in_error(scope):
    return scope.of_companies(ProgbatLink.objects.filter(status=Status.ERROR))


def links_pending(scope):
    return scope.of_companies(ProgbatLink.objects.filter(
        status__in=[Status.PENDING_CONSENT, Status.PENDING_CREDENTIALS]))


def trials_ending(scope):
    return scope.of_companies(ProgbatLink.objects.filter(
        licence_status=Licence.TRIAL, trial_ends_at__lte=scope.now + TRIAL_WARNING))


def licences_to_assign(scope):
    return scope.of_companies(ProgbatLink.objects.filter(licence_status=Licence.FREE)
                              .exclude(status=Status.ERROR))


def link_text(link, now):
    if link.status == Status.ERROR:
        reason = link.error_detail or link.error_code
        if not reason:
            return _("Liaison ProGBat en erreur : réessayez depuis le module ProGBat.")
        return _("Liaison ProGBat en erreur : %(reason)s") % {"reason": reason}
    if link.status == Status.PENDING_CONSENT:
        return _("Liaison ProGBat en attente du consentement (à donner par un utilisateur de "
                 "l'entreprise dans le module ProGBat).")
    if link.status == Status.PENDING_CREDENTIALS:
        return _("Liaison ProGBat en attente des identifiants du compte ProGBat existant (à "
                 "saisir une fois pour l'entreprise).")
    if link.licence_status == Licence.TRIAL:
        day = short_date(link.trial_ends_at)
        if link.trial_ends_at <= now:
            return _("Essai ProGBat %(plan)s terminé le %(day)s : le client doit acheter sa "
                     "licence dans ProGBat.") % {"plan": link.plan_label, "day": day}
        return _("Essai ProGBat %(plan)s jusqu'au %(day)s : demandez au client d'acheter sa "
                 "licence avant la fin de l'essai.") % {"plan": link.plan_label, "day": day}
    return _("Compte ProGBat sans licence : attribuez-en une dans votre back-office ProGBat.")


def rows_of(kind, severity):
    def rows(problems, scope):
        return [AttentionRow(
            kind=kind, severity=severity, company_id=link.company_id,
            company_name=link.company.name, text=link_text(link, scope.now),
            url=reverse("progbat:module", args=[link.company_id]), user=link.activated_by)
            for link in problems.select_related("company", "activated_by")]
    return rows


def source(kind, label, severity, problems, order, summary):
    register_attention_source(AttentionSource(
        kind=kind, label=label, severity=severity, problems=problems,
        rows=rows_of(kind, severity), order=order, summary=summary))


source("progbat_link_error", gettext_lazy("Liaisons ProGBat en erreur"), Severity.ERROR,
       links_in_error, 20, lambda rows, items: ngettext(
           "%(n)s entreprise à relier de nouveau",
           "%(n)s entreprises à relier de nouveau", rows) % {"n": rows})
source("progbat_link_pending", gettext_lazy("Liaisons ProGBat en attente"), Severity.WARNING,
       links_pending, 40, lambda rows, items: ngettext(
           "%(n)s entreprise en attente de consentement ou d'identifiants",
           "%(n)s entreprises en attente de consentement ou d'identifiants", rows) % {"n": rows})
source("progbat_trial_ending", gettext_lazy("Essais ProGBat qui se terminent"),
       Severity.WARNING, trials_ending, 50, lambda rows, items: ngettext(
           "%(n)s essai se termine dans les 14 jours",
           "%(n)s essais se terminent dans les 14 jours", rows) % {"n": rows})
source("progbat_licence_to_assign", gettext_lazy("Licences ProGBat à attribuer"),
       Severity.WARNING, licences_to_assign, 55, lambda rows, items: ngettext(
           "%(n)s compte sans licence", "%(n)s comptes sans licence", rows) % {"n": rows})
