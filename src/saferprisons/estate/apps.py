from django.apps import AppConfig


class EstateConfig(AppConfig):
    name = "saferprisons.estate"
    label = "estate"
