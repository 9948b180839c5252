"""Every model of MEG has an admin screen, and each one opens for support staff."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client

from tests import factories

OUR_APPS = {"users", "firms", "audit", "companies", "accounting", "purchases", "partners_common",
            "progbat", "libeo"}


def our_models():
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


def test_every_model_has_an_admin_screen():
    missing = [m.__name__ for m in our_models() if m not in admin.site._registry]
    assert missing == []


@pytest.fixture
def staff(db):
    return factories.UserFactory(is_staff=True, is_superuser=True)


def test_every_admin_list_and_add_page_opens(staff, company, dirigeant):
    client = Client()
    client.force_login(staff)
    for model in our_models():
        meta = model._meta
        url = f"/admin/{meta.app_label}/{meta.model_name}/"
        assert client.get(url).status_code == 200, url
        assert client.get(url, {"q": "x"}).status_code == 200, url
