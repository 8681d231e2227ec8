from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "saferprisons.people"
    label = "people"
