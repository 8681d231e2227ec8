"""The monitoring settings, registered for the administrators' policy settings page."""

from saferprisons.core.policy import PolicySetting, register

LOCAL = "Local choice for the monitoring pilot (no primary source)"

SETTINGS = (
    PolicySetting(
        "MONITORING_MAX_CLOCK_SKEW_SECONDS",
        "A reading stamped further ahead of the server clock than this is refused",
        "Engineering choice: gateways keep time by NTP",
        True,
        "seconds",
    ),
    PolicySetting(
        "MONITORING_MAX_READING_AGE_SECONDS",
        "A reading that arrives later than this after it was taken is refused",
        LOCAL,
        False,
        "seconds",
    ),
    PolicySetting(
        "MONITORING_ALERT_WINDOW_BEFORE_SECONDS",
        "Raw readings kept with an alert from this long before it opened",
        "Issue 4: a configurable window before and after each alert",
        True,
        "seconds",
    ),
    PolicySetting(
        "MONITORING_ALERT_WINDOW_AFTER_SECONDS",
        "Raw readings kept with an alert until this long after it opened",
        "Issue 4: a configurable window before and after each alert",
        True,
        "seconds",
    ),
    PolicySetting(
        "MONITORING_RAW_READING_RETENTION_DAYS",
        "Raw readings kept with alerts are deleted this long after they were taken",
        LOCAL + "; a worker job enforces it",
        False,
        "days",
    ),
    PolicySetting(
        "MONITORING_ESCALATION_LATE_SECONDS",
        "An escalation step this late whose job will not run by itself gets a new job",
        "Issue 4: a sweeper re-kicks any step more than a few seconds late (docs/adr/0011)",
        True,
        "seconds",
    ),
)


def register_monitoring_settings() -> None:
    register(*SETTINGS)
