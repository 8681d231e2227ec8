"""Concurrent concern raisers (PostgreSQL row locks): one case per person, unique log numbers."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from saferprisons.acct import services
from saferprisons.acct.constants import ConcernEffect
from saferprisons.acct.models import AcctCase, Concern, StaffTask
from saferprisons.conftest import admit, make_prison, make_user
from saferprisons.core import clock
from saferprisons.people.models import PersonAlert

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_concurrent_concerns_open_one_case_per_person_and_never_share_a_log_number():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock race needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    prison = make_prison("ZRA")
    manager = make_user("race.manager", ["CUSTODIAL_MANAGER"], [prison])
    officers = [make_user(f"race.officer{n}", ["WING_OFFICER"], [prison]) for n in range(3)]
    people = [admit(manager, prison, f"R{n}000AB") for n in range(4)]
    # Three officers raise a concern on each of four people, all at once.
    work = [(officer, person) for person in people for officer in officers]
    barrier = threading.Barrier(len(work))
    outcomes, errors = [], []

    def raise_one(officer, person):
        try:
            barrier.wait()
            concern = services.raise_concern(
                actor=officer,
                prisoner=person,
                source="STAFF_OBSERVATION",
                seen_or_heard="Seen at the same moment by several officers",
                immediate_risk="Unknown",
                action_taken="Stayed with him",
            )
            outcomes.append((person.pk, concern.effect, concern.case.log_number))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=raise_one, args=pair) for pair in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(outcomes) == len(work)
    opened = Counter(person for person, effect, _ in outcomes if effect == ConcernEffect.OPENED)
    assert opened == Counter({p.pk: 1 for p in people})
    assert AcctCase.objects.count() == len(people)
    log_numbers = sorted(AcctCase.objects.values_list("log_number", flat=True))
    year = clock.local(clock.now()).year
    assert log_numbers == [f"ZRA-{year}-{n:04d}" for n in range(1, 5)]  # unique, no gaps
    # Every concern about a person landed on that person's one case.
    for person in people:
        assert {n for p, _, n in outcomes if p == person.pk} == set(
            AcctCase.objects.filter(prisoner=person).values_list("log_number", flat=True)
        )
    assert Concern.objects.count() == len(work)
    assert PersonAlert.objects.filter(alert_code__code="HA", ended_at__isnull=True).count() == 4
    assert StaffTask.objects.count() == 4
