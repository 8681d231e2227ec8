from django.apps import AppConfig


class KioskConfig(AppConfig):
    name = "saferprisons.kiosk"
    label = "kiosk"
