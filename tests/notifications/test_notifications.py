"""Notifications: each kind told once per fact, in the app and by e-mail as each person
chooses (immediately, in a daily digest, or not by e-mail)."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounting.services.reminders import closing_reminders, events_refused_notify
from notifications.models import Notification, Preference
from notifications.services import notifications_digest
from partners.common.models import PartnerConnection
from partners.progbat import notices
from partners.progbat.models import ProgbatLink
from partners.progbat.services.connection import connection_expire
from purchases.models import Payment
from purchases.providers import PaymentResult
from purchases.services import payment_settle
from tests import factories
from tests.accounting.conftest import invoice_event


def told(user, kind):
    return list(Notification.objects.filter(user=user, kind=kind))


def test_an_expired_connection_is_told_once_by_email(accountant, firm):
    connection = PartnerConnection.objects.create(firm=firm, user=accountant, partner="progbat")
    connection_expire(connection.pk, reason="invalid_grant")
    connection_expire(connection.pk, reason="invalid_grant")
    assert len(told(accountant, "connection_expired")) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [accountant.email] and "ProGBat" in message.subject
    assert "/cabinet/parametres/connexions-partenaires/" in message.body  # plain-text part
    assert message.alternatives and message.alternatives[0][1] == "text/html"


@pytest.fixture
def trial_link(company, accountant, dirigeant):
    return ProgbatLink.objects.create(
        firm=company.firm, company=company, status="active", activated_at=timezone.now(),
        activated_by=accountant, progbat_account_id="acc_trial", licence_status="trial",
        trial_ends_at=timezone.make_aware(datetime.datetime(2026, 12, 31, 12, 0)))


def test_trial_reminders_at_j14_and_j3_to_dirigeant_and_accountant(trial_link, accountant,
                                                                   dirigeant):
    for day in (datetime.date(2026, 12, 17), datetime.date(2026, 12, 17),
                datetime.date(2026, 12, 20), datetime.date(2026, 12, 28),
                datetime.date(2026, 12, 28)):
        notices.trials_remind(today=day)
    for person in (accountant, dirigeant):
        titles = [n.title for n in told(person, "trial_ending")]
        assert len(titles) == 2 and all("31/12/2026" in title for title in titles)
    assert len(mail.outbox) == 4


def test_link_error_told_to_who_activated_it(trial_link, accountant):
    trial_link.error_code, trial_link.error_detail = "dirigeant_taken", "Dirigeant déjà pris"
    notices.link_error(trial_link)
    notices.link_error(trial_link)
    [notification] = told(accountant, "link_error")
    assert "Dirigeant déjà pris" in notification.body


def test_payment_failed_is_told_to_who_asked_for_it(achats, dirigeant):
    invoice = factories.SupplierInvoiceFactory(company=achats, created_by=dirigeant,
                                               payment_method="libeo")
    payment = factories.PaymentFactory(invoice=invoice, requested_by=dirigeant,
                                       amount=Decimal("120.00"))
    payment_settle(payment=payment, result=PaymentResult(status=Payment.Status.FAILED,
                                                         error_code="insufficient_funds",
                                                         error_detail="Solde insuffisant."))
    [notification] = told(dirigeant, "payment_failed")
    assert "Solde insuffisant" in notification.body
    assert notification.url.endswith(f"/achats/{invoice.pk}/")
    assert len(mail.outbox) == 1


def test_preferences_are_honoured(accountant, firm, client):
    client.force_login(accountant)
    client.post("/notifications/preferences/", {"connection_expired": "off"})
    assert Preference.objects.get(user=accountant).mode == "off"
    connection = PartnerConnection.objects.create(firm=firm, user=accountant, partner="progbat")
    connection_expire(connection.pk, reason="invalid_grant")
    assert len(told(accountant, "connection_expired")) == 1  # in the app, still
    assert mail.outbox == []
    notifications_digest()
    assert mail.outbox == []  # "off" means no e-mail at all


def test_refused_events_go_in_one_daily_digest(linked_company, post_webhook, accountant):
    post_webhook(invoice_event(linked_company, invoice_id="old_1",
                               validated_at="2026-05-01T00:00:00Z", date="2026-05-01"))
    post_webhook(invoice_event(linked_company, invoice_id="old_2",
                               validated_at="2026-05-02T00:00:00Z", date="2026-05-02"))
    events_refused_notify()
    events_refused_notify()
    assert len(told(accountant, "events_rejected")) == 2
    assert mail.outbox == []  # digest by default for this kind
    notifications_digest()
    notifications_digest()
    assert len(mail.outbox) == 1
    assert "old_1" in mail.outbox[0].body and "old_2" in mail.outbox[0].body


def test_closing_reminder_once_for_a_year_left_open(linked_company, post_webhook, accountant):
    post_webhook(invoice_event(linked_company, date="2026-06-10"))
    closing_reminders(today=datetime.date(2027, 3, 1))  # two months after: not yet
    assert told(accountant, "closing_reminder") == []
    closing_reminders(today=datetime.date(2027, 4, 15))
    closing_reminders(today=datetime.date(2027, 4, 16))
    [notification] = told(accountant, "closing_reminder")
    assert "31/12/2026" in notification.title


def test_the_list_shows_unread_count_and_marks_read(accountant, firm, other_firm_user, client):
    connection = PartnerConnection.objects.create(firm=firm, user=accountant, partner="progbat")
    connection_expire(connection.pk, reason="invalid_grant")
    client.force_login(accountant)
    page = client.get("/notifications/").content.decode()
    assert 'data-testid="unread-count">1<' in page and "connexion ProGBat a expiré" in page
    notification = Notification.objects.get()
    client.force_login(other_firm_user)
    assert client.post(f"/notifications/{notification.pk}/ouvrir/").status_code == 404
    client.force_login(accountant)
    response = client.post(f"/notifications/{notification.pk}/ouvrir/")
    assert response.status_code == 302
    assert response["Location"] == "/cabinet/parametres/connexions-partenaires/"
    assert Notification.objects.get().read_at is not None
    assert 'data-testid="unread-count"' not in client.get("/notifications/").content.decode()
