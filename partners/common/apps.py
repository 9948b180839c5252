from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersCommonConfig(AppConfig):
    name = "partners.common"
    label = "partners_common"
    verbose_name = _("Partenaires")

    def ready(self):
        from . import attention  # noqa: F401  (registers its rows of the attention board)
