from django.apps import AppConfig


class MegConfig(AppConfig):
    name = "meg"
    verbose_name = "MEG"
