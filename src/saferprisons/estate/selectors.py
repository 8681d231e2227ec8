"""Reads of the estate, scoped to the principal's prisons."""

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from saferprisons.core.errors import NotFound, ValidationFailed
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


def _open_cells_total(expression):
    """The sum of ``expression`` over the open cells under a wing (two levels) or landing."""
    cells = (
        Location.objects.filter(level=LocationLevel.CELL, deactivated_at__isnull=True)
        .filter(Q(parent=OuterRef("pk")) | Q(parent__parent=OuterRef("pk")))
        .order_by()
        .values("prison_id")
        .annotate(total=expression)
        .values("total")[:1]
    )
    return Coalesce(Subquery(cells, output_field=IntegerField()), Value(0))


def locations_with_totals(prison: Prison, level: str | None = None):
    """A prison's locations; wings and landings carry the sums of their open cells."""
    locations = Location.objects.filter(prison=prison)
    if level:
        locations = locations.filter(level=level)
    return (
        locations.annotate(
            open_cells=_open_cells_total(Count("id")),
            total_cna=_open_cells_total(Sum("certified_normal_accommodation")),
            total_working=_open_cells_total(Sum("working_capacity")),
            total_max=_open_cells_total(Sum("max_capacity")),
            total_occupied=_open_cells_total(Sum("occupied")),
            total_free=_open_cells_total(Sum(F("working_capacity") - F("occupied"))),
        )
        .select_related("parent")
        .prefetch_related("cell_types")
        .order_by("path")
    )


def prison_in_scope(principal, code: str) -> Prison:
    """One of the principal's prisons by code (a search filter); others answer NotFound."""
    prison = Prison.objects.filter(
        code=(code or "").strip().upper(), pk__in=principal_prison_ids(principal)
    ).first()
    if prison is None:
        raise NotFound("No such prison among yours", field="prison")
    return prison


def cell_in_prison(prison_id: int, ref: str) -> Location:
    """A location of the prison by path (A-1-001) or public id. The allocation service refuses
    a wing or a closed cell, so any location is returned here."""
    ref = (ref or "").strip()
    match = Q(path=ref.upper())
    try:
        match |= Q(public_id=UUID(ref))
    except ValueError:
        pass
    cell = Location.objects.filter(match, prison_id=prison_id).first()
    if cell is None:
        raise NotFound("No such cell in this person's prison", field="cell")
    return cell


def open_prison(code: str) -> Prison:
    """Any open prison (a transfer destination: not personal data)."""
    prison = Prison.objects.filter(
        code=(code or "").strip().upper(), deactivated_at__isnull=True
    ).first()
    if prison is None:
        raise ValidationFailed("No open prison with that code", field="to_prison")
    return prison


def free_cells(prison_id: int, limit: int = 300):
    """Open cells of a prison with at least one free place, by path."""
    return Location.objects.filter(
        prison_id=prison_id,
        level=LocationLevel.CELL,
        deactivated_at__isnull=True,
        occupied__lt=F("working_capacity"),
    ).order_by("path")[:limit]
