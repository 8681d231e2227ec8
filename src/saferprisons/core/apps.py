from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "saferprisons.core"
    label = "core"
