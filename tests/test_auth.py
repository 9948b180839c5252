"""Login with django-allauth: e-mail and password, reset by e-mail, no public sign-up."""

from html import unescape

from django.core import mail
from django.test import Client

from tests.factories import PASSWORD
from users.models import User


def test_firm_user_logs_in_with_email_and_lands_on_the_dashboard(accountant):
    client = Client()
    response = client.post("/accounts/login/", {"login": "EXPERT@alpha.test",
                                                "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/cabinet/"


def test_company_user_lands_in_their_company_space(company, dirigeant):
    client = Client()
    response = client.post("/accounts/login/", {"login": "patron@alpha.test",
                                                "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == f"/entreprise/{company.pk}/"


def test_wrong_password_is_refused_in_french(accountant):
    response = Client().post("/accounts/login/", {"login": "expert@alpha.test",
                                                  "password": "nope"})
    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "L’adresse e-mail ou le mot de passe sont incorrects" in page


def test_password_reset_sends_an_email(accountant):
    response = Client().post("/accounts/password/reset/", {"email": "expert@alpha.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["expert@alpha.test"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_public_signup_is_closed(db):
    response = Client().post("/accounts/signup/", {"email": "intrus@example.test",
                                                   "password1": "Xy7!long-password",
                                                   "password2": "Xy7!long-password"})
    assert not User.objects.filter(email="intrus@example.test").exists()
    assert response.status_code == 200


def test_repeated_failed_logins_are_rate_limited(accountant):
    client = Client()

    def attempt(password):
        response = client.post("/accounts/login/", {"login": "expert@alpha.test",
                                                    "password": password})
        return response.status_code, unescape(response.content.decode())

    for i in range(5):
        assert "Trop de tentatives" not in attempt(f"wrong-{i}")[1]
    assert "Trop de tentatives de connexion échouées" in attempt("wrong-6")[1]
    # Even the right password is refused until the window has passed.
    status, page = attempt(PASSWORD)
    assert status == 200 and "Trop de tentatives" in page
