from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "saferprisons.audit"
    label = "audit"
