"""Prisons and locations: the caller's own prisons, with capacities and occupancy."""

from saferprisons.estate.models import Location

from .helpers import assert_error


def test_prisons_are_the_callers_own(world, staff_client, token_client):
    officer = staff_client(world["officer"]).get("/api/prisons")
    assert officer.status_code == 200
    assert officer.json() == [
        {
            "code": "XNA",
            "name": "HMP Northwold",
            "category": "B",
            "population": "MEN",
            "operator": "PUBLIC",
        }
    ]
    both = token_client(["estate:read"], [world["north"], world["south"]]).get("/api/prisons")
    assert [p["code"] for p in both.json()] == ["XNA", "XSO"]


def _by_path(items):
    return {item["path"]: item for item in items}


def test_locations_with_capacities_occupancy_and_cell_types(world, staff_client):
    response = staff_client(world["officer"]).get("/api/prisons/xna/locations")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    locations = _by_path(body["items"])
    assert list(locations) == ["A", "A-1", "A-1-001", "A-1-002", "A-1-003"]
    figures = (
        "level",
        "parent",
        "active",
        "cells",
        "certified_normal_accommodation",
        "working_capacity",
        "max_capacity",
        "occupied",
        "free_places",
        "cell_types",
    )

    def row(path):
        return tuple(locations[path][key] for key in figures)

    assert row("A") == ("WING", None, True, 3, 4, 4, 7, 2, 2, [])
    assert row("A-1") == ("LANDING", "A", True, 3, 4, 4, 7, 2, 2, [])
    assert row("A-1-001") == ("CELL", "A-1", True, 1, 1, 1, 2, 1, 0, [])
    assert row("A-1-002") == ("CELL", "A-1", True, 1, 2, 2, 3, 1, 1, [])
    assert row("A-1-003") == ("CELL", "A-1", True, 1, 1, 1, 2, 0, 1, ["SAFE_CELL"])
    cell = world["north_cells"][2]
    assert locations["A-1-003"]["id"] == str(cell.public_id)
    assert locations["A-1-003"]["code"] == "003"


def test_closed_cells_count_for_nothing(world, staff_client):
    from saferprisons.core import clock

    Location.objects.filter(pk=world["north_cells"][2].pk).update(deactivated_at=clock.now())
    response = staff_client(world["officer"]).get("/api/prisons/XNA/locations")
    locations = _by_path(response.json()["items"])
    assert (locations["A"]["cells"], locations["A"]["working_capacity"]) == (2, 3)
    assert locations["A"]["free_places"] == 1
    closed = locations["A-1-003"]
    assert (closed["active"], closed["cells"], closed["free_places"]) == (False, 0, 0)


def test_locations_filtered_by_level_and_paginated(world, staff_client):
    client = staff_client(world["officer"])
    cells = client.get("/api/prisons/XNA/locations", {"level": "CELL", "page_size": 2}).json()
    assert cells["count"] == 3
    assert [c["path"] for c in cells["items"]] == ["A-1-001", "A-1-002"]
    rest = client.get(
        "/api/prisons/XNA/locations", {"level": "CELL", "page_size": 2, "page": 2}
    ).json()
    assert [c["path"] for c in rest["items"]] == ["A-1-003"]
    wings = client.get("/api/prisons/XNA/locations", {"level": "WING"}).json()
    assert [w["path"] for w in wings["items"]] == ["A"]
    response = client.get("/api/prisons/XNA/locations", {"level": "ROOF"})
    assert_error(response, 422, "validation_failed", fields=["level"])


def test_locations_of_a_prison_not_yours_is_404(world, staff_client, token_client):
    assert_error(staff_client(world["officer"]).get("/api/prisons/XSO/locations"), 404, "not_found")
    client = token_client(["estate:read"], [world["south"]])
    assert_error(client.get("/api/prisons/XNA/locations"), 404, "not_found")
    assert client.get("/api/prisons/XSO/locations").json()["count"] == 3


def test_estate_needs_the_estate_permission(world, staff_client):
    response = staff_client(world["auditor"]).get("/api/prisons")
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "You need the estate.view permission to do this"
