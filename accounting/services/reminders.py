"""What accounting asks people to look at: events refused or ignored at the door or while
journalising, and fiscal years left open long after their closing date."""

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from companies.models import Company, CompanyAccountant
from firms.models import FirmMembership
from notifications.models import Kind
from notifications.services import notify

from ..models import Entry, FiscalYear, InboxEvent
from .fiscal_years import fiscal_year_of

RECENT = datetime.timedelta(days=2)
CLOSING_REMINDER_AFTER = datetime.timedelta(days=90)


def _firm_admins(firm_id):
    return [m.user for m in FirmMembership.objects.filter(
        firm_id=firm_id, role=FirmMembership.Role.ADMIN).select_related("user")]


def events_refused_notify(now=None):
    """Each refused or ignored event of the last two days, once, to its firm's admins (a daily
    digest by default: they choose)."""
    now = now or timezone.now()
    with scopes_disabled():
        events = (InboxEvent.objects.filter(
            status__in=[InboxEvent.Status.REJECTED, InboxEvent.Status.IGNORED],
            received_at__gte=now - RECENT).select_related("company").order_by("id"))
        admins = {}
        for event in events:
            if event.firm_id not in admins:
                admins[event.firm_id] = _firm_admins(event.firm_id)
            _event_refused(event, admins[event.firm_id])


def _event_refused(event, admins):
    notify(users=admins, kind=Kind.EVENTS_REJECTED, fact_key=f"inbox-event:{event.pk}",
           title=lambda: _("%(company)s : événement %(status)s (%(doc)s v%(version)s)") % {
               "company": event.company.name, "status": event.get_status_display().lower(),
               "doc": event.source_ref, "version": event.source_version},
           body=event.reason, url=reverse("accounting:partner_events"))


def closing_reminders(today=None):
    """Fiscal years ended more than three months ago, with entries, still open: remind the
    company's accountants and the firm's admins."""
    today = today or timezone.localdate()
    with scopes_disabled():
        companies = Company.objects.filter(pk__in=Entry.objects.filter(
            date__lte=today - CLOSING_REMINDER_AFTER).values("company_id")).order_by("pk")
        for company in companies:
            year = fiscal_year_of(company, today - CLOSING_REMINDER_AFTER)
            if today - year.end < CLOSING_REMINDER_AFTER:  # not over long enough: the one before
                year = fiscal_year_of(company, year.start - datetime.timedelta(days=1))
            if year.state != FiscalYear.State.OPEN:
                continue
            if not Entry.objects.filter(company=company, date__gte=year.start,
                                        date__lte=year.end).exists():
                continue
            people = [a.user for a in CompanyAccountant.objects.filter(company=company)
                      .select_related("user")] + _firm_admins(company.firm_id)
            _closing_reminder(company, year, people)


def _closing_reminder(company, year, people):
    notify(users=people, kind=Kind.CLOSING_REMINDER,
           fact_key=f"closing:{company.pk}:{year.end:%Y%m%d}",
           title=lambda: _("%(company)s : l'exercice clos le %(end)s n'est pas clôturé") % {
               "company": company.name, "end": year.end.strftime("%d/%m/%Y")},
           body=lambda: _("Clôturez-le dans l'export des écritures pour produire son FEC légal "
                          "et empêcher que des écritures y entrent encore."),
           url=reverse("accounting:export_space", args=[company.pk]) + "#exercices")
