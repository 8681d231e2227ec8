"""In-cell monitoring journeys in a real browser, each page checked with axe-core.

A gateway posts a stream of readings to the HTTP ingest endpoint of the live server; the alert
it opens must be on the console within 4 seconds (the console polls every 2). The live server
runs in this process, so time-machine freezes its clock too (not ticking: times shown are exact);
a journey that needs escalation shifts the clock and runs the due worker jobs in the test thread,
as the worker would. The browser's own timers (the poll) run on real time.
"""

import re
from datetime import date, datetime, timedelta

import orjson
import pytest
import time_machine
from playwright.sync_api import expect

from saferprisons.acct import services as acct_services
from saferprisons.conftest import make_user
from saferprisons.core.clock import LONDON
from saferprisons.estate.models import Location
from saferprisons.jobs import worker
from saferprisons.monitoring import services
from saferprisons.monitoring.constants import (
    NOT_SUPERVISION_NOTICE,
    DeviceKind,
    EnrolmentBasis,
    Priority,
    RuleKind,
)
from saferprisons.monitoring.ingest import reset_default_pipeline
from saferprisons.monitoring.models import Alert, Notification
from saferprisons.monitoring.rules import to_ms

pytestmark = pytest.mark.e2e

# 02:00 on a Saturday in November: London is on GMT, so times shown equal UTC. Night rules.
START = datetime(2026, 11, 28, 2, 0, tzinfo=LONDON)
APPEARS_WITHIN_MS = 4_000
DEVICE = "ZNA-A1-001-V"


@pytest.fixture(autouse=True)
def london_clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def monitored_wing(e2e_estate):
    """A gateway and a sensor in A-1-001, its occupant enrolled and on an ACCT; no activity
    for 60 s at night raises a high-priority alert."""
    reset_default_pipeline()
    world = e2e_estate
    north = world["north"]
    admin = make_user("admin.hq", ["SYSTEM_ADMIN"], [north])
    gateway, secret = services.register_gateway(
        actor=admin, prison=north, code="A-WING", name="A wing gateway"
    )
    services.register_device(
        actor=admin,
        gateway=gateway,
        cell=Location.objects.get(prison=north, path="A-1-001"),
        external_id=DEVICE,
        kind=DeviceKind.VISION,
        vendor="Fictional Sensors Ltd",
        serial="FS-00001",
        installed_at=START - timedelta(days=1),
    )
    services.enrol(
        actor=world["manager"],
        prisoner=world["north_person"],
        basis=EnrolmentBasis.CONSENT,
        review_on=date(2026, 12, 12),
        starts_at=START - timedelta(hours=1),
        ends_at=START + timedelta(days=28),
    )
    services.configure_rule(
        actor=world["manager"],
        prison=north,
        kind=RuleKind.NO_ACTIVITY,
        priority=Priority.HIGH,
        day_threshold_seconds=1800,
        night_threshold_seconds=60,
    )
    acct_services.raise_concern(
        actor=world["officer"],
        prisoner=world["north_person"],
        source="STAFF_OBSERVATION",
        seen_or_heard="Quiet and withdrawn at tea",
        immediate_risk="Said he did not want to wake up",
        action_taken="Stayed with him and told the manager",
    )
    worker.start_worker("e2e-worker")  # the console warns when no worker is alive
    yield {**world, "secret": secret}
    reset_default_pipeline()


def still_for(seconds: int) -> bytes:
    """One reading a second up to now: a person in bed, barely moving."""
    now_ms = to_ms(START)
    readings = [
        {
            "device_id": DEVICE,
            "timestamp_ms": now_ms - 1000 * back,
            "persons_present": 1,
            "activity_level": 0.01,
            "zone": "bed",
            "pulse_bpm": 58,
            "pulse_quality": 0.8,
        }
        for back in range(seconds, -1, -1)
    ]
    return orjson.dumps({"schema_version": 1, "readings": readings})


def post_readings(page, secret: str, body: bytes) -> dict:
    response = page.request.post(
        "/api/monitoring/readings",
        data=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    assert response.status == 202, response.text()
    return response.json()


def run_due_jobs() -> None:
    while claimed := worker.claim_due_jobs("e2e-worker"):
        for job in claimed:
            worker.run_job(job.pk, job.token)
    worker.beat("e2e-worker")


def console_row(page):
    return page.locator("tr[data-alert-id]")


def expect_notice(page):
    expect(page.get_by_test_id("not-constant-supervision")).to_contain_text(NOT_SUPERVISION_NOTICE)


def test_an_alert_appears_is_escalated_when_ignored_acknowledged_and_resolved(
    page, monitored_wing, london_clock, axe, sign_in, screenshot
):
    world = monitored_wing
    sign_in(page, "officer.north")
    page.get_by_role("link", name="Monitoring", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring console")
    expect_notice(page)
    expect(page.get_by_test_id("console-empty")).to_contain_text("No open monitoring alerts")
    expect(page.get_by_role("button", name="Mute the alert sound")).to_be_visible()
    axe(page, "console, no alerts")

    # A gateway sends 70 s of stillness: the alert opens and the console shows it within 4 s.
    assert post_readings(page, world["secret"], still_for(70))["alerts_opened"] == 1
    row = console_row(page)
    expect(row).to_have_count(1, timeout=APPEARS_WITHIN_MS)
    expect(row).to_contain_text("High priority")
    expect(row).to_contain_text("No activity in an occupied cell")
    expect(row).to_contain_text("Cell A-1-001")
    expect(row).to_contain_text("BRIGHTWATER, Sam")
    expect(row).to_contain_text("At the alert: 1 person, activity 0.01, bed")
    expect(row).not_to_contain_text("pulse")  # spot vital signs are for healthcare only
    expect(row).to_contain_text("Not acknowledged")
    # The new high-priority alert sounded the cue (the sound is on by default).
    expect(page.locator("[data-console-rows]")).to_have_attribute("data-cue-count", "1")
    expect(page.locator("[data-console-live]")).to_have_text(
        "1 open monitoring alert: 1 high priority, 0 medium, 0 low. 1 not yet acknowledged."
    )
    axe(page, "console with a high-priority alert")
    alert = Alert.objects.get()

    # Nobody answers: the wing at once, then the orderly officer after 60 s.
    run_due_jobs()
    expect(row).to_contain_text("Told Wing officer at 02:00:00")
    london_clock.shift(timedelta(seconds=60))
    run_due_jobs()
    expect(row).to_contain_text(
        "Told Custodial manager / safer custody lead at 02:01:00", timeout=APPEARS_WITHIN_MS
    )
    expect(row).to_contain_text("Next: Healthcare (mental health nurse) and Duty governor")
    screenshot(page, "monitoring-console-escalated.png")

    # The wing safety board shows the alert on the person's row.
    page.goto("/acct/board/")
    expect(page.locator("tr[data-prison-number='A1234BC']")).to_contain_text(
        "Monitoring alert: no activity in an occupied cell (high priority)"
    )
    axe(page, "safety board with a monitoring alert")

    # The officer acknowledges: the rest of the chain is stopped.
    page.goto("/monitoring/console/")
    page.locator(f"#acknowledge-{alert.public_id}").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Acknowledged: No activity in an occupied cell, cell A-1-001"
    )
    expect(row).to_contain_text("Acknowledged")
    expect(row).to_contain_text("Stopped when acknowledged (1 step not needed)")
    london_clock.shift(timedelta(seconds=180))
    run_due_jobs()
    assert not Notification.objects.filter(escalation__number=3).exists()
    axe(page, "console, acknowledged")

    # At the cell: reset (high priority), then resolve with what was found.
    page.locator(f"#reset-{alert.public_id}").click()
    expect(row).to_contain_text("Reset")
    page.locator(f"#resolve-{alert.public_id}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Resolve: no activity in an occupied cell"
    )
    expect_notice(page)
    axe(page, "resolve form")
    page.get_by_role("button", name="Resolve the alert").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose what was found")
    expect(page).to_have_title(re.compile(r"^Error: "))
    axe(page, "resolve form with errors")
    page.get_by_label("Self-harm found").check()
    page.get_by_label("Note (optional)").fill("Superficial cuts to the forearm; healthcare called")
    page.get_by_role("button", name="Resolve the alert").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Resolved: self-harm found. An incident must be reported and an ACCT case review is "
        "now due."
    )
    expect(page.get_by_test_id("console-empty")).to_be_visible()
    axe(page, "console after resolving")
    alert.refresh_from_db()
    assert (alert.outcome, alert.incident_pending) == ("SELF_HARM_FOUND", True)
    assert alert.acct_review_demand is not None

    # The orderly officer sees what was escalated to them, and how it ended.
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "manager.north", check=False)
    page.goto("/monitoring/notifications/")
    expect_notice(page)
    item = page.locator(f"tr[data-alert-id='{alert.public_id}']")
    expect(item).to_contain_text("Custodial manager / safer custody lead (step 2)")
    expect(item).to_contain_text("Resolved")
    axe(page, "notifications")
    item.get_by_role("link").click()
    expect(page.get_by_test_id("alert-summary")).to_contain_text("Self-harm found")
    expect(page.get_by_test_id("alert-summary")).to_contain_text(
        "To be reported (incident reporting is not yet part of this service)"
    )
    expect(page.get_by_test_id("alert-readings")).to_be_visible()
    axe(page, "alert page, resolved")
    page.goto("/monitoring/escalation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Escalation chain")
    axe(page, "escalation chain")


def test_an_officer_can_mute_the_sound_for_new_high_priority_alerts(
    page, monitored_wing, axe, sign_in
):
    sign_in(page, "officer.north", check=False)
    page.goto("/monitoring/console/")
    page.get_by_role("button", name="Mute the alert sound").click()
    expect(page.get_by_role("button", name="Turn the alert sound on")).to_be_visible()
    expect(page.locator("[data-sound-status]")).to_have_text(
        "The alert sound is off in this browser."
    )
    post_readings(page, monitored_wing["secret"], still_for(70))
    expect(console_row(page)).to_have_count(1, timeout=APPEARS_WITHIN_MS)
    region = page.locator("[data-console-rows]")
    expect(region).to_have_attribute("data-cue-muted", "1")
    assert region.get_attribute("data-cue-count") is None
    # The choice is kept in this browser.
    page.reload()
    expect(page.get_by_role("button", name="Turn the alert sound on")).to_be_visible()
    axe(page, "console, sound off")


def test_a_manager_enrols_a_person_and_sets_a_rule(page, e2e_estate, axe, sign_in):
    sign_in(page, "manager.north", check=False)
    page.goto("/people/A1234BC/")
    expect(page.locator("#monitoring")).to_have_text("In-cell monitoring pilot")
    page.get_by_role("button", name="Enrol in monitoring").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enrol in in-cell monitoring")
    expect_notice(page)
    axe(page, "enrol")

    # A manager's decision without its reason is refused, and says so.
    page.get_by_label("A manager's documented decision").check()
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the reason for the decision"
    )
    axe(page, "enrol with an error")
    page.get_by_label("Reason for the decision").fill(
        "Recent self-harm; consent declined while unwell. Agreed with healthcare."
    )
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "BRIGHTWATER, Sam is enrolled in monitoring"
    )
    expect(page.locator("main")).to_contain_text("Readings from this person's cell are monitored")
    expect(page.locator("main")).to_contain_text("A manager's documented decision")
    # Proposed dates: a review in 28 days, monitoring to the end of the 91st day.
    expect(page.locator("main")).to_contain_text("Review by 26 Dec 2026")
    expect(page.locator("main")).to_contain_text("Until 28 Feb 2027 00:00")
    axe(page, "profile, enrolled")

    # The rules: stillness at night after 15 minutes instead of 20.
    page.goto("/monitoring/console/")
    page.get_by_role("link", name="Monitoring rules").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Monitoring rules")
    axe(page, "rules")
    page.get_by_role("link", name="Change no activity in an occupied cell").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("No activity in an occupied cell")
    axe(page, "edit a rule")
    page.get_by_label("By night: alert after how many minutes?").fill("15")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "No activity in an occupied cell: saved"
    )
    row = page.get_by_role("row", name=re.compile("^No activity in an occupied cell"))
    expect(row).to_contain_text("30 min")
    expect(row).to_contain_text("15 min")
    expect(row).to_contain_text("This prison")

    # Landing A-1 gets its own, shorter wait at night; then it goes back to the prison's.
    page.get_by_role("button", name="Set a rule for a wing or landing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set a rule for a wing or landing")
    axe(page, "choose a wing or landing")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page, "choose a wing or landing, with errors")
    page.get_by_label("Wing or landing").select_option("A-1")
    page.get_by_label("Rule").select_option("NO_ACTIVITY")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "No activity in an occupied cell: landing A-1"
    )
    axe(page, "a landing's own setting")
    page.get_by_label("By night: alert after how many minutes?").fill("10")
    page.get_by_role("button", name="Save the rule").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "No activity in an occupied cell: saved for"
    )
    unit_row = page.get_by_role("row").filter(has_text="Change or remove")
    expect(unit_row).to_have_count(1)
    expect(unit_row).to_contain_text("A-1")
    expect(unit_row).to_contain_text("10 min")
    axe(page, "rules with a landing's own setting")
    page.get_by_role("link", name=re.compile("^Change or remove no activity")).click()
    page.get_by_role("button", name=re.compile("own setting$")).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "own setting removed: it follows the setting above it"
    )
    expect(page.get_by_role("link", name=re.compile("^Change or remove"))).to_have_count(0)

    page.get_by_role("link", name="People enrolled").click()
    expect(page.locator("main")).to_contain_text("1 person enrolled")
    axe(page, "people enrolled")


def test_a_system_administrator_registers_a_gateway_and_a_device(page, e2e_estate, axe, sign_in):
    make_user("admin.hq", ["SYSTEM_ADMIN"], [e2e_estate["north"]])
    sign_in(page, "admin.hq", check=False)
    page.get_by_role("link", name="Monitoring devices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring gateways and devices")
    axe(page, "gateways and devices, none yet")
    page.get_by_role("button", name="Register a gateway").click()
    page.get_by_label("Code").fill("A-WING")
    page.get_by_label("Name").fill("A wing monitoring gateway")
    page.get_by_role("button", name="Register the gateway").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Gateway registered")
    expect(page.get_by_test_id("gateway-secret")).to_have_text(re.compile(r"^sp_\w+_\S+$"))
    expect(page.locator("main")).to_contain_text("saferprisons/ZNA/A-WING/readings")
    axe(page, "token shown once")

    page.get_by_role("link", name="Back to gateways and devices").click()
    page.get_by_role("button", name="Register a device").click()
    axe(page, "register a device")
    page.get_by_label("Cell").fill("A-1-001")
    page.get_by_label("Device id").fill("ZNA-A1-001-V")
    page.get_by_label("Contactless vision sensor").check()
    page.get_by_label("Vendor").fill("Fictional Sensors Ltd")
    page.get_by_label("Serial number").fill("FS-00001")
    page.get_by_role("button", name="Register the device").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Device ZNA-A1-001-V registered"
    )
    expect(page.locator("main")).to_contain_text("A-1-001")
    axe(page, "gateways and devices")

    # The vendor updates the sensor: its new firmware is recorded.
    page.get_by_role("link", name="Record firmware change for device ZNA-A1-001-V").click()
    expect(page.get_by_label("New firmware version")).to_be_visible()
    axe(page, "record a firmware change")
    page.get_by_role("button", name="Record the firmware version").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe(page, "record a firmware change, with an error")
    page.get_by_label("New firmware version").fill("4.2.1")
    page.get_by_role("button", name="Record the firmware version").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Device ZNA-A1-001-V: firmware 4.2.1 recorded"
    )
    expect(page.locator("main")).to_contain_text("firmware 4.2.1")
