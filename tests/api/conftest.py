"""Fixtures for the JSON API tests: a small fictional estate built through the real services."""

from datetime import date

import pytest
from django.test import Client

from saferprisons.accounts.models import Role, User
from saferprisons.accounts.services import create_api_token
from saferprisons.estate.constants import LocationLevel, Operator, Population, PrisonCategory
from saferprisons.estate.models import CellType, Location, Prison
from saferprisons.people import services as people
from saferprisons.people.constants import LegalStatus, Sex

NORTH_HEALTH = "Asthma; uses an inhaler at night"


def make_user(username: str, roles: list[str], prisons: list[Prison]) -> User:
    user = User.objects.create_user(username=username, password="not-used-by-the-api-tests")
    for code in roles:
        user.roles.add(Role.objects.get(code=code))
    user.prisons.set(prisons)
    return user


def make_prison(code: str, name: str) -> Prison:
    return Prison.objects.create(
        code=code,
        name=name,
        category=PrisonCategory.B,
        population=Population.MEN,
        operator=Operator.PUBLIC,
    )


def make_wing(prison: Prison, wing: str, capacities: list[int], *, safe: tuple[int, ...] = ()):
    """One wing with one landing and a cell per capacity; returns the cells."""
    wing_row = Location.objects.create(
        prison=prison, level=LocationLevel.WING, code=wing, path=wing
    )
    landing = Location.objects.create(
        prison=prison, parent=wing_row, level=LocationLevel.LANDING, code="1", path=f"{wing}-1"
    )
    cells = []
    for number, capacity in enumerate(capacities, start=1):
        cell = Location.objects.create(
            prison=prison,
            parent=landing,
            level=LocationLevel.CELL,
            code=f"{number:03d}",
            path=f"{wing}-1-{number:03d}",
            certified_normal_accommodation=capacity,
            working_capacity=capacity,
            max_capacity=capacity + 1,
        )
        if number in safe:
            cell.cell_types.add(CellType.objects.get(code="SAFE_CELL"))
        cells.append(cell)
    return cells


def admit(actor, prison, number, last_name, first_name, *, cell=None, health_needs=""):
    person = people.admit_prisoner(
        actor=actor,
        prison=prison,
        prison_number=number,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date(1988, 3, 14),
        sex=Sex.MALE,
        legal_status=LegalStatus.REMAND,
        health_needs=health_needs,
    )
    if cell is not None:
        people.allocate_cell(actor=actor, prisoner=person, cell=cell, reason="Reception")
    return person


@pytest.fixture
def world(db):
    """Two fictional prisons (XNA, XSO), a wing each, staff of several roles and three people.

    XNA wing A: A-1-001 (1 place, full), A-1-002 (2 places, 1 used), A-1-003 (1 place, safe cell).
    XSO wing B: B-1-001 (1 place, full).
    """
    north = make_prison("XNA", "HMP Northwold")
    south = make_prison("XSO", "HMP Southbarrow")
    north_cells = make_wing(north, "A", [1, 2, 1], safe=(3,))
    south_cells = make_wing(south, "B", [1])
    # Reception is done by a custodial manager who also holds healthcare (to record health needs).
    reception = make_user("reception.both", ["CUSTODIAL_MANAGER", "HEALTHCARE"], [north, south])
    north_person = admit(
        reception,
        north,
        "A1234BC",
        "Brightwater",
        "Sam",
        cell=north_cells[0],
        health_needs=NORTH_HEALTH,
    )
    north_other = admit(reception, north, "A2345BC", "Brightman", "Lee", cell=north_cells[1])
    south_person = admit(reception, south, "B3456CD", "Hollins", "Jo", cell=south_cells[0])
    return {
        "north": north,
        "south": south,
        "north_cells": north_cells,
        "south_cells": south_cells,
        "reception": reception,
        "officer": make_user("officer.north", ["WING_OFFICER"], [north]),
        "nurse": make_user("nurse.north", ["HEALTHCARE"], [north]),
        "manager": make_user("manager.north", ["CUSTODIAL_MANAGER"], [north]),
        "security": make_user("security.north", ["SECURITY"], [north]),
        "auditor": make_user("auditor.hq", ["AUDITOR"], []),
        "admin": make_user("admin.hq", ["SYSTEM_ADMIN"], [north, south]),
        "north_person": north_person,
        "north_other": north_other,
        "south_person": south_person,
    }


@pytest.fixture
def staff_client():
    """A test client signed in as a member of staff (session auth)."""

    def sign_in(user: User, **client_kwargs) -> Client:
        client = Client(**client_kwargs)
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def make_token(world):
    """A real API token from accounts.services.create_api_token: returns (row, secret)."""

    def create(scopes: list[str], prisons: list[Prison] | None = None, valid_days: int = 30):
        return create_api_token(
            actor=world["admin"],
            name="test gateway",
            scopes=scopes,
            prisons=prisons if prisons is not None else [world["north"]],
            valid_days=valid_days,
        )

    return create


@pytest.fixture
def token_client(make_token):
    """A test client sending ``Authorization: Bearer <token>``."""

    def create(scopes: list[str], prisons: list[Prison] | None = None) -> Client:
        _, secret = make_token(scopes, prisons)
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return create
