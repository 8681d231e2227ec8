from django.apps import AppConfig


class AcctConfig(AppConfig):
    name = "saferprisons.acct"
    label = "acct"
    verbose_name = "ACCT (self-harm and suicide prevention)"
