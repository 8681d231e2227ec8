"""ACCT through the JSON API: the whole lifecycle at a frozen clock with exact due times, the
refusals the issue lists (each a 4xx in the one error shape, changing nothing), scoping,
permissions, health entries and the HQ counts."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from saferprisons.accounts.models import TrainingRecord
from saferprisons.acct.constants import ASSESSOR_COURSE
from saferprisons.acct.models import AcctCase, CaseEntry, CaseReview, ReviewDemand, StaffTask
from saferprisons.audit.models import AuditEvent
from saferprisons.people.models import PersonAlert

from .conftest import make_user
from .helpers import assert_error, post_json

# A Saturday in November: London is on GMT, so London time equals UTC.
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NORTH = "/api/acct/people/A1234BC"
SOUTH = "/api/acct/people/B3456CD"

CONCERN = {
    "source": "STAFF_OBSERVATION",
    "seen_or_heard": "Said he cannot see a way forward after a phone call from home",
    "immediate_risk": "Possible ligature seen in the cell",
    "action_taken": "Removed the item and stayed with him until a manager arrived",
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in late 2026 (November from the 28th, else December), UTC = London."""
    month = 11 if day >= 28 else 12
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acct(clock, world, staff_client):
    """The API world at 09:00 on 28/11/2026, with grades, assessor training and clients."""
    north = world["north"]
    world["manager"].band = "5"
    world["manager"].save(update_fields=["band"])
    world["nurse"].band = "NHS 6"
    world["nurse"].save(update_fields=["band"])
    world["officer"].band = "3"
    world["officer"].save(update_fields=["band"])
    TrainingRecord.objects.create(
        user=world["nurse"],
        course=ASSESSOR_COURSE,
        completed_on=date(2026, 1, 10),
        expires_on=date(2027, 1, 9),
    )
    world["band3_manager"] = make_user("manager3.north", ["CUSTODIAL_MANAGER"], [north])
    world["band3_manager"].band = "3"
    world["band3_manager"].save(update_fields=["band"])
    world["analyst"] = make_user("analyst.hq", ["HQ_ANALYST"], [north])
    world["clock"] = clock
    world["staff_client"] = staff_client
    sign_in_again(world)
    return world


def sign_in_again(w) -> None:
    """Fresh sessions (a session lasts one shift; the lifecycle spans days)."""
    w["as"] = {
        name: w["staff_client"](w[name])
        for name in ("officer", "nurse", "manager", "band3_manager", "analyst", "reception")
    }


def open_north(w) -> dict:
    response = post_json(w["as"]["officer"], f"{NORTH}/concerns", CONCERN)
    assert response.status_code == 201, response.content
    return response.json()


def review_body(w, version: int, **overrides) -> dict:
    body = {
        "expected_version": version,
        "attendees": [
            {"discipline": "MANAGER", "user": "manager.north"},
            {"discipline": "HEALTHCARE", "user": str(w["nurse"].public_id)},
        ],
        "risk_level": "RAISED",
        "case_manager": "manager.north",
        "case_coordinator": str(w["nurse"].public_id),
        "triggers": "Calls from home; anniversaries",
        "warning_signs": "Withdrawn, not eating",
        "supervision": {"day_observations_per_hour": 1, "day_conversations": 2},
        "next_review_at": iso(at(5, 10)),
    }
    body.update(overrides)
    return body


def case_row() -> AcctCase:
    return AcctCase.objects.get(prisoner__prison_number="A1234BC")


def due_of(summary: dict) -> list[tuple[str, str, bool]]:
    return [(d["kind"], d["due_at"], d["overdue"]) for d in summary["due"]]


# --- The lifecycle -----------------------------------------------------------------------------


def test_full_lifecycle_through_the_api(acct):
    w = acct
    officer, nurse, manager = w["as"]["officer"], w["as"]["nurse"], w["as"]["manager"]

    # Nobody is on an ACCT yet: the summary says so.
    none = officer.get(NORTH).json()
    assert (none["status"], none["log_number"], none["due"]) == (None, None, [])

    # 09:00 a concern opens the ACCT: log number, alert HA, a task for safer custody.
    opened = open_north(w)
    assert opened["case"] == {"log_number": "XNA-2026-0001", "status": "OPEN", "version": 1}
    assert (opened["concern"]["effect"], opened["concern"]["raised_by"]) == (
        "OPENED",
        "officer.north",
    )
    assert PersonAlert.objects.filter(
        prisoner=w["north_person"], alert_code__code="HA", ended_at__isnull=True
    ).exists()
    summary = officer.get(NORTH).json()
    assert due_of(summary) == [
        ("IAP", "2026-11-28T10:00:00Z", False),
        ("ASSESSMENT", "2026-11-29T09:00:00Z", False),
        ("FIRST_REVIEW", "2026-11-29T09:00:00Z", False),
    ]
    view = AuditEvent.objects.filter(action="view", object_type="acct_case").latest("sequence")
    assert (view.actor_label, view.details["view"]) == ("officer.north", "summary")

    # 10:01 the IAP is a minute late ...
    w["clock"].move_to(at(28, 10, 1))
    assert due_of(officer.get(NORTH).json())[0] == ("IAP", "2026-11-28T10:00:00Z", True)
    # ... and is recorded, with interim levels of two observations an hour.
    response = post_json(
        officer,
        f"{NORTH}/iap",
        {
            "plan": "Observations every 30 minutes; a conversation each morning",
            "supervision": {"day_observations_per_hour": 2, "day_conversations": 2},
        },
    )
    assert response.status_code == 201, response.content
    summary = officer.get(NORTH).json()
    assert summary["supervision_plan"]["day_observations_per_hour"] == 2.0
    assert due_of(summary) == [
        ("OBSERVATION", "2026-11-28T10:31:00Z", False),
        ("CONVERSATION", "2026-11-28T16:01:00Z", False),
        ("ASSESSMENT", "2026-11-29T09:00:00Z", False),
        ("FIRST_REVIEW", "2026-11-29T09:00:00Z", False),
    ]

    # 10:20 an observation at 10:15: the next is due by 10:45; at 10:46 it is overdue.
    w["clock"].move_to(at(28, 10, 20))
    response = post_json(
        officer,
        f"{NORTH}/entries",
        {
            "kind": "OBSERVATION",
            "occurred_at": iso(at(28, 10, 15)),
            "seen_or_spoken_to": True,
            "presentation": "Lying on his bed, reading",
        },
    )
    assert response.status_code == 201, response.content
    observation = response.json()
    w["clock"].move_to(at(28, 10, 46))
    summary = officer.get(NORTH).json()
    assert due_of(summary)[0] == ("OBSERVATION", "2026-11-28T10:45:00Z", True)
    assert summary["overdue_count"] == 1

    # A correction is a new entry pointing at the old one.
    response = post_json(
        officer,
        f"{NORTH}/entries/{observation['id']}/correction",
        {"presentation": "Lying on his bed, reading a letter from home"},
    )
    assert response.status_code == 201
    assert response.json()["corrects"] == observation["id"]
    assert CaseEntry.objects.get(public_id=observation["id"]).presentation == (
        "Lying on his bed, reading"
    )

    # 11:00 the assessment, by a trained assessor.
    w["clock"].move_to(at(28, 11))
    response = post_json(nurse, f"{NORTH}/assessments", {"summary": "Low mood since Tuesday"})
    assert response.status_code == 201, response.content
    assert response.json()["assessor"] == "nurse.north"

    # 12:00 the first case review: high risk, a CAREMAP, hourly observations by day.
    w["clock"].move_to(at(28, 12))
    body = review_body(
        w,
        1,
        risk_level="HIGH",
        protective_factors="His children",
        caremap={
            "new": [
                {
                    "need": "Contact with family",
                    "action": "Arrange a phone call",
                    "owner": "Wing officer",
                    "target_date": "2026-11-30",
                }
            ]
        },
        supervision={
            "day_observations_per_hour": 1,
            "night_observations_per_hour": "0.5",
            "day_conversations": 2,
            "night_conversations": 0,
        },
    )
    response = post_json(manager, f"{NORTH}/reviews", body)
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["case"] == {"log_number": "XNA-2026-0001", "status": "OPEN", "version": 2}
    review = result["review"]
    assert (review["kind"], review["risk_level"], review["next_review_at"]) == (
        "FIRST",
        "HIGH",
        "2026-12-05T10:00:00Z",
    )
    assert review["case_manager"]["username"] == "manager.north"
    assert review["case_coordinator"]["username"] == "nurse.north"
    assert [(a["discipline"], a["username"]) for a in review["attendees"]] == [
        ("MANAGER", "manager.north"),
        ("HEALTHCARE", "nurse.north"),
    ]

    summary = officer.get(NORTH).json()
    assert (summary["risk_level"], summary["version"]) == ("HIGH", 2)
    assert summary["case_manager"]["username"] == "manager.north"
    assert summary["supervision_plan"] == {
        "constant": False,
        "day_observations_per_hour": 1.0,
        "night_observations_per_hour": 0.5,
        "day_conversations": 2,
        "night_conversations": 0,
        "started_at": "2026-11-28T12:00:00Z",
        "set_by": "manager.north",
    }
    # The plan starts at the review: the next observation by 13:00, conversation by 18:00.
    assert due_of(summary) == [
        ("OBSERVATION", "2026-11-28T13:00:00Z", False),
        ("CONVERSATION", "2026-11-28T18:00:00Z", False),
        ("SCHEDULED_REVIEW", "2026-12-05T10:00:00Z", False),
    ]
    [item] = summary["caremap"]
    assert (item["need"], item["status"], item["target_date"]) == (
        "Contact with family",
        "OPEN",
        "2026-11-30",
    )
    assert summary["latest_review"]["id"] == review["id"]
    # High risk in an ordinary cell: warned, with the free safe cell offered.
    assert summary["current_cell"] == "A-1-001"
    assert (summary["safer_cell_warning"], summary["safer_cell_options"]) == (True, ["A-1-003"])

    response = post_json(
        manager, f"{NORTH}/safer-cell-decisions", {"reason": "Sharing helps; the cell was checked"}
    )
    assert response.status_code == 201
    assert officer.get(NORTH).json()["safer_cell_warning"] is False

    # CAREMAP action done between reviews (optimistic locking on the case version).
    response = post_json(
        manager, f"{NORTH}/caremap/{item['id']}", {"expected_version": 2, "status": "DONE"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "DONE"
    assert case_row().version == 3

    # 13:00 a trigger: a review is demanded within 24 hours.
    w["clock"].move_to(at(28, 13))
    response = post_json(
        officer, f"{NORTH}/review-demands", {"reason": "TRIGGER", "details": "Bad news from court"}
    )
    assert response.status_code == 201
    assert (response.json()["due_at"], response.json()["demanded_by"]) == (
        "2026-11-29T13:00:00Z",
        "officer.north",
    )
    summary = officer.get(NORTH).json()
    assert ("DEMANDED_REVIEW", "2026-11-29T13:00:00Z", False) in due_of(summary)

    # The wing board and the tasks.
    board = officer.get("/api/acct/prisons/XNA/board", {"wing": "a"}).json()
    assert (board["prison"], board["wing"], board["generated_at"]) == (
        "XNA",
        "A",
        "2026-11-28T13:00:00Z",
    )
    [row] = board["rows"]
    assert (row["prison_number"], row["log_number"], row["cell"], row["risk_level"]) == (
        "A1234BC",
        "XNA-2026-0001",
        "A-1-001",
        "HIGH",
    )
    assert (row["due"][0]["kind"], row["due"][0]["due_at"], row["due_soon"]) == (
        "OBSERVATION",
        "2026-11-28T13:00:00Z",
        ["OBSERVATION"],
    )
    tasks = officer.get("/api/acct/prisons/XNA/tasks").json()
    opened_task = next(t for t in tasks["items"] if t["kind"] == "ACCT_OPENED")
    assert (opened_task["audience"], opened_task["due_at"], opened_task["log_number"]) == (
        "SAFER_CUSTODY",
        "2026-11-28T09:00:00Z",
        "XNA-2026-0001",
    )
    response = manager.post(f"/api/acct/prisons/XNA/tasks/{opened_task['id']}/complete")
    assert response.status_code == 200
    assert (response.json()["done_at"], response.json()["done_by"]) == (
        "2026-11-28T13:00:00Z",
        "manager.north",
    )
    remaining = officer.get("/api/acct/prisons/XNA/tasks").json()["items"]
    assert opened_task["id"] not in [t["id"] for t in remaining]

    # 14:00 a review closes the ACCT; the post-closure review is due in 7 days.
    w["clock"].move_to(at(28, 14))
    response = post_json(
        manager,
        f"{NORTH}/reviews",
        {
            "expected_version": 3,
            "attendees": [
                {"discipline": "MANAGER", "user": "manager.north"},
                {"discipline": "WING_OFFICER", "user": "officer.north"},
                {"discipline": "PERSON", "name": "Sam Brightwater"},
            ],
            "risk_level": "LOW",
            "close": True,
            "closure_reason": "Settled; talking to staff and family",
        },
    )
    assert response.status_code == 201, response.content
    closed = response.json()
    assert closed["case"] == {"log_number": "XNA-2026-0001", "status": "POST_CLOSURE", "version": 5}
    assert (closed["review"]["kind"], closed["review"]["outcome"]) == ("UNSCHEDULED", "CLOSE")
    assert str(ReviewDemand.objects.get().satisfied_by.public_id) == closed["review"]["id"]
    summary = officer.get(NORTH).json()
    assert (summary["status"], summary["closed_at"]) == ("POST_CLOSURE", "2026-11-28T14:00:00Z")
    assert due_of(summary) == [("POST_CLOSURE_REVIEW", "2026-12-05T14:00:00Z", False)]
    w["clock"].move_to(at(5, 14, 1))
    sign_in_again(w)
    officer, manager = w["as"]["officer"], w["as"]["manager"]
    assert due_of(officer.get(NORTH).json()) == [
        ("POST_CLOSURE_REVIEW", "2026-12-05T14:00:00Z", True)
    ]

    # The post-closure review completes the ACCT (HA1 -> HA2).
    response = post_json(
        manager,
        f"{NORTH}/post-closure-review",
        {"expected_version": 5, "notes": "Doing well; working in the kitchens"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["case"] == {
        "log_number": "XNA-2026-0001",
        "status": "CLOSED",
        "version": 6,
    }
    assert response.json()["review"]["kind"] == "POST_CLOSURE"
    active = set(
        PersonAlert.objects.filter(prisoner=w["north_person"], ended_at__isnull=True).values_list(
            "alert_code__code", flat=True
        )
    )
    assert active == {"HA2"}
    # Repeating it changes nothing.
    response = post_json(
        manager, f"{NORTH}/post-closure-review", {"expected_version": 6, "notes": "Again"}
    )
    assert response.status_code == 200
    assert response.json()["review"] is None

    # 6/12 10:00 reopened by a manager: the same case and log number, a new period.
    w["clock"].move_to(at(6, 10))
    sign_in_again(w)
    officer, manager = w["as"]["officer"], w["as"]["manager"]
    response = post_json(manager, f"{NORTH}/reopen", {"reason": "Found with a ligature"})
    assert response.status_code == 200, response.content
    assert response.json() == {"log_number": "XNA-2026-0001", "status": "OPEN", "version": 7}
    summary = officer.get(NORTH).json()
    assert summary["period_started_at"] == "2026-12-06T10:00:00Z"
    assert due_of(summary) == [
        ("IAP", "2026-12-06T11:00:00Z", False),
        ("ASSESSMENT", "2026-12-07T10:00:00Z", False),
        ("FIRST_REVIEW", "2026-12-07T10:00:00Z", False),
    ]
    assert AcctCase.objects.count() == 1

    # The timeline holds the whole history, oldest first, paged.
    page = officer.get(f"{NORTH}/timeline", {"page_size": 5}).json()
    assert page["count"] == 14
    assert page["items"][0]["concern"]["source"] == "STAFF_OBSERVATION"
    assert page["items"][4]["entry"]["corrects"] == observation["id"]
    everything = officer.get(f"{NORTH}/timeline", {"page_size": 50}).json()["items"]
    assert [(i["kind"], i["at"]) for i in everything] == [
        ("concern", "2026-11-28T09:00:00Z"),
        ("transition", "2026-11-28T09:00:00Z"),
        ("iap", "2026-11-28T10:01:00Z"),
        ("entry", "2026-11-28T10:15:00Z"),
        ("entry", "2026-11-28T10:15:00Z"),
        ("assessment", "2026-11-28T11:00:00Z"),
        ("review", "2026-11-28T12:00:00Z"),
        ("safer_cell_decision", "2026-11-28T12:00:00Z"),
        ("demand", "2026-11-28T13:00:00Z"),
        # The closing review, then the status change it made.
        ("review", "2026-11-28T14:00:00Z"),
        ("transition", "2026-11-28T14:00:00Z"),
        ("review", "2026-12-05T14:01:00Z"),
        ("transition", "2026-12-05T14:01:00Z"),
        ("transition", "2026-12-06T10:00:00Z"),
    ]
    # Exactly one detail block per item, named by its kind.
    blocks = ("concern", "transition", "iap", "assessment", "review", "entry", "demand")
    for item in everything:
        present = [b for b in (*blocks, "safer_cell_decision") if item[b] is not None]
        assert present == [item["kind"]]

    # Every write went through the services' audit.
    events = [
        e.details["event"]
        for e in AuditEvent.objects.filter(object_type="acct_case", action__in=["create", "update"])
    ]
    assert events.count("review_held") == 2
    assert events.count("transition") == 3
    assert events.count("entry_recorded") == events.count("entry_corrected") == 1


# --- Bad input: a 4xx in the one error shape, and nothing changes ------------------------------


def snapshot() -> tuple:
    """Everything an ACCT write could change."""
    case = case_row()
    return (
        case.status,
        case.version,
        CaseReview.objects.count(),
        CaseEntry.objects.count(),
        ReviewDemand.objects.count(),
        AcctCase.objects.count(),
        case.assessments.count(),
    )


@pytest.fixture
def opened(acct):
    open_north(acct)
    return acct


def test_review_with_a_case_manager_below_band_4_is_refused(opened):
    before = snapshot()
    body = review_body(opened, 1, case_manager="manager3.north")
    error = assert_error(
        post_json(opened["as"]["manager"], f"{NORTH}/reviews", body),
        422,
        "validation_failed",
        fields=["case_manager"],
    )
    assert error["message"] == (
        "The case manager must be NOMS band 4 or above, or an NHS band 5 nurse or above (3)"
    )
    assert snapshot() == before


def test_review_with_a_case_manager_from_another_prison_or_unknown_is_refused(opened):
    make_user("manager.south", ["CUSTODIAL_MANAGER"], [opened["south"]])
    before = snapshot()
    for ref in ("manager.south", "nobody.at.all", "8d3e1c9a-55f7-4a57-9c1e-1b9a3f1f2a10"):
        body = review_body(opened, 1, case_manager=ref)
        error = assert_error(
            post_json(opened["as"]["manager"], f"{NORTH}/reviews", body),
            422,
            "validation_failed",
            fields=["case_manager"],
        )
        assert error["message"] == (
            f"No member of staff at HMP Northwold has the username or id {ref!r}"
        )
    assert snapshot() == before


def test_first_review_without_a_case_manager_is_refused(opened):
    before = snapshot()
    body = review_body(opened, 1, case_manager=None)
    error = assert_error(
        post_json(opened["as"]["manager"], f"{NORTH}/reviews", body),
        422,
        "validation_failed",
        fields=["case_manager"],
    )
    assert error["message"] == "Appoint a case manager"
    assert snapshot() == before


def test_closure_outside_a_review_is_refused(opened):
    manager = opened["as"]["manager"]
    before = snapshot()
    # The post-closure review cannot close an open ACCT: only a case review can.
    error = assert_error(
        post_json(manager, f"{NORTH}/post-closure-review", {"expected_version": 1, "notes": "x"}),
        409,
        "conflict",
    )
    assert error["message"] == (
        "An open ACCT cannot be closed outright: close it at a case review, then complete the "
        "post-closure review"
    )
    # A closing review needs its reason.
    body = review_body(opened, 1, close=True, supervision=None, next_review_at=None)
    error = assert_error(
        post_json(manager, f"{NORTH}/reviews", body),
        422,
        "validation_failed",
        fields=["closure_reason"],
    )
    assert error["message"] == "Enter the reason for closing the ACCT"
    assert snapshot() == before
    assert not PersonAlert.objects.filter(alert_code__code="HA1").exists()


def test_observation_in_the_future_is_refused(opened):
    before = snapshot()
    entry = {
        "kind": "OBSERVATION",
        "occurred_at": "2026-11-28T09:01:00Z",
        "seen_or_spoken_to": True,
        "presentation": "Asleep",
    }
    error = assert_error(
        post_json(opened["as"]["officer"], f"{NORTH}/entries", entry),
        422,
        "validation_failed",
        fields=["occurred_at"],
    )
    assert error["message"] == "The time of the observation cannot be in the future"
    # A time without an offset is ambiguous: refused by the schema.
    entry["occurred_at"] = "2026-11-28T08:30:00"
    assert_error(
        post_json(opened["as"]["officer"], f"{NORTH}/entries", entry),
        422,
        "validation_failed",
        fields=["occurred_at"],
    )
    assert snapshot() == before


def test_assessment_without_current_training_is_refused(opened):
    officer = opened["officer"]
    before = snapshot()
    error = assert_error(
        post_json(opened["as"]["officer"], f"{NORTH}/assessments", {"summary": "Low mood"}),
        403,
        "training_required",
    )
    assert error["message"] == (
        "Only a trained ACCT assessor can record an assessment interview: you have no current "
        "ACCT assessor training record."
    )
    TrainingRecord.objects.create(
        user=officer,
        course=ASSESSOR_COURSE,
        completed_on=date(2025, 10, 1),
        expires_on=date(2026, 10, 31),
    )
    error = assert_error(
        post_json(opened["as"]["officer"], f"{NORTH}/assessments", {"summary": "Low mood"}),
        403,
        "training_required",
    )
    assert error["message"].endswith("your ACCT assessor training expired on 31/10/2026.")
    assert snapshot() == before


def test_another_prisons_case_is_not_found_for_reads_and_writes(acct):
    south_officer = make_user("officer.south", ["WING_OFFICER"], [acct["south"]])
    post_json(acct["staff_client"](south_officer), f"{SOUTH}/concerns", CONCERN)
    south_case = AcctCase.objects.get(prisoner=acct["south_person"])
    officer, manager = acct["as"]["officer"], acct["as"]["manager"]
    entry = {
        "kind": "OBSERVATION",
        "occurred_at": iso(START),
        "seen_or_spoken_to": True,
        "presentation": "Asleep",
    }
    refusals = [
        officer.get(SOUTH),
        officer.get(f"{SOUTH}/timeline"),
        post_json(officer, f"{SOUTH}/concerns", CONCERN),
        post_json(officer, f"{SOUTH}/entries", entry),
        post_json(officer, f"{SOUTH}/iap", {"plan": "Keep safe"}),
        post_json(officer, f"{SOUTH}/review-demands", {"reason": "STAFF_REQUEST"}),
        post_json(manager, f"{SOUTH}/reviews", review_body(acct, 1)),
        post_json(manager, f"{SOUTH}/reopen", {"reason": "x"}),
        post_json(manager, f"{SOUTH}/safer-cell-decisions", {"reason": "x"}),
        officer.get("/api/acct/prisons/XSO/board"),
        officer.get("/api/acct/prisons/XSO/tasks"),
    ]
    for response in refusals:
        assert_error(response, 404, "not_found")
    south_task = StaffTask.objects.get(case=south_case)
    for code in ("XSO", "XNA"):
        response = manager.post(f"/api/acct/prisons/{code}/tasks/{south_task.public_id}/complete")
        assert_error(response, 404, "not_found")
    south_case.refresh_from_db()
    assert (south_case.version, south_case.entries.count(), south_case.demands.count()) == (1, 0, 0)
    assert StaffTask.objects.get(pk=south_task.pk).done_at is None
    # Out of scope and unknown look the same.
    assert_error(officer.get("/api/acct/people/Z9999ZZ"), 404, "not_found")


def test_stale_version_is_a_conflict(opened):
    manager = opened["as"]["manager"]
    assert post_json(manager, f"{NORTH}/reviews", review_body(opened, 1)).status_code == 201
    before = snapshot()
    error = assert_error(
        post_json(manager, f"{NORTH}/reviews", review_body(opened, 1)), 409, "conflict"
    )
    assert error["message"] == (
        "Someone else has changed this ACCT since you opened it. Reload it and try again."
    )
    assert snapshot() == before


def test_writes_on_a_closed_case_are_conflicts(opened):
    manager = opened["as"]["manager"]
    body = review_body(opened, 1, close=True, supervision=None, next_review_at=None)
    body["closure_reason"] = "Settled"
    assert post_json(manager, f"{NORTH}/reviews", body).status_code == 201
    before = snapshot()
    entry = {
        "kind": "CONVERSATION",
        "occurred_at": iso(START),
        "seen_or_spoken_to": True,
        "presentation": "Chatty",
    }
    error = assert_error(
        post_json(opened["as"]["officer"], f"{NORTH}/entries", entry), 409, "conflict"
    )
    assert error["message"].startswith("This ACCT is post-closure: you can only record")
    assert snapshot() == before


def test_schema_refusals_name_the_field(opened):
    officer, manager = opened["as"]["officer"], opened["as"]["manager"]
    before = snapshot()
    cases = [
        (officer, "concerns", {**CONCERN, "seen_or_heard": "x" * 2001}, ["seen_or_heard"]),
        (officer, "concerns", {**CONCERN, "source": "RUMOUR"}, ["source"]),
        (officer, "iap", {"plan": "ok", "recorded_at": "0001-01-01T00:00:00+01:00"}, None),
        (
            officer,
            "iap",
            {"plan": "ok", "supervision": {"day_observations_per_hour": 20}},
            ["supervision.day_observations_per_hour"],
        ),
        (manager, "reviews", review_body(opened, 1, attendees=[{"discipline": "MANAGER"}]), None),
        (manager, "reviews", review_body(opened, 0), ["expected_version"]),
    ]
    for client, path, body, fields in cases:
        assert_error(post_json(client, f"{NORTH}/{path}", body), 422, "validation_failed", fields)
    # A rule the schema cannot see: no conversations planned at all.
    body = review_body(opened, 1, supervision={"day_conversations": 0, "night_conversations": 0})
    error = assert_error(
        post_json(manager, f"{NORTH}/reviews", body),
        422,
        "validation_failed",
        fields=["supervision.day_conversations"],
    )
    assert error["message"] == "Plan at least one conversation a day (by day or by night)"
    body = review_body(opened, 1, next_review_at=iso(START))
    assert_error(
        post_json(manager, f"{NORTH}/reviews", body),
        422,
        "validation_failed",
        fields=["next_review_at"],
    )
    assert snapshot() == before


# --- Who may do what ---------------------------------------------------------------------------


def test_an_officer_cannot_hold_a_review(opened):
    officer = opened["as"]["officer"]
    before = snapshot()
    error = assert_error(
        post_json(officer, f"{NORTH}/reviews", review_body(opened, 1)), 403, "forbidden"
    )
    assert error["message"] == "You need the acct.manage_case permission to do this"
    assert_error(post_json(officer, f"{NORTH}/reopen", {"reason": "x"}), 403, "forbidden")
    assert snapshot() == before


def test_hq_analyst_gets_counts_and_never_names(opened):
    opened["clock"].move_to(at(28, 10, 30))  # the IAP (due 10:00) is overdue
    analyst = opened["as"]["analyst"]
    for url in (NORTH, f"{NORTH}/timeline", "/api/acct/prisons/XNA/board"):
        assert_error(analyst.get(url), 403, "forbidden")
    response = analyst.get("/api/acct/estate/overdue")
    assert response.status_code == 200
    body = response.json()
    assert body["generated_at"] == "2026-11-28T10:30:00Z"
    assert body["overdue_total"] == 1
    [north] = body["prisons"]
    assert (north["prison"], north["live_cases"], north["overdue_total"]) == ("XNA", 1, 1)
    assert north["overdue"]["IAP"] == 1
    text = response.content.decode()
    for secret in ("A1234BC", "Brightwater", "XNA-2026-0001"):
        assert secret not in text
    # A wing officer may not see the estate's figures.
    assert_error(opened["as"]["officer"].get("/api/acct/estate/overdue"), 403, "forbidden")


def test_health_entries_are_hidden_from_everyone_but_healthcare(opened):
    nurse, officer = opened["as"]["nurse"], opened["as"]["officer"]
    opened["clock"].move_to(at(28, 9, 30))
    health = {
        "kind": "CONVERSATION",
        "occurred_at": iso(at(28, 9, 20)),
        "seen_or_spoken_to": True,
        "presentation": "Talked about his medication",
        "health": True,
    }
    response = post_json(nurse, f"{NORTH}/entries", health)
    assert response.status_code == 201
    entry_id = response.json()["id"]

    def entry_ids(client):
        items = client.get(f"{NORTH}/timeline").json()["items"]
        return [i["entry"]["id"] for i in items if i["kind"] == "entry"]

    assert entry_ids(nurse) == [entry_id]
    assert entry_ids(officer) == []
    # An officer can neither correct it nor write one.
    response = post_json(officer, f"{NORTH}/entries/{entry_id}/correction", {"presentation": "x"})
    assert_error(response, 404, "not_found")
    error = assert_error(post_json(officer, f"{NORTH}/entries", health), 403, "forbidden")
    assert error["message"] == "Only healthcare staff can record health entries"
    assert CaseEntry.objects.count() == 1


def test_a_token_asks_for_a_review_but_cannot_hold_one(opened, token_client):
    client = token_client(["people:read", "acct:read", "acct:write"])
    response = post_json(
        client, f"{NORTH}/review-demands", {"reason": "SELF_HARM", "details": "Cut to the arm"}
    )
    assert response.status_code == 201, response.content
    # Self-harm on an open ACCT: the review is due at once.
    assert response.json()["due_at"] == "2026-11-28T09:00:00Z"
    assert response.json()["demanded_by"].startswith("token test gateway")
    summary = client.get(NORTH).json()
    assert ("DEMANDED_REVIEW", "2026-11-28T09:00:00Z", False) in due_of(summary)
    before = snapshot()
    assert_error(post_json(client, f"{NORTH}/reviews", review_body(opened, 1)), 403, "forbidden")
    assert_error(
        post_json(client, f"{NORTH}/assessments", {"summary": "x"}), 403, "training_required"
    )
    health = {
        "kind": "OBSERVATION",
        "occurred_at": iso(START),
        "seen_or_spoken_to": True,
        "presentation": "x",
        "health": True,
    }
    assert_error(post_json(client, f"{NORTH}/entries", health), 403, "forbidden")
    assert snapshot() == before
    # It may record an observation, and raise a concern that opens an ACCT.
    response = post_json(client, f"{NORTH}/entries", {**health, "health": False})
    assert response.status_code == 201, response.content
    response = post_json(client, "/api/acct/people/A2345BC/concerns", CONCERN)
    assert response.status_code == 201, response.content
    assert response.json()["case"]["log_number"] == "XNA-2026-0002"
    assert response.json()["concern"]["raised_by"].startswith("token test gateway")
    # A read-only token writes nothing.
    reader = token_client(["people:read", "acct:read"])
    assert reader.get(NORTH).status_code == 200
    assert_error(post_json(reader, f"{NORTH}/concerns", CONCERN), 403, "forbidden")


def test_wing_filter_must_name_a_wing_of_the_prison(opened):
    officer = opened["as"]["officer"]
    error = assert_error(
        officer.get("/api/acct/prisons/XNA/board", {"wing": "Q"}), 404, "not_found", ["wing"]
    )
    assert error["message"] == "No wing Q in HMP Northwold"
    whole = officer.get("/api/acct/prisons/xna/board").json()
    assert (whole["wing"], [r["prison_number"] for r in whole["rows"]]) == (None, ["A1234BC"])
    audit = AuditEvent.objects.filter(object_type="acct_wing_board").latest("sequence")
    assert audit.details["log_numbers"] == ["XNA-2026-0001"]
