"""Prisons and locations for the JSON API. Thin: scoping comes from estate.selectors."""

from ninja import Path, Query, Router
from ninja.pagination import paginate

from saferprisons.core.api_support import Pagination, api_permission, responses

from . import permissions as perms
from .schemas import LocationFilters, LocationOut, PrisonOut
from .selectors import get_prison, locations_with_totals, prisons_visible_to

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
    return locations_with_totals(prison, level=filters.level)
