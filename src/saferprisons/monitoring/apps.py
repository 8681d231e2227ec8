from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "saferprisons.monitoring"
    label = "monitoring"
    verbose_name = "In-cell safety monitoring (pilot)"

    def ready(self):
        from .conf import apply_defaults
        from .policy import register_monitoring_settings

        apply_defaults()
        register_monitoring_settings()
