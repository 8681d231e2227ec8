"""The demo's ACCTs: every stage, something overdue now, all on the wing board, the same data for
the same seed, and the bulk writer (estate size) writing exactly what the services write."""

import uuid
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from saferprisons.accounts.models import TrainingRecord, User
from saferprisons.acct import selectors
from saferprisons.acct import services as acct_services
from saferprisons.acct.constants import ASSESSOR_COURSE, CaseStatus, DueKind, RiskLevel
from saferprisons.acct.models import (
    AcctCase,
    AssessmentInterview,
    CaremapItem,
    CaseEntry,
    CaseReview,
    CaseTransition,
    Concern,
    ImmediateActionPlan,
    LogNumberCounter,
    ReviewAttendee,
    ReviewDemand,
    SaferCellDecision,
    StaffTask,
    SupervisionPlan,
)
from saferprisons.acct.tests.reference import assert_selector_matches_reference, moments_to_check
from saferprisons.audit.models import AuditEvent
from saferprisons.core import clock
from saferprisons.core.clock import LONDON
from saferprisons.core.errors import PermissionDenied
from saferprisons.demo import acct_histories as ah
from saferprisons.demo.services import seed_demo
from saferprisons.estate.models import Prison
from saferprisons.jobs.models import Job
from saferprisons.people.models import CaseNote, PersonAlert

# A Saturday morning in winter (GMT) and a summer night (BST): the stages must hold at any hour.
WINTER_MORNING = datetime(2026, 11, 28, 10, 15, tzinfo=LONDON)
SUMMER_NIGHT = datetime(2026, 6, 14, 2, 40, tzinfo=LONDON)


def seed(seed=7, *, flush=False, writer=None):
    return seed_demo(size="tiny", seed=seed, flush=flush, acct_writer_name=writer)


def classify(row: selectors.BoardRow) -> str:
    """The stage a wing-board row shows, from what the ACCT rules say is due."""
    if row.case.status == CaseStatus.POST_CLOSURE:
        return ah.POST_CLOSURE
    iap = row.due(DueKind.IAP)
    if iap is not None:
        return ah.IAP_OVERDUE if iap.overdue else ah.IAP_DUE
    if row.due(DueKind.ASSESSMENT) is not None:
        return ah.AWAITING_ASSESSMENT
    if row.due(DueKind.FIRST_REVIEW) is not None:
        return ah.AWAITING_FIRST_REVIEW
    if row.risk_level == RiskLevel.HIGH:
        return ah.HIGH_NOT_IN_SAFER_CELL if row.safer_cell_warning else ah.OPEN_HIGH
    return {RiskLevel.LOW: ah.OPEN_LOW, RiskLevel.RAISED: ah.OPEN_RAISED}[row.risk_level]


def histories(seed_number=7) -> dict[str, ah.AcctHistory]:
    """The generator's plan for the tiny prison, rebuilt the way the writer builds it."""
    from saferprisons.demo import generators as gen

    (spec,) = gen.prisons_for_size(gen.sub_rng(seed_number, "prisons"), "tiny")
    numbers = gen.prison_numbers(gen.sub_rng(seed_number, "numbers"), spec.target_population)
    people = gen.people_for_prison(
        gen.sub_rng(seed_number, spec.code, "people"), spec, numbers, other_prisons=0
    )
    layout = gen.prison_layout(gen.sub_rng(seed_number, spec.code, "layout"), spec)
    made = ah.acct_histories(
        gen.sub_rng(seed_number, spec.code, "acct"),
        spec,
        people,
        safer_places=gen.crisis_places(layout),
        showcase=True,
    )
    return {h.prison_number: h for h in made}


@pytest.mark.parametrize("moment", [WINTER_MORNING, SUMMER_NIGHT], ids=["morning", "night"])
def test_every_stage_is_on_the_wing_board_with_what_it_makes_due(db, moment):
    with time_machine.travel(moment, tick=False):
        report = seed()
        manager = User.objects.get(username="manager.zla")
        board = selectors.wing_board(manager, Prison.objects.get(code="ZLA"))
    plan = histories()

    # Every stage, as planned, in the report the command prints.
    assert {stage for stage, n in report.acct_stages.items() if n} == set(ah.STAGES)
    assert sum(report.acct_stages.values()) == len(plan) == AcctCase.objects.count() == 16

    # The board lists exactly the open and post-closure cases, each at its planned stage.
    live = {h.prison_number for h in plan.values() if h.status != ah.STATUS_CLOSED}
    assert {row.prisoner.prison_number for row in board.rows} == live
    assert (
        set(
            AcctCase.objects.filter(
                status__in=[CaseStatus.OPEN, CaseStatus.POST_CLOSURE]
            ).values_list("prisoner__prison_number", flat=True)
        )
        == live
    )
    for row in board.rows:
        history = plan[row.prisoner.prison_number]
        assert classify(row) == history.stage, (history.stage, history.flags, row.items)
        check_flags(row, history)
    closed = AcctCase.objects.get(status=CaseStatus.CLOSED)
    assert plan[closed.prisoner.prison_number].stage == ah.CLOSED

    # Something is overdue now, and the board puts it first.
    assert board.overdue_by_kind[DueKind.OBSERVATION] == 2
    assert board.rows[0].urgency == 0 and board.rows[0].overdue
    assert report.acct_overdue[DueKind.OBSERVATION] == 2
    assert sum(report.acct_overdue.values()) == board.overdue_count


def check_flags(row: selectors.BoardRow, history: ah.AcctHistory) -> None:
    """What each flag promises is what the rules compute."""
    flags, stage = history.flags, history.stage
    observation = row.due(DueKind.OBSERVATION)
    if stage in (ah.IAP_DUE, ah.IAP_OVERDUE, ah.POST_CLOSURE):
        assert observation is None
    else:
        assert observation is not None
        assert observation.always == (ah.CONSTANT in flags)
        assert observation.overdue == (ah.OBSERVATION_OVERDUE in flags)
    late = ah.LATE in flags
    if stage == ah.AWAITING_ASSESSMENT:
        assert row.due(DueKind.ASSESSMENT).overdue == late
        assert row.due(DueKind.FIRST_REVIEW).overdue == late
    if stage == ah.AWAITING_FIRST_REVIEW:
        assert row.due(DueKind.FIRST_REVIEW).overdue == late
    if stage == ah.POST_CLOSURE:
        assert row.due(DueKind.POST_CLOSURE_REVIEW).overdue == late
    if stage in ah.ONGOING_STAGES:
        scheduled = row.due(DueKind.SCHEDULED_REVIEW)
        assert scheduled.overdue == (ah.REVIEW_OVERDUE in flags)
        assert (scheduled in row.due_soon) == (ah.REVIEW_DUE_SOON in flags)
        demanded = {i.detail: i for i in row.items if i.kind == DueKind.DEMANDED_REVIEW}
        assert set(demanded) == {f for f in flags if f in (ah.SELF_HARM, ah.STAFF_REQUEST)}
        if ah.SELF_HARM in demanded:
            assert demanded[ah.SELF_HARM].overdue  # due at once
        if ah.STAFF_REQUEST in demanded:
            assert not demanded[ah.STAFF_REQUEST].overdue
        assert row.new_concern == (ah.NEW_CONCERN in flags)
        if stage == ah.OPEN_HIGH and ah.CELL_DECISION not in flags:
            assert row.in_safer_cell
        if stage == ah.HIGH_NOT_IN_SAFER_CELL or ah.CELL_DECISION in flags:
            assert not row.in_safer_cell


def test_the_command_prints_the_stages_and_the_demo_officer_can_assess(db):
    out = StringIO()
    with time_machine.travel(WINTER_MORNING, tick=False):
        call_command("seed_demo", size="tiny", seed=7, stdout=out)
        text = out.getvalue()
        assert "ACCTs by stage (16, written through the ACCT services)" in text
        assert "just opened, IAP due 1;" in text and "; closed 1." in text
        assert "Overdue now: " in text and "observation 2" in text

        # Every ACCT action went through its service, so it is audited, at its moment.
        actions = AuditEvent.objects.filter(object_type="acct_case")
        assert (
            actions.filter(details__event="review_held").count()
            == CaseReview.objects.filter(kind__in=["FIRST", "SCHEDULED", "UNSCHEDULED"]).count()
        )
        assert actions.earliest("sequence").occurred_at < actions.latest("sequence").occurred_at
        assert actions.latest("occurred_at").occurred_at < WINTER_MORNING

        # The demo officer holds current assessor training; security's has expired.
        officer = User.objects.get(username="officer.zla")
        security = User.objects.get(username="security.zla")
        assert TrainingRecord.current_for(officer, ASSESSOR_COURSE, WINTER_MORNING.date())
        expired = TrainingRecord.objects.get(user=security, course=ASSESSOR_COURSE)
        assert expired.expires_on < WINTER_MORNING.date()
        # A case just opened (nothing recorded on it yet).
        case = AcctCase.objects.filter(
            status=CaseStatus.OPEN, assessments__isnull=True, action_plans__isnull=True
        ).earliest("log_number")
        with pytest.raises(PermissionDenied, match="expired"):
            acct_services.record_assessment(actor=security, case=case, summary="Assessed")
        acct_services.record_assessment(actor=officer, case=case, summary="Assessed")
    assert AssessmentInterview.objects.filter(case=case, assessor=officer).count() == 1


# --- The same data every time, whichever writer ------------------------------------------------


def _rows(model, *fields, **filters):
    rows = model.objects.filter(**filters).values_list(*fields)
    return sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def acct_snapshot() -> dict:
    """Every ACCT row and its side effects, by natural keys (no ids, which differ)."""
    log = "case__log_number"
    return {
        "cases": _rows(
            AcctCase,
            "log_number",
            "prisoner__prison_number",
            "prison__code",
            "status",
            "opened_at",
            "opened_by_label",
            "period_started_at",
            "closed_at",
            "version",
            "next_due_at",
        ),
        "counters": _rows(LogNumberCounter, "prison__code", "year", "last_number"),
        "concerns": _rows(
            Concern,
            log,
            "prison__code",
            "source",
            "seen_or_heard",
            "immediate_risk",
            "action_taken",
            "effect",
            "raised_at",
            "raised_by__username",
            "raised_by_label",
        ),
        "transitions": _rows(
            CaseTransition,
            log,
            "from_status",
            "to_status",
            "at",
            "by__username",
            "by_label",
            "reason",
            "review__held_at",
            "concern__raised_at",
        ),
        "iaps": _rows(
            ImmediateActionPlan, log, "recorded_at", "recorded_by__username", "recorded_by_label"
        ),
        "assessments": _rows(
            AssessmentInterview,
            log,
            "assessor__username",
            "assessor_label",
            "training_record__expires_on",
            "interviewed_at",
            "recorded_at",
            "summary",
        ),
        "reviews": _rows(
            CaseReview,
            log,
            "kind",
            "outcome",
            "held_at",
            "recorded_at",
            "chair__username",
            "chair_label",
            "case_manager__username",
            "case_coordinator__username",
            "risk_level",
            "triggers",
            "warning_signs",
            "protective_factors",
            "notes",
            "family_consent",
            "next_review_at",
            "closure_reason",
        ),
        "attendees": _rows(
            ReviewAttendee,
            "review__case__log_number",
            "review__held_at",
            "user__username",
            "name",
            "discipline",
        ),
        "plans": _rows(
            SupervisionPlan,
            log,
            "review__held_at",
            "action_plan__recorded_at",
            "started_at",
            "constant",
            "day_observations_per_hour",
            "night_observations_per_hour",
            "day_conversations",
            "night_conversations",
            "set_by_label",
        ),
        "caremap": _rows(
            CaremapItem,
            log,
            "need",
            "action",
            "owner",
            "target_date",
            "status",
            "created_in__held_at",
            "updated_in__held_at",
        ),
        "entries": _rows(
            CaseEntry,
            log,
            "kind",
            "occurred_at",
            "recorded_at",
            "recorded_by__username",
            "recorded_by_label",
            "seen_or_spoken_to",
            "presentation",
            "concerns",
            "health",
        ),
        "demands": _rows(
            ReviewDemand,
            log,
            "reason",
            "details",
            "demanded_at",
            "due_at",
            "demanded_by_label",
            "source_key",
            "satisfied_by__held_at",
        ),
        "cell_decisions": _rows(
            SaferCellDecision, log, "decided_at", "decided_by__username", "reason"
        ),
        "tasks": _rows(
            StaffTask,
            "prison__code",
            "kind",
            "audience",
            "wing_path",
            "title",
            log,
            "due_at",
            "created_at",
            "done_at",
            "done_by__username",
        ),
        "alerts": _rows(
            PersonAlert,
            "prisoner__prison_number",
            "alert_code__code",
            "comment",
            "active_from",
            "ended_at",
            "created_by_label",
            "ended_by_label",
            alert_code__code__in=["HA", "HA1", "HA2"],
        ),
        "case_notes": _rows(
            CaseNote,
            "prisoner__prison_number",
            "prison__code",
            "note_type",
            "sensitivity",
            "text",
            "occurred_at",
            "author__username",
            "created_at",
            text__startswith="ACCT",
        ),
        "training": _rows(
            TrainingRecord, "user__username", "course", "completed_on", "expires_on", "recorded_at"
        ),
    }


def pending_timers() -> set[tuple]:
    """Queued worker timers, by case log number (job keys name the case's random public id)."""
    logs = dict(AcctCase.objects.values_list("public_id", "log_number"))
    return {
        (job.kind, logs[uuid.UUID(job.payload["case"])], job.payload["due_at"])
        for job in Job.objects.filter(kind__startswith="acct.", status="queued")
    }


def test_same_seed_gives_the_same_acct_data_whichever_writer(db):
    """Another seed gives other histories: test_acct_histories.py (the generator is pure)."""
    with time_machine.travel(SUMMER_NIGHT, tick=False):
        seed(7, writer="services")
        through_services = acct_snapshot()
        timers_left_by_services = pending_timers()
        seed(7, flush=True, writer="services")
        again = acct_snapshot()
        seed(7, flush=True, writer="bulk")
        in_bulk = acct_snapshot()
        bulk_timers = pending_timers()
    assert len(through_services["entries"]) > 100 and len(through_services["reviews"]) > 20
    assert again == through_services
    for table, rows in through_services.items():
        assert in_bulk[table] == rows, table
    # Every live case has something due (and so a stored next due time); closed ones none.
    next_due = [(row[3], row[-1]) for row in in_bulk["cases"]]
    assert {status for status, _ in next_due} == set(CaseStatus.values)
    assert all((due is not None) == (status != CaseStatus.CLOSED) for status, due in next_due)
    # The bulk writer queues only the timers still to come; the services queued those too.
    assert bulk_timers and bulk_timers <= timers_left_by_services


@pytest.mark.parametrize("writer", ["services", "bulk"])
def test_the_estate_query_finds_what_the_rules_find_over_every_case(db, writer):
    """Every stage, written either way: the cases found by their stored next due time give
    exactly what running the rules over every live case gives, at any moment."""
    with time_machine.travel(WINTER_MORNING, tick=False):
        seed(7, writer=writer)
        moments = moments_to_check(clock.now() - timedelta(days=2), days=10, step_hours=3)
    assert assert_selector_matches_reference(moments) > 100
