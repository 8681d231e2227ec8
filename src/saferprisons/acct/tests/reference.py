"""The estate-wide "what is overdue now" computed the long way, to check the selector against:
every live case read through ``facts.with_facts`` and ``states_for`` (no stored next due time),
then the rules. This is what ``selectors.estate_overdue_now`` did before ``next_due_at``."""

from collections import Counter
from datetime import datetime

from saferprisons.acct import facts, rules, selectors
from saferprisons.acct.constants import LIVE_STATUSES
from saferprisons.acct.models import AcctCase


def estate_overdue_reference(now: datetime) -> tuple[list[tuple], Counter]:
    timings = rules.Timings.from_settings()
    cases = list(
        facts.with_facts(
            AcctCase.objects.filter(status__in=LIVE_STATUSES).select_related(
                "prison", "prisoner__prison"
            )
        )
    )
    states = facts.states_for(cases)
    rows = []
    open_cases: Counter = Counter()
    for case in cases:
        code = (case.prisoner.prison or case.prison).code
        open_cases[code] += 1
        rows += [
            (code, case.log_number, case.prisoner.prison_number, item.kind, item.due_at)
            for item in rules.due_items(states[case.pk].facts, now, timings)
            if item.overdue
        ]
    rows.sort(key=lambda r: (r[4], r[1]))
    return rows, open_cases


def estate_overdue_selector(now: datetime) -> tuple[list[tuple], Counter]:
    report = selectors.estate_overdue_now(now=now)
    rows = [(r.prison_code, r.log_number, r.prison_number, r.kind, r.due_at) for r in report.rows]
    return rows, report.open_cases


def moments_to_check(start: datetime, days: int, step_hours: int = 2) -> list[datetime]:
    """A grid over ``days`` from ``start``, plus every due time of every case and the second
    either side of it (where an item turns overdue)."""
    from datetime import timedelta

    timings = rules.Timings.from_settings()
    moments = {start + timedelta(hours=h) for h in range(0, days * 24 + 1, step_hours)}
    cases = list(facts.with_facts(AcctCase.objects.all()))
    for state in facts.states_for(cases).values():
        for item in rules.due_items(state.facts, start, timings):
            if not item.always:
                for delta in (-1, 0, 1):
                    moments.add(item.due_at + timedelta(seconds=delta))
    return sorted(moments)


def assert_selector_matches_reference(moments) -> int:
    """The selector and the long way agree at every moment; returns how many overdue items
    were seen in all (so a test can check it was not trivially empty)."""
    seen = 0
    for moment in moments:
        expected = estate_overdue_reference(moment)
        assert estate_overdue_selector(moment) == expected, moment
        seen += len(expected[0])
    return seen
