"""The pure rules: transitions, case manager bands, deadlines and "due by" formulas."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from saferprisons.acct import rules
from saferprisons.acct.constants import CaseStatus, DueKind
from saferprisons.acct.rules import (
    CaseFacts,
    PlanInForce,
    Supervision,
    Timings,
    Urgency,
)
from saferprisons.core.errors import Conflict, ValidationFailed

from .conftest import london

T = Timings()
OPEN, POST, CLOSED = CaseStatus.OPEN, CaseStatus.POST_CLOSURE, CaseStatus.CLOSED


# --- Transitions -------------------------------------------------------------------------------

PAIRS = {
    (OPEN, OPEN): "no-op",
    (OPEN, POST): "do",
    (OPEN, CLOSED): "conflict",
    (POST, OPEN): "do",
    (POST, POST): "no-op",
    (POST, CLOSED): "do",
    (CLOSED, OPEN): "do",
    (CLOSED, POST): "conflict",
    (CLOSED, CLOSED): "no-op",
}


def test_the_pairs_cover_every_from_and_to():
    assert set(PAIRS) == {(a, b) for a in CaseStatus.values for b in CaseStatus.values}


@pytest.mark.parametrize(("current", "target"), list(PAIRS))
def test_transition_table(current, target):
    expected = PAIRS[(current, target)]
    if expected == "conflict":
        with pytest.raises(Conflict):
            rules.check_transition(current, target)
    else:
        assert rules.check_transition(current, target) is (expected == "do")


def test_allowed_sources_are_what_the_row_lock_filters_on():
    assert rules.allowed_sources(OPEN) == [CLOSED, POST]
    assert rules.allowed_sources(POST) == [OPEN]
    assert rules.allowed_sources(CLOSED) == [POST]


# --- Case manager bands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("band", "parsed", "eligible"),
    [
        ("4", ("NOMS", 4), True),
        ("Band 5", ("NOMS", 5), True),
        (" 11 ", ("NOMS", 11), True),
        ("3", ("NOMS", 3), False),
        ("NHS 5", ("NHS", 5), True),
        ("nhs band 6", ("NHS", 6), True),
        ("AfC 7", ("NHS", 7), True),
        ("NHS 4", ("NHS", 4), False),
        ("", None, False),
        (None, None, False),
        ("Governor", None, False),
        ("4a", None, False),
    ],
)
def test_band_parsing_and_case_manager_eligibility(band, parsed, eligible):
    assert rules.parse_band(band) == parsed
    assert rules.may_be_case_manager(band) is eligible


def test_band_refusal_says_what_is_needed():
    with pytest.raises(ValidationFailed, match="band 4 or above.*NHS band 5"):
        rules.check_case_manager_band("3")


# --- Deadlines ---------------------------------------------------------------------------------


def test_deadlines_from_an_opening_at_nine_on_a_winter_morning():
    opened = london(2026, 11, 28, 9, 0)
    assert rules.iap_due(opened, T) == london(2026, 11, 28, 10, 0)
    assert rules.assessment_due(opened, T) == london(2026, 11, 29, 9, 0)
    assert rules.first_review_due(opened, T) == london(2026, 11, 29, 9, 0)
    assert rules.post_closure_review_due(london(2026, 11, 30, 15, 30), T) == london(
        2026, 12, 7, 15, 30
    )


def test_deadlines_in_summer_time():
    opened = london(2026, 7, 1, 9, 0)  # 08:00 UTC
    assert rules.iap_due(opened, T) == london(2026, 7, 1, 10, 0)
    assert rules.iap_due(opened, T).astimezone(UTC).hour == 9


def test_post_closure_across_the_clock_change_is_seven_real_days():
    closed = london(2026, 10, 20, 12, 0)  # BST
    due = rules.post_closure_review_due(closed, T)
    assert due - closed == timedelta(days=7)  # real elapsed time
    assert due == london(2026, 10, 27, 11, 0)  # GMT by then: an hour earlier on the clock


def test_demanded_reviews_are_due_within_the_window_and_self_harm_at_once():
    at = london(2026, 11, 28, 14, 5)
    assert rules.demand_due(at, "SELF_HARM", case_open=True, timings=T) == at
    assert rules.demand_due(at, "TRIGGER", case_open=True, timings=T) == london(2026, 11, 29, 14, 5)
    assert rules.demand_due(at, "SELF_HARM", case_open=False, timings=T) == london(
        2026, 11, 29, 14, 5
    )


def test_timings_come_from_settings(settings):
    settings.ACCT_IAP_HOURS = 2
    settings.ACCT_DAY_STARTS = "07:30"
    timings = Timings.from_settings()
    assert timings.iap == timedelta(hours=2)
    assert timings.day_length == timedelta(hours=12, minutes=30)
    assert timings.night_length == timedelta(hours=11, minutes=30)
    settings.ACCT_NIGHT_STARTS = "07:00"
    with pytest.raises(ValueError, match="earlier in the day"):
        Timings.from_settings()


# --- Day and night -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_day", "ends"),
    [
        (london(2026, 11, 28, 7, 59), False, london(2026, 11, 28, 8, 0)),
        (london(2026, 11, 28, 8, 0), True, london(2026, 11, 28, 20, 0)),
        (london(2026, 11, 28, 19, 59), True, london(2026, 11, 28, 20, 0)),
        (london(2026, 11, 28, 20, 0), False, london(2026, 11, 29, 8, 0)),
        (london(2026, 11, 28, 23, 30), False, london(2026, 11, 29, 8, 0)),
        # The clocks go back on 25 October 2026: that night is 13 hours long.
        (london(2026, 10, 24, 21, 0), False, datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        # ... and forward on 29 March 2026: that night is 11 hours long.
        (london(2026, 3, 28, 21, 0), False, datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    ],
)
def test_period_at(moment, is_day, ends):
    assert rules.period_at(moment, T) == (is_day, ends)


# --- Observations ------------------------------------------------------------------------------


def plan(day_obs="1", night_obs="1", day_conv=2, night_conv=0, constant=False, started=None):
    return PlanInForce(
        Supervision(
            constant=constant,
            day_observations_per_hour=Decimal(day_obs),
            night_observations_per_hour=Decimal(night_obs),
            day_conversations=day_conv,
            night_conversations=night_conv,
        ),
        started or london(2026, 11, 28, 9, 0),
    )


def test_observation_due_counts_from_the_plan_start_then_the_last_observation():
    hourly = plan()
    assert rules.observation_due(hourly, None, T) == london(2026, 11, 28, 10, 0)
    assert rules.observation_due(hourly, london(2026, 11, 28, 9, 40), T) == london(
        2026, 11, 28, 10, 40
    )
    # An observation before the plan started does not count: the plan start is the anchor.
    assert rules.observation_due(hourly, london(2026, 11, 28, 8, 50), T) == london(
        2026, 11, 28, 10, 0
    )
    assert rules.observation_due(plan(day_obs="2"), london(2026, 11, 28, 9, 40), T) == london(
        2026, 11, 28, 10, 10
    )
    assert rules.observation_due(plan(day_obs="0.25"), None, T) == london(2026, 11, 28, 13, 0)


def test_observation_due_across_the_evening_boundary_uses_each_period_rate():
    # Day hourly, night every 15 minutes: at 19:30, half the hour is used by 20:00, and the
    # other half at the night rate is 7.5 minutes.
    assert rules.observation_due(
        plan(day_obs="1", night_obs="4"), london(2026, 11, 28, 19, 30), T
    ) == london(2026, 11, 28, 20, 7, 30)
    # Day every 15 minutes, night hourly: 10 of 15 minutes used by 20:00, a third of an hour left.
    assert rules.observation_due(
        plan(day_obs="4", night_obs="1"), london(2026, 11, 28, 19, 50), T
    ) == london(2026, 11, 28, 20, 20)
    # Wholly inside the day: no boundary effect.
    assert rules.observation_due(
        plan(day_obs="1", night_obs="4"), london(2026, 11, 28, 18, 30), T
    ) == london(2026, 11, 28, 19, 30)


def test_observation_due_across_the_morning_boundary():
    # Night every 2 hours, day every 30 minutes: at 07:00, half the gap is used by 08:00.
    assert rules.observation_due(
        plan(day_obs="2", night_obs="0.5", started=london(2026, 11, 27, 20, 0)),
        london(2026, 11, 28, 7, 0),
        T,
    ) == london(2026, 11, 28, 8, 15)


def test_observation_interval_is_real_time_across_the_spring_clock_change():
    hourly = plan(started=london(2026, 3, 28, 21, 0))
    last = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 00:30 GMT
    due = rules.observation_due(hourly, last, T)
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert due == london(2026, 3, 29, 2, 30)  # BST: one real hour after 00:30 GMT


def test_constant_supervision_is_always_due_never_overdue():
    facts = CaseFacts(
        status=OPEN,
        period_started_at=london(2026, 11, 28, 9, 0),
        has_iap=True,
        has_assessment=True,
        has_review_in_period=True,
        next_review_at=london(2026, 12, 1, 10, 0),
        plan=plan(constant=True),
    )
    now = london(2026, 11, 28, 23, 0)
    assert rules.observation_due(facts.plan, None, T) is None
    (observation,) = [i for i in rules.due_items(facts, now, T) if i.kind == DueKind.OBSERVATION]
    assert (observation.due_at, observation.overdue, observation.always) == (now, False, True)


# --- Conversations -----------------------------------------------------------------------------


def test_conversations_spread_over_the_period():
    two_by_day = plan(day_conv=2, night_conv=0)
    # 2 a day over the 12-hour day: every 6 hours.
    assert rules.conversation_due(two_by_day, london(2026, 11, 28, 9, 0), T) == london(
        2026, 11, 28, 15, 0
    )
    # At 18:00 a third of the gap is used by 20:00; no conversations are planned at night,
    # so the count pauses until 08:00 and the other 4 hours run then.
    assert rules.conversation_due(two_by_day, london(2026, 11, 28, 18, 0), T) == london(
        2026, 11, 29, 12, 0
    )
    # One by day and one by night: the 11 hours left after 20:00 run at the night rate.
    assert rules.conversation_due(
        plan(day_conv=1, night_conv=1), london(2026, 11, 28, 19, 0), T
    ) == london(2026, 11, 29, 7, 0)


def test_conversation_across_the_short_spring_night():
    one_by_day = plan(day_conv=1, night_conv=0, started=london(2026, 3, 28, 9, 0))
    due = rules.conversation_due(one_by_day, london(2026, 3, 28, 19, 0), T)
    # 1 of 12 hours used on the 28th; the remaining 11 from 08:00 BST on the 29th.
    assert due == london(2026, 3, 29, 19, 0)
    assert due == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)


def test_no_conversations_planned_means_none_due():
    assert rules.conversation_due(plan(day_conv=0, night_conv=0), None, T) is None


def test_clean_supervision_refuses_bad_levels():
    with pytest.raises(ValidationFailed, match="between 0.25"):
        rules.clean_supervision(Supervision(day_observations_per_hour=Decimal("20")))
    with pytest.raises(ValidationFailed, match="2 decimal places"):
        rules.clean_supervision(Supervision(night_observations_per_hour=Decimal("0.333")))
    with pytest.raises(ValidationFailed, match="at least one conversation"):
        rules.clean_supervision(Supervision(day_conversations=0, night_conversations=0))
    with pytest.raises(ValidationFailed, match="whole number"):
        rules.clean_supervision(Supervision(day_conversations=25))
    assert rules.clean_supervision(Supervision(constant=True)).constant


# --- Everything due ----------------------------------------------------------------------------


def test_due_items_of_a_new_case_then_overdue_marks():
    opened = london(2026, 11, 28, 9, 0)
    facts = CaseFacts(status=OPEN, period_started_at=opened)
    items = rules.due_items(facts, london(2026, 11, 28, 9, 30), T)
    assert [(i.kind, i.due_at, i.overdue) for i in items] == [
        (DueKind.IAP, london(2026, 11, 28, 10, 0), False),
        (DueKind.ASSESSMENT, london(2026, 11, 29, 9, 0), False),
        (DueKind.FIRST_REVIEW, london(2026, 11, 29, 9, 0), False),
    ]
    later = rules.due_items(facts, london(2026, 11, 28, 10, 1), T)
    assert [i.overdue for i in later] == [True, False, False]
    # Exactly at the due minute it is due, not yet overdue.
    assert not rules.due_items(facts, london(2026, 11, 28, 10, 0), T)[0].overdue


def test_due_items_after_the_first_review_and_in_post_closure():
    facts = CaseFacts(
        status=OPEN,
        period_started_at=london(2026, 11, 28, 9, 0),
        has_iap=True,
        has_assessment=True,
        has_review_in_period=True,
        next_review_at=london(2026, 11, 30, 10, 0),
        demands=[(london(2026, 11, 29, 12, 0), "TRIGGER")],
        plan=plan(started=london(2026, 11, 28, 15, 0)),
        last_observation_at=london(2026, 11, 28, 15, 30),
        last_conversation_at=london(2026, 11, 28, 15, 0),
    )
    items = rules.due_items(facts, london(2026, 11, 28, 16, 45), T)
    assert [(i.kind, i.due_at, i.overdue) for i in items] == [
        (DueKind.OBSERVATION, london(2026, 11, 28, 16, 30), True),
        (DueKind.CONVERSATION, london(2026, 11, 29, 9, 0), False),
        (DueKind.DEMANDED_REVIEW, london(2026, 11, 29, 12, 0), False),
        (DueKind.SCHEDULED_REVIEW, london(2026, 11, 30, 10, 0), False),
    ]
    closed = CaseFacts(
        status=POST,
        period_started_at=london(2026, 11, 28, 9, 0),
        closed_at=london(2026, 12, 1, 11, 0),
        plan=facts.plan,
    )
    assert [(i.kind, i.due_at) for i in rules.due_items(closed, london(2026, 12, 2, 9), T)] == [
        (DueKind.POST_CLOSURE_REVIEW, london(2026, 12, 8, 11, 0))
    ]
    done = CaseFacts(
        status=CLOSED, period_started_at=facts.period_started_at, closed_at=closed.closed_at
    )
    assert rules.due_items(done, london(2026, 12, 9, 9), T) == []


def test_urgency_order():
    now = london(2026, 11, 28, 12, 0)

    def item(kind, minutes):
        due = now + timedelta(minutes=minutes)
        return rules.DueItem(kind, due, rules.is_overdue(due, now))

    def rank(items, **flags):
        flags = {"new_concern": False, "high_risk_unsafe": False, **flags}
        return rules.urgency(items, now, T, **flags)[0]

    assert rank([item(DueKind.OBSERVATION, -5), item(DueKind.IAP, -60)]) == (
        Urgency.OBSERVATION_OVERDUE
    )
    assert rank([item(DueKind.OBSERVATION, 10)]) == Urgency.OBSERVATION_DUE_SOON
    assert rank([item(DueKind.OBSERVATION, 30), item(DueKind.DEMANDED_REVIEW, 0)]) == (
        Urgency.REVIEW_DUE
    )
    assert rank([item(DueKind.OBSERVATION, 30), item(DueKind.ASSESSMENT, 600)]) == (
        Urgency.IAP_OR_ASSESSMENT
    )
    assert rank([item(DueKind.OBSERVATION, 30)], new_concern=True) == Urgency.NEW_CONCERN
    assert rank([], high_risk_unsafe=True) == Urgency.HIGH_RISK_NOT_IN_SAFER_CELL
    assert rank([item(DueKind.OBSERVATION, 30)]) == Urgency.OTHER


def test_log_number_shape():
    assert rules.log_number("ZLA", 2026, 1) == "ZLA-2026-0001"
    assert rules.log_number("ZLA", 2026, 12345) == "ZLA-2026-12345"
