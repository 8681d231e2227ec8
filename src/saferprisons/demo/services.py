"""Write (and remove) the synthetic demo data in bulk.

The generators (demo/generators.py) decide everything; this module only turns their specs into rows.
It deliberately bypasses the per-row domain services: a national estate is about 800,000 rows, and
admitting each person through ``people.services`` (row locks, one audit event each) would take far
too long. Instead the invariants the services keep are kept here by construction and then checked by
the database: every cell's ``occupied`` is set in one statement from the open allocations, under the
check constraint that it never exceeds working capacity. One audit event summarises each seed and
each flush (docs/adr/0006-synthetic-data.md).

ACCT histories (demo/acct_histories.py) are the exception for the tiny and demo sizes: they are
replayed through the ACCT services, so they are exactly what the application records, each action
audited at its fictional moment; the estate size writes the same rows in bulk (demo/acct_writer.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from saferprisons.accounts.models import ApiToken, KioskCredential, Role, TrainingRecord, User
from saferprisons.accounts.roles import ROLES
from saferprisons.accounts.services import sync_roles
from saferprisons.acct.constants import ASSESSOR_COURSE, JOB_OBSERVATION_OVERDUE, JOB_REVIEW_DUE
from saferprisons.acct.models import AcctCase, CaseEntry, CaseReview, StaffTask
from saferprisons.acct.selectors import estate_overdue_now
from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.constants import Action
from saferprisons.audit.models import AuditEvent
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import CellType, Location, Prison
from saferprisons.jobs.constants import JobStatus
from saferprisons.jobs.models import Job
from saferprisons.monitoring.demo_setup import setup_demo_monitoring
from saferprisons.people.constants import CaseNoteType, CustodyStatus, MovementKind
from saferprisons.people.models import (
    AlertCode,
    CaseNote,
    CellAllocation,
    Movement,
    PersonAlert,
    Prisoner,
)

from . import acct_histories as ah
from . import acct_writer
from . import generators as gen

DEMO_PIN = "1357"
DEMO_PASSWORD = "demo-password-2026"
BATCH_SIZE = 2000
# Apps whose rows a flush never touches: the audit trail is append-only.
KEEP_APPS = frozenset({"audit"})

# Who writes which kind of case note.
_NOTE_AUTHOR_ROLE = {
    CaseNoteType.SECURITY: "SECURITY",
    CaseNoteType.HEALTH: "HEALTHCARE",
    CaseNoteType.SAFER_CUSTODY: "CUSTODIAL_MANAGER",
}


class DemoDataExists(Exception):
    """The database already holds prisons or people; seeding again needs an explicit flush."""


@dataclass
class SeedReport:
    size: str
    seed: int
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    staff: list[gen.StaffSpec] = field(default_factory=list)
    sample_prison_numbers: list[str] = field(default_factory=list)
    acct_writer: str = ""
    # ACCTs by stage (acct_histories.STAGES order), and what is overdue now by due kind.
    acct_stages: dict[str, int] = field(default_factory=dict)
    acct_overdue: dict[str, int] = field(default_factory=dict)
    # The in-cell monitoring pilot's demo wings (not for the estate size, which benchmarks use).
    monitored_cells: int = 0
    monitored_people: int = 0
    pin: str = DEMO_PIN
    password: str = DEMO_PASSWORD


def has_domain_data() -> bool:
    return Prison.objects.exists() or Prisoner.objects.exists()


def seed_demo(
    *,
    size: str,
    seed: int,
    flush: bool = False,
    analyze: bool = True,
    progress: Callable[[str], None] | None = None,
    acct_writer_name: str | None = None,
) -> SeedReport:
    """Generate and write one size of demo data. Refuses if data exists, unless ``flush``.

    ACCT histories go through the ACCT services, except for the ``estate`` size, where they are
    written in bulk (``acct_writer_name`` overrides; see demo/acct_writer.py).
    """
    if size not in gen.SIZES:
        raise ValueError(f"Unknown size {size!r}; choose one of {', '.join(gen.SIZES)}")
    writer_name = acct_writer_name or ("bulk" if size == "estate" else "services")
    if writer_name not in acct_writer.WRITERS:
        raise ValueError(
            f"Unknown ACCT writer {writer_name!r}; choose one of {', '.join(acct_writer.WRITERS)}"
        )
    say = progress or (lambda message: None)
    if has_domain_data():
        if not flush:
            raise DemoDataExists(
                "The database already holds prisons or people. Run with --flush to remove "
                "them first (audit events are kept)."
            )
        flushed = flush_demo_data()
        say(f"flushed existing data: {flushed}")
    started = time.perf_counter()
    report = SeedReport(size=size, seed=seed, acct_writer=writer_name)
    with transaction.atomic():
        _Writer(report, say).run()
        report.acct_overdue = overdue_now()
        if size != "estate":
            monitoring = setup_demo_monitoring(seed=seed)
            report.monitored_cells = monitoring.devices
            report.monitored_people = monitoring.enrolled
            say(f"monitoring: {monitoring.devices} sensors, {monitoring.enrolled} people enrolled")
        report.seconds = round(time.perf_counter() - started, 2)
        record(
            actor=SYSTEM,
            action=Action.CREATE,
            object_type="demo_seed",
            object_id=f"{size}:{seed}",
            details={
                "size": size,
                "seed": seed,
                "counts": report.counts,
                "acct_writer": writer_name,
                "acct_stages": report.acct_stages,
            },
        )
    if analyze:
        refresh_statistics()
    report.seconds = round(time.perf_counter() - started, 2)
    say(f"done in {report.seconds:.1f}s")
    return report


def overdue_now() -> dict[str, int]:
    """What the ACCT rules find overdue now across the estate, by due kind."""
    counts: dict[str, int] = {}
    for row in estate_overdue_now().rows:
        counts[row.kind] = counts.get(row.kind, 0) + 1
    return dict(sorted(counts.items()))


def refresh_statistics() -> None:
    """End a bulk load as any should: fresh planner statistics and, on PostgreSQL, the dead rows
    of a flush vacuumed away (VACUUM cannot run inside a transaction, so only outside one)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


class _Writer:
    def __init__(self, report: SeedReport, say: Callable[[str], None]):
        self.report = report
        self.say = say
        self.seed = report.seed
        self.now = clock.now()
        self.today = clock.today_london()
        self.counts = report.counts

    def _bulk(self, model, rows: list, label: str):
        created = model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        self.counts[label] = self.counts.get(label, 0) + len(rows)
        return created

    def run(self) -> None:
        specs = gen.prisons_for_size(gen.sub_rng(self.seed, "prisons"), self.report.size)
        self.specs = specs
        self.prisons = {
            p.code: p
            for p in self._bulk(
                Prison,
                [
                    Prison(
                        code=s.code,
                        name=s.name,
                        category=s.category,
                        population=s.population,
                        operator=s.operator,
                    )
                    for s in specs
                ],
                "prisons",
            )
        }
        self.say(f"{len(specs)} prisons")
        self._write_staff()
        self.layouts = {
            s.code: gen.prison_layout(gen.sub_rng(self.seed, s.code, "layout"), s) for s in specs
        }
        self._write_locations()
        self.say(f"{self.counts['cells']} cells")
        self.alert_codes = dict(AlertCode.objects.active().values_list("code", "id"))
        self.pin_hash = make_password(DEMO_PIN)
        total = sum(s.target_population for s in specs)
        numbers = gen.prison_numbers(gen.sub_rng(self.seed, "numbers"), total)
        offset = 0
        showcase = self.report.size != "estate"
        self.acct: list[tuple[ah.AcctHistory, acct_writer.Subject]] = []
        for index, spec in enumerate(specs):
            chunk = numbers[offset : offset + spec.target_population]
            offset += spec.target_population
            rng = gen.sub_rng(self.seed, spec.code, "people")
            people = gen.people_for_prison(rng, spec, chunk, other_prisons=len(specs) - 1)
            layout = self.layouts[spec.code]
            histories = ah.acct_histories(
                gen.sub_rng(self.seed, spec.code, "acct"),
                spec,
                people,
                safer_places=gen.crisis_places(layout),
                showcase=showcase,
            )
            plan = gen.plan_allocations(rng, layout, people, ah.crisis_priority(histories))
            prisoners = self._write_people(spec, people, plan)
            by_number = {
                p.prison_number: (p, cell) for p, cell in zip(prisoners, plan, strict=True)
            }
            for history in histories:
                prisoner, cell_index = by_number[history.prison_number]
                wing = layout.cells[cell_index].wing
                self.acct.append(
                    (history, acct_writer.Subject(prisoner, self.prisons[spec.code], wing))
                )
            if (index + 1) % 20 == 0:
                self.say(f"people in {index + 1} of {len(specs)} prisons")
            if len(self.report.sample_prison_numbers) < 5:
                self.report.sample_prison_numbers.append(chunk[0])
        self._set_occupancy()
        self.say(f"{self.counts.get('prisoners', 0)} people")
        self._write_acct()

    # --- ACCT --------------------------------------------------------------------------------

    def _write_acct(self) -> None:
        stages = {stage: 0 for stage in ah.STAGES}
        for history, _ in self.acct:
            stages[history.stage] += 1
        self.report.acct_stages = stages
        acct_writer.write(
            writer=self.report.acct_writer,
            now=self.now,
            histories=self.acct,
            users=self.users,
            username_for=gen.username_for,
        )
        self.counts["acct_cases"] = AcctCase.objects.count()
        self.counts["acct_reviews"] = CaseReview.objects.count()
        self.counts["acct_entries"] = CaseEntry.objects.count()
        self.counts["acct_tasks"] = StaffTask.objects.count()
        self.say(f"{self.counts['acct_cases']} ACCTs ({self.report.acct_writer})")

    # --- staff -------------------------------------------------------------------------------

    def _write_staff(self) -> None:
        sync_roles()
        roles = {r.code: r for r in Role.objects.all()}
        specs = gen.staff(
            gen.sub_rng(self.seed, "staff"),
            self.specs,
            [(code, role.sees_people) for code, role in ROLES.items()],
        )
        self.report.staff = specs
        password_hash = make_password(DEMO_PASSWORD)  # hashed once, shared by every demo user
        existing = {
            u.username: u for u in User.objects.filter(username__in=[s.username for s in specs])
        }
        new, kept = [], []
        for spec in specs:
            user = existing.get(spec.username) or User(username=spec.username)
            user.first_name = spec.first_name
            user.last_name = spec.last_name
            user.band = spec.band
            user.password = password_hash
            user.is_active = True
            user.failed_sign_ins = 0
            user.locked_until = None
            (kept if user.pk else new).append(user)
        if kept:
            User.objects.bulk_update(
                kept,
                ["first_name", "last_name", "band", "password", "is_active", "failed_sign_ins",
                 "locked_until"],
                batch_size=BATCH_SIZE,
            )  # fmt: skip
            User.roles.through.objects.filter(user__in=kept).delete()
            User.prisons.through.objects.filter(user__in=kept).delete()
            TrainingRecord.objects.filter(user__in=kept).delete()
        self._bulk(User, new, "staff_users")
        self.counts["staff_users"] = len(specs)
        self.users = {u.username: u for u in [*new, *kept]}
        role_links, prison_links = [], []
        for spec in specs:
            user = self.users[spec.username]
            role_links.append(User.roles.through(user_id=user.pk, role_id=roles[spec.role_code].pk))
            prison_links.extend(
                User.prisons.through(user_id=user.pk, prison_id=self.prisons[code].pk)
                for code in spec.prison_codes
            )
        User.roles.through.objects.bulk_create(role_links, batch_size=BATCH_SIZE)
        User.prisons.through.objects.bulk_create(prison_links, batch_size=BATCH_SIZE)
        self._write_training()

    def _write_training(self) -> None:
        """ACCT assessor training for each prison's staff (one expired record per prison)."""
        records = []
        for spec in self.specs:
            for training in ah.assessor_training(gen.sub_rng(self.seed, spec.code, "training")):
                user = self.user_for(training.role_code, spec.code)
                if user is None:
                    continue
                completed = self.today - timedelta(days=training.completed_days_ago)
                records.append(
                    TrainingRecord(
                        user=user,
                        course=ASSESSOR_COURSE,
                        completed_on=completed,
                        expires_on=completed + timedelta(days=training.valid_days),
                        recorded_at=self._at(training.completed_days_ago, 17 * 60),
                    )
                )
        self._bulk(TrainingRecord, records, "training_records")

    def user_for(self, role_code: str, prison_code: str) -> User | None:
        return self.users.get(gen.username_for(role_code, prison_code))

    # --- estate ------------------------------------------------------------------------------

    def _write_locations(self) -> None:
        wings = []
        for spec in self.specs:
            prison = self.prisons[spec.code]
            wings += [
                Location(prison=prison, level=LocationLevel.WING, code=wing, path=wing)
                for wing in self.layouts[spec.code].wings
            ]
        wing_ids = {(w.prison_id, w.code): w.pk for w in self._bulk(Location, wings, "wings")}
        landings = []
        for spec in self.specs:
            prison = self.prisons[spec.code]
            landings += [
                Location(
                    prison=prison,
                    parent_id=wing_ids[(prison.pk, wing)],
                    level=LocationLevel.LANDING,
                    code=landing,
                    path=f"{wing}-{landing}",
                )
                for wing, landing in self.layouts[spec.code].landings
            ]
        landing_ids = {
            (row.prison_id, row.path): row.pk for row in self._bulk(Location, landings, "landings")
        }
        cell_types = dict(CellType.objects.values_list("code", "id"))
        cells, type_links = [], []
        for spec in self.specs:
            prison = self.prisons[spec.code]
            certifier = self.user_for("CUSTODIAL_MANAGER", spec.code) or self.user_for(
                "DUTY_GOVERNOR", spec.code
            )
            for cell in self.layouts[spec.code].cells:
                certified = cell.certified_days_ago is not None and certifier is not None
                cells.append(
                    Location(
                        prison=prison,
                        parent_id=landing_ids[(prison.pk, cell.landing_path)],
                        level=LocationLevel.CELL,
                        code=f"{cell.number:03d}",
                        path=cell.path,
                        certified_normal_accommodation=cell.cna,
                        working_capacity=cell.working,
                        max_capacity=cell.maximum,
                        ligature_certified_on=(
                            self.today - timedelta(days=cell.certified_days_ago)
                            if certified
                            else None
                        ),
                        ligature_certified_by=certifier if certified else None,
                        deactivated_at=self.now - timedelta(days=30) if cell.deactivated else None,
                    )
                )
        created = self._bulk(Location, cells, "cells")
        self.cell_ids: dict[str, list[int]] = {}
        position = 0
        for spec in self.specs:
            layout = self.layouts[spec.code]
            ids = [row.pk for row in created[position : position + len(layout.cells)]]
            position += len(layout.cells)
            self.cell_ids[spec.code] = ids
            for cell, pk in zip(layout.cells, ids, strict=True):
                type_links += [
                    Location.cell_types.through(location_id=pk, celltype_id=cell_types[code])
                    for code in cell.cell_types
                    if code in cell_types
                ]
        self.ordinary_cell_ids = {
            code: [self.cell_ids[code][i] for i in self.layouts[code].ordinary_cell_indexes]
            for code in self.cell_ids
        }
        Location.cell_types.through.objects.bulk_create(type_links, batch_size=BATCH_SIZE)
        self.counts["cell_type_links"] = len(type_links)

    def _set_occupancy(self) -> None:
        """occupied = the number of open allocations, in one statement for every cell."""
        open_here = (
            CellAllocation.objects.filter(cell=OuterRef("pk"), ended_at__isnull=True)
            .order_by()
            .values("cell")
            .annotate(n=Count("pk"))
            .values("n")
        )
        Location.objects.filter(
            level=LocationLevel.CELL, prison__in=list(self.prisons.values())
        ).update(occupied=Coalesce(Subquery(open_here), 0))

    # --- people ------------------------------------------------------------------------------

    def _at(self, days_ago: int, minute: int) -> datetime:
        """A moment ``days_ago`` days back at ``minute`` past midnight (London), never future."""
        day = self.today - timedelta(days=days_ago)
        moment = datetime.combine(day, clock_time(0), tzinfo=clock.LONDON) + timedelta(
            minutes=minute
        )
        return min(moment, self.now - timedelta(minutes=1))

    def _write_people(self, spec: gen.PrisonSpec, people, plan: list[int]) -> list[Prisoner]:
        prison = self.prisons[spec.code]
        others = [s.code for s in self.specs if s.code != spec.code]
        manager = self.user_for("CUSTODIAL_MANAGER", spec.code)
        manager_label = manager.username if manager else "system"
        authors = {
            role: self.user_for(role, spec.code)
            for role in {"WING_OFFICER", *_NOTE_AUTHOR_ROLE.values()}
        }
        prisoners = self._bulk(
            Prisoner,
            [
                Prisoner(
                    prison_number=p.prison_number,
                    first_name=p.first_name,
                    last_name=p.last_name,
                    date_of_birth=p.date_of_birth,
                    sex=p.sex,
                    first_language=p.first_language,
                    legal_status=p.legal_status,
                    prison=prison,
                    custody_status=CustodyStatus.IN,
                    health_needs=p.health_needs,
                )
                for p in people
            ],
            "prisoners",
        )
        movements, allocations, alerts, notes, credentials = [], [], [], [], []
        cells = self.cell_ids[spec.code]
        for prisoner, person, cell_index in zip(prisoners, people, plan, strict=True):
            minute = 8 * 60 + int(person.prison_number[1:5]) % 600
            received = self._at(person.days_in_custody, minute)
            arrived_here = received
            previous_cells = self.ordinary_cell_ids[spec.code]
            if person.transfer_days_ago is not None:
                sender = others[int(person.transfer_from_pick * len(others))]
                previous_cells = self.ordinary_cell_ids[sender]
                sender_id = self.prisons[sender].pk
                arrived_here = self._at(person.transfer_days_ago, minute + 60)
                label = (self.user_for("CUSTODIAL_MANAGER", sender) or manager).username
                movements += [
                    Movement(
                        prisoner=prisoner,
                        kind=MovementKind.RECEPTION,
                        to_prison_id=sender_id,
                        occurred_at=received,
                        reason="New reception from court",
                        recorded_by_label=label,
                    ),
                    Movement(
                        prisoner=prisoner,
                        kind=MovementKind.TRANSFER_OUT,
                        from_prison_id=sender_id,
                        to_prison=prison,
                        occurred_at=arrived_here,
                        reason="Allocation to a training prison",
                        recorded_by_label=label,
                    ),
                    Movement(
                        prisoner=prisoner,
                        kind=MovementKind.TRANSFER_IN,
                        from_prison_id=sender_id,
                        to_prison=prison,
                        occurred_at=arrived_here,
                        reason="Allocation to a training prison",
                        recorded_by_label=manager_label,
                    ),
                ]
            else:
                movements.append(
                    Movement(
                        prisoner=prisoner,
                        kind=MovementKind.RECEPTION,
                        to_prison=prison,
                        occurred_at=received,
                        reason="New reception from court",
                        recorded_by_label=manager_label,
                    )
                )
            current_from = arrived_here
            if person.previous_cell_pick is not None and previous_cells:
                previous = previous_cells[int(person.previous_cell_pick * len(previous_cells))]
                if previous == cells[cell_index] and len(previous_cells) > 1:
                    previous = previous_cells[previous_cells.index(previous) - 1]
                if person.moved_days_ago is not None:
                    current_from = self._at(person.moved_days_ago, minute + 120)
                allocations.append(
                    CellAllocation(
                        prisoner=prisoner,
                        cell_id=previous,
                        started_at=received,
                        ended_at=current_from,
                        reason="First night centre" if person.moved_days_ago is None else "",
                        allocated_by_label=manager_label,
                    )
                )
            allocations.append(
                CellAllocation(
                    prisoner=prisoner,
                    cell_id=cells[cell_index],
                    started_at=current_from,
                    reason="On arrival" if current_from == arrived_here else "Cell move",
                    allocated_by_label=manager_label,
                )
            )
            for alert in person.alerts:
                code_id = self.alert_codes.get(alert.code)
                if code_id is None:
                    continue
                ended = alert.ended_days_ago is not None
                alerts.append(
                    PersonAlert(
                        prisoner=prisoner,
                        alert_code_id=code_id,
                        comment=alert.comment,
                        active_from=self._at(alert.days_ago, minute + 30),
                        ended_at=self._at(alert.ended_days_ago, minute + 45) if ended else None,
                        created_by_label=manager_label,
                        ended_by_label=manager_label if ended else "",
                    )
                )
            for note in person.notes:
                author = authors.get(_NOTE_AUTHOR_ROLE.get(note.note_type, "WING_OFFICER"))
                occurred = self._at(note.days_ago, note.minute)
                notes.append(
                    CaseNote(
                        prisoner=prisoner,
                        prison=prison,
                        note_type=note.note_type,
                        sensitivity=note.sensitivity,
                        text=note.text,
                        author=author,
                        author_label=author.username if author else "system",
                        occurred_at=occurred,
                        created_at=min(occurred + timedelta(minutes=15), self.now),
                    )
                )
            credentials.append(
                KioskCredential(prisoner=prisoner, pin_hash=self.pin_hash, pin_set_at=arrived_here)
            )
        self._bulk(Movement, movements, "movements")
        self._bulk(CellAllocation, allocations, "cell_allocations")
        self._bulk(PersonAlert, alerts, "person_alerts")
        self._bulk(CaseNote, notes, "case_notes")
        self._bulk(KioskCredential, credentials, "kiosk_credentials")
        return prisoners


# --- flush -----------------------------------------------------------------------------------


def _reverse_relations(model):
    """Every foreign key pointing at ``model``, including hidden ones (related_name="+")."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if (f.one_to_many or f.one_to_one) and f.auto_created and not f.concrete
    ]


def _purge(queryset, _stack: tuple = ()) -> int:
    """Delete the rows and, first, every row (in any app but audit) that points at them.

    Demo data is whole: other apps' records about demo people go with them, so a flush never
    trips over a PROTECT foreign key added by a capability built after this command.
    """
    model = queryset.model
    deleted = 0
    for relation in _reverse_relations(model):
        related = relation.related_model
        if related is model or related in _stack or related._meta.app_label in KEEP_APPS:
            continue
        dependants = related._base_manager.filter(**{f"{relation.field.name}__in": queryset})
        deleted += _purge(dependants, (*_stack, model))
    return deleted + queryset.delete()[0]


def flush_demo_data() -> dict[str, int]:
    """Remove prisons, places, people, their records and the demo staff accounts.

    Audit events stay (append-only), so a demo account that an audit event names is kept,
    deactivated, with no roles or prisons; the next seed reuses it.
    """
    counts: dict[str, int] = {}
    with transaction.atomic():
        codes = [*Prison.objects.values_list("code", flat=True), None]
        usernames = {gen.username_for(role, code) for role in ROLES for code in codes}
        counts["people_rows"] = _purge(Prisoner.objects.all())
        # The worker's pending ACCT timers name cases that are gone (they would be no-ops).
        counts["acct_timers"] = Job.objects.filter(
            kind__in=(JOB_OBSERVATION_OVERDUE, JOB_REVIEW_DUE), status=JobStatus.QUEUED
        ).delete()[0]
        counts["location_rows"] = sum(
            _purge(Location.objects.filter(level=level))
            for level in (LocationLevel.CELL, LocationLevel.LANDING, LocationLevel.WING)
        )
        counts["location_rows"] += _purge(Location.objects.all())  # any other level
        # Tokens scoped to demo prisons (the monitoring gateways' among them) would outlive them.
        tokens = list(
            ApiToken.objects.filter(prisons__in=Prison.objects.all()).values_list("pk", flat=True)
        )
        counts["prison_rows"] = _purge(Prison.objects.all())
        counts["api_tokens"] = _purge(ApiToken.objects.filter(pk__in=tokens))
        named = AuditEvent.objects.filter(actor_user__isnull=False).values("actor_user")
        demo_users = User.objects.filter(username__in=usernames)
        kept = list(demo_users.filter(pk__in=named))
        User.roles.through.objects.filter(user__in=kept).delete()
        User.prisons.through.objects.filter(user__in=kept).delete()
        User.objects.filter(pk__in=[u.pk for u in kept]).update(is_active=False)
        counts["staff_users_kept"] = len(kept)
        counts["staff_user_rows"] = _purge(demo_users.exclude(pk__in=named))
        record(
            actor=SYSTEM,
            action=Action.DELETE,
            object_type="demo_seed",
            details={"flushed": counts},
        )
    return counts
