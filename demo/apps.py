from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo surface of DESIGN §11 (``manage.py seed_demo``): it composes every app, core
    and partners alike, so it sits above them all and nothing imports it."""

    name = "demo"
    verbose_name = "Démonstration"
