"""The activity log: services record who did what to which company; firm admins read it."""

import datetime

from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from companies import services
from tests import factories
from tests.conftest import client_for


def test_services_record_actor_action_and_company(company, dirigeant, accountant):
    services.modules_save(company=company, actor=accountant, enabled_codes=["achats"])
    services.company_user_add(company=company, actor=accountant, email="new@alpha.test",
                              role="salarie")
    events = list(AuditEvent.objects.filter(company=company).order_by("id"))
    assert [(e.action, e.actor, e.company) for e in events] == [
        ("module.activated", accountant, company),
        ("company_user.added", accountant, company),
    ]
    assert events[0].summary == "Module « Achats » activé"


def test_admin_filters_the_log_by_company_and_date(company, accountant, firm):
    other = factories.CompanyFactory(firm=firm, name="Autre SARL")
    services.modules_save(company=company, actor=accountant, enabled_codes=["achats"])
    services.modules_save(company=other, actor=accountant, enabled_codes=["facturation"])
    old = AuditEvent.objects.get(company=other)
    AuditEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40))

    client = client_for(accountant)
    by_company = client.get("/cabinet/journal-activite/", {"company": company.pk})
    assert "Module « Achats » activé" in by_company.content.decode()
    assert "Facturation" not in by_company.content.decode()

    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    recent = client.get("/cabinet/journal-activite/", {"date_from": since}).content.decode()
    assert "Module « Achats » activé" in recent
    assert "Module « Facturation » activé" not in recent


def test_collaborateurs_cannot_read_the_log(collaborateur):
    assert client_for(collaborateur).get("/cabinet/journal-activite/").status_code == 403


def test_the_log_never_shows_another_firms_events(accountant, company, other_company,
                                                  other_firm_user):
    services.modules_save(company=other_company, actor=other_firm_user, enabled_codes=["achats"])
    html = client_for(accountant).get("/cabinet/journal-activite/").content.decode()
    assert other_company.name not in html
    response = client_for(accountant).get("/cabinet/journal-activite/",
                                          {"company": other_company.pk})
    assert other_company.name not in response.content.decode()


def test_pages_of_the_log_keep_the_filters(company, accountant, firm):
    for index in range(51):
        audit_record(firm=firm, company=company, actor=accountant, action="t",
                     summary=f"événement {index}")
    html = client_for(accountant).get("/cabinet/journal-activite/",
                                      {"company": company.pk, "page": 1}).content.decode()
    assert f'href="?company={company.pk}&amp;page=2"' in html
