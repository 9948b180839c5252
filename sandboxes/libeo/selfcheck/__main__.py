"""Run every check against a fresh sandbox, then once more with the controls off."""

import sys
import tempfile
import traceback
from pathlib import Path

import requests

from .api_checks import (
    check_concurrency,
    check_invoices,
    check_me,
    check_other_company,
    check_payments,
    check_plan_limit,
)
from .connect_checks import check_connect
from .control_checks import check_faults, check_reset, check_state
from .fake_meg import FakeMeg
from .harness import CheckFailed, Session, check, login, sandbox
from .page_checks import check_pages


def main():
    fake = FakeMeg()
    with tempfile.TemporaryDirectory(prefix="libeo-selfcheck-") as folder:
        database = Path(folder) / "libeo.sqlite3"
        log = None
        try:
            with sandbox(database, issuer=fake.issuer) as (base, log):
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
                check_reset(control, base, url)
            # Controls off, and MEG unreachable.
            with sandbox(database, control=False) as (base, log):
                check(requests.get(f"{base}/_sandbox/state", timeout=30).status_code == 404,
                      "without LIBEO_SANDBOX_CONTROL=1 the controls answer 404")
                down = requests.get(f"{base}/connect/meg", timeout=30, allow_redirects=False,
                                    params={"return_to": "http://127.0.0.1:8000/"})
                check(down.status_code == 502 and "MEG ne répond pas" in down.text,
                      "when MEG is unreachable /connect/meg shows a 502 page")
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
