from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BridgesConfig(AppConfig):
    """Glue between core apps that must not import each other (DESIGN §2): each module here
    listens to one app's hooks and calls another's services."""

    name = "bridges"
    verbose_name = _("Passerelles")

    def ready(self):
        from . import payments_books, purchases_books  # noqa: F401  (register receivers)
