"""Run every check against a fresh sandbox, then once more with the controls off."""

import os
import sys
import tempfile
import traceback
from pathlib import Path

import requests

from .account_checks import check_accounts, check_backoffice, check_sso
from .control_checks import check_controls
from .harness import CheckFailed, WebhookReceiver, check, sandbox
from .invoice_checks import check_invoices
from .oauth_checks import api_session, check_oauth


def main():
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox speaks plain HTTP on loopback
    receiver = WebhookReceiver()
    with tempfile.TemporaryDirectory(prefix="progbat-selfcheck-") as folder:
        database = Path(folder) / "progbat.sqlite3"
        log = None
        try:
            with sandbox(database, webhook_url=receiver.url) as (base, log):
                browser, client, token = check_oauth(base)
                api, url = api_session(base, token["access_token"])
                check_accounts(api, url)
                sso_browser = check_sso(api, url)
                invoice_ids = check_invoices(base, api, url, receiver, sso_browser)
                check_backoffice(base, browser, api, url)
                check_controls(base, api, url, client, token, invoice_ids)
            with sandbox(database, control=False) as (base, log):
                check(requests.get(f"{base}/_sandbox/state", timeout=30).status_code == 404,
                      "without PROGBAT_SANDBOX_CONTROL=1 the controls answer 404")
        except Exception as failure:  # a check, or the sandbox answering something unexpected
            if not isinstance(failure, CheckFailed):
                traceback.print_exc()
            print(f"FAIL  {failure}", flush=True)
            if log is not None and log.exists():
                print("---- sandbox log ----\n" + log.read_text()[-5000:])
            return 1
    print("selfcheck: all checks passed", flush=True)
    return 0


sys.exit(main())
