"""The pilot's management pages as managers use them: enrolling a person from their profile,
ending an enrolment, the list of people enrolled, and changing a rule. A frozen night-time clock
(02:00 London = UTC), exact values, and bad input that changes nothing."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from saferprisons.audit.models import AuditEvent
from saferprisons.monitoring.constants import EnrolmentBasis, Priority, RuleKind
from saferprisons.monitoring.models import Enrolment, RuleConfig

from .conftest import NIGHT


def enrol_url(number: str) -> str:
    return f"/monitoring/people/{number}/enrol/"


def end_url(number: str) -> str:
    return f"/monitoring/people/{number}/end/"


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def enrol_form(**changes) -> dict:
    form = {
        "basis": EnrolmentBasis.CONSENT,
        "decision_reason": "",
        "review_day": "12",
        "review_month": "12",
        "review_year": "2026",
        "end_day": "25",
        "end_month": "12",
        "end_year": "2026",
    }
    return {**form, **changes}


@pytest.fixture
def at_night(estate, traveller):
    return estate


@pytest.fixture
def as_user(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


# --- Enrolling ----------------------------------------------------------------------------------


def test_a_manager_enrols_a_person_by_consent_from_their_profile(at_night, as_user):
    person = at_night["north_person"]
    client = as_user(at_night["manager"])
    profile = client.get(f"/people/{person.prison_number}/")
    assert "Not enrolled. Readings from this person's cell are dropped" in text_of(profile)
    assert enrol_url(person.prison_number) in profile.content.decode()

    page = client.get(enrol_url(person.prison_number))
    assert page.status_code == 200
    # Proposed: a review in 28 days and monitoring for 91 (to the end of that day).
    assert 'name="review_day" type="text" value="26"' in page.content.decode()
    assert "Monitoring is not constant supervision" in text_of(page)

    response = client.post(enrol_url(person.prison_number), enrol_form())
    assert response.status_code == 302
    assert response["Location"] == f"/people/{person.prison_number}/#monitoring"
    enrolment = Enrolment.objects.get(prisoner=person)
    assert enrolment.basis == EnrolmentBasis.CONSENT
    assert enrolment.starts_at == NIGHT
    # To the end of 25 December, London time (GMT): midnight starting the 26th.
    assert enrolment.ends_at == datetime(2026, 12, 26, 0, 0, tzinfo=UTC)
    assert enrolment.review_on == date(2026, 12, 12)
    assert enrolment.decided_by == at_night["manager"]
    event = AuditEvent.objects.filter(object_type="monitoring_enrolment").get()
    assert event.action == "create" and event.actor_user == at_night["manager"]

    shown = text_of(client.get(f"/people/{person.prison_number}/"))
    assert "BRIGHTWATER, Sam is enrolled in monitoring" in shown
    assert "Enrolled Readings from this person's cell are monitored." in shown
    assert "Review by 12 Dec 2026" in shown
    assert "Until 26 Dec 2026 00:00" in shown


def test_a_managers_decision_needs_its_reason(at_night, as_user):
    person = at_night["north_person"]
    client = as_user(at_night["manager"])
    form = enrol_form(basis=EnrolmentBasis.MANAGER_DECISION)
    response = client.post(enrol_url(person.prison_number), form)
    assert response.status_code == 400
    assert "Enter the reason for the decision" in text_of(response)
    assert 'href="#decision_reason"' in response.content.decode()
    assert not Enrolment.objects.exists()

    reason = "Recent self-harm; consent declined while unwell. Agreed with healthcare."
    form["decision_reason"] = reason
    assert client.post(enrol_url(person.prison_number), form).status_code == 302
    assert Enrolment.objects.get().decision_reason == reason


@pytest.mark.parametrize(
    ("changes", "message", "anchor"),
    [
        ({}, "Choose the basis for monitoring", "basis"),
        (
            {"end_day": "31", "end_month": "2"},
            "The date of the end of monitoring must be a real date",
            "end_day",
        ),
        ({"review_year": "26"}, "The year must include 4 numbers", "review_day"),
        (
            {"review_day": "", "review_month": "", "review_year": ""},
            "Enter the date of the review",
            "review_day",
        ),
        (
            {"review_month": "1", "review_year": "2027"},
            "Set a review date between the start and the end",
            "review_day",
        ),
        ({"end_day": "27", "end_month": "11"}, "The end must be after the start", "end_day"),
        ({"decision_reason": "x" * 1001}, "must be 1000 characters or fewer", "decision_reason"),
    ],
)
def test_bad_enrolments_are_refused_with_a_clear_message_and_change_nothing(
    at_night, as_user, changes, message, anchor
):
    person = at_night["north_person"]
    form = enrol_form(**changes) if changes else {}
    events = AuditEvent.objects.count()
    response = as_user(at_night["manager"]).post(enrol_url(person.prison_number), form)
    assert response.status_code == 400
    assert message in text_of(response)
    assert f'href="#{anchor}"' in response.content.decode()
    assert not Enrolment.objects.exists()
    # Only the view of the person's record was audited: no write.
    assert not AuditEvent.objects.filter(id__gt=events, object_type="monitoring_enrolment")


def test_enrolling_someone_already_enrolled_is_refused(monitored, as_user):
    person = monitored.north_person
    response = as_user(monitored.manager).post(enrol_url(person.prison_number), enrol_form())
    assert response.status_code == 400
    assert "This person is already enrolled for some of that time" in text_of(response)
    assert Enrolment.objects.count() == 1


def test_only_managers_of_the_persons_prison_may_enrol(at_night, as_user, client):
    number = at_night["north_person"].prison_number
    officer = as_user(at_night["officer"])
    assert officer.get(enrol_url(number)).status_code == 403
    assert officer.post(enrol_url(number), enrol_form()).status_code == 403
    profile = officer.get(f"/people/{number}/")
    assert "In-cell monitoring pilot" in text_of(profile)
    assert enrol_url(number) not in profile.content.decode()
    client.logout()
    south = as_user(at_night["south_manager"])
    assert south.get(enrol_url(number)).status_code == 404
    assert south.post(enrol_url(number), enrol_form()).status_code == 404
    assert not Enrolment.objects.exists()


# --- Ending -------------------------------------------------------------------------------------


def test_a_manager_ends_monitoring_with_a_reason(monitored, as_user):
    person = monitored.north_person
    client = as_user(monitored.manager)
    assert client.post(end_url(person.prison_number), {"end_reason": ""}).status_code == 400
    assert Enrolment.objects.get().ends_at == NIGHT + timedelta(days=28)

    monitored.traveller.shift(timedelta(minutes=5))
    response = client.post(end_url(person.prison_number), {"end_reason": "Consent withdrawn"})
    assert response.status_code == 302
    ended = Enrolment.objects.get()
    assert ended.ends_at == NIGHT + timedelta(minutes=5)
    assert ended.end_reason == "Consent withdrawn"
    assert ended.ended_early_by == monitored.manager
    shown = text_of(client.get(f"/people/{person.prison_number}/"))
    assert "Not enrolled." in shown and "Earlier enrolments (1)" in shown
    # Nothing left to end.
    assert client.get(end_url(person.prison_number)).status_code == 404


# --- The list -----------------------------------------------------------------------------------


def test_the_list_of_people_enrolled_is_for_managers_and_audited(monitored, as_user, client):
    manager = as_user(monitored.manager)
    response = manager.get("/monitoring/enrolments/")
    assert response.status_code == 200
    shown = text_of(response)
    assert "1 person enrolled" in shown
    assert "BRIGHTWATER, Sam A1234BC The person gave consent 12 Dec 2026 26 Dec 2026" in shown
    event = AuditEvent.objects.filter(object_type="monitoring_enrolments").get()
    assert event.details == {"result_count": 1} and event.prison_code == "ZNA"
    client.logout()
    assert as_user(monitored.officer).get("/monitoring/enrolments/").status_code == 403


# --- Rules --------------------------------------------------------------------------------------


def test_a_manager_changes_a_rule_for_the_prison(at_night, as_user):
    client = as_user(at_night["manager"])
    listing = text_of(client.get("/monitoring/rules/"))
    assert (
        "No activity in an occupied cell High (immediate response) 30 min 20 min Built-in default"
        in listing
    )
    assert "Second person in a single-occupancy cell Medium (prompt response) 120 s 30 s" in listing

    form = {
        "enabled": "yes",
        "priority": Priority.HIGH,
        "day_threshold": "25",
        "night_threshold": "15",
        "limit_high": "0.04",
    }
    response = client.post(f"/monitoring/rules/{RuleKind.NO_ACTIVITY}/", form)
    assert response.status_code == 302
    config = RuleConfig.objects.get(prison=at_night["north"], kind=RuleKind.NO_ACTIVITY)
    assert (config.day_threshold_seconds, config.night_threshold_seconds) == (1500, 900)
    assert config.limit_high == 0.04 and config.location is None
    assert str(config.day_starts) == "08:00:00" and str(config.day_ends) == "20:00:00"
    assert (
        AuditEvent.objects.filter(object_type="monitoring_ruleconfig", action="create").count() == 1
    )
    listing = text_of(client.get("/monitoring/rules/"))
    assert (
        "No activity in an occupied cell High (immediate response) 25 min 15 min This prison"
        in listing
    )

    # Seconds for the quick rules; empty switches the rule off by day.
    form = {
        "enabled": "yes",
        "priority": Priority.MEDIUM,
        "day_threshold": "",
        "night_threshold": "45",
    }
    assert client.post(f"/monitoring/rules/{RuleKind.SECOND_PERSON}/", form).status_code == 302
    config = RuleConfig.objects.get(prison=at_night["north"], kind=RuleKind.SECOND_PERSON)
    assert (config.day_threshold_seconds, config.night_threshold_seconds) == (None, 45)


@pytest.mark.parametrize(
    ("kind", "changes", "message", "anchor"),
    [
        (
            RuleKind.NO_ACTIVITY,
            {"day_threshold": "-1"},
            "The day threshold must be 0 minutes or more",
            "day_threshold",
        ),
        (
            RuleKind.NO_ACTIVITY,
            {"night_threshold": "ten"},
            "The night threshold must be a whole number of minutes",
            "night_threshold",
        ),
        (
            RuleKind.NO_ACTIVITY,
            {"day_threshold": "10081"},
            "The day threshold must be 7 days (10,080 minutes) or less",
            "day_threshold",
        ),
        (
            RuleKind.SECOND_PERSON,
            {"day_threshold": "604801"},
            "The day threshold must be 7 days (604,800 seconds) or less",
            "day_threshold",
        ),
        (RuleKind.NO_ACTIVITY, {"priority": "URGENT"}, "Select a valid choice", "priority"),
        (
            RuleKind.PULSE_OUT_OF_RANGE,
            {"limit_low": "130", "limit_high": "40"},
            "The lower limit must be below the upper limit",
            "limit_low",
        ),
        (
            RuleKind.PULSE_OUT_OF_RANGE,
            {"min_quality": "1.5"},
            "Quality is from 0 to 1",
            "min_quality",
        ),
        (
            RuleKind.PULSE_OUT_OF_RANGE,
            {"limit_low": "low"},
            "The lower limit must be a number",
            "limit_low",
        ),
    ],
)
def test_bad_rule_settings_are_refused_and_change_nothing(
    at_night, as_user, kind, changes, message, anchor
):
    form = {
        "enabled": "yes",
        "priority": Priority.HIGH,
        "day_threshold": "10",
        "night_threshold": "5",
        **changes,
    }
    response = as_user(at_night["manager"]).post(f"/monitoring/rules/{kind}/", form)
    assert response.status_code == 400
    assert message in text_of(response)
    assert f'href="#{anchor}"' in response.content.decode()
    assert not RuleConfig.objects.exists()
    assert not AuditEvent.objects.filter(object_type="monitoring_ruleconfig").exists()


def test_rules_are_for_managers_only_and_unknown_rules_are_not_found(at_night, as_user, client):
    assert as_user(at_night["manager"]).get("/monitoring/rules/NOT_A_RULE/").status_code == 404
    client.logout()
    officer = as_user(at_night["officer"])
    assert officer.get("/monitoring/rules/").status_code == 403
    form = {"enabled": "no", "priority": Priority.LOW}
    assert officer.post(f"/monitoring/rules/{RuleKind.TAMPERED}/", form).status_code == 403
    assert not RuleConfig.objects.exists()
