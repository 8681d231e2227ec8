"""One person's ACCT pages through the Django test client: every page renders, every form does
what it says (exact values at a frozen London time), bad input shows the GOV.UK error summary
with status 400 and changes nothing, and scoping and permissions hold."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from saferprisons.acct import services
from saferprisons.acct.constants import CaremapStatus, CaseStatus, Discipline
from saferprisons.acct.models import (
    AcctCase,
    AssessmentInterview,
    CaremapItem,
    CaseEntry,
    CaseReview,
    Concern,
    ImmediateActionPlan,
    ReviewAttendee,
    ReviewDemand,
    SaferCellDecision,
    SupervisionPlan,
)
from saferprisons.acct.tests.conftest import (
    START,
    close_at_review,
    first_review,
    fresh,
    london,
    open_case,
    raise_concern,
)
from saferprisons.audit.models import AuditEvent
from saferprisons.core import clock

NUMBER = "A1234BC"
PROBLEM = "There is a problem"


@pytest.fixture
def client_for(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def page(name, number=NUMBER, *args):
    return reverse(f"acct:{name}", args=[number, *args])


def body(response) -> str:
    return response.content.decode()


def counts(*models) -> dict:
    return {model.__name__: model.objects.count() for model in models}


EVERYTHING = (
    AcctCase,
    Concern,
    ImmediateActionPlan,
    AssessmentInterview,
    CaseReview,
    ReviewAttendee,
    CaremapItem,
    SupervisionPlan,
    CaseEntry,
    ReviewDemand,
    SaferCellDecision,
)


def refused(response, *messages):
    """A GOV.UK error summary with each message, answered 400."""
    text = body(response)
    assert response.status_code == 400, text[:2000]
    assert PROBLEM in text
    assert 'class="govuk-error-summary"' in text
    for message in messages:
        assert message in text, message


def review_post(w, case, **overrides) -> dict:
    """A complete first case review as the form posts it."""
    data = {
        "expected_version": str(fresh(case).version),
        "attendees": ["MANAGER", "HEALTHCARE"],
        "attendee_MANAGER": "Pat Manager",
        "attendee_HEALTHCARE": "Lee Nurse",
        "risk_level": "RAISED",
        "case_manager": str(w.manager.public_id),
        "case_coordinator": str(w.officer.public_id),
        "triggers": "Bad news from home",
        "warning_signs": "Withdrawn, not eating",
        "protective_factors": "His children",
        "new0_need": "Contact with family",
        "new0_action": "Arrange a phone call",
        "new0_owner": "Wing officer",
        "new0_target_day": "30",
        "new0_target_month": "11",
        "new0_target_year": "2026",
        "supervision": "LEVELS",
        "day_observations_per_hour": "2",
        "night_observations_per_hour": "0.5",
        "day_conversations": "3",
        "night_conversations": "1",
        "next_review_day": "30",
        "next_review_month": "11",
        "next_review_year": "2026",
        "next_review_time": "10:00",
        "notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- The summary page and the profile panel ----------------------------------------------------


def test_a_person_without_an_acct_can_have_a_concern_raised(world, client_for):
    response = client_for(world.officer).get(page("case"))
    assert response.status_code == 200
    assert "has never been on an ACCT" in body(response)
    assert page("raise_concern") in body(response)
    profile = body(client_for(world.officer).get(f"/people/{NUMBER}/"))
    assert "Never on an ACCT." in profile
    assert page("raise_concern") in profile


def test_the_case_page_shows_what_is_due_and_marks_overdue_items(world, client_for):
    open_case(world)
    client = client_for(world.officer)
    text = body(client.get(page("case")))
    assert "ACCT ZNA-2026-0001" in text
    assert "Immediate Action Plan: due by" in text
    assert "Sat 28 Nov 2026 10:00" in text  # opened 09:00, IAP within an hour
    assert "Sun 29 Nov 2026 09:00" in text  # assessment and first review within 24 hours
    assert "Overdue" not in text
    world.traveller.move_to(london(2026, 11, 28, 10, 1))
    text = body(client.get(page("case")))
    assert "1 overdue" in text
    assert "<strong>Immediate Action Plan</strong>: was due by" in text
    # Every view of the case is audited.
    views = AuditEvent.objects.filter(action="view", object_type="acct_case")
    assert {e.details["view"] for e in views} >= {"summary", "timeline"}


def test_the_profile_shows_the_acct_panel_with_a_link_to_the_case(world, client_for):
    open_case(world)
    text = body(client_for(world.officer).get(f"/people/{NUMBER}/"))
    assert "ZNA-2026-0001" in text
    assert page("case") in text
    assert page("raise_concern") in text
    assert "Immediate Action Plan: due by" in text


def test_the_acct_panel_is_not_shown_to_roles_without_acct_access(world, client_for):
    # The system administrator cannot see people at all; the auditor neither.
    assert client_for(world.admin).get(f"/people/{NUMBER}/").status_code == 403
    assert client_for(world.admin).get(page("case")).status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "case",
        "raise_concern",
        "record_iap",
        "record_assessment",
        "hold_review",
        "post_closure_review",
        "reopen",
        "record_entry",
        "demand_review",
        "safer_cell_decision",
    ],
)
def test_another_prisons_person_is_not_found(world, client_for, name):
    raise_concern(world.south_manager, world.south_person)
    client = client_for(world.manager)
    assert client.get(page(name, "B2345CD")).status_code == 404
    if name != "case":
        assert client.post(page(name, "B2345CD"), {"reason": "x"}).status_code == 404
    assert AcctCase.objects.get().prisoner == world.south_person


@pytest.mark.parametrize(
    "name", ["record_iap", "record_assessment", "hold_review", "record_entry", "reopen"]
)
def test_action_pages_need_an_acct(world, client_for, name):
    assert client_for(world.manager).get(page(name)).status_code == 404


# --- Concern and Keep Safe ---------------------------------------------------------------------

CONCERN = {
    "source": "PERSONS_OWN_WORDS",
    "seen_or_heard": "Said he wants to end it all after a visit",
    "immediate_risk": "Has torn a sheet",
    "action_taken": "Removed the sheet; stayed with him",
}


def test_raising_a_concern_opens_the_acct_and_shows_the_log_number(world, client_for):
    client = client_for(world.officer)
    assert client.get(page("raise_concern")).status_code == 200
    response = client.post(page("raise_concern"), CONCERN)
    assert response.status_code == 302
    assert response["Location"] == page("case")
    case = AcctCase.objects.get()
    assert (case.log_number, case.status, case.opened_at) == ("ZNA-2026-0001", "OPEN", START)
    concern = Concern.objects.get()
    assert concern.source == "PERSONS_OWN_WORDS"
    assert concern.seen_or_heard == CONCERN["seen_or_heard"]
    assert concern.raised_by == world.officer
    text = body(client.get(response["Location"]))
    assert "ACCT opened. Log number ZNA-2026-0001" in text
    assert "govuk-notification-banner--success" in text
    # A second concern is recorded on the open ACCT.
    client.post(page("raise_concern"), CONCERN)
    assert Concern.objects.count() == 2
    assert "Concern recorded on the open ACCT, log number ZNA-2026-0001" in body(
        client.get(page("case"))
    )


def test_a_bad_concern_shows_the_errors_and_changes_nothing(world, client_for):
    client = client_for(world.officer)
    before = counts(*EVERYTHING)
    response = client.post(
        page("raise_concern"),
        {"source": "", "seen_or_heard": "", "immediate_risk": "x" * 1001, "action_taken": "ok"},
    )
    refused(
        response,
        "Choose where the concern came from",
        "Enter what was seen or heard",
        "The immediate risk must be 1000 characters or fewer",
    )
    assert 'href="#source"' in body(response)
    refused(client.post(page("raise_concern"), {**CONCERN, "source": "GOSSIP"}))
    assert counts(*EVERYTHING) == before


# --- Immediate Action Plan and assessment ------------------------------------------------------


def test_recording_the_iap_with_interim_levels(world, client_for):
    case = open_case(world)
    client = client_for(world.officer)
    assert client.get(page("record_iap")).status_code == 200
    world.traveller.move_to(london(2026, 11, 28, 9, 40))
    response = client.post(
        page("record_iap"),
        {
            "plan": "Keep the cell door observation panel clear",
            "supervision": "LEVELS",
            "day_observations_per_hour": "2",
            "night_observations_per_hour": "1",
            "day_conversations": "2",
            "night_conversations": "0",
        },
    )
    assert response.status_code == 302
    iap = ImmediateActionPlan.objects.get(case=case)
    assert (iap.plan, iap.recorded_at) == (
        "Keep the cell door observation panel clear",
        london(2026, 11, 28, 9, 40),
    )
    plan = SupervisionPlan.objects.get(case=case)
    assert (plan.day_observations_per_hour, plan.day_conversations) == (Decimal("2"), 2)
    assert plan.action_plan == iap
    text = body(client.get(page("case")))
    assert "Immediate Action Plan recorded" in text
    assert "Observations 2 an hour by day, 1 an hour by night" in text
    # Interim plan 09:40, two an hour: the next observation is due by 10:10.
    assert "Observation: due by <time" in text and "10:10</time>" in text


def test_a_bad_iap_changes_nothing(world, client_for):
    open_case(world)
    client = client_for(world.officer)
    before = counts(*EVERYTHING)
    refused(client.post(page("record_iap"), {"plan": "", "supervision": "NONE"}), "Enter the plan")
    response = client.post(
        page("record_iap"),
        {
            "plan": "Keep safe",
            "supervision": "LEVELS",
            "day_observations_per_hour": "lots",
            "night_observations_per_hour": "20",
            "day_conversations": "2",
            "night_conversations": "",
        },
    )
    refused(
        response,
        "Enter the observations per hour by day as a number, for example 2 or 0.5",
        "Enter the conversations by night",
    )
    # The range is the service's rule: its message is shown.
    response = client.post(
        page("record_iap"),
        {
            "plan": "Keep safe",
            "supervision": "LEVELS",
            "day_observations_per_hour": "1",
            "night_observations_per_hour": "20",
            "day_conversations": "2",
            "night_conversations": "0",
        },
    )
    refused(response, "Observations per hour must be between 0.25")
    assert 'href="#night_observations_per_hour"' in body(response)
    assert counts(*EVERYTHING) == before


def test_a_trained_assessor_records_the_assessment(world, client_for):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 11, 0))
    client = client_for(world.nurse)
    text = body(client.get(page("record_assessment")))
    assert "no current ACCT assessor training" not in text
    assert 'value="11:00"' in text  # the time defaults to now, in London time
    response = client.post(
        page("record_assessment"),
        {
            "summary": "Talked for an hour; low mood since the visit",
            "interviewed_day": "28",
            "interviewed_month": "11",
            "interviewed_year": "2026",
            "interviewed_time": "10:30",
        },
    )
    assert response.status_code == 302
    assessment = AssessmentInterview.objects.get(case=case)
    assert assessment.interviewed_at == london(2026, 11, 28, 10, 30)
    assert assessment.assessor == world.nurse


def test_an_untrained_officer_is_refused_the_assessment_with_the_reason(world, client_for):
    open_case(world)
    client = client_for(world.officer)
    assert "You have no current ACCT assessor training record" in body(
        client.get(page("record_assessment"))
    )
    before = counts(*EVERYTHING)
    response = client.post(
        page("record_assessment"),
        {
            "summary": "Assessed",
            "interviewed_day": "28",
            "interviewed_month": "11",
            "interviewed_year": "2026",
            "interviewed_time": "09:00",
        },
    )
    refused(
        response,
        "Only a trained ACCT assessor can record an assessment interview: you have no current "
        "ACCT assessor training record.",
    )
    refused(
        client_for(world.nurse).post(
            page("record_assessment"),
            {
                "summary": "Assessed",
                "interviewed_day": "31",
                "interviewed_month": "2",
                "interviewed_year": "2026",
                "interviewed_time": "25:00",
            },
        ),
        "The date of the interview must be a real date",
    )
    assert counts(*EVERYTHING) == before


# --- Case reviews ------------------------------------------------------------------------------


def test_a_manager_holds_the_first_review(world, client_for):
    case = open_case(world)
    version = fresh(case).version
    client = client_for(world.manager)
    text = body(client.get(page("hold_review")))
    assert f'name="expected_version" value="{version}"' in text
    assert "First case review" in text
    assert "Keep the current plan" not in text  # no plan in force yet
    world.traveller.move_to(london(2026, 11, 28, 14, 0))
    response = client.post(page("hold_review"), review_post(world, case))
    assert response.status_code == 302, body(response)[:3000]
    review = CaseReview.objects.get(case=case)
    assert (review.kind, review.outcome, review.risk_level) == ("FIRST", "CONTINUE", "RAISED")
    assert review.held_at == london(2026, 11, 28, 14, 0)
    assert review.next_review_at == london(2026, 11, 30, 10, 0)
    assert (review.case_manager, review.case_coordinator) == (world.manager, world.officer)
    assert review.triggers == "Bad news from home"
    assert sorted(review.attendees.values_list("discipline", "name")) == [
        ("HEALTHCARE", "Lee Nurse"),
        ("MANAGER", "Pat Manager"),
    ]
    item = CaremapItem.objects.get(case=case)  # the two blank rows were ignored
    assert (item.need, item.owner, item.target_date) == (
        "Contact with family",
        "Wing officer",
        date(2026, 11, 30),
    )
    plan = SupervisionPlan.objects.get(case=case)
    assert (
        plan.constant,
        plan.day_observations_per_hour,
        plan.night_observations_per_hour,
        plan.day_conversations,
        plan.night_conversations,
    ) == (False, Decimal("2"), Decimal("0.5"), 3, 1)
    assert fresh(case).version == version + 1
    text = body(client.get(page("case")))
    assert "Case review recorded. Next review 30/11/2026 10:00" in text
    assert "Contact with family" in text
    assert "Scheduled case review: due by" in text


def test_a_later_review_updates_the_caremap_and_keeps_the_plan(world, client_for):
    case = open_case(world)
    first_review(world, case)
    item = CaremapItem.objects.get(case=case)
    client = client_for(world.manager)
    text = body(client.get(page("hold_review")))
    assert "Keep the current plan" in text
    assert f'name="caremap_{item.public_id}"' in text
    world.traveller.move_to(START + timedelta(hours=5))
    response = client.post(
        page("hold_review"),
        review_post(
            world,
            case,
            supervision="KEEP",
            new0_need="",
            new0_action="",
            new0_owner="",
            new0_target_day="",
            new0_target_month="",
            new0_target_year="",
            **{f"caremap_{item.public_id}": "DONE"},
        ),
    )
    assert response.status_code == 302, body(response)[:3000]
    item.refresh_from_db()
    assert item.status == CaremapStatus.DONE
    assert item.updated_in == CaseReview.objects.latest("held_at")
    assert SupervisionPlan.objects.filter(case=case).count() == 1  # kept


def test_bad_reviews_show_the_reason_and_change_nothing(world, client_for):
    case = open_case(world)
    client = client_for(world.manager)
    before = counts(*EVERYTHING)
    cases = [
        ({"case_manager": str(world.band3_manager.public_id)}, "The case manager must be NOMS"),
        ({"attendees": ["HEALTHCARE"]}, "A case review needs a manager to attend"),
        (
            {"attendees": ["MANAGER", "HEALTHCARE", "FAMILY"], "attendee_FAMILY": "Mum"},
            "Family members may attend only with the person&#39;s consent",
        ),
        ({"attendee_HEALTHCARE": ""}, "Enter the name of the attendee: Healthcare"),
        ({"new1_need": "Sleep", "new1_target_day": "3"}, "Enter the action (new CAREMAP action 2)"),
        ({"next_review_time": "08:00", "next_review_day": "28"}, "The next review must be in"),
        ({"supervision": None}, "Choose the supervision plan"),
        ({"close": "on", "closure_reason": ""}, "Enter the reason for closing the ACCT"),
        ({"next_review_day": "", "next_review_month": ""}, "must include a day"),
        (
            {"next_review_day": "", "next_review_month": "", "next_review_year": ""},
            "Enter the date of the next review",
        ),
        ({"case_manager": "not-a-person"}, "Choose the case manager from the list"),
        ({"triggers": ""}, "Record the person&#39;s triggers and warning signs"),
    ]
    for overrides, message in cases:
        refused(client.post(page("hold_review"), review_post(world, case, **overrides)), message)
    assert counts(*EVERYTHING) == before
    assert fresh(case).version == 1


def test_a_stale_review_form_is_refused(world, client_for):
    case = open_case(world)
    client = client_for(world.manager)
    stale = review_post(world, case)
    first_review(world, case)  # someone else holds a review meanwhile
    before = counts(*EVERYTHING)
    response = client.post(page("hold_review"), stale)
    refused(response, "Someone else has changed this ACCT since you opened it")
    assert "Reload the case review page" in body(response)
    assert counts(*EVERYTHING) == before


def test_an_officer_cannot_hold_a_review(world, client_for):
    case = open_case(world)
    client = client_for(world.officer)
    assert client.get(page("hold_review")).status_code == 403
    assert client.post(page("hold_review"), review_post(world, case)).status_code == 403
    assert CaseReview.objects.count() == 0
    assert page("hold_review") not in body(client.get(page("case")))


def test_closing_then_the_post_closure_review_then_reopening(world, client_for):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(START + timedelta(days=1))
    client = client_for(world.manager)  # signed in afresh: sessions expire
    response = client.post(
        page("hold_review"),
        review_post(
            world,
            case,
            risk_level="LOW",
            close="on",
            closure_reason="Settled; engaging with the chaplaincy",
            # What was typed for a plan and a next review is ignored when closing.
            next_review_day="",
        ),
    )
    assert response.status_code == 302, body(response)[:3000]
    case = fresh(case)
    assert (case.status, case.closed_at) == (CaseStatus.POST_CLOSURE, START + timedelta(days=1))
    text = body(client.get(page("case")))
    assert "is closed: the post-closure review is now due" in text
    assert "Post-closure review: due by" in text and "Sun 06 Dec 2026 09:00" in text

    assert client.get(page("post_closure_review")).status_code == 200
    before = counts(*EVERYTHING)
    refused(
        client.post(
            page("post_closure_review"), {"expected_version": str(case.version), "notes": ""}
        ),
        "Enter the review notes",
    )
    assert counts(*EVERYTHING) == before
    world.traveller.move_to(START + timedelta(days=5))
    client = client_for(world.manager)
    response = client.post(
        page("post_closure_review"),
        {
            "expected_version": str(case.version),
            "notes": "Doing well; working in the kitchens",
            "attendees": ["MANAGER", "PERSON"],
            "attendee_MANAGER": "Pat Manager",
        },
    )
    assert response.status_code == 302
    review = CaseReview.objects.get(kind="POST_CLOSURE")
    assert review.held_at == START + timedelta(days=5)
    assert sorted(review.attendees.values_list("discipline", "name")) == [
        ("MANAGER", "Pat Manager"),
        ("PERSON", "BRIGHTWATER, Sam"),
    ]
    assert fresh(case).status == CaseStatus.CLOSED

    assert "keeps its log number and history" in body(client.get(page("reopen")))
    refused(client.post(page("reopen"), {"reason": ""}), "Enter why the ACCT is reopened")
    assert fresh(case).status == CaseStatus.CLOSED
    response = client.post(page("reopen"), {"reason": "Self-harm disclosed on a visit"})
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.period_started_at) == ("OPEN", START + timedelta(days=5))
    assert "ACCT ZNA-2026-0001 reopened" in body(client.get(page("case")))
    # Reopening an open ACCT is refused rather than pretending.
    refused(client.post(page("reopen"), {"reason": "Again"}), "This ACCT is already open")


# --- Observations and conversations ------------------------------------------------------------


def entry_post(**overrides) -> dict:
    data = {
        "kind": "OBSERVATION",
        "occurred_day": "28",
        "occurred_month": "11",
        "occurred_year": "2026",
        "occurred_time": "09:30",
        "seen_or_spoken_to": "yes",
        "presentation": "Lying on the bed, breathing seen",
        "concerns": "",
    }
    data.update(overrides)
    return data


def test_recording_an_observation_in_a_few_taps(world, client_for):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 9, 45))
    client = client_for(world.officer)
    text = body(client.get(page("record_entry") + "?kind=OBSERVATION"))
    assert "Record observation" in text
    assert 'name="kind" value="OBSERVATION"' in text
    assert 'value="09:45"' in text and 'name="occurred_day" type="text" value="28"' in text
    assert 'name="health"' not in text  # health entries are for healthcare only
    response = client.post(page("record_entry") + "?kind=OBSERVATION", entry_post())
    assert response.status_code == 302
    assert response["Location"] == page("case")
    entry = CaseEntry.objects.get(case=case)
    assert (entry.kind, entry.occurred_at, entry.recorded_at) == (
        "OBSERVATION",
        london(2026, 11, 28, 9, 30),
        london(2026, 11, 28, 9, 45),
    )
    assert (entry.seen_or_spoken_to, entry.health) == (True, False)
    assert "Observation recorded for BRIGHTWATER, Sam at 09:30" in body(client.get(page("case")))


def test_the_entry_form_returns_to_a_local_next_page_only(world, client_for):
    open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 10, 0))
    client = client_for(world.officer)
    board = "/acct/board/A/"
    text = body(client.get(page("record_entry"), {"kind": "OBSERVATION", "next": board}))
    assert f'name="next" value="{board}"' in text
    response = client.post(page("record_entry"), entry_post(next=board))
    assert response["Location"] == board
    for outside in ("https://evil.example/acct/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(page("record_entry"), entry_post(next=outside))
        assert response.status_code == 302
        assert response["Location"] == page("case"), outside
    # An external next is not even put in the form.
    text = body(client.get(page("record_entry"), {"next": "https://evil.example/"}))
    assert "evil.example" not in text
    assert CaseEntry.objects.count() == 4


def test_a_bad_entry_changes_nothing(world, client_for):
    open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 10, 0))
    client = client_for(world.officer)
    before = counts(*EVERYTHING)
    response = client.post(page("record_entry"), entry_post(occurred_time="10:30"))
    refused(response, "The time of the observation cannot be in the future")
    assert 'href="#occurred_time"' in body(response)
    refused(
        client.post(page("record_entry"), entry_post(presentation="", seen_or_spoken_to="")),
        "Enter how the person presented",
        "Choose yes if you saw or spoke to the person",
    )
    refused(
        client.post(page("record_entry"), entry_post(occurred_time="9am")),
        "Enter the time of the observation using the 24-hour clock, for example 14:30",
    )
    refused(
        client.post(page("record_entry"), entry_post(occurred_time="08:59")),
        "cannot be before the ACCT was opened",
    )
    refused(
        client.post(page("record_entry"), entry_post(health="on")),
        "Only healthcare staff can record health entries",
    )
    assert counts(*EVERYTHING) == before


def test_health_entries_are_for_healthcare_only(world, client_for):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 10, 0))
    nurse = client_for(world.nurse)
    assert 'name="health"' in body(nurse.get(page("record_entry") + "?kind=CONVERSATION"))
    response = nurse.post(
        page("record_entry"),
        entry_post(kind="CONVERSATION", presentation="Talked about medication", health="on"),
    )
    assert response.status_code == 302
    entry = CaseEntry.objects.get(case=case)
    assert (entry.kind, entry.health) == ("CONVERSATION", True)
    assert "Talked about medication" in body(nurse.get(page("case")))
    officer = client_for(world.officer)
    assert "Talked about medication" not in body(officer.get(page("case")))
    assert officer.get(page("correct_entry", NUMBER, entry.public_id)).status_code == 404


def test_correcting_an_entry_adds_a_new_one(world, client_for):
    case = open_case(world)
    world.traveller.move_to(london(2026, 11, 28, 10, 0))
    original = services.record_entry(
        actor=world.officer,
        case=case,
        kind="OBSERVATION",
        occurred_at=london(2026, 11, 28, 9, 30),
        seen_or_spoken_to=True,
        presentation="Asleep",
    )
    client = client_for(world.officer)
    address = page("correct_entry", NUMBER, original.public_id)
    assert "Asleep" in body(client.get(address))
    before = CaseEntry.objects.count()
    refused(client.post(address, {"seen_or_spoken_to": "no", "presentation": ""}))
    assert CaseEntry.objects.count() == before
    world.traveller.move_to(london(2026, 11, 28, 10, 5))
    response = client.post(
        address, {"seen_or_spoken_to": "no", "presentation": "Curtain across the flap: not seen"}
    )
    assert response.status_code == 302
    correction = CaseEntry.objects.get(corrects=original)
    assert (correction.occurred_at, correction.recorded_at, correction.seen_or_spoken_to) == (
        london(2026, 11, 28, 9, 30),
        london(2026, 11, 28, 10, 5),
        False,
    )
    original.refresh_from_db()
    assert original.presentation == "Asleep"  # the original stays as it was
    assert "Observation (correction)" in body(client.get(page("case")))


# --- Review demands and safer cells ------------------------------------------------------------


def test_asking_for_a_review(world, client_for):
    case = open_case(world)
    client = client_for(world.officer)
    assert client.get(page("demand_review")).status_code == 200
    before = counts(*EVERYTHING)
    refused(client.post(page("demand_review"), {"reason": ""}), "Choose why a review is needed")
    refused(client.post(page("demand_review"), {"reason": "TRANSFER_IN"}))
    assert counts(*EVERYTHING) == before
    world.traveller.move_to(london(2026, 11, 28, 12, 0))
    response = client.post(
        page("demand_review"), {"reason": "SELF_HARM", "details": "Cut to the forearm"}
    )
    assert response.status_code == 302
    demand = ReviewDemand.objects.get(case=case)
    assert (demand.reason, demand.details) == ("SELF_HARM", "Cut to the forearm")
    assert demand.due_at == london(2026, 11, 28, 12, 0)  # at once for self-harm on an ACCT
    assert "Case review requested: due by 28/11/2026 12:00" in body(client.get(page("case")))


def test_the_safer_cell_warning_and_the_managers_decision(world, client_for):
    case = open_case(world)
    first_review(world, case, risk_level="HIGH")
    manager = client_for(world.manager)
    text = body(manager.get(page("case")))
    assert "High risk and not in a safe or constant-supervision cell" in text
    assert "S-1-001 (" in text  # the free safe cell
    assert page("safer_cell_decision") in text
    assert "High risk: not in a safer cell" in body(manager.get(f"/people/{NUMBER}/"))
    assert "S-1-001" in body(manager.get(page("safer_cell_decision")))
    before = counts(*EVERYTHING)
    refused(
        manager.post(page("safer_cell_decision"), {"reason": ""}),
        "Enter why the person is not moved",
    )
    assert counts(*EVERYTHING) == before
    assert (
        client_for(world.officer).post(page("safer_cell_decision"), {"reason": "x"}).status_code
        == 403
    )
    world.traveller.move_to(START + timedelta(minutes=20))
    manager = client_for(world.manager)
    response = manager.post(
        page("safer_cell_decision"), {"reason": "Safe cell has a leak; hourly checks instead"}
    )
    assert response.status_code == 302
    decision = SaferCellDecision.objects.get(case=case)
    assert (decision.decided_by, decision.decided_at) == (
        world.manager,
        START + timedelta(minutes=20),
    )
    text = body(manager.get(page("case")))
    assert "High risk and not in a safe or constant-supervision cell" not in text
    assert "Safe cell has a leak" in text  # on the timeline


def test_the_timeline_lists_the_records_newest_first(world, client_for):
    case = open_case(world)
    first_review(world, case)
    world.traveller.move_to(START + timedelta(hours=1))
    services.record_entry(
        actor=world.officer,
        case=case,
        kind="OBSERVATION",
        occurred_at=clock.now(),
        seen_or_spoken_to=True,
        presentation="Reading a book",
    )
    text = body(client_for(world.officer).get(page("case")))
    newest, review, concern = (
        text.index("Reading a book"),
        text.index("First case review"),
        text.index("Concern (Opened an ACCT)"),
    )
    assert newest < review < concern
    assert Discipline.HEALTHCARE.label in text  # attendees shown with their roles


def test_a_closed_review_page_explains_itself(world, client_for):
    case = open_case(world)
    first_review(world, case)
    close_at_review(world, case)
    text = body(client_for(world.manager).get(page("hold_review")))
    assert "hold its post-closure review, or reopen it first" in text


@pytest.mark.parametrize(
    "name", ["raise_concern", "record_iap", "hold_review", "record_entry", "demand_review"]
)
def test_an_empty_post_is_checked_not_taken_as_done(world, client_for, name):
    open_case(world)
    before = counts(*EVERYTHING)
    refused(client_for(world.manager).post(page(name), {}))
    assert counts(*EVERYTHING) == before


def test_typed_times_are_london_times_in_summer(world, client_for):
    """In British Summer Time 09:30 in London is 08:30 UTC: the form reads London time."""
    world.traveller.move_to(london(2027, 7, 1, 9, 0))
    case = open_case(world)
    world.traveller.move_to(london(2027, 7, 1, 10, 0))
    client = client_for(world.officer)
    assert 'value="10:00"' in body(client.get(page("record_entry")))
    response = client.post(
        page("record_entry"),
        entry_post(occurred_day="1", occurred_month="7", occurred_year="2027"),
    )
    assert response.status_code == 302
    entry = CaseEntry.objects.get(case=case)
    assert entry.occurred_at == datetime(2027, 7, 1, 8, 30, tzinfo=UTC)
    assert "Observation recorded for BRIGHTWATER, Sam at 09:30" in body(client.get(page("case")))
