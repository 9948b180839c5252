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


def test_repeated_failed_logins_are_rate_limited(accountant, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "rate-limit-test"}}
    client = Client()
    statuses = [client.post("/accounts/login/", {"login": "expert@alpha.test",
                                                 "password": f"wrong-{i}"}).status_code
                for i in range(8)]
    assert 429 in statuses or any(
        "Trop de tentatives" in client.post("/accounts/login/", {
            "login": "expert@alpha.test", "password": "wrong"}).content.decode()
        for _ in range(1))
