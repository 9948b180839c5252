from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_catalogue(sender, apps=None, **kwargs):
    """Like content types, the module catalogue comes back after every migrate or flush."""
    from django.apps import apps as global_apps

    from .catalogue import ensure_catalogue

    apps = apps or global_apps
    try:
        module_model = apps.get_model("companies", "Module")
    except LookupError:  # migrating backwards past the model
        return
    ensure_catalogue(module_model)


class CompaniesConfig(AppConfig):
    name = "companies"
    verbose_name = _("Entreprises")

    def ready(self):
        post_migrate.connect(_ensure_catalogue, sender=self)
