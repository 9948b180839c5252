"""Run every check against a fresh sandbox, then once more with the controls off."""

import sys

import requests

from sandboxes.common.selfcheck import Session, check, run

from .api_checks import (
    check_concurrency,
    check_invoices,
    check_me,
    check_other_company,
    check_payments,
    check_plan_limit,
)
from .connect_checks import check_connect
from .control_checks import check_faults, check_reset, check_settlement, check_state
from .fake_meg import FakeMeg
from .harness import login, sandbox
from .page_checks import check_pages


def play(database):
    fake = FakeMeg()
    with sandbox(database, issuer=fake.issuer) as base:
        url, control = f"{base}/api/v1", Session()
        api = check_me(url)
        check_invoices(api, url)
        payment_id = check_payments(api, url)
        check_other_company(control, base, url, payment_id)
        unlimited = check_plan_limit(control, base, url,
                                     lambda user, password: login(base, user, password))
        check_concurrency(control, base, url, unlimited)
        check_pages(base, url, payment_id)
        check_connect(base, url, fake, control)
        check_state(control, base)
        check_faults(control, base, url, unlimited)
        check_settlement(control, base, url, unlimited)
        check_reset(control, base, url)
    # Controls off, and MEG unreachable.
    with sandbox(database, control=False) as base:
        check(requests.get(f"{base}/_sandbox/state", timeout=30).status_code == 404,
              "without LIBEO_SANDBOX_CONTROL=1 the controls answer 404")
        down = requests.get(f"{base}/connect/meg", timeout=30, allow_redirects=False,
                            params={"return_to": "http://127.0.0.1:8000/"})
        check(down.status_code == 502 and "MEG ne répond pas" in down.text,
              "when MEG is unreachable /connect/meg shows a 502 page")


sys.exit(run("libeo", play))
