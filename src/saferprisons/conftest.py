"""Shared fixtures: a small fictional estate built through the real services."""

from datetime import date

import pytest

from saferprisons.accounts.models import Role, User
from saferprisons.estate.constants import LocationLevel, Operator, Population, PrisonCategory
from saferprisons.estate.models import CellType, Location, Prison
from saferprisons.people import services as people_services
from saferprisons.people.constants import LegalStatus, Sex


def make_prison(code: str, name: str | None = None) -> Prison:
    return Prison.objects.create(
        code=code,
        name=name or f"HMP Test {code}",
        category=PrisonCategory.B,
        population=Population.MEN,
        operator=Operator.PUBLIC,
    )


def make_wing(
    prison: Prison,
    wing: str = "A",
    cells: int = 3,
    working: int = 1,
    cell_types: tuple[str, ...] = (),
) -> list[Location]:
    wing_row = Location.objects.create(
        prison=prison, level=LocationLevel.WING, code=wing, path=wing
    )
    landing = Location.objects.create(
        prison=prison, parent=wing_row, level=LocationLevel.LANDING, code="1", path=f"{wing}-1"
    )
    made = []
    for number in range(1, cells + 1):
        cell = Location.objects.create(
            prison=prison,
            parent=landing,
            level=LocationLevel.CELL,
            code=f"{number:03d}",
            path=f"{wing}-1-{number:03d}",
            certified_normal_accommodation=working,
            working_capacity=working,
            max_capacity=max(working, 2),
        )
        if cell_types:
            cell.cell_types.set(CellType.objects.filter(code__in=cell_types))
        made.append(cell)
    return made


def make_user(username: str, roles: list[str], prisons: list[Prison], band: str = "4") -> User:
    user = User.objects.create_user(username=username, password="correct-horse-battery", band=band)
    user.roles.set(Role.objects.filter(code__in=roles))
    user.prisons.set(prisons)
    return user


def admit(
    actor,
    prison: Prison,
    number: str,
    last_name: str = "Testperson",
    first_name: str = "Alex",
    cell: Location | None = None,
):
    prisoner = people_services.admit_prisoner(
        actor=actor,
        prison=prison,
        prison_number=number,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date(1990, 5, 17),
        sex=Sex.MALE,
        legal_status=LegalStatus.REMAND,
    )
    if cell is not None:
        people_services.allocate_cell(actor=actor, prisoner=prisoner, cell=cell)
    return prisoner


@pytest.fixture
def estate(db):
    """Two prisons, a wing each, staff of several roles, and a few people."""
    north, south = make_prison("ZNA", "HMP Northfold"), make_prison("ZSO", "HMP Southmere")
    north_cells = make_wing(north, "A", cells=3, working=1)
    south_cells = make_wing(south, "B", cells=2, working=1)
    safe = make_wing(north, "S", cells=1, working=1, cell_types=("SAFE_CELL",))
    manager = make_user("manager.north", ["CUSTODIAL_MANAGER"], [north])
    nurse = make_user("nurse.north", ["HEALTHCARE"], [north], band="NHS 5")
    officer = make_user("officer.north", ["WING_OFFICER"], [north])
    south_manager = make_user("manager.south", ["CUSTODIAL_MANAGER"], [south])
    auditor = make_user("auditor.hq", ["AUDITOR"], [])
    analyst = make_user("analyst.hq", ["HQ_ANALYST"], [north, south])
    admin = make_user("admin.hq", ["SYSTEM_ADMIN"], [north, south])
    north_person = admit(manager, north, "A1234BC", "Brightwater", "Sam", cell=north_cells[0])
    people_services.set_health_needs(
        actor=nurse, prisoner=north_person, health_needs="Insulin-dependent diabetes"
    )
    south_person = admit(south_manager, south, "B2345CD", "Hollins", "Jo", cell=south_cells[0])
    return {
        "north": north,
        "south": south,
        "north_cells": north_cells,
        "south_cells": south_cells,
        "safe_cells": safe,
        "manager": manager,
        "nurse": nurse,
        "officer": officer,
        "south_manager": south_manager,
        "auditor": auditor,
        "analyst": analyst,
        "admin": admin,
        "north_person": north_person,
        "south_person": south_person,
    }
