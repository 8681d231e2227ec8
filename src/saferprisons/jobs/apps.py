from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "saferprisons.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self):
        # Register handlers at start-up, so both enqueue (which checks the kind) and the worker
        # see every kind: ours, and each installed app's tasks.py.
        from . import handlers  # noqa: F401

        autodiscover_modules("tasks")
