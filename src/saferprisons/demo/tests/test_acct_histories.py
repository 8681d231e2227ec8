"""The ACCT history generator is pure and every story it tells is one the ACCT services accept."""

from collections import Counter

import pytest

from saferprisons.demo import acct_histories as ah
from saferprisons.demo import generators as gen


def prison_histories(seed: int, spec: gen.PrisonSpec, *, showcase: bool, others: int = 2):
    numbers = gen.prison_numbers(gen.sub_rng(seed, "numbers", spec.code), spec.target_population)
    people = gen.people_for_prison(
        gen.sub_rng(seed, spec.code, "people"), spec, numbers, other_prisons=others
    )
    layout = gen.prison_layout(gen.sub_rng(seed, spec.code, "layout"), spec)
    places = gen.crisis_places(layout)
    made = ah.acct_histories(
        gen.sub_rng(seed, spec.code, "acct"), spec, people, safer_places=places, showcase=showcase
    )
    return people, made, places


def test_same_seed_gives_the_same_histories_and_another_seed_does_not():
    spec = gen.DEMO_PRISONS[0]
    _, first, _ = prison_histories(3, spec, showcase=True)
    _, again, _ = prison_histories(3, spec, showcase=True)
    _, other, _ = prison_histories(4, spec, showcase=True)
    assert first == again
    assert [h.prison_number for h in first] != [h.prison_number for h in other]


def test_the_showcase_has_every_stage_and_every_flag_in_a_tiny_prison():
    _, made, _ = prison_histories(5, gen.TINY_PRISONS[0], showcase=True, others=0)
    assert {h.stage for h in made} == set(ah.STAGES)
    flags = set().union(*(h.flags for h in made))
    assert flags == {f for _, fs in ah.SHOWCASE for f in fs}
    assert len(made) == len(ah.SHOWCASE)


def test_rates_are_about_two_percent_of_men_and_more_of_women():
    prisons = gen.estate_prisons(gen.sub_rng(6, "prisons"))
    men = [p for p in prisons if not p.is_womens][:12]
    women = [p for p in prisons if p.is_womens][:4]
    for group, expected_open in ((men, 0.019), (women, 0.05)):
        people = statuses = 0
        counts: Counter = Counter()
        for spec in group:
            residents, made, _ = prison_histories(6, spec, showcase=False)
            people += len(residents)
            counts.update(h.status for h in made)
            statuses += len(made)
        assert counts["OPEN"] / people == pytest.approx(expected_open, abs=0.004)
        assert 0 < counts["POST_CLOSURE"] < counts["OPEN"]
        assert counts["CLOSED"] > counts["POST_CLOSURE"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_story_is_one_the_services_accept(seed):
    for spec in gen.DEMO_PRISONS:
        people, made, places = prison_histories(seed, spec, showcase=True)
        limits = {p.prison_number: p.acct_history_limit for p in people}
        assert len({h.prison_number for h in made}) == len(made)  # one case each
        safer = [h for h in made if ah.wants_safer_cell(h.stage, h.flags)]
        assert len(safer) <= places
        for history in made:
            check_story(history, limits[history.prison_number])


def check_story(history: ah.AcctHistory, limit: int) -> None:
    events = history.events
    ages = [e.minutes_ago for e in events]
    assert ages == sorted(ages, reverse=True)  # oldest first
    assert 1 <= ages[-1] and ages[0] <= limit  # in the past, after the person arrived
    assert isinstance(events[0], ah.Concern)
    reviews = [e for e in events if isinstance(e, ah.Review)]
    closing = [r for r in reviews if r.closes]
    closed_at = closing[0].minutes_ago if closing else 0
    if history.status == ah.STATUS_OPEN:
        assert not closing
        assert not any(isinstance(e, ah.PostClosureReview) for e in events)
    else:
        assert len(closing) == 1 and closing[0] is reviews[-1]
        assert closing[0].levels is None and closing[0].next_review_minutes_ago is None
    post = [e for e in events if isinstance(e, ah.PostClosureReview)]
    assert len(post) == (1 if history.status == ah.STATUS_CLOSED else 0)
    for event in events:
        if isinstance(event, ah.Entry | ah.Demand | ah.CellDecision | ah.ActionPlan):
            assert event.minutes_ago > closed_at  # only while the ACCT is open
    if reviews:
        first = reviews[0]
        assert first.case_manager and first.case_coordinator and first.levels is not None
        assert first.triggers and first.warning_signs
        caremap = 0
        for review in reviews:
            assert {a.discipline for a in review.attendees} >= {"MANAGER", "PERSON"}
            assert all(i < caremap for i in review.caremap_done)
            caremap += len(review.caremap_new)
            if not review.closes:
                assert review.next_review_minutes_ago < review.minutes_ago
        last = reviews[-1]
        for event in events:
            if isinstance(event, ah.Demand) and event.reason in ("SELF_HARM", "STAFF_REQUEST"):
                assert event.minutes_ago < last.minutes_ago  # outstanding now
    if history.stage in ah.ONGOING_STAGES:
        assert reviews[-1].levels is not None
        expected = {ah.OPEN_LOW: "LOW", ah.OPEN_RAISED: "RAISED"}.get(history.stage, "HIGH")
        assert reviews[-1].risk == expected


def test_assessor_training_covers_every_assessment_and_one_record_has_expired():
    training = ah.assessor_training(gen.sub_rng(1, "ZLA", "training"))
    current = [t for t in training if t.expires_days_ago < 0]
    expired = [t for t in training if t.expires_days_ago > 0]
    assert {t.role_code for t in current} == set(ah.ASSESSOR_ROLES)
    assert [t.role_code for t in expired] == [ah.EXPIRED_ASSESSOR_ROLE]
    oldest_assessment = max(
        e.minutes_ago
        for spec in gen.DEMO_PRISONS
        for h in prison_histories(1, spec, showcase=True)[1]
        for e in h.events
        if isinstance(e, ah.Assessment)
    )
    assert min(t.completed_days_ago for t in current) * ah.D > oldest_assessment
    # The assessors' roles are the ones the stories give assessments to.
    assert {"WING_OFFICER", "CUSTODIAL_MANAGER", "HEALTHCARE"} <= set(ah.ASSESSOR_ROLES)
