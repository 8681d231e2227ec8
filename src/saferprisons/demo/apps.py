from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Synthetic demo and benchmark data: fictional prisons, people and staff (no models)."""

    name = "saferprisons.demo"
    label = "demo"
    verbose_name = "Synthetic demo data"
