"""Two concurrent moves into the last place: exactly one succeeds (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection, connections

from saferprisons.conftest import admit, make_prison, make_user, make_wing
from saferprisons.core.errors import Conflict
from saferprisons.people import services
from saferprisons.people.models import CellAllocation

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_two_moves_race_for_the_last_place():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock race needs PostgreSQL (run with DATABASE_URL=postgres://...)")
    prison = make_prison("ZRC")
    holding = make_wing(prison, "H", cells=2, working=1)
    target = make_wing(prison, "T", cells=1, working=1)[0]
    manager = make_user("race.manager", ["CUSTODIAL_MANAGER"], [prison])
    people = [admit(manager, prison, f"R{n}000AA", cell=holding[n]) for n in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def move(person):
        try:
            barrier.wait()
            services.allocate_cell(actor=manager, prisoner=person, cell=target)
            outcomes.append("moved")
        except Conflict as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=move, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["Cell T-1-001 is full", "moved"]
    target.refresh_from_db()
    assert target.occupied == 1
    assert CellAllocation.objects.filter(cell=target, ended_at__isnull=True).count() == 1


def test_database_refuses_occupied_over_working_capacity():
    """The check constraint holds even if code forgot the lock (both databases)."""
    from django.db import IntegrityError
    from django.db.models import F

    from saferprisons.estate.models import Location

    prison = make_prison("ZRD")
    cell = make_wing(prison, "A", cells=1, working=1)[0]
    Location.objects.filter(pk=cell.pk).update(occupied=F("occupied") + 1)
    with pytest.raises(IntegrityError):
        Location.objects.filter(pk=cell.pk).update(occupied=F("occupied") + 1)
