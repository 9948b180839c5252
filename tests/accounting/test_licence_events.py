"""``account.licence_changed``: signed as the invoice events, applied to the link at once."""

from html import unescape

import pytest

from audit.models import AuditEvent
from partners.progbat.models import ProgbatLink
from tests.conftest import client_for


def licence_event(account_id="acc_test", plan="start_plus", licence_status="licensed",
                  trial_ends_at=None):
    return {"type": "account.licence_changed",
            "data": {"account_id": account_id, "plan": plan, "licence_status": licence_status,
                     "trial_ends_at": trial_ends_at}}


@pytest.fixture
def trial_company(linked_company):
    ProgbatLink.objects.filter(company=linked_company).update(
        plan="free", licence_status="trial", trial_ends_at="2026-12-10T00:00:00Z")
    return linked_company


def test_the_link_follows_at_once_and_the_page_shows_it(trial_company, post_webhook,
                                                       accountant):
    panel = f'data-testid="progbat-link-{trial_company.pk}"'
    before = unescape(client_for(accountant).get("/cabinet/").content.decode())
    assert panel in before and "jusqu'au 10/12/2026" in before
    response = post_webhook(licence_event())
    assert (response.status_code, response.json()) == (200, {"status": "applied"})
    link = ProgbatLink.objects.get(company=trial_company)
    assert (link.plan, link.licence_status, link.trial_ends_at) == (
        "start_plus", "licensed", None)
    assert AuditEvent.objects.filter(action="progbat.licence_changed").count() == 1
    html = client_for(accountant).get("/cabinet/").content.decode()
    assert panel in html and "10/12/2026" not in html and "Liée le 01/06/2026" in html
    # The same event again changes nothing and is still acknowledged.
    assert post_webhook(licence_event()).json() == {"status": "applied"}
    assert AuditEvent.objects.filter(action="progbat.licence_changed").count() == 1


def test_a_trial_end_date_is_kept(linked_company, post_webhook):
    response = post_webhook(licence_event(plan="free", licence_status="trial",
                                          trial_ends_at="2027-01-15T00:00:00Z"))
    assert response.status_code == 200
    link = ProgbatLink.objects.get(company=linked_company)
    assert link.licence_status == "trial" and link.trial_ends_at.isoformat().startswith(
        "2027-01-15")


def test_an_unknown_account_is_404(linked_company, post_webhook):
    response = post_webhook(licence_event(account_id="acc_nobody"))
    assert response.status_code == 404 and response.json()["error"] == "unknown_account"


@pytest.mark.parametrize("data, field", [
    ({"licence_status": "gold"}, "data.licence_status"),
    ({"plan": 3}, "data.plan"),
    ({"trial_ends_at": "demain"}, "data.trial_ends_at"),
    ({"account_id": ""}, "data.account_id"),
])
def test_a_malformed_event_is_400_and_changes_nothing(linked_company, post_webhook, data,
                                                      field):
    response = post_webhook(licence_event(**data))
    assert response.status_code == 400 and field in response.json()["fields"]
    assert ProgbatLink.objects.get(company=linked_company).licence_status == "licensed"


def test_an_unsigned_event_is_401(linked_company, post_webhook):
    response = post_webhook(licence_event(plan="premium"), headers={})
    assert response.status_code == 401
