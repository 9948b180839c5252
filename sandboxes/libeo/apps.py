from django.apps import AppConfig


class LibeoSandboxConfig(AppConfig):
    name = "sandboxes.libeo"
    label = "libeo_sandbox"
    verbose_name = "Libeo (bac à sable)"
    default_auto_field = "django.db.models.BigAutoField"
