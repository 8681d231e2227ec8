"""API shapes for prisons and their locations."""

from typing import Literal
from uuid import UUID

from ninja import Schema

from .constants import LocationLevel


class PrisonOut(Schema):
    code: str
    name: str
    category: str
    population: str
    operator: str


class LocationFilters(Schema):
    level: Literal[tuple(LocationLevel.values)] | None = None


class LocationOut(Schema):
    """A wing, landing or cell. A cell's figures are its own; a wing's or landing's are the sums
    over its open cells. ``free_places`` is working capacity less occupants in open cells."""

    id: UUID
    path: str
    code: str
    level: Literal[tuple(LocationLevel.values)]
    parent: str | None
    active: bool
    cells: int
    certified_normal_accommodation: int
    working_capacity: int
    max_capacity: int
    occupied: int
    free_places: int
    cell_types: list[str]

    @staticmethod
    def resolve_id(location) -> UUID:
        return location.public_id

    @staticmethod
    def resolve_parent(location) -> str | None:
        return location.parent.path if location.parent_id else None

    @staticmethod
    def resolve_active(location) -> bool:
        return location.is_active

    @staticmethod
    def resolve_cells(location) -> int:
        if location.level == LocationLevel.CELL:
            return 1 if location.is_active else 0
        return location.open_cells

    @staticmethod
    def resolve_certified_normal_accommodation(location) -> int:
        return _figure(location, "certified_normal_accommodation", "total_cna")

    @staticmethod
    def resolve_working_capacity(location) -> int:
        return _figure(location, "working_capacity", "total_working")

    @staticmethod
    def resolve_max_capacity(location) -> int:
        return _figure(location, "max_capacity", "total_max")

    @staticmethod
    def resolve_occupied(location) -> int:
        return _figure(location, "occupied", "total_occupied")

    @staticmethod
    def resolve_free_places(location) -> int:
        if location.level == LocationLevel.CELL:
            return location.free_places
        return location.total_free

    @staticmethod
    def resolve_cell_types(location) -> list[str]:
        return sorted(t.code for t in location.cell_types.all())


def _figure(location, own: str, total: str) -> int:
    if location.level == LocationLevel.CELL:
        return getattr(location, own)
    return getattr(location, total)
