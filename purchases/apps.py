from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasesConfig(AppConfig):
    name = "purchases"
    verbose_name = _("Achats")

    def ready(self):
        from companies.module_pages import register_module_page

        register_module_page("achats", "purchases:home")
        from . import attention  # noqa: F401  (registers its rows of the attention board)
