"""« Demander la mise à jour à ProGBat » on a draft entry: who may ask, and what is written."""

from html import unescape

import pytest

from accounting.models import Entry
from audit.models import AuditEvent
from partners.common.models import OutboxMessage
from partners.progbat.documents import ACTION as FETCH  # the pièce of each journalised entry
from tests.accounting.conftest import invoice_event
from tests.conftest import client_for


@pytest.fixture
def draft(linked_company, post_webhook):
    post_webhook(invoice_event(linked_company))
    return Entry.objects.get(company=linked_company)


def space(company):
    return f"/entreprise/{company.pk}/export-ecritures/"


def resend_url(entry):
    return f"/entreprise/{entry.company_id}/progbat/ecritures/{entry.pk}/mise-a-jour/"


def test_the_button_is_offered_on_a_draft_to_firm_users(draft, accountant):
    html = unescape(client_for(accountant).get(space(draft.company)).content.decode())
    assert html.count('data-testid="entry-action"') == 1  # once per entry, not per line
    assert "Demander la mise à jour à ProGBat" in html and resend_url(draft) in html
    assert 'data-confirm="Demander à ProGBat de recalculer' in html


def test_asking_writes_one_outbox_message_and_an_audit_row(draft, accountant):
    client = client_for(accountant)
    response = client.post(resend_url(draft))
    assert response.status_code == 302 and response.url == space(draft.company)
    client.post(resend_url(draft))  # a second click for the same version: one call
    message = OutboxMessage.objects.exclude(action=FETCH).get()
    assert (message.action, message.partner, message.company_id, message.actor) == (
        "progbat.resend_invoice", "progbat", draft.company_id, accountant)
    assert message.payload == {"invoice_id": "inv_1", "version": 1}
    assert AuditEvent.objects.filter(action="progbat.entry_resend").count() == 1
    html = unescape(client.get(space(draft.company)).content.decode())
    assert "Mise à jour demandée à ProGBat" in html


def test_an_exported_entry_is_refused_with_a_reason(draft, accountant,
                                                   django_capture_on_commit_callbacks):
    client = client_for(accountant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(space(draft.company), {"date_from": "2026-01-01", "date_to": "2026-12-31",
                                           "journals": ["VT"], "format": "fec"})
    draft.refresh_from_db()
    assert draft.state == "exported"
    OutboxMessage.objects.all().delete()  # the lock requests of the export
    assert 'data-testid="entry-action"' not in client.get(space(draft.company)).content.decode()
    response = client.post(resend_url(draft), follow=True)
    assert "la facture est verrouillée chez ProGBat" in unescape(response.content.decode())
    assert not OutboxMessage.objects.exclude(action=FETCH).exists()


def test_a_user_of_another_firm_gets_404(draft, other_firm_user):
    assert client_for(other_firm_user).post(resend_url(draft)).status_code == 404
    assert not OutboxMessage.objects.exclude(action=FETCH).exists()


def test_an_entry_of_another_company_of_the_firm_gets_404(draft, accountant, firm):
    from tests import factories

    sister = factories.CompanyFactory(firm=firm, name="Alpha Charpente")
    factories.CompanyAccountantFactory(company=sister, user=accountant)
    url = f"/entreprise/{sister.pk}/progbat/ecritures/{draft.pk}/mise-a-jour/"
    assert client_for(accountant).post(url).status_code == 404


def test_company_users_may_not_ask(draft, dirigeant):
    assert client_for(dirigeant).post(resend_url(draft)).status_code == 403
    html = client_for(dirigeant).get(space(draft.company)).content.decode()
    assert 'data-testid="entry-action"' not in html
