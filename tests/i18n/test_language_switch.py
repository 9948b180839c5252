"""The language switch of the user menu: French for anyone who has not chosen, English once
chosen (remembered on the user and in the language cookie), back to French the same way."""

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for

SWITCH = reverse("set_language")


def test_french_is_the_default_whatever_the_browser_asks(accountant):
    page = client_for(accountant).get(reverse("firms:dashboard"), HTTP_ACCEPT_LANGUAGE="en-US,en")
    assert page["Content-Language"] == "fr"
    assert "Tableau de bord" in page.content.decode()
    assert "Dashboard" not in page.content.decode()


def test_user_menu_offers_english_in_a_csrf_protected_form(accountant):
    html = client_for(accountant).get(reverse("firms:dashboard")).content.decode()
    form = html[html.index('data-testid="language-switch"') - 80:]
    form = form[:form.index("</form>")]
    assert f'action="{SWITCH}"' in form and 'method="post"' in form
    assert "csrfmiddlewaretoken" in form
    assert 'name="language" value="en"' in form and ">English<" in form
    assert 'value="fr"' not in form  # the current language is not offered


def test_switching_to_english_and_back_from_the_user_menu(accountant):
    client = client_for(accountant)
    dashboard = reverse("firms:dashboard")

    response = client.post(SWITCH, {"language": "en", "next": dashboard})
    assert response.status_code == 302 and response["Location"] == dashboard
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    accountant.refresh_from_db()
    assert accountant.language == "en"
    page = client.get(dashboard).content.decode()
    assert page.count("Dashboard") and "Tableau de bord" not in page
    assert 'name="language" value="fr"' in page and ">Français<" in page

    client.post(SWITCH, {"language": "fr", "next": dashboard})
    accountant.refresh_from_db()
    assert accountant.language == "fr"
    page = client.get(dashboard).content.decode()
    assert "Tableau de bord" in page and "Dashboard" not in page


def test_the_choice_follows_the_user_to_another_browser(accountant):
    client_for(accountant).post(SWITCH, {"language": "en", "next": "/"})
    other_browser = client_for(accountant)  # no language cookie
    assert "Dashboard" in other_browser.get(reverse("firms:dashboard")).content.decode()


def test_the_login_page_speaks_the_cookie_language(db):
    anonymous = Client()
    assert "Se connecter" in anonymous.get(reverse("account_login")).content.decode()
    anonymous.post(SWITCH, {"language": "en", "next": reverse("account_login")})
    page = anonymous.get(reverse("account_login")).content.decode()
    assert "Log in" in page and "Se connecter" not in page


def test_unknown_language_changes_nothing(accountant):
    client = client_for(accountant)
    response = client.post(SWITCH, {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    accountant.refresh_from_db()
    assert accountant.language == ""


def test_switch_needs_post_and_the_csrf_token(accountant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(accountant)
    assert client.get(SWITCH).status_code == 405
    assert client.post(SWITCH, {"language": "en"}).status_code == 403
    accountant.refresh_from_db()
    assert accountant.language == ""


def test_next_outside_meg_is_not_followed(accountant):
    response = client_for(accountant).post(
        SWITCH, {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
