from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "saferprisons.jobs"
    label = "jobs"
