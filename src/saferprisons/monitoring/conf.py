"""The monitoring settings and their defaults.

A deployment overrides any of these in its Django settings; ``MonitoringConfig.ready`` fills in
the defaults for the rest, so ``settings.MONITORING_...`` always has a value.
"""

import os

from django.conf import settings

DEFAULTS = {
    # A reading stamped further ahead of the server clock than this is refused (dead letter).
    "MONITORING_MAX_CLOCK_SKEW_SECONDS": 5,
    # A reading older than this when it arrives is refused: too late to act on.
    "MONITORING_MAX_READING_AGE_SECONDS": 600,
    "MONITORING_MAX_READINGS_PER_MESSAGE": 1000,
    "MONITORING_MAX_MESSAGE_BYTES": 1_000_000,
    # Raw readings kept with each alert: this long before it opened and after.
    "MONITORING_ALERT_WINDOW_BEFORE_SECONDS": 60,
    "MONITORING_ALERT_WINDOW_AFTER_SECONDS": 60,
    # Raw readings kept with alerts are deleted this long after they were taken.
    "MONITORING_RAW_READING_RETENTION_DAYS": 90,
    # How often the ingest process checks whether devices, enrolments or rules changed.
    "MONITORING_ROSTER_CHECK_SECONDS": 2,
    # How often per-minute rollups and ingest counters are written.
    "MONITORING_FLUSH_SECONDS": 5,
    # How often silent devices are looked for.
    "MONITORING_SILENCE_CHECK_SECONDS": 1,
    # Silence is measured against the newest reading heard from any device (so a backlog is not
    # taken for silence), unless nothing at all has been heard for this long: then the clock.
    "MONITORING_STREAM_STALL_SECONDS": 180,
    # Dead letters stored per message (all are counted): a broken gateway cannot flood the table.
    "MONITORING_DEAD_LETTERS_PER_MESSAGE": 20,
    # Nominal time between a device's readings: one reading counts this long in a zone.
    "MONITORING_READING_SECONDS": 1,
    # An escalation step this late whose job will not run by itself (its worker died, it is
    # waiting to retry, it was cancelled) gets a fresh job and token (docs/adr/0011).
    "MONITORING_ESCALATION_LATE_SECONDS": 5,
    # The escalation sweeper runs at most once per this many seconds, and only while steps wait.
    "MONITORING_ESCALATION_SWEEP_SECONDS": 2,
    # GOV.UK Notify: e-mail and SMS are sent only when a key and the template are configured.
    "MONITORING_NOTIFY_API_KEY": os.environ.get("MONITORING_NOTIFY_API_KEY", ""),
    "MONITORING_NOTIFY_EMAIL_TEMPLATE_ID": os.environ.get(
        "MONITORING_NOTIFY_EMAIL_TEMPLATE_ID", ""
    ),
    "MONITORING_NOTIFY_SMS_TEMPLATE_ID": os.environ.get("MONITORING_NOTIFY_SMS_TEMPLATE_ID", ""),
    # The service's address, for the console link in e-mails and texts (none when empty).
    "MONITORING_SITE_URL": os.environ.get("MONITORING_SITE_URL", ""),
}


def value(name: str):
    return getattr(settings, name, DEFAULTS[name])


def apply_defaults() -> None:
    for name, default in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, default)
