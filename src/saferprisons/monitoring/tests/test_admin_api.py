"""Managing the pilot through the JSON API: enrolments, rule settings for a prison and its wings
and landings, gateways and devices, the escalation chain. The same permissions as the pages,
scoped to the caller's prisons, bad input a 4xx with nothing changed, every write audited."""

from datetime import date, timedelta

import pytest
from django.test import Client

from saferprisons.accounts.services import set_kiosk_pin
from saferprisons.audit.models import AuditEvent
from saferprisons.estate.models import Location
from saferprisons.monitoring.constants import Priority, RuleKind
from saferprisons.monitoring.models import Device, Enrolment, RuleConfig
from saferprisons.monitoring.roster import load_roster

from .conftest import NIGHT, iso

API = "/api/monitoring"
JSON = "application/json"


def rule_body(**changes) -> dict:
    return {
        "enabled": True,
        "priority": Priority.MEDIUM,
        "day_threshold_seconds": 600,
        "night_threshold_seconds": 300,
        **changes,
    }


def audits(object_type: str, action: str | None = None):
    events = AuditEvent.objects.filter(object_type=object_type)
    return events.filter(action=action) if action else events


# --- Enrolments ---------------------------------------------------------------------------------


def test_a_manager_lists_enrolments_enrols_and_ends_one(monitored, api_for):
    client = api_for(monitored.manager)
    listed = client.get(f"{API}/prisons/zna/enrolments")
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 1
    assert body["items"][0] == {
        "id": str(monitored.enrolment.public_id),
        "prison": "ZNA",
        "prison_number": "A1234BC",
        "basis": "CONSENT",
        "decision_reason": "",
        "decided_by": "manager.north",
        "decided_at": iso(NIGHT),
        "review_on": "2026-12-12",
        "starts_at": iso(NIGHT - timedelta(hours=1)),
        "ends_at": iso(NIGHT + timedelta(days=28)),
        "ended_early_by": None,
        "end_reason": "",
    }
    assert audits("monitoring_enrolments", "view").get().details == {"result_count": 1}

    # A second person in north (B cells are south's): admit one into A-1-002.
    from saferprisons.conftest import admit

    person = admit(monitored.manager, monitored.north, "C3456DE", cell=monitored.north_cells[1])
    made = client.post(
        f"{API}/people/C3456DE/enrolments",
        {
            "basis": "MANAGER_DECISION",
            "decision_reason": "Found with a ligature last week",
            "review_on": "2026-12-05",
            "ends_at": "2026-12-26T00:00:00Z",
        },
        content_type=JSON,
    )
    assert made.status_code == 201, made.json()
    enrolment = Enrolment.objects.get(prisoner=person)
    assert made.json()["id"] == str(enrolment.public_id)
    assert (enrolment.basis, enrolment.decision_reason, enrolment.starts_at) == (
        "MANAGER_DECISION",
        "Found with a ligature last week",
        NIGHT,
    )
    assert (enrolment.review_on, iso(enrolment.ends_at)) == (
        date(2026, 12, 5),
        "2026-12-26T00:00:00Z",
    )
    assert (
        audits("monitoring_enrolment", "create").filter(object_id=str(enrolment.public_id)).exists()
    )

    ended = client.post(
        f"{API}/enrolments/{enrolment.public_id}/end",
        {"reason": "Decision reviewed with healthcare"},
        content_type=JSON,
    )
    assert ended.status_code == 200
    # It started now, so it ends a microsecond after it started.
    assert ended.json()["ended_early_by"] == "manager.north"
    enrolment.refresh_from_db()
    assert enrolment.ends_at == NIGHT + timedelta(microseconds=1)
    assert ended.json()["end_reason"] == "Decision reviewed with healthcare"
    assert audits("monitoring_enrolment", "update").get().details == {"event": "ended_early"}


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        (
            {
                "basis": "MANAGER_DECISION",
                "review_on": "2026-12-05",
                "ends_at": "2026-12-26T00:00:00Z",
            },
            422,
            "decision_reason",
            "Enter the reason for the decision",
        ),
        (
            {"basis": "WHIM", "review_on": "2026-12-05", "ends_at": "2026-12-26T00:00:00Z"},
            422,
            "basis",
            "Choose the basis for monitoring",
        ),
        (
            {"basis": "CONSENT", "review_on": "2026-12-05", "ends_at": "2026-11-27T00:00:00Z"},
            422,
            "ends_at",
            "The end must be after the start",
        ),
        (
            {"basis": "CONSENT", "review_on": "2026-12-05", "ends_at": "2026-12-26T00:00:00"},
            422,
            "ends_at",
            "Input should have timezone info",
        ),
        (
            {"basis": "CONSENT", "review_on": "2027-06-01", "ends_at": "2026-12-26T00:00:00Z"},
            422,
            "review_on",
            "Set a review date between the start and the end",
        ),
        (
            {"basis": "CONSENT", "review_on": "2026-12-05", "ends_at": "2026-12-26T00:00:00Z"},
            409,
            None,
            "This person is already enrolled for some of that time",
        ),
    ],
)
def test_bad_enrolments_change_nothing(monitored, api_for, body, status, field, message):
    response = api_for(monitored.manager).post(
        f"{API}/people/A1234BC/enrolments", body, content_type=JSON
    )
    assert response.status_code == status
    error = response.json()["error"]
    if field:
        assert error["fields"][0]["field"] == field
        assert message in error["fields"][0]["message"]
    else:
        assert error["message"] == message
    assert Enrolment.objects.count() == 1
    assert (
        not audits("monitoring_enrolment", "create")
        .exclude(object_id=str(monitored.enrolment.public_id))
        .exists()
    )


def test_ending_needs_a_reason_and_the_right_manager(monitored, api_for):
    url = f"{API}/enrolments/{monitored.enrolment.public_id}/end"
    blank = api_for(monitored.manager).post(url, {"reason": "   "}, content_type=JSON)
    assert blank.status_code == 422
    assert blank.json()["error"]["fields"] == [
        {"field": "end_reason", "message": "Enter why monitoring ends"}
    ]
    assert (
        api_for(monitored.south_manager)
        .post(url, {"reason": "Not mine"}, content_type=JSON)
        .status_code
        == 404
    )
    assert (
        api_for(monitored.officer).post(url, {"reason": "x"}, content_type=JSON).status_code == 403
    )
    assert api_for(monitored.admin).get(f"{API}/prisons/ZNA/enrolments").status_code == 403
    assert api_for(monitored.south_manager).get(f"{API}/prisons/ZNA/enrolments").status_code == 404
    assert (
        api_for(monitored.officer)
        .post(
            f"{API}/people/A1234BC/enrolments",
            {"basis": "CONSENT", "review_on": "2027-01-05", "ends_at": "2027-01-26T00:00:00Z"},
            content_type=JSON,
        )
        .status_code
        == 403
    )
    monitored.enrolment.refresh_from_db()
    assert monitored.enrolment.ends_at == NIGHT + timedelta(days=28)
    assert Enrolment.objects.count() == 1
    assert not audits("monitoring_enrolment", "update").exists()
    assert not audits("monitoring_enrolments").exists()


# --- Rule settings ------------------------------------------------------------------------------


def test_rules_in_force_with_what_sets_each(monitored, api_for):
    client = api_for(monitored.manager)
    body = client.get(f"{API}/prisons/ZNA/rules").json()
    assert body["units"] == []
    assert [r["kind"] for r in body["prison"]] == list(RuleKind.values)
    no_activity = body["prison"][0]
    assert no_activity == {
        "kind": "NO_ACTIVITY",
        "label": "No activity in an occupied cell",
        "source": "DEFAULT",
        "unit": None,
        "enabled": True,
        "priority": "HIGH",
        "day_threshold_seconds": 1800,
        "night_threshold_seconds": 1200,
        "day_starts": "08:00:00",
        "day_ends": "20:00:00",
        "limit_low": None,
        "limit_high": 0.05,
        "min_quality": None,
        "updated_by": None,
        "updated_at": None,
    }


def test_a_manager_sets_changes_and_removes_prison_and_unit_settings(monitored, api_for):
    client = api_for(monitored.manager)
    prison_rule = client.put(
        f"{API}/prisons/ZNA/rules/NO_ACTIVITY",
        rule_body(day_threshold_seconds=2400),
        content_type=JSON,
    )
    assert prison_rule.status_code == 200
    assert (prison_rule.json()["source"], prison_rule.json()["day_threshold_seconds"]) == (
        "PRISON",
        2400,
    )
    landing = client.put(
        f"{API}/prisons/ZNA/units/a-1/rules/NO_ACTIVITY",
        rule_body(priority="LOW", night_threshold_seconds=None, limit_high=0.02),
        content_type=JSON,
    )
    assert landing.status_code == 200
    assert {
        k: landing.json()[k]
        for k in (
            "source",
            "unit",
            "priority",
            "night_threshold_seconds",
            "limit_high",
            "updated_by",
        )
    } == {
        "source": "LANDING",
        "unit": "A-1",
        "priority": "LOW",
        "night_threshold_seconds": None,
        "limit_high": 0.02,
        "updated_by": "manager.north",
    }
    config = RuleConfig.objects.get(location__path="A-1")
    assert (config.prison, config.kind, config.day_threshold_seconds) == (
        monitored.north,
        "NO_ACTIVITY",
        600,
    )
    creates = audits("monitoring_ruleconfig", "create")
    assert sorted(e.details["location"] for e in creates) == ["", "A-1"]

    listed = client.get(f"{API}/prisons/ZNA/rules").json()
    assert (listed["prison"][0]["source"], listed["prison"][0]["updated_by"]) == (
        "PRISON",
        "manager.north",
    )
    assert [(u["unit"], u["kind"], u["priority"]) for u in listed["units"]] == [
        ("A-1", "NO_ACTIVITY", "LOW")
    ]
    # Ingest uses the landing's setting in its cells: off by night.
    roster = load_roster(NIGHT)
    row = roster.row_by_external_id["ZNA-A1-001-V"]
    in_cell = roster.setting_groups[int(roster.group_of_device[row])]["NO_ACTIVITY"]
    assert (in_cell.priority, in_cell.night_threshold_seconds) == ("LOW", None)

    # Changing replaces the whole setting; omitted limits take the built-in default.
    changed = client.put(
        f"{API}/prisons/ZNA/units/A-1/rules/NO_ACTIVITY", rule_body(), content_type=JSON
    )
    assert (changed.json()["priority"], changed.json()["limit_high"]) == ("MEDIUM", 0.05)
    update = audits("monitoring_ruleconfig", "update").get()
    assert (update.before["priority"], update.after["priority"]) == ("LOW", "MEDIUM")

    assert client.delete(f"{API}/prisons/ZNA/units/A-1/rules/NO_ACTIVITY").status_code == 204
    assert client.delete(f"{API}/prisons/ZNA/rules/NO_ACTIVITY").status_code == 204
    assert not RuleConfig.objects.exists()
    deletes = audits("monitoring_ruleconfig", "delete")
    assert sorted(e.details["location"] for e in deletes) == ["", "A-1"]
    again = client.delete(f"{API}/prisons/ZNA/units/A-1/rules/NO_ACTIVITY")
    assert again.status_code == 404
    assert again.json()["error"]["message"] == "landing A-1 has no setting of its own for this rule"
    assert deletes.count() == 2


@pytest.mark.parametrize(
    ("url", "body", "status", "field", "message"),
    [
        (
            "prisons/ZNA/rules/NO_ACTIVITY",
            rule_body(priority="URGENT"),
            422,
            "priority",
            "Choose a priority",
        ),
        (
            "prisons/ZNA/rules/NO_ACTIVITY",
            rule_body(day_threshold_seconds=-1),
            422,
            "day_threshold_seconds",
            "greater than or equal to 0",
        ),
        (
            "prisons/ZNA/rules/NO_ACTIVITY",
            rule_body(day_threshold_seconds=604_801),
            422,
            "day_threshold_seconds",
            "less than or equal to 604800",
        ),
        (
            "prisons/ZNA/rules/PULSE_OUT_OF_RANGE",
            rule_body(limit_low=130, limit_high=40),
            422,
            "limit_low",
            "The lower limit must be below the upper limit",
        ),
        (
            "prisons/ZNA/rules/PULSE_OUT_OF_RANGE",
            rule_body(min_quality=1.5),
            422,
            "min_quality",
            "Quality is from 0 to 1",
        ),
        (
            "prisons/ZNA/rules/NO_ACTIVITY",
            rule_body(day_starts="21:00:00", day_ends="07:00:00"),
            422,
            "day_ends",
            "Day starts before it ends",
        ),
        (
            "prisons/ZNA/rules/NO_ACTIVITY",
            {"priority": "LOW"},
            422,
            "day_threshold_seconds night_threshold_seconds",
            "Field required",
        ),
        ("prisons/ZNA/rules/NOT_A_RULE", rule_body(), 404, None, "No rule NOT_A_RULE"),
        (
            "prisons/ZNA/units/A-1-001/rules/NO_ACTIVITY",
            rule_body(),
            404,
            None,
            "No wing or landing A-1-001 in HMP Northfold",
        ),
        ("prisons/ZNA/units/B/rules/NO_ACTIVITY", rule_body(), 404, None, "No wing or landing B"),
        (
            "prisons/ZSO/units/B-1/rules/NO_ACTIVITY",
            rule_body(),
            404,
            None,
            "No such prison among yours",
        ),
    ],
)
def test_bad_rule_settings_change_nothing(monitored, api_for, url, body, status, field, message):
    response = api_for(monitored.manager).put(f"{API}/{url}", body, content_type=JSON)
    assert response.status_code == status
    error = response.json()["error"]
    if field:
        assert [f["field"] for f in error["fields"]] == field.split()
        assert message in error["fields"][0]["message"]
    else:
        assert message in error["message"]
    assert not RuleConfig.objects.exists()
    assert not audits("monitoring_ruleconfig").exists()


def test_rule_settings_are_for_managers_of_the_prison(monitored, api_for):
    api_for(monitored.manager).put(
        f"{API}/prisons/ZNA/units/A/rules/TAMPERED", rule_body(), content_type=JSON
    )
    for user in (monitored.officer, monitored.nurse, monitored.admin):
        client = api_for(user)
        assert client.get(f"{API}/prisons/ZNA/rules").status_code == 403
        assert client.get(f"{API}/prisons/ZNA/escalation").status_code == 403
        assert client.put(f"{API}/prisons/ZNA/units/A/rules/TAMPERED", rule_body(priority="LOW"),
                          content_type=JSON).status_code == 403  # fmt: skip
        assert client.delete(f"{API}/prisons/ZNA/units/A/rules/TAMPERED").status_code == 403
    south = api_for(monitored.south_manager)
    assert south.get(f"{API}/prisons/ZNA/rules").status_code == 404
    assert south.delete(f"{API}/prisons/ZNA/units/A/rules/TAMPERED").status_code == 404
    assert (
        south.put(f"{API}/prisons/ZNA/rules/TAMPERED", rule_body(), content_type=JSON).status_code
        == 404
    )
    # A prisoner's kiosk session never authenticates; nor does nobody.
    kiosk = Client()
    set_kiosk_pin(actor=monitored.manager, prisoner=monitored.north_person, pin="2468")
    kiosk.post("/kiosk/sign-in/", {"prison_number": "A1234BC", "pin": "2468"})
    assert kiosk.get(f"{API}/prisons/ZNA/rules").status_code == 401
    assert kiosk.delete(f"{API}/prisons/ZNA/units/A/rules/TAMPERED").status_code == 401
    assert Client().get(f"{API}/prisons/ZNA/rules").status_code == 401
    config = RuleConfig.objects.get()
    assert (config.location.path, config.priority) == ("A", "MEDIUM")
    assert audits("monitoring_ruleconfig").count() == 1


def test_a_closed_landing_cannot_be_given_a_setting(monitored, api_for):
    Location.objects.filter(prison=monitored.north, path="A-1").update(deactivated_at=NIGHT)
    response = api_for(monitored.manager).put(
        f"{API}/prisons/ZNA/units/A-1/rules/NO_ACTIVITY", rule_body(), content_type=JSON
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Landing A-1 is closed"
    assert not RuleConfig.objects.exists()


def test_the_escalation_chain_in_force(monitored, api_for):
    from saferprisons.monitoring import services
    from saferprisons.monitoring.escalation import StepSpec

    client = api_for(monitored.manager)
    default = client.get(f"{API}/prisons/ZNA/escalation").json()
    assert default["is_default"] is True
    assert [(s["number"], s["delay_seconds"], s["roles"]) for s in default["steps"]] == [
        (1, 0, ["WING_OFFICER"]),
        (2, 60, ["CUSTODIAL_MANAGER"]),
        (3, 180, ["HEALTHCARE", "DUTY_GOVERNOR"]),
    ]
    services.configure_escalation_chain(
        actor=monitored.manager,
        prison=monitored.north,
        steps=[StepSpec(0, ("WING_OFFICER",), ("HIGH", "MEDIUM"), "duty@example.gov.uk")],
    )
    assert client.get(f"{API}/prisons/ZNA/escalation").json() == {
        "is_default": False,
        "steps": [
            {
                "number": 1,
                "delay_seconds": 0,
                "roles": ["WING_OFFICER"],
                "priorities": ["HIGH", "MEDIUM"],
                "email_address": "duty@example.gov.uk",
                "phone_number": "",
            },
        ],
    }


# --- Gateways and devices -----------------------------------------------------------------------


def device_body(**changes) -> dict:
    return {
        "gateway": "A-WING",
        "cell": "S-1-001",
        "external_id": "ZNA-S1-001-V",
        "kind": "VISION",
        "vendor": "Fictional Sensors Ltd",
        "serial": "FS-07001",
        "firmware": "1.0.0",
        **changes,
    }


def test_an_administrator_lists_registers_updates_and_removes_devices(monitored, api_for):
    client = api_for(monitored.admin)
    gateways = client.get(f"{API}/prisons/ZNA/gateways").json()
    assert gateways["count"] == 1
    gateway = gateways["items"][0]
    assert (gateway["code"], gateway["in_service"], gateway["prison"]) == ("A-WING", True, "ZNA")
    assert gateway["token_prefix"] == monitored.gateway.api_token.key_prefix
    assert "secret" not in str(gateways)
    devices = client.get(f"{API}/prisons/ZNA/devices?page_size=2").json()
    assert devices["count"] == 3
    assert [d["cell"] for d in devices["items"]] == ["A-1-001", "A-1-002"]

    made = client.post(f"{API}/prisons/ZNA/devices", device_body(), content_type=JSON)
    assert made.status_code == 201
    device = Device.objects.get(external_id="ZNA-S1-001-V")
    assert made.json() == {
        "id": str(device.public_id),
        "external_id": "ZNA-S1-001-V",
        "prison": "ZNA",
        "gateway": "A-WING",
        "cell": "S-1-001",
        "kind": "VISION",
        "vendor": "Fictional Sensors Ltd",
        "serial": "FS-07001",
        "firmware": "1.0.0",
        "installed_at": iso(NIGHT),
        "removed_at": None,
    }
    assert audits("monitoring_device", "create").filter(object_id=str(device.public_id)).exists()

    updated = client.post(
        f"{API}/devices/{device.public_id}/firmware", {"firmware": "1.1.0"}, content_type=JSON
    )
    assert updated.status_code == 200 and updated.json()["firmware"] == "1.1.0"
    event = audits("monitoring_device", "update").get()
    assert (event.before, event.after) == ({"firmware": "1.0.0"}, {"firmware": "1.1.0"})

    monitored.traveller.shift(timedelta(minutes=5))  # installed at NIGHT: removed after it
    removed = client.post(f"{API}/devices/{device.public_id}/remove")
    assert removed.status_code == 200
    assert removed.json()["removed_at"] == iso(NIGHT + timedelta(minutes=5))
    device.refresh_from_db()
    assert device.removed_at == NIGHT + timedelta(minutes=5)
    assert audits("monitoring_device", "update").count() == 2
    # A removed device's firmware no longer changes.
    late = client.post(
        f"{API}/devices/{device.public_id}/firmware", {"firmware": "2.0"}, content_type=JSON
    )
    assert late.status_code == 422
    assert (
        late.json()["error"]["message"]
        == "This device has been removed: its firmware can no longer change"
    )
    device.refresh_from_db()
    assert device.firmware == "1.1.0"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"gateway": "B-WING"}, "gateway", "No gateway B-WING in HMP Northfold"),
        ({"cell": "B-1-001"}, "cell", "No cell B-1-001 in HMP Northfold"),
        ({"cell": "A-1"}, "cell", "Choose a cell in the gateway's prison"),
        ({"external_id": "has spaces"}, "external_id", "A device id is 1 to 64 letters"),
        ({"external_id": "ZNA-A1-001-V"}, "external_id", "Another device already has this id"),
        ({"kind": "CAMERA"}, "kind", "Choose the kind of device"),
        ({"vendor": ""}, "vendor", "at least 1 character"),
        ({"firmware": "9" * 51}, "firmware", "at most 50 characters"),
    ],
)
def test_bad_devices_change_nothing(monitored, api_for, changes, field, message):
    response = api_for(monitored.admin).post(
        f"{API}/prisons/ZNA/devices", device_body(**changes), content_type=JSON
    )
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert [f["field"] for f in fields] == [field]
    assert message in fields[0]["message"]
    assert Device.objects.count() == 3
    assert (
        not audits("monitoring_device", "create")
        .exclude(object_id__in=[str(d.public_id) for d in monitored.devices])
        .exists()
    )


def test_devices_are_for_administrators_of_their_prison(monitored, api_for):
    device = monitored.devices[0]
    for user in (monitored.manager, monitored.officer):
        client = api_for(user)
        assert client.get(f"{API}/prisons/ZNA/devices").status_code == 403
        assert client.get(f"{API}/prisons/ZNA/gateways").status_code == 403
        assert (
            client.post(f"{API}/prisons/ZNA/devices", device_body(), content_type=JSON).status_code
            == 403
        )
        assert client.post(f"{API}/devices/{device.public_id}/firmware", {"firmware": "6"},
                           content_type=JSON).status_code == 403  # fmt: skip
        assert client.post(f"{API}/devices/{device.public_id}/remove").status_code == 403
    from saferprisons.conftest import make_user

    south_admin = api_for(make_user("admin.south", ["SYSTEM_ADMIN"], [monitored.south]))
    assert south_admin.get(f"{API}/prisons/ZNA/devices").status_code == 404
    assert south_admin.post(f"{API}/devices/{device.public_id}/remove").status_code == 404
    assert south_admin.post(f"{API}/devices/{device.public_id}/firmware", {"firmware": "6"},
                            content_type=JSON).status_code == 404  # fmt: skip
    assert (
        south_admin.post(f"{API}/prisons/ZNA/devices", device_body(), content_type=JSON).status_code
        == 404
    )
    device.refresh_from_db()
    assert (device.firmware, device.removed_at) == ("", None)
    assert Device.objects.count() == 3
    assert not audits("monitoring_device", "update").exists()


def test_session_writes_need_the_csrf_header(monitored):
    client = Client(enforce_csrf_checks=True)
    client.force_login(monitored.manager)
    refused = client.put(f"{API}/prisons/ZNA/rules/TAMPERED", rule_body(), content_type=JSON)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert not RuleConfig.objects.exists()
