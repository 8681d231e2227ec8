"""Who may do what in monitoring, and what the scoped reads return."""

from datetime import timedelta

import pytest

from saferprisons.accounts.roles import ROLES
from saferprisons.monitoring import permissions as monitoring
from saferprisons.monitoring.ingest import IngestPipeline
from saferprisons.monitoring.selectors import dead_letters, devices, ingest_counters, rollups
from saferprisons.people import permissions as people

from .conftest import NIGHT, NIGHT_MS, batch, reading

GRANTS = {
    "WING_OFFICER": {monitoring.VIEW_ALERTS, monitoring.RESPOND},
    "CUSTODIAL_MANAGER": {
        monitoring.VIEW_ALERTS,
        monitoring.RESPOND,
        monitoring.MANAGE_ENROLMENT,
        monitoring.CONFIGURE_RULES,
        monitoring.VIEW_OPERATIONS,
    },
    "HEALTHCARE": {monitoring.VIEW_ALERTS, monitoring.RESPOND, monitoring.VIEW_VITAL_SIGNS},
    "PSYCHOLOGIST": {monitoring.VIEW_ALERTS, monitoring.RESPOND},
    "SECURITY": {monitoring.VIEW_ALERTS, monitoring.RESPOND},
    "DUTY_GOVERNOR": {
        monitoring.VIEW_ALERTS,
        monitoring.RESPOND,
        monitoring.MANAGE_ENROLMENT,
        monitoring.CONFIGURE_RULES,
        monitoring.VIEW_OPERATIONS,
    },
    "HQ_ANALYST": set(),
    "AUDITOR": set(),
    "SYSTEM_ADMIN": {monitoring.MANAGE_DEVICES, monitoring.VIEW_OPERATIONS},
}


@pytest.mark.parametrize("code", sorted(ROLES))
def test_monitoring_grants(code):
    granted = {p for p in ROLES[code].permissions if p.startswith("monitoring.")}
    assert granted == GRANTS[code]
    # Whoever works with people on the wing answers alerts; nobody else does.
    assert (monitoring.RESPOND in granted) is (people.VIEW_PRISONER in ROLES[code].permissions)
    assert monitoring.INGEST not in granted  # only a gateway's token sends readings


def test_vital_sign_figures_only_for_healthcare(monitored, pipeline):
    from saferprisons.conftest import make_user

    pipeline.ingest(
        batch(reading("ZNA-A1-001-V", NIGHT_MS - 1000, pulse_bpm=58.0, pulse_quality=0.9)),
        gateway=monitored.gateway_ref,
    )
    pipeline.flush(everything=True)
    device = monitored.devices[0]
    window = (NIGHT - timedelta(hours=1), NIGHT + timedelta(hours=1))
    officer_view = rollups(monitored.officer, device, *window)
    nurse_view = rollups(monitored.nurse, device, *window)
    assert "pulse_min" not in officer_view[0] and officer_view[0]["reading_count"] == 1
    assert (nurse_view[0]["pulse_min"], nurse_view[0]["pulse_quality_min"]) == (58.0, 0.9)
    outsider = make_user("officer.south", ["WING_OFFICER"], [monitored.south])
    with pytest.raises(Exception, match="No such device"):
        rollups(outsider, device, *window)


def test_operations_reads_are_scoped(monitored):
    pipeline = IngestPipeline()
    pipeline.ingest(batch(reading("ZNA-NOPE", NIGHT_MS)), gateway=monitored.gateway_ref)
    pipeline.flush(everything=True)
    since = NIGHT - timedelta(hours=1)
    assert [d.reason for d in dead_letters(monitored.manager, monitored.north)] == [
        "UNKNOWN_DEVICE"
    ]
    assert dead_letters(monitored.officer, monitored.north).count() == 0
    assert dead_letters(monitored.south_manager, monitored.north).count() == 0
    assert [c.dead_lettered for c in ingest_counters(monitored.admin, monitored.north, since)] == [
        1
    ]
    assert devices(monitored.admin, monitored.north).count() == 3
    assert devices(monitored.officer, monitored.north).count() == 0


def test_the_policy_page_shows_the_monitoring_settings(monitored, client):
    client.force_login(monitored.admin)
    body = client.get("/policy-settings/").content.decode()
    assert "MONITORING_RAW_READING_RETENTION_DAYS" in body
    assert "MONITORING_ALERT_WINDOW_BEFORE_SECONDS" in body
