"""Scoped, audited reads: the wing board (order and query count), the estate view, safer cells."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saferprisons.acct import rules, selectors, services
from saferprisons.acct.constants import CaseStatus, DemandReason, DueKind, EntryKind
from saferprisons.audit.models import AuditEvent
from saferprisons.conftest import admit, make_wing
from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.estate.models import Location

from .conftest import (
    START,
    attendees,
    close_at_review,
    first_review,
    fresh,
    london,
    open_case,
    raise_concern,
    settle,
)
from .reference import assert_selector_matches_reference, moments_to_check


def entry(world, case, kind, at):
    services.record_entry(
        actor=world.officer,
        case=case,
        kind=kind,
        occurred_at=at,
        seen_or_spoken_to=True,
        presentation="Calm",
    )


def seen_at(world, case, at):
    entry(world, case, EntryKind.OBSERVATION, at)
    entry(world, case, EntryKind.CONVERSATION, at)


@pytest.fixture
def ward(world):
    """Eight people on the north B wing (and one in the safe cell), cases opened two days ago."""
    world.b_cells = make_wing(world.north, "B", cells=10, working=1)
    world.c_cells = make_wing(
        world.north, "C", cells=2, working=1, cell_types=("CONSTANT_SUPERVISION",)
    )
    world.traveller.move_to(START - timedelta(days=2))
    people = {}
    for n in range(1, 9):
        cell = world.safe_cells[0] if n == 8 else world.b_cells[n - 1]
        people[n] = admit(world.manager, world.north, f"E{n:04d}AB", f"Person{n}", cell=cell)
    cases = {}
    for n in (1, 2, 3, 5, 6, 7, 8):
        case = open_case(world, people[n])
        settle(world, case)
        first_review(
            world,
            case,
            risk_level="HIGH" if n in (5, 8) else "RAISED",
            next_review_at=START + timedelta(days=3),
        )
        cases[n] = case
    close_at_review(world, cases[6])
    world.traveller.move_to(london(2026, 11, 28, 11, 0))
    raise_concern(world.officer, people[7])  # recorded on the open case: a new concern
    world.traveller.move_to(london(2026, 11, 28, 11, 30))
    cases[4] = open_case(world, people[4])  # brand new: IAP due 12:30
    seen_at(world, cases[2], london(2026, 11, 28, 11, 10))  # observation due 12:10
    for n in (3, 5, 7, 8):
        seen_at(world, cases[n], london(2026, 11, 28, 11, 30))
    world.traveller.move_to(london(2026, 11, 28, 11, 58))
    services.demand_review(actor=world.officer, case=cases[3], reason=DemandReason.SELF_HARM)
    world.traveller.move_to(london(2026, 11, 28, 12, 0))
    world.people, world.cases = people, cases
    return world


def numbers(board):
    return [row.prisoner.prison_number for row in board.rows]


def test_the_board_puts_the_most_urgent_first(ward):
    board = selectors.wing_board(ward.manager, ward.north)
    assert numbers(board) == [
        "E0001AB",  # observation overdue (last seen two days ago)
        "E0002AB",  # observation due within 15 minutes (12:10)
        "E0003AB",  # self-harm: review due at once
        "E0004AB",  # new ACCT: IAP due 12:30
        "E0007AB",  # new concern on an open ACCT
        "E0005AB",  # HIGH risk, not in a safer cell, no decision
        "E0008AB",  # HIGH risk but in the safe cell: nothing urgent, observation due 12:30
        "E0006AB",  # post-closure review due in 5 days
    ]
    rows = {row.prisoner.prison_number: row for row in board.rows}
    assert [i.kind for i in rows["E0001AB"].overdue] == [DueKind.OBSERVATION, DueKind.CONVERSATION]
    assert rows["E0001AB"].urgency == rules.Urgency.OBSERVATION_OVERDUE
    assert clock.local(rows["E0002AB"].due(DueKind.OBSERVATION).due_at) == london(
        2026, 11, 28, 12, 10
    )
    assert [i.kind for i in rows["E0002AB"].due_soon] == [DueKind.OBSERVATION]
    assert rows["E0005AB"].safer_cell_warning and not rows["E0008AB"].safer_cell_warning
    assert rows["E0008AB"].in_safer_cell
    assert rows["E0006AB"].case.status == CaseStatus.POST_CLOSURE
    assert board.overdue_count == 3  # E1 observation and conversation, E3 review
    event = AuditEvent.objects.filter(object_type="acct_wing_board").latest("sequence")
    assert event.details["result_count"] == 8 and "ZNA-2026-0001" in event.details["log_numbers"]


def test_the_board_for_one_wing(ward):
    board = selectors.wing_board(ward.manager, ward.north, wing_path="s")
    assert numbers(board) == ["E0008AB"]
    assert numbers(selectors.wing_board(ward.manager, ward.north, wing_path="A")) == []


def test_the_board_takes_a_fixed_number_of_queries(ward, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as many:
        selectors.wing_board(ward.manager, ward.north)
    with CaptureQueriesContext(connection) as one:
        assert len(selectors.wing_board(ward.manager, ward.north, wing_path="S").rows) == 1
    assert len(many) == len(one)
    with django_assert_max_num_queries(12):
        selectors.wing_board(ward.manager, ward.north)


def test_the_board_is_scoped(ward):
    with pytest.raises(NotFound):
        selectors.wing_board(ward.south_manager, ward.north)
    with pytest.raises(NotFound):
        selectors.wing_board(ward.analyst, ward.north)
    assert selectors.wing_board(ward.south_manager, ward.south).rows == []


def test_estate_overdue_now_is_set_based(ward, django_assert_max_num_queries):
    raise_concern(ward.south_manager, ward.south_person)  # opened at 12:00
    ward.traveller.move_to(london(2026, 11, 28, 13, 1))
    # The due cases, their latest reviews, plans and demands, and the live cases per prison.
    with django_assert_max_num_queries(5):
        report = selectors.estate_overdue_now()
    counts = report.counts()
    assert counts["ZSO"] == {DueKind.IAP: 1}
    assert counts["ZNA"][DueKind.IAP] == 1  # E4: opened at 11:30
    assert counts["ZNA"][DueKind.DEMANDED_REVIEW] == 1
    assert report.open_cases == {"ZNA": 8, "ZSO": 1}
    assert all(row.due_at < clock.now() for row in report.rows)
    south = [r for r in report.rows if r.prison_code == "ZSO"]
    assert [(r.log_number, r.kind, clock.local(r.due_at)) for r in south] == [
        ("ZSO-2026-0001", DueKind.IAP, london(2026, 11, 28, 13, 0))
    ]


def test_estate_overdue_now_equals_the_full_computation_at_any_moment(ward):
    """Reading only the cases past their stored next due time finds exactly what running the
    rules over every live case finds: on a grid over nine days and at every due time, a second
    either side."""
    raise_concern(ward.south_manager, ward.south_person)  # opened at 12:00
    moments = moments_to_check(clock.now() - timedelta(hours=6), days=9)
    assert len(moments) > 100
    assert assert_selector_matches_reference(moments) > 100


def test_hq_analysts_get_counts_only(ward):
    counts = selectors.estate_overdue_counts(ward.analyst)
    north = next(c for c in counts if c.prison_code == "ZNA")
    assert north.live_cases == 8 and north.overdue_total == 3
    assert not hasattr(north, "rows")
    assert selectors.estate_overdue_counts(ward.officer) == []
    with pytest.raises(NotFound):
        selectors.case_summary_for(ward.analyst, "E0001AB")
    with pytest.raises(NotFound):
        selectors.case_timeline(ward.analyst, "E0001AB")


# --- Summary and timeline ----------------------------------------------------------------------


def test_summary_of_a_person_without_an_acct(world):
    summary = selectors.case_summary_for(world.officer, "a1234bc")
    assert summary.case is None and summary.items == [] and summary.status is None
    with pytest.raises(NotFound):
        selectors.case_timeline(world.officer, "A1234BC")


def test_summary_and_timeline_are_scoped_and_audited(world):
    case = open_case(world)
    with pytest.raises(NotFound):
        selectors.case_summary_for(world.south_manager, "A1234BC")
    with pytest.raises(NotFound):
        selectors.get_case(world.south_manager, case.public_id)
    with pytest.raises(NotFound):
        selectors.get_case(world.officer, "not-a-uuid")
    assert selectors.get_case(world.officer, str(case.public_id)) == case
    before = AuditEvent.objects.filter(object_type="acct_case", action="view").count()
    selectors.case_summary_for(world.officer, "A1234BC")
    selectors.case_timeline(world.officer, "A1234BC")
    views = AuditEvent.objects.filter(object_type="acct_case", action="view").order_by("sequence")
    assert views.count() == before + 2
    assert [e.details["view"] for e in views][-2:] == ["summary", "timeline"]


def test_timeline_lists_every_record_in_time_order(world):
    case = open_case(world)
    world.traveller.shift(timedelta(minutes=20))
    services.record_iap(actor=world.officer, case=case, plan="Keep safe")
    world.traveller.shift(timedelta(hours=2))
    services.record_assessment(actor=world.nurse, case=case, summary="Assessed")
    world.traveller.shift(timedelta(hours=1))
    first_review(world, case)
    world.traveller.shift(timedelta(minutes=30))
    entry(world, case, EntryKind.OBSERVATION, clock.now() - timedelta(minutes=5))
    services.demand_review(actor=world.officer, case=case, reason=DemandReason.STAFF_REQUEST)
    kinds = [i.kind for i in selectors.case_timeline(world.officer, "A1234BC")]
    assert kinds == [
        "concern",
        "transition",
        "iap",
        "assessment",
        "review",
        "entry",
        "demand",
    ]


# --- Safer cells -------------------------------------------------------------------------------


def test_safer_cell_options_respect_working_capacity(ward):
    person = ward.people[5]
    options = selectors.safer_cell_options(ward.north, person)
    # The safe cell is full (E8 is in it); both constant-supervision cells are free.
    assert [c.path for c in options] == ["C-1-001", "C-1-002"]
    Location.objects.filter(pk=ward.c_cells[0].pk).update(working_capacity=0)
    assert [c.path for c in selectors.safer_cell_options(ward.north, person)] == ["C-1-002"]


def test_the_warning_stays_until_a_move_or_a_decision(ward):
    case = ward.cases[5]

    def warning():
        return selectors.case_summary_for(ward.manager, "E0005AB").safer_cell_warning

    assert warning()
    services.record_safer_cell_decision(
        actor=ward.manager, case=case, reason="Constant supervision by staff on the landing"
    )
    assert not warning()
    # A later review that again finds HIGH risk needs a fresh decision (or a move).
    ward.traveller.shift(timedelta(minutes=5))
    services.hold_review(
        actor=ward.manager,
        case=case,
        expected_version=fresh(case).version,
        attendees=attendees(ward),
        risk_level="HIGH",
        next_review_at=clock.now() + timedelta(days=1),
    )
    assert warning()
    from saferprisons.people import services as people_services

    people_services.allocate_cell(actor=ward.manager, prisoner=ward.people[5], cell=ward.c_cells[1])
    summary = selectors.case_summary_for(ward.manager, "E0005AB")
    assert summary.in_safer_cell and not summary.safer_cell_warning


def test_safe_cell_report(ward):
    Location.objects.filter(pk=ward.safe_cells[0].pk).update(
        ligature_certified_on=date(2026, 6, 1), ligature_certified_by=ward.admin
    )
    report = selectors.safe_cell_report(ward.manager, ward.north)
    assert (report.safe_cells, report.constant_supervision_cells) == (1, 2)
    assert (report.occupied_by_acct, report.occupied_by_others, report.free_places) == (1, 0, 2)
    assert report.uncertified == 0
    assert [(r.cell.path, r.certified_on) for r in report.rows][0] == ("C-1-001", None)
    assert report.rows[-1].certified_on == date(2026, 6, 1)
    # HQ analysts see counts for their prisons; other prisons' staff nothing.
    assert selectors.safe_cell_report(ward.analyst, ward.north).safe_cells == 1
    with pytest.raises(NotFound):
        selectors.safe_cell_report(ward.south_manager, ward.north)
    with pytest.raises(NotFound):
        selectors.safe_cell_report(ward.auditor, ward.north)


def test_open_tasks_are_scoped(ward):
    tasks = selectors.open_tasks(ward.manager, ward.north, audience="SAFER_CUSTODY")
    assert {t.kind for t in tasks} >= {"ACCT_OPENED", "REVIEW_DUE"}
    with pytest.raises(NotFound):
        selectors.open_tasks(ward.south_manager, ward.north)


def test_policy_settings_are_registered(world):
    from saferprisons.core.policy import POLICY_SETTINGS

    acct = {s.name: s for s in POLICY_SETTINGS if s.name.startswith("ACCT_")}
    assert set(acct) == {
        "ACCT_IAP_HOURS",
        "ACCT_ASSESSMENT_HOURS",
        "ACCT_FIRST_REVIEW_HOURS",
        "ACCT_POST_CLOSURE_DAYS",
        "ACCT_UNSCHEDULED_REVIEW_HOURS",
        "ACCT_DAY_STARTS",
        "ACCT_NIGHT_STARTS",
        "ACCT_DUE_SOON_MINUTES",
        "ACCT_NEW_CONCERN_HOURS",
        "ACCT_SAFER_CUSTODY_EMAILS",
    }
    assert acct["ACCT_IAP_HOURS"].confirmed and acct["ACCT_IAP_HOURS"].value == 1
    assert acct["ACCT_ASSESSMENT_HOURS"].confirmed and acct["ACCT_FIRST_REVIEW_HOURS"].confirmed
    assert not acct["ACCT_POST_CLOSURE_DAYS"].confirmed
    assert not acct["ACCT_UNSCHEDULED_REVIEW_HOURS"].confirmed
    assert "Local choice" in acct["ACCT_UNSCHEDULED_REVIEW_HOURS"].source


def test_constant_supervision_outside_a_safer_cell_warns_too(ward):
    case = ward.cases[2]  # RAISED risk, in an ordinary cell: no warning
    assert not selectors.case_summary_for(ward.manager, "E0002AB").safer_cell_warning
    ward.traveller.shift(timedelta(minutes=5))
    services.hold_review(
        actor=ward.manager,
        case=case,
        expected_version=fresh(case).version,
        attendees=attendees(ward),
        risk_level="RAISED",
        supervision=rules.Supervision(constant=True),
        next_review_at=clock.now() + timedelta(days=1),
    )
    assert selectors.case_summary_for(ward.manager, "E0002AB").safer_cell_warning
    rows = {
        r.case.prisoner.prison_number: r
        for r in selectors.wing_board(ward.manager, ward.north).rows
    }
    assert rows["E0002AB"].safer_cell_warning
    services.record_safer_cell_decision(
        actor=ward.manager, case=case, reason="Constant watch from the landing office"
    )
    assert not selectors.case_summary_for(ward.manager, "E0002AB").safer_cell_warning
