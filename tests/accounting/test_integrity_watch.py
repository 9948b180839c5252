"""The nightly inalterability check: its result per company, the firm admins alerted, and
what the dashboard and the export space show."""

import datetime
from html import unescape

import pytest
from django.core import mail

from accounting.models import IntegrityCheck
from accounting.services.exports import export_request
from accounting.tasks import journals_verify
from tests.accounting.conftest import invoice_event, tampering


@pytest.fixture
def exported(linked_company, post_webhook, accountant, django_capture_on_commit_callbacks):
    for n in (1, 2):
        post_webhook(invoice_event(linked_company, invoice_id=f"inv_{n}", number=f"F{n}"))
    with django_capture_on_commit_callbacks(execute=True):
        export_request(company=linked_company, actor=accountant, format="fec",
                       journal_codes=["VT"], date_from=datetime.date(2026, 1, 1),
                       date_to=datetime.date(2026, 12, 31))
    return linked_company


def test_nightly_check_records_intact_books_without_alerting(exported):
    journals_verify()
    check = IntegrityCheck.objects.get(company=exported)
    assert (check.intact, check.entry_count, check.problems) == (True, 2, [])
    assert mail.outbox == []


def test_a_failure_alerts_the_firm_admins_once(exported, accountant, client,
                                               django_capture_on_commit_callbacks):
    with tampering() as cursor:
        cursor.execute("UPDATE accounting_entry SET label = 'x' WHERE piece_ref = 'F1'")
    for _night in (1, 2):  # the same problems the next night: no second e-mail
        with django_capture_on_commit_callbacks(execute=True):
            journals_verify()
    check = IntegrityCheck.objects.get(company=exported)
    assert not check.intact and "empreinte" in check.problems[0]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [accountant.email]
    assert exported.name in mail.outbox[0].subject
    client.force_login(accountant)
    dashboard = unescape(client.get("/cabinet/").content.decode())
    assert "Anomalies d'inaltérabilité" in dashboard
    assert "1 entreprise aux écritures altérées" in dashboard
    board = unescape(client.get("/cabinet/a-traiter/").content.decode())
    assert exported.name in board and "Inaltérabilité : 1 anomalie trouvée" in board
    space = client.get(f"/entreprise/{exported.pk}/export-ecritures/").content.decode()
    assert "Anomalies trouvées" in space


def test_dashboard_counts_refused_events_and_entries_to_export(linked_company, post_webhook,
                                                               accountant, client):
    post_webhook(invoice_event(linked_company))
    post_webhook(invoice_event(linked_company, invoice_id="inv_old",
                               validated_at="2026-05-01T00:00:00Z", date="2026-05-01"))
    client.force_login(accountant)
    page = unescape(client.get("/cabinet/").content.decode())
    assert "1 événement refusé ou ignoré (1 entreprise(s))" in page
    assert "1 écriture à exporter (1 entreprise(s))" in page
    board = unescape(client.get("/cabinet/a-traiter/").content.decode())
    assert "1 événement partenaire ignoré" in board
