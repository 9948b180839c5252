from django.apps import AppConfig


class ProgbatConfig(AppConfig):
    name = "partners.progbat"
    label = "progbat"
    verbose_name = "ProGBat"

    def ready(self):
        from . import extensions  # noqa: F401  (registers the module hook and panels)
