"""Prisons and locations for the JSON API. Thin: scoping comes from estate.selectors."""

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from ninja import Path, Query, Router
from ninja.pagination import paginate

from saferprisons.core.api_support import Pagination, api_permission, responses

from . import permissions as perms
from .constants import LocationLevel
from .models import Location
from .schemas import LocationFilters, LocationOut, PrisonOut
from .selectors import get_prison, prisons_visible_to

router = Router(tags=["estate"])

PrisonCode = Path[str, {"min_length": 2, "max_length": 5, "pattern": r"^[A-Za-z0-9]+$"}]


@router.get("", response=responses(200, list[PrisonOut]), url_name="prisons")
@api_permission(perms.VIEW_ESTATE)
def list_prisons(request):
    """The caller's prisons (a member of staff's assignments, or a token's prisons)."""
    return prisons_visible_to(request.auth).filter(deactivated_at__isnull=True).order_by("code")


@router.get("/{code}/locations", response=responses(200, list[LocationOut]), url_name="locations")
@paginate(Pagination)
@api_permission(perms.VIEW_ESTATE)
def list_locations(request, code: PrisonCode, filters: Query[LocationFilters]):
    """Wings, landings and cells of one of the caller's prisons, with capacities and occupancy.

    Filter with ``?level=WING|LANDING|CELL``; ordered by path.
    """
    prison = get_prison(request.auth, code)
    locations = with_cell_totals(Location.objects.filter(prison=prison))
    if filters.level:
        locations = locations.filter(level=filters.level)
    return locations.select_related("parent").prefetch_related("cell_types").order_by("path")


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


def with_cell_totals(locations):
    # TODO(lead): a read that belongs in estate/selectors.py (e.g. locations_with_totals).
    return locations.annotate(
        open_cells=_open_cells_total(Count("id")),
        total_cna=_open_cells_total(Sum("certified_normal_accommodation")),
        total_working=_open_cells_total(Sum("working_capacity")),
        total_max=_open_cells_total(Sum("max_capacity")),
        total_occupied=_open_cells_total(Sum("occupied")),
        total_free=_open_cells_total(Sum(F("working_capacity") - F("occupied"))),
    )
