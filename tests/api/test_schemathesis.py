"""Property-based fuzzing of the whole API with schemathesis: no input may produce a 5xx.

The schema comes from the running API; requests go in-process to Django's WSGI handler, in the
test's own database transaction, authenticated with a token holding every scope (and, for the
audit trail, which no token may read, an auditor's session; for ACCT, whose reviews no token may
hold, a trained case manager who is also healthcare, with the CSRF header; for the estate's ACCT
counts, an HQ analyst; for managing the monitoring pilot, a manager who is also a system
administrator, with a gateway, a device and an enrolment to reach). Each person has an ACCT with
a review, an entry, a CAREMAP action and a task, whose ids are fixed so generated requests reach
them, as are the device's and the enrolment's.
"""

import copy
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from schemathesis.checks import not_a_server_error

from saferprisons.accounts.models import TrainingRecord
from saferprisons.accounts.permissions import TOKEN_SCOPES
from saferprisons.acct import services as acct
from saferprisons.acct.constants import ASSESSOR_COURSE, Discipline
from saferprisons.acct.models import CaremapItem, CaseEntry, StaffTask
from saferprisons.acct.rules import Supervision
from saferprisons.api import api
from saferprisons.core import clock

from .conftest import make_user

ENTRY_ID = UUID("0b0e6c39-5d1e-4c53-8a37-3f6f0c1f7a01")
CAREMAP_ID = UUID("0b0e6c39-5d1e-4c53-8a37-3f6f0c1f7a02")
TASK_ID = UUID("0b0e6c39-5d1e-4c53-8a37-3f6f0c1f7a03")
DEVICE_ID = UUID("0b0e6c39-5d1e-4c53-8a37-3f6f0c1f7a04")
ENROLMENT_ID = UUID("0b0e6c39-5d1e-4c53-8a37-3f6f0c1f7a05")
CSRF_SECRET = "schemathesisCsrfSecretValue12345"  # 32 letters and digits, as Django expects

# Known identifiers, so generated requests reach real records as well as missing ones.
KNOWN_VALUES = {
    "prison_number": ["A1234BC", "A2345BC", "B3456CD"],
    "code": ["XNA", "XSO"],
    "entry_id": [str(ENTRY_ID)],
    "item_id": [str(CAREMAP_ID)],
    "task_id": [str(TASK_ID)],
    "device_id": [str(DEVICE_ID)],
    "enrolment_id": [str(ENROLMENT_ID)],
    "unit": ["A", "A-1", "B"],
    "kind": ["NO_ACTIVITY", "PULSE_OUT_OF_RANGE", "TAMPERED"],
}
# Managing the monitoring pilot (a manager's and a system administrator's work): not the
# gateways' readings or the console's alerts, which a token reaches.
PILOT_PATHS = ("/api/monitoring/prisons/", "/api/monitoring/people/", "/api/monitoring/devices/",
               "/api/monitoring/enrolments/")  # fmt: skip


def _schema_with_examples() -> dict:
    raw = copy.deepcopy(api.get_openapi_schema(path_prefix="/api/"))
    for item in raw["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in KNOWN_VALUES:
                    parameter["examples"] = {
                        value: {"value": value} for value in KNOWN_VALUES[parameter["name"]]
                    }
    return raw


schema = schemathesis.openapi.from_dict(_schema_with_examples())
APP = WSGIHandler()


@pytest.fixture
def in_process_requests():
    """Keep the test's connection (and its transaction) open across WSGI requests, as Django's
    test client does: by default every request closes "old" connections when it starts and ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _session(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF_SECRET}


def _seed_accts(world) -> None:
    """An open ACCT in each prison with a first review, a CAREMAP action and an entry."""
    staff = world["reception"]
    staff.band = "5"
    staff.save(update_fields=["band"])
    TrainingRecord.objects.create(
        user=staff,
        course=ASSESSOR_COURSE,
        completed_on=date(2020, 1, 1),
        expires_on=date(2099, 12, 31),
    )
    for person in (world["north_person"], world["south_person"]):
        case = acct.raise_concern(
            actor=staff,
            prisoner=person,
            source="STAFF_OBSERVATION",
            seen_or_heard="Withdrawn after a visit",
            immediate_risk="Talked about ending it",
            action_taken="Stayed with him; told the manager",
        ).case
        acct.hold_review(
            actor=staff,
            case=case,
            expected_version=case.version,
            attendees=[
                acct.Attendee(Discipline.MANAGER, user=staff),
                acct.Attendee(Discipline.HEALTHCARE, name="A nurse"),
            ],
            risk_level="HIGH",
            next_review_at=clock.now() + timedelta(days=3),
            supervision=Supervision(day_observations_per_hour=Decimal("2")),
            case_manager=staff,
            case_coordinator=staff,
            triggers="Visits",
            warning_signs="Not eating",
            caremap_new=[acct.CaremapInput("Family", "Phone call", "Officer", date(2030, 1, 1))],
        )
        acct.record_entry(
            actor=staff,
            case=case,
            kind="OBSERVATION",
            occurred_at=clock.now(),
            seen_or_spoken_to=True,
            presentation="Reading",
        )
    north = world["north_person"]
    CaremapItem.objects.filter(case__prisoner=north).update(public_id=CAREMAP_ID)
    CaseEntry.objects.filter(case__prisoner=north).update(public_id=ENTRY_ID)
    StaffTask.objects.filter(case__prisoner=north).update(public_id=TASK_ID)


def _seed_pilot(world) -> None:
    """A gateway and a device in XNA, and the person in A-1-001 enrolled, with fixed ids."""
    from saferprisons.monitoring import services as monitoring
    from saferprisons.monitoring.models import Device, Enrolment

    admin, north = world["admin"], world["north"]
    gateway, _ = monitoring.register_gateway(actor=admin, prison=north, code="A-WING", name="A")
    device = monitoring.register_device(
        actor=admin,
        gateway=gateway,
        cell=world["north_cells"][0],
        external_id="XNA-A1-001-V",
        kind="VISION",
        vendor="Fictional Sensors Ltd",
        serial="FS-00001",
        installed_at=clock.now() - timedelta(days=1),
    )
    enrolment = monitoring.enrol(
        actor=world["reception"],
        prisoner=world["north_person"],
        basis="CONSENT",
        review_on=clock.today_london() + timedelta(days=7),
        ends_at=clock.now() + timedelta(days=28),
    )
    Device.objects.filter(pk=device.pk).update(public_id=DEVICE_ID)
    Enrolment.objects.filter(pk=enrolment.pk).update(public_id=ENROLMENT_ID)


@pytest.fixture
def credentials(world, make_token):
    _, secret = make_token(sorted(TOKEN_SCOPES), [world["north"], world["south"]])
    auditor = Client()
    auditor.force_login(world["auditor"])
    _seed_accts(world)
    analyst = make_user("analyst.hq", ["HQ_ANALYST"], [world["north"]])
    _seed_pilot(world)
    pilot = make_user(
        "pilot.both", ["CUSTODIAL_MANAGER", "SYSTEM_ADMIN"], [world["north"], world["south"]]
    )
    return {
        "token": {"Authorization": f"Bearer {secret}"},
        "auditor": {"sessionid": auditor.cookies["sessionid"].value},
        "acct_staff": _session(world["reception"]),
        "analyst": _session(analyst),
        "pilot": _session(pilot),
    }


@schema.parametrize()
@hypothesis.settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_never_answers_with_a_server_error(case, credentials, in_process_requests):
    if case.path.startswith("/api/audit/"):
        response = case.call(app=APP, cookies=credentials["auditor"])
    elif case.path.startswith("/api/acct/estate/"):
        response = case.call(app=APP, cookies=credentials["analyst"])
    elif case.path.startswith(PILOT_PATHS) and not case.path.endswith("/alerts"):
        response = case.call(
            app=APP, cookies=credentials["pilot"], headers={"X-CSRFToken": CSRF_SECRET}
        )
    elif case.path.startswith("/api/acct/"):
        response = case.call(
            app=APP, cookies=credentials["acct_staff"], headers={"X-CSRFToken": CSRF_SECRET}
        )
    else:
        response = case.call(app=APP, headers=credentials["token"])
    case.validate_response(response, checks=[not_a_server_error])
