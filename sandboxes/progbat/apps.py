from django.apps import AppConfig


class ProgbatSandboxConfig(AppConfig):
    name = "sandboxes.progbat"
    label = "progbat_sandbox"
    verbose_name = "ProGBat (bac à sable)"
    default_auto_field = "django.db.models.BigAutoField"
