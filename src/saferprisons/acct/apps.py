from django.apps import AppConfig


class AcctConfig(AppConfig):
    name = "saferprisons.acct"
    label = "acct"
    verbose_name = "ACCT (self-harm and suicide prevention)"

    def ready(self):
        from . import receivers  # noqa: F401  (subscribes to people.events)
        from .policy import register_acct_settings

        register_acct_settings()
