from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_pcg(sender, apps=None, **kwargs):
    """The PCG reference comes back after every migrate or flush, like content types."""
    from django.apps import apps as global_apps

    from .chart import load_pcg

    try:
        pcg_model = (apps or global_apps).get_model("accounting", "PcgAccount")
    except LookupError:
        return
    if not pcg_model.objects.exists():
        load_pcg(pcg_model)


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Comptabilité")

    def ready(self):
        from companies.module_pages import register_module_page

        post_migrate.connect(_ensure_pcg, sender=self)
        register_module_page("export-ecritures", "accounting:export_space")
        # What needs an accountant's eye shows on the firm's attention board (*À traiter*).
        from . import attention  # noqa: F401
