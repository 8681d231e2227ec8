"""Every ACCT read that leaves the app: scoped to the principal's prisons, health entries for
healthcare only, and every view of a case audited. HQ analysts get counts, never names.

A case is in scope when its person is (``people.selectors.prisoners_visible_to``): the case
follows the person, so the receiving prison sees it at once after a transfer.

The wing board and the estate view are set-based: a fixed number of queries whatever the number
of cases (facts.py), then the pure rules compute what is due.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet
from django.db.models.functions import Coalesce

from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import has_permission, principal_prison_ids
from saferprisons.estate import permissions as estate_perms
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import CellType, Location, Prison
from saferprisons.people import permissions as people_perms
from saferprisons.people.constants import CellSharingRisk
from saferprisons.people.models import CellAllocation, Prisoner
from saferprisons.people.selectors import get_prisoner, prisoners_visible_to

from . import facts, rules
from . import permissions as perms
from .constants import (
    LIVE_STATUSES,
    SAFER_CELL_TYPES,
    CaseStatus,
    DueKind,
    RiskLevel,
)
from .models import (
    AcctCase,
    AssessmentInterview,
    CaremapItem,
    CaseEntry,
    CaseReview,
    CaseTransition,
    Concern,
    ImmediateActionPlan,
    ReviewDemand,
    SaferCellDecision,
    StaffTask,
    SupervisionPlan,
)

NOT_FOUND = "No ACCT for that person in your prisons"


def _can_view(principal) -> bool:
    return has_permission(principal, perms.VIEW_CASE)


def _require_prison(principal, prison: Prison) -> None:
    if (
        not _can_view(principal)
        or prison is None
        or prison.pk not in principal_prison_ids(principal)
    ):
        raise NotFound("No such prison among yours")


def cases_visible_to(principal) -> QuerySet[AcctCase]:
    if not _can_view(principal):
        return AcctCase.objects.none()
    return AcctCase.objects.filter(prisoner__in=prisoners_visible_to(principal))


def _audit_view(principal, case: AcctCase, what: str) -> None:
    record(
        actor=principal,
        action=Action.VIEW,
        object_type="acct_case",
        object_id=case.public_id,
        prison_code=case.prisoner.prison.code if case.prisoner.prison else case.prison.code,
        details={"view": what, "log_number": case.log_number},
    )


def get_case(principal, case_id: UUID | str, *, audit_view: bool = True) -> AcctCase:
    """One case by public id, in scope, for pages to pass to the services."""
    try:
        public_id = UUID(str(case_id))
    except ValueError:
        raise NotFound(NOT_FOUND) from None
    case = (
        cases_visible_to(principal)
        .select_related("prison", "prisoner__prison")
        .filter(public_id=public_id)
        .first()
    )
    if case is None:
        raise NotFound(NOT_FOUND)
    if audit_view:
        _audit_view(principal, case, "case")
    return case


def entries_visible_to(principal, case: AcctCase) -> QuerySet[CaseEntry]:
    entries = CaseEntry.objects.filter(case=case)
    if not has_permission(principal, people_perms.VIEW_HEALTH):
        entries = entries.filter(health=False)
    return entries


def get_entry(principal, case: AcctCase, entry_id: UUID | str) -> CaseEntry:
    """An entry of an (already scoped) case; health entries only for healthcare."""
    try:
        public_id = UUID(str(entry_id))
    except ValueError:
        raise NotFound("No such entry") from None
    entry = entries_visible_to(principal, case).filter(public_id=public_id).first()
    if entry is None:
        raise NotFound("No such entry")
    return entry


def get_caremap_item(case: AcctCase, item_id: UUID | str) -> CaremapItem:
    try:
        public_id = UUID(str(item_id))
    except ValueError:
        raise NotFound("No such CAREMAP action") from None
    item = CaremapItem.objects.filter(case=case, public_id=public_id).first()
    if item is None:
        raise NotFound("No such CAREMAP action")
    return item


# --- Cells -------------------------------------------------------------------------------------


def _is_safer_cell(cell: Location | None) -> bool:
    return cell is not None and any(t.code in SAFER_CELL_TYPES for t in cell.cell_types.all())


def _current_cells(prisoner_ids) -> dict[int, Location]:
    """Current cells with their types prefetched (two queries)."""
    allocations = (
        CellAllocation.objects.filter(prisoner_id__in=list(prisoner_ids), ended_at__isnull=True)
        .select_related("cell")
        .prefetch_related(Prefetch("cell__cell_types", queryset=CellType.objects.all()))
    )
    return {a.prisoner_id: a.cell for a in allocations}


def _safer_cell_warning(case, state: facts.CaseState, cell) -> bool:
    """An open case at HIGH risk or under constant supervision, not in a safer cell, with no
    manager's decision since the review (or plan) that made it so."""
    if case.status != CaseStatus.OPEN or _is_safer_cell(cell):
        return False
    review, plan = state.latest_review, state.plan
    since = []
    if review is not None and review.risk_level == RiskLevel.HIGH:
        since.append(review.held_at)
    if plan is not None and plan.constant:
        since.append(plan.started_at)
    if not since:
        return False
    decided = case.latest_decision_at
    return decided is None or decided < max(since)


def safer_cell_options(prison: Prison, person: Prisoner) -> list[Location]:
    """Open SAFE_CELL and CONSTANT_SUPERVISION cells of the prison with a free working place,
    other than the person's own, that the cell sharing risk allows: only empty cells for someone
    who shares with nobody, and never a cell held by such a person (as ``allocate_cell``
    enforces). The caller has already scoped ``prison`` and ``person``."""
    current = CellAllocation.objects.filter(prisoner=person, ended_at__isnull=True).values(
        "cell_id"
    )
    held_alone = CellAllocation.objects.filter(
        ended_at__isnull=True, prisoner__cell_sharing_risk=CellSharingRisk.HIGH_GENERAL
    ).values("cell_id")
    cells = Location.objects.filter(
        prison=prison,
        level=LocationLevel.CELL,
        deactivated_at__isnull=True,
        cell_types__code__in=SAFER_CELL_TYPES,
        occupied__lt=F("working_capacity"),
    ).exclude(pk__in=current)
    if person.cell_sharing_risk == CellSharingRisk.HIGH_GENERAL:
        cells = cells.filter(occupied=0)
    else:
        cells = cells.exclude(pk__in=held_alone)
    return list(cells.distinct().prefetch_related("cell_types").order_by("path"))


# --- One case ----------------------------------------------------------------------------------


@dataclass
class CaseSummary:
    prisoner: Prisoner
    case: AcctCase | None
    items: list[rules.DueItem] = field(default_factory=list)
    latest_review: CaseReview | None = None
    plan: SupervisionPlan | None = None
    demands: list[ReviewDemand] = field(default_factory=list)
    caremap: list[CaremapItem] = field(default_factory=list)
    current_cell: Location | None = None
    in_safer_cell: bool = False
    safer_cell_warning: bool = False
    open_tasks: list[StaffTask] = field(default_factory=list)
    can_manage: bool = False
    can_see_health: bool = False

    @property
    def status(self) -> str | None:
        return self.case.status if self.case else None

    @property
    def overdue(self) -> list[rules.DueItem]:
        return [i for i in self.items if i.overdue]

    @property
    def overdue_count(self) -> int:
        return len(self.overdue)

    @property
    def risk_level(self) -> str:
        return self.latest_review.risk_level if self.latest_review else ""

    @property
    def case_manager(self):
        return self.latest_review.case_manager if self.latest_review else None

    @property
    def case_coordinator(self):
        return self.latest_review.case_coordinator if self.latest_review else None

    def due(self, kind: str) -> rules.DueItem | None:
        return next((i for i in self.items if i.kind == kind), None)


def case_summary_for(principal, prison_number: str, *, now: datetime | None = None) -> CaseSummary:
    """The person's ACCT (latest case) with everything due; audited. No case: ``case`` is None."""
    if not _can_view(principal):
        raise NotFound("No person with that prison number in your prisons")
    prisoner = get_prisoner(principal, prison_number, audit_view=False)
    now = now or clock.now()
    case = (
        facts.with_facts(AcctCase.objects.filter(prisoner=prisoner))
        .select_related("prison")
        .order_by("-opened_at", "-id")
        .first()
    )
    summary = CaseSummary(
        prisoner=prisoner,
        case=case,
        can_manage=has_permission(principal, perms.MANAGE_CASE),
        can_see_health=has_permission(principal, people_perms.VIEW_HEALTH),
    )
    if case is None:
        record(
            actor=principal,
            action=Action.VIEW,
            object_type="prisoner",
            object_id=prisoner.public_id,
            prison_code=prisoner.prison.code,
            details={"view": "acct_summary", "case": None},
        )
        return summary
    case.prisoner = prisoner
    state = facts.states_for([case])[case.pk]
    summary.items = rules.due_items(state.facts, now, rules.Timings.from_settings())
    summary.latest_review = state.latest_review
    summary.plan = state.plan
    summary.demands = state.demands
    summary.caremap = list(CaremapItem.objects.filter(case=case))
    summary.current_cell = _current_cells([prisoner.pk]).get(prisoner.pk)
    summary.in_safer_cell = _is_safer_cell(summary.current_cell)
    summary.safer_cell_warning = _safer_cell_warning(case, state, summary.current_cell)
    summary.open_tasks = list(StaffTask.objects.filter(case=case, done_at__isnull=True))
    _audit_view(principal, case, "summary")
    return summary


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    title: str
    by: str
    record: object


def case_timeline(principal, prison_number: str) -> list[TimelineItem]:
    """Every record of the person's ACCT in time order; health entries only for healthcare."""
    if not _can_view(principal):
        raise NotFound("No person with that prison number in your prisons")
    prisoner = get_prisoner(principal, prison_number, audit_view=False)
    case = (
        AcctCase.objects.filter(prisoner=prisoner)
        .select_related("prison")
        .order_by("-opened_at", "-id")
        .first()
    )
    if case is None:
        raise NotFound(NOT_FOUND)
    case.prisoner = prisoner
    items: list[TimelineItem] = []
    for c in Concern.objects.filter(case=case):
        items.append(
            TimelineItem(
                c.raised_at, "concern", f"Concern ({c.get_effect_display()})", c.raised_by_label, c
            )
        )
    for t in CaseTransition.objects.filter(case=case):
        title = f"Status: {CaseStatus(t.to_status).label}"
        items.append(TimelineItem(t.at, "transition", title, t.by_label, t))
    for p in ImmediateActionPlan.objects.filter(case=case):
        items.append(
            TimelineItem(p.recorded_at, "iap", "Immediate Action Plan", p.recorded_by_label, p)
        )
    for a in AssessmentInterview.objects.filter(case=case):
        items.append(
            TimelineItem(
                a.interviewed_at, "assessment", "Assessment interview", a.assessor_label, a
            )
        )
    for r in CaseReview.objects.filter(case=case).prefetch_related("attendees"):
        items.append(TimelineItem(r.held_at, "review", r.get_kind_display(), r.chair_label, r))
    for e in entries_visible_to(principal, case):
        title = e.get_kind_display() + (" (correction)" if e.corrects_id else "")
        items.append(TimelineItem(e.occurred_at, "entry", title, e.recorded_by_label, e))
    for d in ReviewDemand.objects.filter(case=case):
        items.append(
            TimelineItem(
                d.demanded_at,
                "demand",
                f"Review needed: {d.get_reason_display()}",
                d.demanded_by_label,
                d,
            )
        )
    for s in SaferCellDecision.objects.filter(case=case):
        items.append(
            TimelineItem(
                s.decided_at, "safer_cell_decision", "Safer-cell decision", s.decided_by_label, s
            )
        )
    # A status change comes after the concern or review that caused it at the same moment.
    items.sort(key=lambda item: (item.at, item.kind == "transition"))
    _audit_view(principal, case, "timeline")
    return items


# --- The wing board ----------------------------------------------------------------------------


@dataclass
class BoardRow:
    case: AcctCase
    cell: Location | None
    in_safer_cell: bool
    risk_level: str
    items: list[rules.DueItem]
    new_concern: bool
    safer_cell_warning: bool
    urgency: int
    urgency_at: datetime
    last_observation_at: datetime | None
    due_soon: list[rules.DueItem] = field(default_factory=list)

    @property
    def prisoner(self) -> Prisoner:
        return self.case.prisoner

    @property
    def overdue(self) -> list[rules.DueItem]:
        return [i for i in self.items if i.overdue]

    @property
    def overdue_count(self) -> int:
        return len(self.overdue)

    def due(self, kind: str) -> rules.DueItem | None:
        return next((i for i in self.items if i.kind == kind), None)


@dataclass
class WingBoard:
    prison: Prison
    wing_path: str | None
    generated_at: datetime
    rows: list[BoardRow]

    @property
    def overdue_count(self) -> int:
        return sum(row.overdue_count for row in self.rows)

    @property
    def overdue_by_kind(self) -> Counter:
        return Counter(item.kind for row in self.rows for item in row.overdue)


def wing_board(
    principal,
    prison: Prison,
    wing_path: str | None = None,
    *,
    now: datetime | None = None,
    audit: bool = True,
) -> WingBoard:
    """Everyone on an open ACCT or in post-closure in the prison (or one wing), most urgent first.

    A fixed number of queries whatever the number of cases. One audit event per view, listing
    the log numbers shown. The board's live refresh passes ``audit=False`` and records a view
    (``record_board_view``) only when the people shown change (ADR 0010).
    """
    _require_prison(principal, prison)
    now = now or clock.now()
    timings = rules.Timings.from_settings()
    cases = AcctCase.objects.filter(prisoner__prison=prison, status__in=LIVE_STATUSES)
    wing = (wing_path or "").strip().upper() or None
    if wing:
        cases = cases.filter(
            Exists(
                CellAllocation.objects.filter(
                    prisoner=OuterRef("prisoner"),
                    ended_at__isnull=True,
                    cell__prison=prison,
                    cell__path__startswith=f"{wing}-",
                )
            )
        )
    rows_in = list(facts.with_facts(cases.select_related("prison", "prisoner")))
    states = facts.states_for(rows_in)
    cells = _current_cells(c.prisoner_id for c in rows_in) if rows_in else {}
    rows = []
    for case in rows_in:
        state = states[case.pk]
        review = state.latest_review
        cell = cells.get(case.prisoner_id)
        items = rules.due_items(state.facts, now, timings)
        new_concern = (
            case.latest_concern_at is not None
            and case.latest_concern_at >= now - timings.new_concern
        )
        warning = _safer_cell_warning(case, state, cell)
        rank, rank_at = rules.urgency(
            items, now, timings, new_concern=new_concern, high_risk_unsafe=warning
        )
        rows.append(
            BoardRow(
                case=case,
                cell=cell,
                in_safer_cell=_is_safer_cell(cell),
                risk_level=review.risk_level if review else "",
                items=items,
                new_concern=new_concern,
                safer_cell_warning=warning,
                urgency=rank,
                urgency_at=rank_at,
                last_observation_at=case.last_observation_at,
                due_soon=[i for i in items if i.due_soon(now, timings)],
            )
        )
    rows.sort(key=lambda r: (r.urgency, r.urgency_at, r.case.log_number))
    board = WingBoard(prison=prison, wing_path=wing, generated_at=now, rows=rows)
    if audit:
        record_board_view(principal, board)
    return board


def record_board_view(principal, board: WingBoard) -> None:
    """One audit event for a view of the board, listing the log numbers shown."""
    record(
        actor=principal,
        action=Action.VIEW,
        object_type="acct_wing_board",
        object_id=board.prison.public_id,
        prison_code=board.prison.code,
        details={
            "wing": board.wing_path,
            "result_count": len(board.rows),
            "log_numbers": [r.case.log_number for r in board.rows],
        },
    )


def open_tasks(
    principal, prison: Prison, *, audience: str | None = None, wing_path: str | None = None
) -> list[StaffTask]:
    """Tasks not yet done in one of the principal's prisons, earliest due first."""
    _require_prison(principal, prison)
    tasks = StaffTask.objects.filter(prison=prison, done_at__isnull=True).select_related("case")
    if audience:
        tasks = tasks.filter(audience=audience)
    if wing_path:
        tasks = tasks.filter(wing_path=wing_path.strip().upper())
    return list(tasks.order_by("due_at", "id"))


# --- Across the estate -------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueRow:
    prison_code: str
    log_number: str
    prison_number: str
    kind: str
    due_at: datetime


@dataclass
class EstateOverdue:
    generated_at: datetime
    rows: list[OverdueRow]
    open_cases: Counter  # prison code -> cases OPEN or POST_CLOSURE

    @property
    def total(self) -> int:
        return len(self.rows)

    def counts(self) -> dict[str, Counter]:
        """prison code -> {due kind: how many overdue}."""
        by_prison: dict[str, Counter] = defaultdict(Counter)
        for row in self.rows:
            by_prison[row.prison_code][row.kind] += 1
        return dict(by_prison)


def _case_prison_code():
    # The person's prison now, or the case's own when the person is out of custody.
    return Coalesce(F("prisoner__prison__code"), F("prison__code"))


def estate_overdue_now(*, now: datetime | None = None) -> EstateOverdue:
    """Everything overdue now on every live ACCT in every prison (unscoped: for the HQ figures,
    the benchmark and system checks; people-facing callers use ``estate_overdue_counts``).

    Reads only the live cases whose stored ``next_due_at`` has passed (the partial index
    ``acct_case_live_next_due``): exactly those have something overdue, since no due time moves
    with the clock. Their facts come as plain values (``facts.due_facts``: four queries), the
    rules say what is overdue, and one aggregate query counts the live cases per prison.
    """
    now = now or clock.now()
    timings = rules.Timings.from_settings()
    live = AcctCase.objects.filter(status__in=LIVE_STATUSES)
    due = facts.due_facts(
        live.filter(next_due_at__lt=now).annotate(code=_case_prison_code()),
        "code",
        "log_number",
        "prisoner__prison_number",
    )
    rows = [
        OverdueRow(code, log_number, prison_number, item.kind, item.due_at)
        for _, case_facts, (code, log_number, prison_number) in due
        for item in rules.due_items(case_facts, now, timings)
        if item.overdue
    ]
    rows.sort(key=lambda r: (r.due_at, r.log_number))
    open_cases = Counter(
        dict(
            live.order_by()
            .values(code=_case_prison_code())
            .annotate(n=Count("pk"))
            .values_list("code", "n")
        )
    )
    return EstateOverdue(generated_at=now, rows=rows, open_cases=open_cases)


@dataclass(frozen=True)
class PrisonOverdueCounts:
    prison_code: str
    live_cases: int
    overdue: dict[str, int]

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue.values())


def estate_overdue_counts(principal, *, now: datetime | None = None) -> list[PrisonOverdueCounts]:
    """Counts only (no names, no numbers) per prison, for HQ analysts (estate.view_aggregates)."""
    if not has_permission(principal, estate_perms.VIEW_AGGREGATES):
        return []
    report = estate_overdue_now(now=now)
    counts = report.counts()
    result = [
        PrisonOverdueCounts(
            code,
            report.open_cases[code],
            {kind: counts.get(code, Counter())[kind] for kind in DueKind.values},
        )
        for code in sorted(set(report.open_cases) | set(counts))
    ]
    record(
        actor=principal,
        action=Action.VIEW,
        object_type="acct_estate_counts",
        details={"prisons": len(result), "overdue_total": report.total},
    )
    return result


# --- Safe cells --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafeCellRow:
    cell: Location
    type_codes: list[str]
    occupants_on_acct: int
    occupants_other: int
    certified_on: object  # date | None


@dataclass
class SafeCellReport:
    prison: Prison
    rows: list[SafeCellRow]

    def _count(self, code: str) -> int:
        return sum(1 for r in self.rows if code in r.type_codes)

    @property
    def safe_cells(self) -> int:
        return self._count("SAFE_CELL")

    @property
    def constant_supervision_cells(self) -> int:
        return self._count("CONSTANT_SUPERVISION")

    @property
    def occupied_by_acct(self) -> int:
        return sum(r.occupants_on_acct for r in self.rows)

    @property
    def occupied_by_others(self) -> int:
        return sum(r.occupants_other for r in self.rows)

    @property
    def free_places(self) -> int:
        return sum(r.cell.free_places for r in self.rows)

    @property
    def uncertified(self) -> int:
        return sum(1 for r in self.rows if "SAFE_CELL" in r.type_codes and not r.certified_on)


def safe_cell_report(principal, prison: Prison) -> SafeCellReport:
    """The prison's safe and constant-supervision cells: who occupies them (people on an open
    ACCT or others, counted, never named) and when each was certified ligature-resistant.
    For ACCT staff of the prison and HQ analysts assigned to it."""
    allowed = _can_view(principal) or has_permission(principal, estate_perms.VIEW_AGGREGATES)
    if not allowed or prison is None or prison.pk not in principal_prison_ids(principal):
        raise NotFound("No such prison among yours")
    cells = list(
        Location.objects.filter(
            prison=prison,
            level=LocationLevel.CELL,
            deactivated_at__isnull=True,
            cell_types__code__in=SAFER_CELL_TYPES,
        )
        .distinct()
        .prefetch_related("cell_types")
        .order_by("path")
    )
    on_acct: Counter = Counter()
    others: Counter = Counter()
    occupants = CellAllocation.objects.filter(cell__in=cells, ended_at__isnull=True).annotate(
        on_acct=Exists(
            AcctCase.objects.filter(prisoner=OuterRef("prisoner"), status=CaseStatus.OPEN)
        )
    )
    for allocation in occupants.values("cell_id", "on_acct"):
        (on_acct if allocation["on_acct"] else others)[allocation["cell_id"]] += 1
    rows = [
        SafeCellRow(
            cell=c,
            type_codes=sorted(t.code for t in c.cell_types.all()),
            occupants_on_acct=on_acct[c.pk],
            occupants_other=others[c.pk],
            certified_on=c.ligature_certified_on,
        )
        for c in cells
    ]
    return SafeCellReport(prison=prison, rows=rows)
