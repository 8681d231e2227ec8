"""The monitoring console and the pages for responding to an alert, as staff see them: a frozen
night-time clock, alerts opened as ingest opens them, exact values."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saferprisons.audit.models import AuditEvent
from saferprisons.monitoring import services
from saferprisons.monitoring.constants import (
    NOT_SUPERVISION_NOTICE,
    AlertOutcome,
    Priority,
    RuleKind,
    Zone,
)
from saferprisons.monitoring.models import Alert, AlertReading, EscalationStep

from .alerting import open_alert, put_on_acct, run_due_jobs
from .conftest import NIGHT

CONSOLE = "/monitoring/console/"
ROWS = "/monitoring/console/rows/"


@pytest.fixture
def client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def alert_ids(html: str) -> list[str]:
    return re.findall(r'data-alert-id="([0-9a-f-]+)"', html)


def text_of(response) -> str:
    """The page's words, tags removed and spaces collapsed."""
    html = response.content.decode()
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r" ([,.])", r"\1", spaced)


def console_views() -> int:
    return AuditEvent.objects.filter(object_type="monitoring_console").count()


def keep_reading(alert, seconds_before: int, **fields) -> AlertReading:
    values = {"persons_present": 1, "activity_level": 0.01, "zone": Zone.BED, **fields}
    return AlertReading.objects.create(
        alert=alert, recorded_at=alert.triggered_at - timedelta(seconds=seconds_before), **values
    )


# --- The console ------------------------------------------------------------------------------


def test_the_console_lists_open_alerts_high_priority_first_then_the_longest_waiting(
    monitored, client_for
):
    cells = monitored.north_cells
    medium_old = open_alert(monitored, rule=RuleKind.SECOND_PERSON, priority=Priority.MEDIUM)
    monitored.traveller.shift(timedelta(minutes=1))
    high_old = open_alert(monitored, cell=cells[1], prisoner=None)
    monitored.traveller.shift(timedelta(minutes=1))
    low = open_alert(monitored, rule=RuleKind.PULSE_OUT_OF_RANGE, priority=Priority.LOW)
    high_new = open_alert(monitored, rule=RuleKind.TAMPERED, cell=cells[2], prisoner=None)
    closed = open_alert(monitored, rule=RuleKind.BATHROOM_OCCUPANCY, priority=Priority.MEDIUM)
    services.resolve_alert(actor=monitored.officer, alert=closed, outcome=AlertOutcome.FALSE_ALARM)

    response = client_for(monitored.officer).get(CONSOLE)
    assert response.status_code == 200
    html = response.content.decode()
    assert alert_ids(html) == [str(a.public_id) for a in (high_old, high_new, medium_old, low)]
    text = text_of(response)
    assert NOT_SUPERVISION_NOTICE in text
    assert (
        "4 open monitoring alerts: 2 high priority, 1 medium, 1 low. 4 not yet acknowledged."
        in text
    )
    assert "BRIGHTWATER, Sam A1234BC" in text and "No one allocated" in text
    # Unacknowledged high-priority rows carry the cue marker for the sound.
    assert html.count("data-cue") == 2
    assert 'src="/static/monitoring/console.js"' in html and "<script>" not in html
    assert 'src="/static/monitoring/alert-high.wav"' in html


def test_pulse_and_breathing_are_shown_only_to_healthcare_and_never_as_a_diagnosis(
    monitored, client_for
):
    alert = open_alert(
        monitored,
        rule=RuleKind.PULSE_OUT_OF_RANGE,
        priority=Priority.LOW,
        measured_value=138.0,
        measured_quality=0.85,
    )
    keep_reading(alert, 0, pulse_bpm=138.0, pulse_quality=0.85, activity_level=0.4)
    nurse = text_of(client_for(monitored.nurse).get(CONSOLE))
    assert "Spot pulse 138 a minute, quality 0.85. A spot measurement, not a diagnosis." in nurse
    assert (
        "At the alert: 1 person, activity 0.40, bed, spot pulse 138 a minute (quality 0.85)"
        in nurse
    )
    officer = text_of(client_for(monitored.officer).get(CONSOLE))
    assert "A spot reading outside the set range. The figures are shown to healthcare staff." in (
        officer
    )
    assert "138" not in officer
    assert "At the alert: 1 person, activity 0.40, bed" in officer


def test_the_escalation_state_shows_who_was_told_and_who_is_next(monitored, client_for):
    alert = open_alert(monitored)
    client = client_for(monitored.officer)
    assert "Next: Wing officer at 02:00:00" in text_of(client.get(CONSOLE))
    run_due_jobs()
    text = text_of(client.get(CONSOLE))
    assert "Told Wing officer at 02:00:00" in text
    assert "Next: Custodial manager / safer custody lead at 02:01:00" in text
    monitored.traveller.shift(timedelta(seconds=20))
    services.acknowledge_alert(actor=monitored.officer, alert=alert)
    text = text_of(client.get(CONSOLE))
    assert "Stopped when acknowledged (2 steps not needed)" in text
    assert "Acknowledged by officer.north at 02:00:20" in text


def test_a_poll_is_audited_only_when_the_alerts_shown_change(monitored, client_for):
    open_alert(monitored)
    client = client_for(monitored.officer)
    client.get(CONSOLE)
    assert console_views() == 1
    for _ in range(3):
        response = client.get(ROWS)
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert response["X-Console-Updated"] == "02:00:00"
    assert console_views() == 1
    open_alert(monitored, rule=RuleKind.TAMPERED)
    client.get(ROWS)
    client.get(ROWS)
    assert console_views() == 2
    event = AuditEvent.objects.filter(object_type="monitoring_console").order_by("sequence").last()
    assert (event.action, event.actor_label, event.details["result_count"]) == (
        "view",
        "officer.north",
        2,
    )


def test_a_poll_takes_the_same_number_of_queries_for_one_alert_or_four(monitored, client_for):
    client = client_for(monitored.nurse)
    keep_reading(open_alert(monitored), 0)
    client.get(CONSOLE)
    client.get(ROWS)
    with CaptureQueriesContext(connection) as one:
        client.get(ROWS)
    for number, cell in enumerate(monitored.north_cells[1:] + monitored.safe_cells, start=1):
        alert = open_alert(monitored, cell=cell, prisoner=None, rule=RuleKind.TAMPERED)
        keep_reading(alert, number)
    run_due_jobs()
    client.get(ROWS)  # the set changed: audited once
    with CaptureQueriesContext(connection) as four:
        response = client.get(ROWS)
    assert len(alert_ids(response.content.decode())) == 4
    assert len(four) == len(one)


# --- Responding -------------------------------------------------------------------------------


def test_acknowledge_reset_and_resolve_from_the_console(monitored, client_for):
    alert = open_alert(monitored)
    client = client_for(monitored.officer)
    response = client.post(f"/monitoring/alerts/{alert.public_id}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == CONSOLE
    assert "Acknowledged: No activity in an occupied cell, cell A-1-001" in text_of(
        client.get(CONSOLE)
    )
    page = f"/monitoring/alerts/{alert.public_id}/"
    response = client.post(f"/monitoring/alerts/{alert.public_id}/reset/", {"next": page})
    assert response["Location"] == page
    resolve = f"/monitoring/alerts/{alert.public_id}/resolve/"
    assert "What was found?" in text_of(client.get(resolve))
    refused = client.post(resolve, {"note": "Checked"})
    assert refused.status_code == 400
    assert "There is a problem" in text_of(refused) and "Choose what was found" in text_of(refused)
    alert.refresh_from_db()
    assert alert.resolved_at is None
    done = client.post(resolve, {"outcome": "PERSON_SAFE", "note": "Asleep, breathing normally"})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.outcome, alert.resolution_note, alert.resolved_at) == (
        AlertOutcome.PERSON_SAFE,
        "Asleep, breathing normally",
        NIGHT,
    )
    text = text_of(client.get(CONSOLE))
    assert "Resolved: welfare check done, person safe (cell A-1-001)" in text
    assert "No open monitoring alerts in HMP Northfold." in text


def test_a_high_priority_alert_is_reset_before_it_is_resolved(monitored, client_for):
    alert = open_alert(monitored)
    client = client_for(monitored.officer)
    resolve = f"/monitoring/alerts/{alert.public_id}/resolve/"
    page = text_of(client.get(resolve))
    assert "Reset this high-priority alert at the cell before you resolve it." in page
    refused = client.post(resolve, {"outcome": "FALSE_ALARM"})
    assert refused.status_code == 400
    assert "Reset this high-priority alert before you resolve it" in text_of(refused)
    alert.refresh_from_db()
    assert alert.resolved_at is None and alert.acknowledged_at is None


def test_resetting_an_alert_that_is_not_high_priority_is_refused_clearly(monitored, client_for):
    alert = open_alert(monitored, rule=RuleKind.SECOND_PERSON, priority=Priority.MEDIUM)
    response = client_for(monitored.officer).post(f"/monitoring/alerts/{alert.public_id}/reset/")
    assert response.status_code == 409
    assert "Only a high-priority alert is reset" in text_of(response)


def test_self_harm_found_says_an_incident_is_needed_and_a_review_is_due(monitored, client_for):
    put_on_acct(monitored)
    alert = open_alert(monitored)
    client = client_for(monitored.officer)
    client.post(f"/monitoring/alerts/{alert.public_id}/reset/")
    client.post(
        f"/monitoring/alerts/{alert.public_id}/resolve/",
        {"outcome": "SELF_HARM_FOUND", "note": "Cuts to the arm; healthcare called"},
    )
    assert (
        "Resolved: self-harm found. An incident must be reported and an ACCT case review is now "
        "due. Record it in the incident reporting system. (cell A-1-001)"
    ) in text_of(client.get(CONSOLE))
    page = text_of(client.get(f"/monitoring/alerts/{alert.public_id}/"))
    assert "To be reported (incident reporting is not yet part of this service)" in page
    assert "A case review was demanded (self-harm)" in page


def test_the_alert_page_shows_its_readings_and_is_audited(monitored, client_for):
    alert = open_alert(monitored)
    keep_reading(alert, 1, pulse_bpm=52.0, pulse_quality=0.7)
    keep_reading(alert, 0, tampered=True, battery_percent=81.0)
    officer = client_for(monitored.officer).get(f"/monitoring/alerts/{alert.public_id}/")
    assert officer.status_code == 200
    text = text_of(officer)
    assert "02:00:00 1 0.01 Bed Tampered or obstructed, battery 81%" in text
    assert "Spot pulse" not in text and "52" not in text
    event = AuditEvent.objects.get(object_type="monitoring_alert", action="view")
    assert event.details == {"readings": 2, "vital_signs_shown": False}
    nurse = text_of(client_for(monitored.nurse).get(f"/monitoring/alerts/{alert.public_id}/"))
    assert "01:59:59 1 0.01 Bed 52 (0.70)" in nurse


# --- Who may do what --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["auditor", "admin", "analyst"])
def test_people_without_monitoring_alerts_cannot_see_the_console(monitored, client_for, who):
    alert = open_alert(monitored)
    client = client_for(getattr(monitored, who))
    for url in (
        CONSOLE,
        ROWS,
        f"/monitoring/alerts/{alert.public_id}/",
        "/monitoring/notifications/",
    ):
        assert client.get(url).status_code == 403, url


def test_another_prison_s_alert_is_not_found(monitored, client_for):
    alert = open_alert(monitored)
    client = client_for(monitored.south_manager)
    assert client.get(f"/monitoring/alerts/{alert.public_id}/").status_code == 404
    assert client.post(f"/monitoring/alerts/{alert.public_id}/acknowledge/").status_code == 404
    assert alert_ids(client.get(CONSOLE).content.decode()) == []
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_responding_needs_a_post(monitored, client_for):
    alert = open_alert(monitored)
    client = client_for(monitored.officer)
    assert client.get(f"/monitoring/alerts/{alert.public_id}/acknowledge/").status_code == 405


# --- Notifications and the chain ---------------------------------------------------------------


def test_each_role_sees_the_notifications_for_it(monitored, client_for):
    alert = open_alert(monitored)
    run_due_jobs()
    monitored.traveller.shift(timedelta(seconds=180))
    run_due_jobs()
    url = "/monitoring/notifications/"

    def steps(user):
        html = client_for(user).get(url).content.decode()
        return re.findall(r'data-alert-id="[^"]+" data-step="(\d)"', html)

    assert steps(monitored.officer) == ["1"]
    assert steps(monitored.manager) == ["2"]
    assert steps(monitored.nurse) == ["3"]
    text = text_of(client_for(monitored.nurse).get(url))
    assert "Healthcare (mental health nurse) (step 3)" in text
    services.acknowledge_alert(actor=monitored.officer, alert=alert)
    assert "Acknowledged by officer.north" in text_of(client_for(monitored.nurse).get(url))


def test_a_manager_sets_the_chain_on_its_page(monitored, client_for):
    client = client_for(monitored.manager)
    page = client.get("/monitoring/escalation/")
    assert page.status_code == 200
    assert "This prison uses the standard chain shown below" in text_of(page)
    form = {
        "step-1-delay": "0",
        "step-1-roles": ["WING_OFFICER"],
        "step-1-priorities": ["HIGH", "MEDIUM", "LOW"],
        "step-2-delay": "45",
        "step-2-roles": ["CUSTODIAL_MANAGER", "HEALTHCARE"],
        "step-2-priorities": ["HIGH"],
        "step-2-email": "oo@example.gov.uk",
        "step-3-delay": "",
    }
    saved = client.post("/monitoring/escalation/", form)
    assert saved.status_code == 302
    assert list(
        EscalationStep.objects.order_by("number").values_list(
            "delay_seconds", "roles", "priorities", "email_address"
        )
    ) == [
        (0, ["WING_OFFICER"], ["HIGH", "MEDIUM", "LOW"], ""),
        (45, ["CUSTODIAL_MANAGER", "HEALTHCARE"], ["HIGH"], "oo@example.gov.uk"),
    ]
    refused = client.post("/monitoring/escalation/", {**form, "step-2-delay": "soon"})
    assert refused.status_code == 400
    assert "Step 2: enter the wait in whole seconds, like 60" in text_of(refused)
    assert 'value="soon"' in refused.content.decode()
    assert EscalationStep.objects.count() == 2
    assert client_for(monitored.officer).get("/monitoring/escalation/").status_code == 403


def test_every_monitoring_screen_says_it_is_not_constant_supervision(monitored, client_for):
    alert = open_alert(monitored)
    pages = [
        (monitored.officer, CONSOLE),
        (monitored.officer, ROWS.replace("rows/", "")),
        (monitored.officer, f"/monitoring/alerts/{alert.public_id}/"),
        (monitored.officer, f"/monitoring/alerts/{alert.public_id}/resolve/"),
        (monitored.officer, "/monitoring/notifications/"),
        (monitored.manager, "/monitoring/escalation/"),
    ]
    for user, url in pages:
        assert NOT_SUPERVISION_NOTICE in text_of(client_for(user).get(url)), url


# --- The wing safety board --------------------------------------------------------------------


def test_open_alerts_are_tagged_on_the_wing_safety_board(monitored, client_for):
    put_on_acct(monitored)
    alert = open_alert(monitored)
    open_alert(monitored, rule=RuleKind.SECOND_PERSON, priority=Priority.MEDIUM)
    client = client_for(monitored.officer)
    text = text_of(client.get("/acct/board/rows/"))
    assert "Monitoring alert: no activity in an occupied cell (high priority)" in text
    assert "Monitoring alert: second person in a single-occupancy cell (medium priority)" in text
    services.reset_alert(actor=monitored.officer, alert=alert)
    services.resolve_alert(actor=monitored.officer, alert=alert, outcome=AlertOutcome.FALSE_ALARM)
    text = text_of(client.get("/acct/board/rows/"))
    assert "no activity in an occupied cell" not in text
    assert text.count("Monitoring alert:") == 1
    # Someone without monitoring.view_alerts sees no tag (no such role sees the board today,
    # so the selector is asked directly).
    from saferprisons.monitoring.selectors import open_alerts_by_person

    assert open_alerts_by_person(monitored.auditor, monitored.north, [alert.prisoner_id]) == {}
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 1
