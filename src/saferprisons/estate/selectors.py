"""Reads of the estate, scoped to the principal's prisons."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import has_permission, principal_prison_ids

from . import permissions as perms
from .constants import CellTypeCode, LocationLevel
from .models import Location, Prison


def prisons_visible_to(principal):
    if not has_permission(principal, perms.VIEW_ESTATE):
        return Prison.objects.none()
    return Prison.objects.filter(pk__in=principal_prison_ids(principal))


def get_prison(principal, code: str) -> Prison:
    prison = prisons_visible_to(principal).filter(code=(code or "").upper()).first()
    if prison is None:
        raise NotFound("No such prison among yours")
    return prison


@dataclass
class WingSummary:
    wing: Location
    cells: int = 0
    working_capacity: int = 0
    occupied: int = 0
    safe_cells: int = 0
    free_safe_places: int = 0

    @property
    def free(self) -> int:
        return self.working_capacity - self.occupied


def wing_summaries(prison: Prison) -> list[WingSummary]:
    """Occupancy per wing from its open cells, in two queries."""
    wings = {
        w.path: WingSummary(w)
        for w in Location.objects.filter(
            prison=prison, level=LocationLevel.WING, deactivated_at__isnull=True
        )
    }
    cells = (
        Location.objects.filter(
            prison=prison, level=LocationLevel.CELL, deactivated_at__isnull=True
        )
        .annotate(safe=Count("cell_types", filter=Q(cell_types__code=CellTypeCode.SAFE_CELL)))
        .values("path", "working_capacity", "occupied", "safe")
    )
    for cell in cells:
        summary = wings.get(cell["path"].split("-")[0])
        if summary is None:
            continue
        summary.cells += 1
        summary.working_capacity += cell["working_capacity"]
        summary.occupied += cell["occupied"]
        if cell["safe"]:
            summary.safe_cells += 1
            summary.free_safe_places += cell["working_capacity"] - cell["occupied"]
    return sorted(wings.values(), key=lambda s: s.wing.path)


@dataclass
class CellRow:
    cell: Location
    type_codes: list[str]
    occupants: list


def wing_cells(prison: Prison, wing_code: str) -> tuple[Location, list[CellRow]]:
    """A wing's cells, their types and who is in them, in three queries."""
    from saferprisons.people.models import CellAllocation

    wing = Location.objects.filter(
        prison=prison, level=LocationLevel.WING, path=wing_code.upper()
    ).first()
    if wing is None:
        raise NotFound("No such wing")
    cells = list(
        Location.objects.filter(
            prison=prison, level=LocationLevel.CELL, path__startswith=f"{wing.path}-"
        )
        .prefetch_related("cell_types")
        .order_by("path")
    )
    occupants = defaultdict(list)
    for allocation in CellAllocation.objects.filter(
        cell__in=cells, ended_at__isnull=True
    ).select_related("prisoner"):
        occupants[allocation.cell_id].append(allocation.prisoner)
    rows = [CellRow(c, [t.code for t in c.cell_types.all()], occupants[c.pk]) for c in cells]
    return wing, rows


@dataclass
class PrisonFigures:
    prison: Prison
    cells: int
    working_capacity: int
    occupied: int
    safe_cells: int


def estate_figures(principal) -> list[PrisonFigures]:
    """Counts per prison across the estate: no names (for HQ analysts)."""
    if not has_permission(principal, perms.VIEW_AGGREGATES):
        return []
    totals = (
        Location.objects.filter(level=LocationLevel.CELL, deactivated_at__isnull=True)
        .values("prison_id")
        .annotate(cells=Count("id"), working=Sum("working_capacity"), occupied=Sum("occupied"))
    )
    safe = dict(
        Location.objects.filter(
            level=LocationLevel.CELL,
            deactivated_at__isnull=True,
            cell_types__code=CellTypeCode.SAFE_CELL,
        )
        .values_list("prison_id")
        .annotate(n=Count("id"))
    )
    prisons = Prison.objects.in_bulk()
    return sorted(
        (
            PrisonFigures(
                prisons[t["prison_id"]],
                t["cells"],
                t["working"] or 0,
                t["occupied"] or 0,
                safe.get(t["prison_id"], 0),
            )
            for t in totals
        ),
        key=lambda f: f.prison.name,
    )
