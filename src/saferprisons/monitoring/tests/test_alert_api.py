"""The console's API: open alerts for a prison; acknowledge, reset, resolve. Staff sessions (no
token scope grants monitoring alerts); the same permissions, refusals and audit as the pages."""

from datetime import timedelta

from django.test import Client

from saferprisons.audit.models import AuditEvent
from saferprisons.monitoring.constants import AlertOutcome, Priority, RuleKind, Zone
from saferprisons.monitoring.models import Alert, AlertReading

from .alerting import open_alert, put_on_acct, run_due_jobs
from .conftest import NIGHT, iso


def test_open_alerts_for_a_prison_in_console_order_with_their_escalation(monitored, api_for):
    medium = open_alert(monitored, rule=RuleKind.SECOND_PERSON, priority=Priority.MEDIUM)
    high = open_alert(monitored, cell=monitored.north_cells[1], prisoner=None)
    AlertReading.objects.create(
        alert=high,
        recorded_at=NIGHT,
        persons_present=1,
        activity_level=0.0,
        zone=Zone.BATHROOM,
        pulse_bpm=44.0,
        pulse_quality=0.9,
    )
    run_due_jobs()
    response = api_for(monitored.officer).get("/api/monitoring/prisons/zna/alerts")
    assert response.status_code == 200
    body = response.json()
    assert [a["id"] for a in body] == [str(high.public_id), str(medium.public_id)]
    first = body[0]
    assert {k: first[k] for k in ("prison", "cell", "prison_number", "rule", "priority")} == {
        "prison": "ZNA",
        "cell": "A-1-002",
        "prison_number": None,
        "rule": "NO_ACTIVITY",
        "priority": "HIGH",
    }
    assert first["status"] == "OPEN" and first["opened_at"] == iso(NIGHT)
    assert first["escalation"] == [
        {"number": 1, "roles": ["WING_OFFICER"], "due_at": iso(NIGHT), "status": "FIRED",
         "fired_at": iso(NIGHT)},
        {"number": 2, "roles": ["CUSTODIAL_MANAGER"], "due_at": iso(NIGHT + timedelta(seconds=60)),
         "status": "PENDING", "fired_at": None},
        {"number": 3, "roles": ["HEALTHCARE", "DUTY_GOVERNOR"],
         "due_at": iso(NIGHT + timedelta(seconds=180)), "status": "PENDING", "fired_at": None},
    ]  # fmt: skip
    # Spot pulse only for healthcare.
    assert first["reading_at_alert"]["zone"] == "bathroom"
    assert first["reading_at_alert"]["pulse_bpm"] is None
    nurse = api_for(monitored.nurse).get("/api/monitoring/prisons/ZNA/alerts").json()
    assert (
        nurse[0]["reading_at_alert"]["pulse_bpm"],
        nurse[0]["reading_at_alert"]["pulse_quality"],
    ) == (
        44.0,
        0.9,
    )
    views = AuditEvent.objects.filter(object_type="monitoring_console")
    assert views.count() == 2


def test_another_prison_or_no_permission_is_refused(monitored, api_for):
    open_alert(monitored)
    assert (
        api_for(monitored.south_manager).get("/api/monitoring/prisons/ZNA/alerts").status_code
        == 404
    )
    assert api_for(monitored.auditor).get("/api/monitoring/prisons/ZNA/alerts").status_code == 403
    assert Client().get("/api/monitoring/prisons/ZNA/alerts").status_code == 401


def test_acknowledge_reset_resolve_through_the_api(monitored, api_for):
    put_on_acct(monitored)
    alert = open_alert(monitored)
    client = api_for(monitored.officer)
    base = f"/api/monitoring/alerts/{alert.public_id}"
    acknowledged = client.post(f"{base}/acknowledge")
    assert acknowledged.status_code == 200
    body = acknowledged.json()
    assert (body["status"], body["acknowledged_by"], body["acknowledged_at"]) == (
        "ACKNOWLEDGED",
        "officer.north",
        iso(NIGHT),
    )
    assert [s["status"] for s in body["escalation"]] == ["CANCELLED"] * 3
    early = client.post(
        f"{base}/resolve", {"outcome": "FALSE_ALARM"}, content_type="application/json"
    )
    assert early.status_code == 409
    assert (
        early.json()["error"]["message"] == "Reset this high-priority alert before you resolve it"
    )
    assert client.post(f"{base}/reset").json()["status"] == "RESET"
    bad = client.post(f"{base}/resolve", {"outcome": "MAYBE"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == [
        {"field": "outcome", "message": "Choose what was found"}
    ]
    resolved = client.post(
        f"{base}/resolve",
        {"outcome": "SELF_HARM_FOUND", "note": "Healthcare attended"},
        content_type="application/json",
    )
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["outcome"], body["note"]) == (
        "RESOLVED",
        AlertOutcome.SELF_HARM_FOUND,
        "Healthcare attended",
    )
    assert (body["incident_pending"], body["acct_review_demanded"]) == (True, True)
    # Again: no change.
    assert client.post(f"{base}/acknowledge").json()["status"] == "RESOLVED"


def test_responding_to_an_unknown_or_out_of_scope_alert_is_404(monitored, api_for):
    alert = open_alert(monitored)
    south = api_for(monitored.south_manager)
    assert south.post(f"/api/monitoring/alerts/{alert.public_id}/acknowledge").status_code == 404
    unknown = "/api/monitoring/alerts/00000000-0000-0000-0000-000000000000/reset"
    assert api_for(monitored.officer).post(unknown).status_code == 404
    assert Alert.objects.get().acknowledged_at is None
