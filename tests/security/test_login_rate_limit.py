"""Finding 4: ten failed logins on unknown e-mails from one address locked everyone out there.

Failures now count per account *and* client address, the client address being read from the
trusted proxy's header (settings ``MEG_TRUSTED_PROXY_HEADER`` / ``MEG_TRUSTED_PROXIES``) and only
from it: one client locks itself out of one account, nobody else out of anything.
"""

from html import unescape

import pytest
from django.test import Client, RequestFactory

from meg.client_ip import client_ip
from tests.factories import PASSWORD

CLIENT_A, CLIENT_B = "203.0.113.10", "198.51.100.20"
PROXY = "10.0.0.5"
LOCKED = "Trop de tentatives"


def log_in(email, password, remote=CLIENT_A, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    response = Client().post("/accounts/login/", {"login": email, "password": password},
                             **headers)
    return response.status_code, unescape(response.content.decode())


@pytest.fixture
def behind_proxy(settings):
    settings.MEG_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.MEG_TRUSTED_PROXIES = ["10.0.0.0/8"]


def test_failures_on_unknown_emails_do_not_block_another_user_at_that_address(accountant):
    for index in range(10):
        status, page = log_in(f"inconnu{index}@nowhere.test", "wrong")
        assert status == 200 and LOCKED not in page
    status, _page = log_in(accountant.email, PASSWORD)
    assert status == 302  # logged in


def test_repeated_failures_on_one_account_are_limited_for_that_client_only(accountant):
    for index in range(5):
        assert LOCKED not in log_in(accountant.email, f"wrong-{index}")[1]
    assert LOCKED in log_in(accountant.email, "wrong-6")[1]
    assert LOCKED in log_in(accountant.email, PASSWORD)[1]  # this client waits
    assert log_in(accountant.email, PASSWORD, remote=CLIENT_B)[0] == 302  # the owner does not


def test_other_accounts_stay_open_to_a_locked_out_client(accountant, collaborateur):
    for index in range(6):
        log_in(accountant.email, f"wrong-{index}")
    assert log_in(collaborateur.email, PASSWORD)[0] == 302


def test_clients_behind_the_trusted_proxy_are_told_apart(behind_proxy, accountant):
    for index in range(6):
        log_in(accountant.email, f"wrong-{index}", remote=PROXY, forwarded=CLIENT_A)
    assert LOCKED in log_in(accountant.email, PASSWORD, remote=PROXY, forwarded=CLIENT_A)[1]
    assert log_in(accountant.email, PASSWORD, remote=PROXY, forwarded=CLIENT_B)[0] == 302


def test_without_the_setting_the_header_is_ignored(accountant):
    """No trusted proxy configured: a client cannot escape its lockout by forging the header."""
    for index in range(6):
        log_in(accountant.email, f"wrong-{index}", forwarded=f"192.0.2.{index}")
    assert LOCKED in log_in(accountant.email, PASSWORD, forwarded="192.0.2.99")[1]


def test_the_header_of_a_client_that_is_not_the_proxy_is_ignored(behind_proxy, accountant):
    for index in range(6):
        log_in(accountant.email, f"wrong-{index}", remote=CLIENT_A,
               forwarded=f"192.0.2.{index}")
    assert LOCKED in log_in(accountant.email, PASSWORD, remote=CLIENT_A,
                            forwarded="192.0.2.99")[1]


def test_one_address_is_still_limited_in_login_attempts(accountant):
    """The generous per-address limit on every attempt (ACCOUNT_RATE_LIMITS["login"])."""
    statuses = [log_in(f"x{index}@nowhere.test", "wrong")[0] for index in range(61)]
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429
    assert log_in(accountant.email, PASSWORD, remote=CLIENT_B)[0] == 302


@pytest.mark.parametrize(("remote", "header", "expected"), [
    (PROXY, f"{CLIENT_A}", CLIENT_A),
    (PROXY, f"1.2.3.4, {CLIENT_A}", CLIENT_A),  # the left part is the client's own claim
    (PROXY, f"{CLIENT_A}, 10.0.0.9", CLIENT_A),  # two proxies of ours
    (PROXY, f"{CLIENT_A}:51234", CLIENT_A),
    (PROXY, "[2001:db8::1]:443", "2001:db8::1"),
    (PROXY, "not-an-address", PROXY),
    (PROXY, "", PROXY),
    (CLIENT_B, CLIENT_A, CLIENT_B),  # not from the proxy: the header means nothing
])
def test_client_address_is_read_from_the_right(behind_proxy, remote, header, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == expected
