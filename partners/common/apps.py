from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersCommonConfig(AppConfig):
    name = "partners.common"
    label = "partners_common"
    verbose_name = _("Partenaires")
