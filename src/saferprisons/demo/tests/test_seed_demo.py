"""seed_demo writes consistent data: capacities, allocations, roles, PINs, one audit event."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db.models import Count, Q

from saferprisons.accounts.models import KioskCredential, Role, User
from saferprisons.accounts.roles import ROLES
from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.models import AuditEvent
from saferprisons.audit.services import record
from saferprisons.demo import generators as gen
from saferprisons.demo.services import DEMO_PASSWORD, DEMO_PIN
from saferprisons.estate.constants import CellTypeCode, LocationLevel
from saferprisons.estate.models import Location, Prison
from saferprisons.people.constants import MovementKind
from saferprisons.people.models import CaseNote, CellAllocation, Movement, PersonAlert, Prisoner


def seed(seed: int = 7, *, flush: bool = False) -> str:
    # ACCT histories in bulk: replaying them through the ACCT services takes several seconds
    # each time, and test_seed_acct.py covers that path (and that both write the same rows).
    out = StringIO()
    call_command("seed_demo", size="tiny", seed=seed, flush=flush, acct_writer="bulk", stdout=out)
    return out.getvalue()


def people_snapshot():
    return list(
        Prisoner.objects.order_by("prison_number").values_list(
            "prison_number", "first_name", "last_name", "date_of_birth", "prison__code"
        )
    )


@pytest.fixture
def tiny(db):
    return seed()


def test_tiny_size_counts(tiny):
    assert Prison.objects.count() == 1
    assert Prisoner.objects.count() == 60
    assert KioskCredential.objects.count() == 60
    assert Movement.objects.filter(kind=MovementKind.RECEPTION).count() == 60
    assert CellAllocation.objects.filter(ended_at__isnull=True).count() == 60
    assert CaseNote.objects.count() >= 60
    assert Location.objects.filter(level=LocationLevel.WING).exists()
    assert "Seeded 'tiny' (seed 7)" in tiny


def test_same_seed_gives_identical_people_after_a_flush(tiny):
    before = people_snapshot()
    seed(7, flush=True)
    assert people_snapshot() == before
    seed(8, flush=True)
    assert people_snapshot() != before


def test_every_cell_occupied_equals_its_open_allocations_within_working_capacity(tiny):
    cells = Location.objects.filter(level=LocationLevel.CELL).annotate(
        open=Count("allocations", filter=Q(allocations__ended_at__isnull=True))
    )
    assert cells.count() > 0
    for cell in cells:
        assert cell.occupied == cell.open, cell.path
        assert cell.occupied <= cell.working_capacity <= cell.max_capacity <= 99
        assert cell.certified_normal_accommodation <= cell.working_capacity
        if cell.deactivated_at is not None:
            assert cell.occupied == 0
    occupied = sum(c.occupied for c in cells if c.deactivated_at is None)
    places = sum(c.working_capacity for c in cells if c.deactivated_at is None)
    # About 90% of ordinary places; in a 60-person prison the kept-free safe cells weigh more.
    assert 0.75 <= occupied / places <= 0.95


def test_no_one_has_two_open_allocations_and_everyone_has_one(tiny):
    open_counts = Prisoner.objects.annotate(
        open=Count("allocations", filter=Q(allocations__ended_at__isnull=True))
    ).values_list("open", flat=True)
    assert set(open_counts) == {1}
    for allocation in CellAllocation.objects.select_related("cell", "prisoner"):
        if allocation.ended_at is None:
            assert allocation.cell.prison_id == allocation.prisoner.prison_id
        else:
            assert allocation.started_at <= allocation.ended_at


def test_every_role_has_a_user_with_the_demo_password(tiny):
    assert set(Role.objects.values_list("code", flat=True)) >= set(ROLES)
    prison = Prison.objects.get()
    for code, role in ROLES.items():
        user = User.objects.get(
            username=gen.username_for(code, None if not role.sees_people else "ZLA")
        )
        assert user.role_codes() == [code]
        assert list(user.prisons.all()) == [prison]
        assert user.is_active
    officer = User.objects.get(username="officer.zla")
    assert officer.check_password(DEMO_PASSWORD)
    assert officer.band == "3"
    assert User.objects.get(username="manager.zla").band == "5"
    assert User.objects.get(username="healthcare.zla").band == "NHS 6"
    for line in ("officer.zla", "analyst.hq", "auditor.hq", "admin.hq", DEMO_PASSWORD, DEMO_PIN):
        assert line in tiny


def test_every_person_has_a_kiosk_pin(tiny):
    hashes = set(KioskCredential.objects.values_list("pin_hash", flat=True))
    assert len(hashes) == 1
    assert check_password(DEMO_PIN, hashes.pop())


def test_names_come_from_the_generator_lists(tiny):
    firsts = set(gen.MALE_FIRST_NAMES) | set(gen.FEMALE_FIRST_NAMES)
    for first, last in Prisoner.objects.values_list("first_name", "last_name"):
        assert first in firsts and last in gen.SURNAMES
    for first, last in User.objects.values_list("first_name", "last_name"):
        assert first in firsts and last in gen.SURNAMES
    assert Prison.objects.get().name == "HMP Larkhollow"


def test_safe_cells_are_certified_by_a_member_of_staff(tiny):
    safe = Location.objects.filter(cell_types__code=CellTypeCode.SAFE_CELL)
    assert safe.count() >= 2
    for cell in safe:
        assert cell.ligature_certified_on is not None
        assert cell.ligature_certified_by.username == "manager.zla"
    for cell in Location.objects.filter(
        cell_types__code__in=[CellTypeCode.SAFE_CELL, CellTypeCode.CONSTANT_SUPERVISION],
        occupied__gt=0,
    ):
        for allocation in cell.allocations.filter(ended_at__isnull=True):
            assert allocation.prisoner.alerts.filter(
                alert_code__code="HA", ended_at__isnull=True
            ).exists()


def test_alerts_and_case_notes_follow_the_rules(tiny):
    active = (
        PersonAlert.objects.filter(ended_at__isnull=True)
        .values("prisoner", "alert_code")
        .annotate(n=Count("pk"))
    )
    assert all(row["n"] == 1 for row in active)
    sensitivities = set(CaseNote.objects.values_list("sensitivity", flat=True))
    assert {"NORMAL", "SENSITIVE", "HEALTH"} <= sensitivities
    for note in CaseNote.objects.filter(sensitivity="HEALTH").select_related("author"):
        assert note.author.role_codes() == ["HEALTHCARE"]


def test_refuses_to_run_over_existing_data_without_flush(tiny):
    with pytest.raises(CommandError, match="--flush"):
        seed(7)
    assert Prisoner.objects.count() == 60


def test_one_audit_event_per_seed_and_flush_keeps_the_audit_trail(tiny):
    assert AuditEvent.objects.filter(object_type="demo_seed").count() == 1
    officer = User.objects.get(username="officer.zla")
    record(actor=officer, action="view", object_type="prisoner", object_id="x")
    record(actor=SYSTEM, action="view", object_type="prisoner", object_id="y")
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    seed(7, flush=True)
    # The flush and the new seed each add one summary event; nothing is removed. (The monitoring
    # pilot's demo set-up goes through the monitoring services, which audit each action.)
    assert AuditEvent.objects.filter(object_type="demo_seed").count() == 3
    assert before <= set(AuditEvent.objects.values_list("pk", flat=True))
    # The officer named by an audit event was kept (not deleted) and is reused, active again.
    reused = User.objects.get(username="officer.zla")
    assert reused.pk == officer.pk and reused.is_active
    assert reused.role_codes() == ["WING_OFFICER"]
    assert Prisoner.objects.count() == 60


def test_flush_removes_other_apps_records_about_demo_people(tiny):
    from datetime import timedelta

    from saferprisons.accounts.models import ApiToken
    from saferprisons.core import clock
    from saferprisons.demo.services import flush_demo_data

    # A record in another table that PROTECTs a demo user: the flush removes it first.
    token = ApiToken.objects.create(
        name="demo sensor",
        key_prefix="abc123",
        key_hash="0" * 64,
        scopes=["people:read"],
        created_by=User.objects.get(username="psych.zla"),
        expires_at=clock.now() + timedelta(days=1),
    )
    token.prisons.set(Prison.objects.all())
    counts = flush_demo_data()
    assert not ApiToken.objects.exists()
    assert counts["people_rows"] > 60  # prisoners and their records
    assert not Prisoner.objects.exists()
    assert not Location.objects.exists()
    assert not Prison.objects.exists()
    assert not User.objects.filter(username="psych.zla").exists()


def test_the_demo_has_monitored_cells_for_the_simulator(tiny):
    from saferprisons.monitoring.models import Device, Enrolment, Gateway

    # Every device is in a cell of one of the prison's wings that has a gateway, and the people
    # enrolled live in those cells.
    gateways = Gateway.objects.all()
    assert gateways.count() >= 1
    devices = Device.objects.filter(gateway__in=gateways)
    assert devices.exists()
    enrolled = Enrolment.objects.all()
    assert enrolled.exists()
    occupied_cells = set(
        CellAllocation.objects.filter(
            ended_at__isnull=True, prisoner__in=enrolled.values("prisoner")
        ).values_list("cell", flat=True)
    )
    assert occupied_cells <= set(devices.values_list("cell", flat=True))
    assert f"{devices.count():,} cells with sensors" in tiny
