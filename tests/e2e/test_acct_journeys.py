"""ACCT journeys in a real browser, each page checked with axe-core.

The live server runs in a thread of this process, so time-machine moves its clock too: every
journey starts at a frozen London time (not ticking, so "due by" times are exact) and a journey
that needs time to pass shifts it. The browser's own timers (the board's 3-second poll) run on
real time, which time-machine does not touch.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from saferprisons.acct import services
from saferprisons.acct.constants import Discipline
from saferprisons.acct.models import (
    AcctCase,
    AssessmentInterview,
    CaremapItem,
    CaseEntry,
    CaseReview,
    ReviewDemand,
    SupervisionPlan,
)
from saferprisons.acct.rules import Supervision
from saferprisons.conftest import make_user
from saferprisons.core import clock
from saferprisons.core.clock import LONDON

pytestmark = pytest.mark.e2e

# A Saturday in November: London is on GMT, so the times shown equal UTC. Day levels apply
# from 08:00 to 20:00.
START = datetime(2026, 11, 28, 9, 0, tzinfo=LONDON)
NUMBER = "A1234BC"
NAME = "BRIGHTWATER, Sam"
CASE_PAGE = re.compile(rf"/acct/people/{NUMBER}/$")
# The board must show a change made elsewhere within 5 seconds (it polls every 3).
BOARD_REFRESH_MS = 5_000


@pytest.fixture(autouse=True)
def london_clock():
    """Set up before the estate and the browser page (autouse), so everything happens at START."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


# --- building blocks --------------------------------------------------------------------------


def open_acct(officer, person):
    concern = services.raise_concern(
        actor=officer,
        prisoner=person,
        source="STAFF_OBSERVATION",
        seen_or_heard="Said he cannot see a way forward after a phone call from home",
        immediate_risk="Torn bedsheet found in the cell",
        action_taken="Removed the sheet and stayed with him until a manager arrived",
    )
    return concern.case


def hold_first_review(manager, case, *, coordinator, risk_level="RAISED"):
    """Hourly observations by day and night, two conversations by day; next review in 2 days."""
    return services.hold_review(
        actor=manager,
        case=case,
        expected_version=AcctCase.objects.get(pk=case.pk).version,
        attendees=[
            services.Attendee(Discipline.MANAGER, user=manager),
            services.Attendee(Discipline.WING_OFFICER, user=coordinator),
        ],
        risk_level=risk_level,
        next_review_at=clock.now() + timedelta(days=2),
        supervision=Supervision(
            day_observations_per_hour=Decimal("1"),
            night_observations_per_hour=Decimal("1"),
            day_conversations=2,
            night_conversations=0,
        ),
        case_manager=manager,
        case_coordinator=coordinator,
        triggers="Bad news from home",
        warning_signs="Withdrawn, not eating",
        protective_factors="His children",
    )


def main(page):
    return page.locator("main")


def due_list(page):
    """The case page's "What is due" list."""
    return page.locator("#due + p + ul, #due + ul").first


def board_row(page, number=NUMBER):
    return page.locator(f"tr[data-prison-number='{number}']")


def sign_out(page):
    page.get_by_role("link", name="Sign out").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in/$"))


def expect_errors(page, axe, label, *messages):
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    for message in messages:
        expect(summary).to_contain_text(message)
    expect(page).to_have_title(re.compile(r"^Error: "))
    axe(page, label)


# --- 1. concern and Immediate Action Plan -----------------------------------------------------


def test_an_officer_raises_a_concern_from_the_profile_and_records_the_iap(
    page, e2e_estate, axe, sign_in, screenshot
):
    sign_in(page, "officer.north")
    page.get_by_role("link", name="Find a person").first.click()
    page.get_by_label("Name or prison number").fill(NUMBER)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=NAME).click()
    expect(
        page.get_by_role("heading", name="ACCT (suicide and self-harm prevention)")
    ).to_be_visible()
    expect(main(page)).to_contain_text("Never on an ACCT.")
    axe(page, "profile, never on an ACCT")

    page.get_by_role("button", name="Raise a concern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Raise a concern (Concern and Keep Safe)"
    )
    expect(main(page)).to_contain_text("Raising the concern opens one")
    axe(page, "concern form")

    # Nothing filled in: every question is named in the error summary and nothing is opened.
    page.get_by_role("button", name="Raise the concern").click()
    expect_errors(
        page,
        axe,
        "concern form with errors",
        "Choose where the concern came from",
        "Enter what was seen or heard",
        "Enter the immediate risk",
        "Enter what was done",
    )

    page.get_by_label("Staff observation").check()
    page.get_by_label("What was seen or heard?").fill(
        "Found tearful at unlock; said he cannot see a way forward"
    )
    page.get_by_label("What is the immediate risk?").fill("Torn bedsheet found in the cell")
    page.get_by_label("What was done to keep the person safe?").fill(
        "Removed the sheet, stayed with him, told the wing manager"
    )
    page.get_by_role("button", name="Raise the concern").click()

    expect(page).to_have_url(CASE_PAGE)
    expect(page.get_by_role("heading", level=1)).to_have_text("ACCT ZNA-2026-0001")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "ACCT opened. Log number ZNA-2026-0001"
    )
    due = due_list(page)
    expect(due).to_contain_text("Immediate Action Plan: due by Sat 28 Nov 2026 10:00")
    expect(due).to_contain_text("Assessment interview: due by Sun 29 Nov 2026 09:00")
    expect(due).to_contain_text("First case review: due by Sun 29 Nov 2026 09:00")
    expect(main(page)).to_contain_text("No supervision plan yet")
    axe(page, "case page, just opened")

    page.get_by_role("button", name="Record the Immediate Action Plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Immediate Action Plan")
    expect(main(page)).to_contain_text("Immediate Action Plan: due by Sat 28 Nov 2026 10:00")
    axe(page, "IAP form")
    page.get_by_label("What will be done to keep the person safe until the case review?").fill(
        "Observe twice an hour; talk with him at lunch and tea; Listener offered"
    )
    page.get_by_label("Set interim observations and conversations").check()
    page.get_by_label("Observations per hour by day").fill("2")
    page.get_by_label("Observations per hour by night").fill("1")
    page.get_by_label("Conversations by day").fill("2")
    page.get_by_label("Conversations by night").fill("0")
    page.get_by_role("button", name="Save the plan").click()

    expect(page).to_have_url(CASE_PAGE)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Immediate Action Plan recorded"
    )
    due = due_list(page)
    expect(due).not_to_contain_text("Immediate Action Plan")
    # Twice an hour from 09:00; two conversations in the 12-hour day, one every 6 hours.
    expect(due).to_contain_text("Observation: due by Sat 28 Nov 2026 09:30")
    expect(due).to_contain_text("Conversation: due by Sat 28 Nov 2026 15:00")
    expect(main(page)).to_contain_text(
        "Observations 2 an hour by day, 1 an hour by night. Conversations: 2 by day, 0 by night."
    )
    timeline = page.locator(".moj-timeline")
    expect(timeline).to_contain_text("Immediate Action Plan")
    expect(timeline).to_contain_text("Observe twice an hour; talk with him at lunch and tea")
    expect(timeline).to_contain_text("Concern (Opened an ACCT)")
    axe(page, "case page with the IAP")
    screenshot(page, "acct-case-after-iap.png")

    # Back on the profile: the ACCT panel, alert HA and the case note.
    page.get_by_role("link", name=f"Back to {NAME}'s record").click()
    expect(page).to_have_url(re.compile(rf"/people/{NUMBER}/$"))
    expect(main(page)).to_contain_text("ZNA-2026-0001")
    expect(page.locator("#alerts + ul")).to_contain_text("HA")
    expect(main(page)).to_contain_text("ACCT opened, log number ZNA-2026-0001")
    expect(page.get_by_role("link", name="View the ACCT and its timeline")).to_be_visible()
    axe(page, "profile with an open ACCT")


# --- 2. the assessment interview --------------------------------------------------------------


def test_a_trained_assessor_records_the_assessment_and_an_untrained_officer_is_refused(
    page, e2e_estate, axe, sign_in, acct_assessor_training, london_clock
):
    open_acct(e2e_estate["officer"], e2e_estate["north_person"])
    assessor = make_user("assessor.north", ["WING_OFFICER"], [e2e_estate["north"]])
    acct_assessor_training(assessor)
    london_clock.shift(timedelta(hours=3))  # the interview is at 12:00

    # officer.north holds no assessor training: told on the form, and refused on saving.
    sign_in(page, "officer.north", check=False)
    page.goto(f"/acct/people/{NUMBER}/")
    page.get_by_role("button", name="Record the assessment interview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessment interview")
    expect(main(page)).to_contain_text(
        "Only a trained ACCT assessor can record an assessment interview. You have no current "
        "ACCT assessor training record."
    )
    axe(page, "assessment form, untrained")
    page.get_by_label("Summary of the assessment interview").fill("Talked for an hour.")
    page.get_by_role("button", name="Save the assessment").click()
    expect_errors(
        page,
        axe,
        "assessment refused",
        "Only a trained ACCT assessor can record an assessment interview: you have no current "
        "ACCT assessor training record.",
    )
    assert AssessmentInterview.objects.count() == 0
    sign_out(page)

    sign_in(page, "assessor.north", check=False)
    page.goto(f"/acct/people/{NUMBER}/")
    expect(due_list(page)).to_contain_text("Assessment interview: due by Sun 29 Nov 2026 09:00")
    page.get_by_role("button", name="Record the assessment interview").click()
    expect(main(page)).not_to_contain_text("Only a trained ACCT assessor")
    # The date and time of the interview start as now (London); the assessor types the summary.
    expect(page.locator("#interviewed_day")).to_have_value("28")
    expect(page.locator("#interviewed_month")).to_have_value("11")
    expect(page.locator("#interviewed_year")).to_have_value("2026")
    expect(page.get_by_label("Time of the interview")).to_have_value("12:00")
    axe(page, "assessment form, trained")
    page.get_by_label("Time of the interview").fill("11:15")
    page.get_by_label("Summary of the assessment interview").fill(
        "Low mood since a call from home; no plans; wants contact with his children."
    )
    page.get_by_role("button", name="Save the assessment").click()

    expect(page).to_have_url(CASE_PAGE)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Assessment interview recorded"
    )
    expect(due_list(page)).not_to_contain_text("Assessment interview")
    timeline = page.locator(".moj-timeline")
    expect(timeline).to_contain_text("Assessment interview by assessor.north")
    expect(timeline).to_contain_text("Sat 28 Nov 2026 11:15")
    expect(timeline).to_contain_text("wants contact with his children")
    axe(page, "case page with the assessment")
    interview = AssessmentInterview.objects.get()
    assert interview.assessor == assessor
    assert interview.interviewed_at == datetime(2026, 11, 28, 11, 15, tzinfo=LONDON)


# --- 3. the first case review -----------------------------------------------------------------


def test_a_case_manager_holds_the_first_review_with_a_caremap_and_a_supervision_plan(
    page, e2e_estate, axe, sign_in, london_clock, screenshot
):
    north = e2e_estate["north"]
    open_acct(e2e_estate["officer"], e2e_estate["north_person"])
    make_user("officer3.north", ["WING_OFFICER"], [north], band="3")
    london_clock.shift(timedelta(hours=4))  # the review is at 13:00

    sign_in(page, "manager.north", check=False)
    # Safer custody were told: a task. The manager marks it done.
    page.get_by_role("link", name="ACCT tasks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ACCT tasks")
    tasks = page.get_by_test_id("tasks-table")
    expect(tasks).to_contain_text("ACCT ZNA-2026-0001 opened for A1234BC")
    expect(tasks).to_contain_text("Safer custody team")
    axe(page, "tasks")
    # (Chromium puts a space before the visually hidden part of the name: it is positioned.)
    page.get_by_role(
        "button", name=re.compile(r"^Mark as done\s?: ACCT ZNA-2026-0001 opened")
    ).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Done: ACCT ZNA-2026-0001 opened for A1234BC"
    )
    expect(page.get_by_test_id("tasks-empty")).to_have_text("No open tasks.")
    axe(page, "tasks, all done")

    page.get_by_role("link", name="Safety board").click()
    page.get_by_role("link", name=NAME).click()
    expect(page).to_have_url(CASE_PAGE)
    page.get_by_role("button", name="Hold a case review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("First case review")

    def attendee_name(role):
        # The box revealed beside a ticked role; its label reads "Name of the attendee: <role>".
        return page.get_by_role(
            "textbox", name=re.compile(rf"^Name\s?of the attendee: {re.escape(role)}$")
        )

    expect(main(page)).to_contain_text("First case review: due by Sun 29 Nov 2026 09:00")
    axe(page, "first review form")

    page.get_by_role("checkbox", name="Manager (chair)").check()
    attendee_name("Manager (chair)").fill("M. North")
    page.get_by_role("checkbox", name="Healthcare", exact=True).check()
    attendee_name("Healthcare").fill("Nurse Adeyemi")
    page.get_by_role("checkbox", name="The person", exact=True).check()
    page.get_by_role("radio", name="High", exact=True).check()
    # A band 3 officer cannot be the case manager.
    page.get_by_role("combobox", name="Case manager").select_option(label="officer3.north (band 3)")
    page.get_by_role("combobox", name="Case coordinator").select_option(
        label="officer.north (band 4)"
    )
    page.get_by_label("Triggers").fill("Calls from home; his daughter's birthday (12 December)")
    page.get_by_label("Warning signs").fill("Stays behind his door, stops eating")
    page.get_by_label("Protective factors (optional)").fill("His children; the gym")
    page.get_by_label("Need (new action 1)").fill("Contact with his children")
    page.get_by_label("Action (new action 1)").fill("Arrange a social video call")
    page.get_by_label("Owner (new action 1)").fill("Family engagement worker")
    page.locator("#new0_target_day").fill("4")
    page.locator("#new0_target_month").fill("12")
    page.locator("#new0_target_year").fill("2026")
    page.get_by_role("radio", name="Observations and conversations").check()
    page.get_by_label("Observations per hour by day").fill("1")
    page.get_by_label("Observations per hour by night").fill("0.5")
    page.get_by_label("Conversations by day").fill("3")
    page.get_by_label("Conversations by night").fill("1")
    page.locator("#next_review_day").fill("30")
    page.locator("#next_review_month").fill("11")
    page.locator("#next_review_year").fill("2026")
    page.get_by_label("Time of the next review").fill("10:00")
    page.get_by_role("button", name="Save the case review").click()

    expect_errors(
        page,
        axe,
        "first review refused: case manager's grade",
        "The case manager must be NOMS band 4 or above, or an NHS band 5 nurse or above (3)",
    )
    assert CaseReview.objects.count() == 0
    # What was typed is kept: only the case manager needs changing.
    expect(page.get_by_role("checkbox", name="Healthcare", exact=True)).to_be_checked()
    expect(page.get_by_label("Need (new action 1)")).to_have_value("Contact with his children")
    expect(page.get_by_label("Time of the next review")).to_have_value("10:00")
    screenshot(page, "acct-first-review-refused.png")
    page.get_by_role("combobox", name="Case manager").select_option(label="manager.north (band 4)")
    page.get_by_role("button", name="Save the case review").click()

    expect(page).to_have_url(CASE_PAGE)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Case review recorded. Next review 30/11/2026 10:00"
    )
    due = due_list(page)
    expect(due).not_to_contain_text("First case review")
    expect(due).to_contain_text("Scheduled case review: due by Mon 30 Nov 2026 10:00")
    # The plan starts at the review (13:00): hourly by day; 3 conversations in the 12-hour day.
    expect(due).to_contain_text("Observation: due by Sat 28 Nov 2026 14:00")
    expect(due).to_contain_text("Conversation: due by Sat 28 Nov 2026 17:00")
    # No one recorded the IAP: it is marked overdue and counted.
    expect(due).to_contain_text("Overdue Immediate Action Plan: was due by Sat 28 Nov 2026 10:00")
    expect(main(page)).to_contain_text("1 overdue")
    summary = page.locator(".govuk-summary-list").first
    expect(summary).to_contain_text(
        "Observations 1 an hour by day, one every 120 minutes by night. "
        "Conversations: 3 by day, 1 by night."
    )
    expect(summary).to_contain_text("manager.north")
    expect(summary).to_contain_text("Calls from home")
    caremap = page.locator("#caremap + table")
    expect(caremap).to_contain_text("Contact with his children")
    expect(caremap).to_contain_text("Arrange a social video call")
    expect(caremap).to_contain_text("04 Dec 2026")
    # High risk in an ordinary cell: the warning, with the free safe cell.
    warning = page.locator("#safer-cell-warning")
    expect(warning).to_contain_text("High risk and not in a safe or constant-supervision cell")
    expect(warning).to_contain_text("Free safer cells: S-1-001")
    axe(page, "case page after the first review")
    screenshot(page, "acct-case-after-first-review.png")

    review = CaseReview.objects.get()
    assert (review.kind, review.risk_level, review.case_manager.username) == (
        "FIRST",
        "HIGH",
        "manager.north",
    )
    assert sorted(review.attendees.values_list("discipline", "name")) == [
        ("HEALTHCARE", "Nurse Adeyemi"),
        ("MANAGER", "M. North"),
        ("PERSON", NAME),
    ]
    plan = SupervisionPlan.objects.get()
    assert (plan.day_observations_per_hour, plan.night_observations_per_hour) == (
        Decimal("1"),
        Decimal("0.5"),
    )
    item = CaremapItem.objects.get()
    assert (item.owner, item.target_date.isoformat(), item.status) == (
        "Family engagement worker",
        "2026-12-04",
        "OPEN",
    )

    # The manager records why he stays where he is; the warning goes.
    warning.get_by_role("link", name="record a manager's decision not to move them").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Record why the person is not moved to a safer cell"
    )
    expect(main(page)).to_contain_text("S-1-001")
    axe(page, "safer cell decision form")
    page.get_by_label("Why is the person not moved to a safer cell?").fill(
        "Shares with a friend who is a protective factor; constant watch until the review"
    )
    page.get_by_role("button", name="Save the decision").click()
    expect(page).to_have_url(CASE_PAGE)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Safer-cell decision recorded"
    )
    expect(page.locator("#safer-cell-warning")).to_have_count(0)
    expect(page.locator(".moj-timeline")).to_contain_text("Safer-cell decision")
    axe(page, "case page after the safer cell decision")

    # The safe-cell report (linked from the board) counts the prison's one free safe cell.
    page.get_by_role("link", name="Safety board").click()
    page.get_by_role("link", name="Safe cell report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Safe cells")
    counts = page.get_by_test_id("safe-cell-counts")
    expect(counts).to_contain_text("Safe cells 1")
    expect(counts).to_contain_text("Free places 1")
    expect(page.get_by_test_id("safe-cell-table")).to_contain_text("S-1-001")
    axe(page, "safe cell report")


# --- 4. an observation from the wing board ----------------------------------------------------


def test_an_officer_records_an_observation_from_the_wing_board(
    page, e2e_estate, axe, sign_in, london_clock, screenshot
):
    case = open_acct(e2e_estate["officer"], e2e_estate["north_person"])
    hold_first_review(e2e_estate["manager"], case, coordinator=e2e_estate["officer"])
    london_clock.shift(timedelta(minutes=50))  # 09:50: the hourly observation is due by 10:00

    sign_in(page, "officer.north", check=False)
    page.get_by_role("link", name="Safety board").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Safety board")
    axe(page, "board, whole prison")
    page.get_by_role("combobox", name="Wing").select_option(label="Wing A")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/acct/board/A/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Safety board: wing A")
    row = board_row(page)
    expect(row).to_contain_text("Due soon Observation by 10:00")
    expect(row).to_contain_text("Raised")
    expect(row).to_contain_text("None recorded")
    axe(page, "board, wing A")

    # The handover sheet for the next shift: the same people, with triggers and the plan.
    page.get_by_role("link", name="Shift handover sheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Shift handover: HMP Northfold, wing A"
    )
    handover = page.get_by_test_id("handover-table")
    expect(handover).to_contain_text("Triggers: Bad news from home")
    expect(handover).to_contain_text("Warning signs: Withdrawn, not eating")
    expect(handover).to_contain_text("Case manager: manager.north")
    expect(handover).to_contain_text("Observations 1 an hour by day")
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # shown by board.js
    axe(page, "handover sheet")
    screenshot(page, "acct-handover.png")
    page.get_by_role("link", name="Back to the safety board").click()
    expect(page).to_have_url(re.compile(r"/acct/board/A/$"))

    board_row(page).get_by_role(
        "button", name=re.compile(rf"^Record observation\s?for {NAME}$")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record observation")
    expect(main(page)).to_contain_text("Observation: due by Sat 28 Nov 2026 10:00")
    expect(page.get_by_label("Time of the observation")).to_have_value("09:50")
    axe(page, "observation form")
    page.get_by_role("radio", name="Yes").check()
    page.get_by_label("How did the person present?").fill("Sitting on his bed reading")
    page.get_by_role("button", name="Save").click()

    # Back on the same board; the row has moved on: seen at 09:50, next by 10:50.
    expect(page).to_have_url(re.compile(r"/acct/board/A/$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Observation recorded for {NAME} at 09:50"
    )
    row = board_row(page)
    expect(row).to_contain_text("Observation by 10:50")
    expect(row).not_to_contain_text("Due soon Observation")
    expect(row.locator("td[data-label='Last observation']")).to_have_text("09:50")
    axe(page, "board after the observation")
    screenshot(page, "acct-board-wing-a.png")
    entry = CaseEntry.objects.get()
    assert (entry.kind, entry.seen_or_spoken_to, entry.recorded_by.username) == (
        "OBSERVATION",
        True,
        "officer.north",
    )
    assert entry.occurred_at == datetime(2026, 11, 28, 9, 50, tzinfo=LONDON)

    # A slip: corrected by a new entry that points at the first, which stays as it was.
    board_row(page).get_by_role("link", name=NAME).click()
    expect(page).to_have_url(CASE_PAGE)
    page.get_by_role("link", name=re.compile(r"^Correct\s?the observation of")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Correct the observation of 28/11/2026 09:50"
    )
    expect(main(page)).to_contain_text("Sitting on his bed reading")
    axe(page, "correction form")
    page.get_by_label("How did the person present?").fill(
        "Sitting on his bed reading; said he slept badly"
    )
    page.get_by_role("button", name="Save the correction").click()
    expect(page).to_have_url(CASE_PAGE)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Correction recorded for the observation of 28/11/2026 09:50"
    )
    timeline = page.locator(".moj-timeline")
    expect(timeline).to_contain_text("Observation (correction)")
    expect(timeline).to_contain_text("Corrects the entry recorded Sat 28 Nov 2026 09:50")
    expect(timeline).to_contain_text("said he slept badly")
    axe(page, "case page with a correction")
    assert CaseEntry.objects.filter(corrects=entry).count() == 1
    assert CaseEntry.objects.get(pk=entry.pk).presentation == "Sitting on his bed reading"

    # Any officer can ask for a review; after self-harm it is due at once.
    page.get_by_role("button", name="Ask for a case review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for a case review")
    axe(page, "ask for a review")
    page.get_by_label("Act of self-harm").check()
    page.get_by_label("Details (optional)").fill(
        "Superficial cuts to his forearm, seen by healthcare"
    )
    page.get_by_role("button", name="Ask for a review").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Case review requested: due by 28/11/2026 09:50"
    )
    expect(due_list(page)).to_contain_text(
        "Unscheduled case review: due by Sat 28 Nov 2026 09:50 (act of self-harm)"
    )
    axe(page, "case page with a demanded review")
    assert ReviewDemand.objects.get().reason == "SELF_HARM"


# --- 5. overdue, and the board refreshing itself ----------------------------------------------


def test_the_board_marks_an_overdue_observation_and_refreshes_itself(
    page, browser, live_server, e2e_estate, axe, sign_in, london_clock
):
    case = open_acct(e2e_estate["officer"], e2e_estate["north_person"])
    services.record_iap(actor=e2e_estate["officer"], case=case, plan="Hourly checks")
    hold_first_review(e2e_estate["manager"], case, coordinator=e2e_estate["officer"])

    sign_in(page, "officer.north", check=False)
    page.goto("/acct/board/A/")
    row = board_row(page)
    expect(row).to_contain_text("Observation by 10:00")
    expect(row).not_to_contain_text("Overdue")
    counts = page.get_by_test_id("board-counts")
    expect(counts).to_contain_text("0 overdue observations")
    axe(page, "board, nothing overdue")
    # A mark on this document: gone if the page were reloaded.
    page.evaluate("() => { window.stillTheSamePage = true; }")

    # Time passes on the server: one minute after the due-by time, with no observation.
    london_clock.shift(timedelta(minutes=61))
    expect(row).to_contain_text("Overdue Observation, was due by 10:00", timeout=BOARD_REFRESH_MS)
    expect(row).to_have_class(re.compile(r"\bapp-board-row--overdue\b"))
    expect(counts).to_contain_text("1 overdue observations")
    expect(page.locator("[data-board-live]")).to_contain_text("1 overdue")
    axe(page, "board with an overdue observation")

    # Another officer, on a tablet at the cell door, records the observation on the case page.
    tablet = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        other = tablet.new_page()
        sign_in(other, "officer.both", prison_name="HMP Northfold", check=False)
        other.goto(f"/acct/people/{NUMBER}/")
        other.get_by_role("button", name="Record an observation").click()
        other.get_by_role("radio", name="Yes").check()
        other.get_by_label("How did the person present?").fill("Awake, talking to his neighbour")
        other.get_by_role("button", name="Save").click()
        expect(other.locator(".govuk-notification-banner")).to_contain_text(
            f"Observation recorded for {NAME} at 10:01"
        )
    finally:
        tablet.close()

    # The wing office screen catches up by itself within 5 seconds, without a reload.
    expect(row).to_contain_text("Observation by 11:01", timeout=BOARD_REFRESH_MS)
    expect(row).not_to_contain_text("Overdue")
    expect(row.locator("td[data-label='Last observation']")).to_have_text("10:01")
    expect(counts).to_contain_text("0 overdue observations")
    expect(page.locator("[data-board-live]")).to_contain_text("0 overdue")
    assert page.evaluate("() => window.stillTheSamePage === true")
    axe(page, "board after the refresh")


# --- 6. closure, the post-closure review and reopening ----------------------------------------


def test_a_review_closes_the_case_and_the_post_closure_review_is_scheduled(
    page, e2e_estate, axe, sign_in, london_clock, screenshot
):

    case = open_acct(e2e_estate["officer"], e2e_estate["north_person"])
    hold_first_review(e2e_estate["manager"], case, coordinator=e2e_estate["officer"])
    london_clock.shift(timedelta(days=1))  # Sunday 29 November, 09:00

    sign_in(page, "manager.north", check=False)
    page.get_by_role("link", name="Safety board").click()
    board_row(page).get_by_role("link", name=NAME).click()
    page.get_by_role("button", name="Hold a case review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Case review")
    # The case manager and coordinator are kept from the last review.
    expect(page.get_by_role("combobox", name="Case manager")).to_have_value(
        str(e2e_estate["manager"].public_id)
    )
    axe(page, "review form")
    page.get_by_role("checkbox", name="Manager (chair)").check()
    page.locator("#attendee_MANAGER").fill("M. North")
    page.get_by_role("checkbox", name="Wing officer").check()
    page.locator("#attendee_WING_OFFICER").fill("O. North")
    page.get_by_role("radio", name="Low", exact=True).check()
    page.get_by_role("checkbox", name="Close the ACCT at this review").check()
    page.get_by_label("Why is the ACCT closed?").fill(
        "Settled after the video call with his children; eating and working again"
    )
    axe(page, "review form, closing")
    page.get_by_role("button", name="Save the case review").click()

    expect(page).to_have_url(CASE_PAGE)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Case review recorded. ACCT ZNA-2026-0001 is closed: the post-closure review is now due"
    )
    summary = page.locator(".govuk-summary-list").first
    expect(summary).to_contain_text("Post-closure")
    expect(summary).to_contain_text("Closed Sun 29 Nov 2026 09:00")
    # Closed at 09:00 on the 29th: the post-closure review is due 7 days later.
    due = due_list(page)
    expect(due).to_have_text("Post-closure review: due by Sun 06 Dec 2026 09:00")
    expect(page.get_by_role("button", name="Hold the post-closure review")).to_be_visible()
    expect(page.get_by_role("button", name="Record an observation")).to_have_count(0)
    timeline = page.locator(".moj-timeline")
    expect(timeline).to_contain_text("Status: Post-closure")
    expect(timeline).to_contain_text("Settled after the video call with his children")
    axe(page, "case page in post-closure")
    screenshot(page, "acct-case-post-closure.png")

    # The board still shows him, in post-closure, with the review's due date.
    page.get_by_role("link", name="Safety board").click()
    row = board_row(page)
    expect(row).to_contain_text("Post-closure")
    expect(row).to_contain_text("Post-closure review by Sun 06 Dec 09:00")
    expect(row.get_by_role("button")).to_have_count(0)
    axe(page, "board with a post-closure case")
    # And his profile: alert HA1 instead of HA.
    page.goto(f"/people/{NUMBER}/")
    alerts = page.locator("#alerts + ul")
    expect(alerts).to_contain_text("HA1")
    expect(alerts.locator(".govuk-tag")).to_have_text(["HA1"])
    axe(page, "profile in post-closure")

    # Five days on, the post-closure review is held: the ACCT is closed.
    # (A session lasts one 8-hour shift: the manager signs in again.)
    london_clock.shift(timedelta(days=5))  # Friday 4 December, 09:00
    sign_in(page, "manager.north", check=False)
    page.goto(f"/people/{NUMBER}/")
    page.get_by_role("link", name="View the ACCT and its timeline").click()
    page.get_by_role("button", name="Hold the post-closure review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Post-closure review")
    expect(main(page)).to_contain_text("Post-closure review: due by Sun 06 Dec 2026 09:00")
    axe(page, "post-closure review form")
    page.get_by_label("How is the person now?").fill("Working in the kitchens; no concerns")
    page.get_by_role("button", name="Complete the post-closure review").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Post-closure review recorded. ACCT ZNA-2026-0001 is closed"
    )
    expect(main(page)).to_contain_text("Nothing is due.")
    expect(page.locator(".govuk-summary-list").first).to_contain_text("Closed")
    axe(page, "case page, closed")
    assert AcctCase.objects.get().status == "CLOSED"

    # Reopening keeps the log number and history, and a new IAP, assessment and review are due.
    london_clock.shift(timedelta(minutes=30))  # 09:30
    page.get_by_role("button", name="Reopen the ACCT").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reopen the ACCT")
    axe(page, "reopen form")
    page.get_by_label("Why is the ACCT reopened?").fill("Told his key worker he is struggling")
    page.get_by_role("button", name="Reopen the ACCT").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "ACCT ZNA-2026-0001 reopened"
    )
    due = due_list(page)
    expect(due).to_contain_text("Immediate Action Plan: due by Fri 04 Dec 2026 10:30")
    expect(due).to_contain_text("Assessment interview: due by Sat 05 Dec 2026 09:30")
    expect(due).to_contain_text("First case review: due by Sat 05 Dec 2026 09:30")
    expect(page.locator(".moj-timeline")).to_contain_text("Concern (Opened an ACCT)")
    axe(page, "case page, reopened")
    assert AcctCase.objects.get().status == "OPEN"
