"""Run every check against a fresh sandbox, then once more with the controls off."""

import os
import sys

import requests

from sandboxes.common.selfcheck import check, run

from .account_checks import check_accounts, check_backoffice, check_sso
from .control_checks import check_controls
from .harness import WebhookReceiver, sandbox
from .invoice_checks import check_invoices
from .oauth_checks import api_session, check_oauth


def play(database):
    receiver = WebhookReceiver()
    with sandbox(database, webhook_url=receiver.url) as base:
        browser, client, token = check_oauth(base)
        api, url = api_session(base, token["access_token"])
        check_accounts(api, url)
        sso_browser = check_sso(api, url)
        invoice_ids = check_invoices(base, api, url, receiver, sso_browser)
        check_backoffice(base, browser, api, url, receiver)
        check_controls(base, api, url, client, token, invoice_ids)
    with sandbox(database, control=False) as base:
        check(requests.get(f"{base}/_sandbox/state", timeout=30).status_code == 404,
              "without PROGBAT_SANDBOX_CONTROL=1 the controls answer 404")


os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox speaks plain HTTP on loopback
sys.exit(run("progbat", play))
