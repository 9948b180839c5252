"""Libeo's pages: login, a company's invoices and payments, Intégrations → MEG, accountant."""

import re

from sandboxes.common.selfcheck import Session, check

from .harness import DEMO_KEY, api_session, csrf, login


def check_pages(base, url, dupont_payment_id):
    browser = Session()
    page = browser.get(f"{base}/")
    check(page.status_code == 200 and "<title>Connexion à Libeo</title>" in page.text,
          "/ is the login page « Connexion à Libeo »")
    bad = browser.post(f"{base}/", data={"username": "dupont", "password": "wrong",
                                         "csrfmiddlewaretoken": csrf(browser)})
    check(bad.status_code == 200 and 'data-testid="login-error"' in bad.text,
          "a wrong password stays on the login page with an error")
    browser = login(base, "dupont")
    companies = browser.get(f"{base}/entreprises/")
    check('data-siren="900000019"' in companies.text, "dupont sees Dupont Bâtiment")

    company = browser.get(f"{base}/entreprises/900000019/")
    check(company.status_code == 200
          and re.search(r'data-external-id="meg-inv-1"\s+data-versions="3"', company.text)
          and f'data-payment-id="{dupont_payment_id}"' in company.text
          and "<code>pay-1</code>" in company.text,
          "the company page lists the invoices with their send count and the payments with "
          "their idempotency keys")
    check(Session().get(f"{base}/entreprises/900000019/", allow_redirects=False)
          .status_code == 302, "company pages need a login")
    check(login(base, "expert").get(f"{base}/entreprises/900000076/").status_code == 404,
          "another company's page answers 404")

    integrations = browser.get(f"{base}/configuration/integrations")
    check(integrations.status_code == 200 and 'data-testid="integration-meg"' in integrations
          .text and f'data-testid="demo-api-key">{DEMO_KEY}<' in integrations.text,
          "Configuration → Intégrations shows the MEG box and the documented demo key")
    connected = browser.post(f"{base}/configuration/integrations/meg/se-connecter", data={
        "entreprise": "900000019", "csrfmiddlewaretoken": csrf(browser)})
    match = re.search(r'data-testid="api-key">(lk_[\w-]+)<', connected.text)
    check(connected.status_code == 200 and match,
          "« Se connecter » shows a new lk_ API key to copy into MEG")
    new_key = match.group(1)
    api = api_session(new_key)
    check(api.get(f"{url}/me").json()["company"]["siren"] == "900000019",
          "the copied key opens Dupont Bâtiment's account")
    again = browser.get(f"{base}/configuration/integrations?entreprise=900000019")
    check(new_key not in again.text and new_key[:12] in again.text,
          "the key is never shown again, only its first characters")
    key_id = re.search(rf'data-prefix="{re.escape(new_key[:12])}">.*?/cles/(\d+)/revoquer',
                       again.text, re.S).group(1)
    browser.post(f"{base}/configuration/integrations/cles/{key_id}/revoquer", data={
        "entreprise": "900000019", "csrfmiddlewaretoken": csrf(browser)})
    check(api.get(f"{url}/me").status_code == 401, "a revoked key answers 401")

    users = f"{base}/entreprises/900000019/utilisateurs/"
    taken = browser.post(users, data={"email": "autre@demo.meg.test",
                                      "csrfmiddlewaretoken": csrf(browser)})
    check(taken.status_code == 400 and "1 accès expert-comptable" in taken.text,
          "a second accountant is refused (1 accountant access per account)")
    expert = login(base, "expert")
    accountant_page = expert.post(users, data={"email": "x@demo.meg.test",
                                               "csrfmiddlewaretoken": csrf(expert)})
    check(accountant_page.status_code == 403, "only the owner manages users")
    browser.post(f"{users}expert-comptable/retirer/", data={"csrfmiddlewaretoken": csrf(browser)})
    added = browser.post(users, data={"email": "nouvel-expert@demo.meg.test",
                                      "csrfmiddlewaretoken": csrf(browser)})
    me = api_session(DEMO_KEY).get(f"{url}/me").json()
    check(added.status_code == 200 and {"email": "nouvel-expert@demo.meg.test",
                                        "role": "accountant"} in me["users"]
          and len(me["users"]) == 2, "the owner replaces the accountant; /me lists them", me)
