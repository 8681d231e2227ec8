from django.urls import path

from .views import console, devices, enrolment, reports, rules

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
    # --- enrolling people and setting rules (views/enrolment.py, views/rules.py) ---
    path("enrolments/", enrolment.enrolments, name="enrolments"),
    path("people/<str:prison_number>/enrol/", enrolment.enrol, name="enrol"),
    path("people/<str:prison_number>/end/", enrolment.end_enrolment, name="end_enrolment"),
    path("rules/", rules.rules, name="rules"),
    path("rules/units/new/", rules.choose_unit_rule, name="choose_unit_rule"),
    path("rules/<str:kind>/", rules.edit_rule, name="edit_rule"),
    path("rules/<str:kind>/remove/", rules.remove_rule, name="remove_rule"),
    path("rules/<str:kind>/units/<str:unit>/", rules.edit_unit_rule, name="edit_unit_rule"),
    path(
        "rules/<str:kind>/units/<str:unit>/remove/",
        rules.remove_unit_rule,
        name="remove_unit_rule",
    ),
    # --- gateways and devices (views/devices.py) ---
    path("devices/", devices.devices, name="devices"),
    path("devices/new/", devices.register_device, name="register_device"),
    path("devices/<uuid:device_id>/remove/", devices.remove_device, name="remove_device"),
    path("devices/<uuid:device_id>/firmware/", devices.device_firmware, name="device_firmware"),
    path("gateways/new/", devices.register_gateway, name="register_gateway"),
    path("gateways/<uuid:gateway_id>/token/", devices.new_gateway_token, name="gateway_token"),
    path("gateways/<uuid:gateway_id>/retire/", devices.retire_gateway, name="retire_gateway"),
    # --- measures, CSV and ingest operations (views/reports.py) ---
    path("measures/", reports.measures_page, name="measures"),
    path("measures.csv", reports.measures_csv, name="measures_csv"),
    path("operations/", reports.operations, name="operations"),
]
