from django.urls import path

from .views import console, reports

app_name = "monitoring"
urlpatterns = [
    # --- the live console and responding to alerts (views/console.py) ---
    path("console/", console.console, name="console"),
    path("console/rows/", console.console_rows, name="console_rows"),
    path("alerts/<uuid:alert_id>/", console.alert, name="alert"),
    path("alerts/<uuid:alert_id>/acknowledge/", console.acknowledge, name="acknowledge"),
    path("alerts/<uuid:alert_id>/reset/", console.reset, name="reset"),
    path("alerts/<uuid:alert_id>/resolve/", console.resolve, name="resolve"),
    path("notifications/", console.notifications, name="notifications"),
    path("escalation/", console.escalation_chain, name="escalation"),
    # --- measures, CSV and ingest operations (views/reports.py) ---
    path("measures/", reports.measures_page, name="measures"),
    path("measures.csv", reports.measures_csv, name="measures_csv"),
    path("operations/", reports.operations, name="operations"),
]
