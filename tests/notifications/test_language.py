"""A notification speaks its recipient's language (the in-app list and the e-mail), whoever
or whatever caused it: an English colleague's action, a worker, a French request."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone, translation

from notifications.models import Notification
from partners.progbat import notices
from partners.progbat.models import ProgbatLink
from purchases.models import Payment
from purchases.providers import PaymentResult
from purchases.services import invoice_pay, payment_settle
from tests.conftest import client_for
from tests.purchases.conftest import connect_libeo, make_invoice


@pytest.fixture
def trial_link(company, accountant, dirigeant):
    return ProgbatLink.objects.create(
        firm=company.firm, company=company, status="active", activated_at=timezone.now(),
        activated_by=accountant, progbat_account_id="acc_trial", licence_status="trial",
        trial_ends_at=timezone.make_aware(datetime.datetime(2026, 12, 31, 12, 0)))


def choose(user, language):
    client_for(user).post("/i18n/setlang/", {"language": language, "next": "/"})
    user.refresh_from_db()
    assert user.language == language


@pytest.mark.parametrize("active", ["fr", "en"])
def test_each_recipient_is_told_in_their_language(trial_link, accountant, dirigeant, active):
    """The accountant reads MEG in English, the dirigeant in French (or never chose): each
    gets the trial reminder in theirs, whatever language is active where it is made."""
    choose(accountant, "en")
    with translation.override(active):
        notices.trials_remind(today=datetime.date(2026, 12, 17))
    [english] = Notification.objects.filter(user=accountant)
    [french] = Notification.objects.filter(user=dirigeant)
    assert english.title == "The ProGBat trial of Alpha Maçonnerie ends on 31/12/2026"
    assert english.body.startswith("Before the end of the trial month")
    assert french.title == "L'essai ProGBat de Alpha Maçonnerie se termine le 31/12/2026"
    assert french.body.startswith("Avant la fin du mois d'essai")
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects == {accountant.email: f"MEG : {english.title}",
                        dirigeant.email: f"MEG : {french.title}"}
    english_mail = next(m for m in mail.outbox if m.to == [accountant.email])
    assert "Before the end of the trial month" in english_mail.body


def test_a_failed_payment_is_told_in_the_language_of_who_asked(achats, dirigeant):
    choose(dirigeant, "en")
    connect_libeo(achats, dirigeant)
    invoice = make_invoice(achats, dirigeant)
    payment = invoice_pay(invoice=invoice, actor=dirigeant)
    Payment.objects.filter(pk=payment.pk).update(status="scheduled")
    with translation.override("fr"):  # a worker: no request, French active
        payment_settle(payment=payment, result=PaymentResult(
            status="failed", error_code="refused", error_detail="Solde insuffisant."))
    [told] = Notification.objects.filter(user=dirigeant, kind="payment_failed")
    assert told.title.startswith("Payment failed:"), told.title
    assert told.body.endswith("The invoice is still to be paid."), told.body
