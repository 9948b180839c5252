from django.apps import AppConfig


class MegConfig(AppConfig):
    name = "meg"
    verbose_name = "MEG"

    def ready(self):
        from . import checks  # noqa: F401
