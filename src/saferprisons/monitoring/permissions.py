"""What monitoring work needs which permission. Grants live in accounts/roles.py; a gateway's
token gets ``monitoring.ingest`` from the ``sensors:write`` scope (core.permissions)."""

from saferprisons.core.permissions import define

INGEST = define("monitoring.ingest", "Send sensor readings (in-cell monitoring gateways)")
VIEW_ALERTS = define("monitoring.view_alerts", "See monitoring alerts for cells in your prisons")
RESPOND = define(
    "monitoring.respond", "Acknowledge, reset and resolve monitoring alerts in your prisons"
)
MANAGE_ENROLMENT = define(
    "monitoring.manage_enrolment",
    "Enrol people in the monitoring pilot (consent or a documented decision) and end enrolments",
)
CONFIGURE_RULES = define(
    "monitoring.configure_rules", "Set monitoring rule thresholds and priorities for a prison"
)
MANAGE_DEVICES = define(
    "monitoring.manage_devices", "Register monitoring gateways and devices, and their tokens"
)
VIEW_OPERATIONS = define(
    "monitoring.view_operations", "See ingest counters and dead-lettered readings"
)
VIEW_VITAL_SIGNS = define(
    "monitoring.view_vital_signs", "See spot pulse and breathing figures in monitoring rollups"
)
