from django.apps import AppConfig


class ProgbatConfig(AppConfig):
    name = "partners.progbat"
    label = "progbat"
    verbose_name = "ProGBat"

    def ready(self):
        from . import attention, extensions  # noqa: F401  (register hooks, panels, board rows)
