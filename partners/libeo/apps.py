from django.apps import AppConfig


class LibeoConfig(AppConfig):
    name = "partners.libeo"
    label = "libeo"
    verbose_name = "Libeo"

    def ready(self):
        from . import extensions  # noqa: F401  (registers the provider and outbox handlers)
