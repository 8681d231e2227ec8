from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "saferprisons.accounts"
    label = "accounts"
