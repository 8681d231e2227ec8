"""The cell sharing risk assessment (CSRA): recording it, and a person who shares a cell with
nobody kept on their own by cell moves and by the ACCT's list of free safer cells."""

import re

import pytest

from saferprisons.acct.selectors import safer_cell_options
from saferprisons.audit.models import AuditEvent
from saferprisons.conftest import admit, make_wing
from saferprisons.core.errors import Conflict, PermissionDenied, ValidationFailed
from saferprisons.people import services
from saferprisons.people.constants import CellSharingRisk
from saferprisons.people.models import CaseNote, CellAllocation


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def doubles(estate):
    """Three double cells on north wing D, two of them safe cells, and two more people."""
    cells = make_wing(estate["north"], "D", cells=3, working=2)
    safe = make_wing(estate["north"], "E", cells=2, working=2, cell_types=("SAFE_CELL",))
    manager = estate["manager"]
    first = admit(manager, estate["north"], "C1111DE", "Ashdown", "Kit", cell=cells[0])
    second = admit(manager, estate["north"], "C2222DE", "Bellamy", "Lou")
    return {**estate, "doubles": cells, "safe_doubles": safe, "first": first, "second": second}


def assess(world, person, risk, reason="Assessed on reception."):
    return services.record_cell_sharing_risk(
        actor=world["manager"], prisoner=person, risk=risk, reason=reason
    )


def test_recording_the_assessment_writes_a_case_note_and_an_audit_event(doubles):
    person = assess(
        doubles, doubles["first"], CellSharingRisk.HIGH_GENERAL, "Violent to cellmates."
    )
    person.refresh_from_db()
    assert person.cell_sharing_risk == CellSharingRisk.HIGH_GENERAL
    note = CaseNote.objects.filter(prisoner=person).latest("occurred_at")
    assert note.text == (
        "Cell sharing risk assessed: High: shares a cell with nobody. Violent to cellmates."
    )
    event = AuditEvent.objects.filter(object_type="prisoner", details__event="cell_sharing_risk")
    assert event.get().after == {"cell_sharing_risk": "HIGH_GENERAL"}


@pytest.mark.parametrize(
    ("risk", "reason", "error"),
    [
        ("VERY_HIGH", "x", "Choose the cell sharing risk"),
        (CellSharingRisk.STANDARD, " ", "Enter the reason for the assessment"),
        (CellSharingRisk.STANDARD, "x" * 501, "The reason must be 500 characters or fewer"),
    ],
)
def test_bad_assessments_are_refused_and_change_nothing(doubles, risk, reason, error):
    with pytest.raises(ValidationFailed, match=error):
        assess(doubles, doubles["first"], risk, reason)
    doubles["first"].refresh_from_db()
    assert doubles["first"].cell_sharing_risk == ""


def test_only_managers_record_the_assessment(doubles):
    with pytest.raises(PermissionDenied):
        services.record_cell_sharing_risk(
            actor=doubles["officer"],
            prisoner=doubles["first"],
            risk=CellSharingRisk.STANDARD,
            reason="x",
        )


def test_nobody_moves_in_with_a_person_who_shares_with_nobody(doubles):
    assess(doubles, doubles["first"], CellSharingRisk.HIGH_GENERAL)
    cell = doubles["doubles"][0]
    with pytest.raises(Conflict, match="Cell D-1-001 is held by someone who shares a cell"):
        services.allocate_cell(actor=doubles["manager"], prisoner=doubles["second"], cell=cell)
    assert not CellAllocation.objects.filter(prisoner=doubles["second"]).exists()
    cell.refresh_from_db()
    assert cell.occupied == 1


def test_a_person_who_shares_with_nobody_moves_only_into_an_empty_cell(doubles):
    manager = doubles["manager"]
    services.allocate_cell(actor=manager, prisoner=doubles["second"], cell=doubles["doubles"][1])
    assess(doubles, doubles["first"], CellSharingRisk.HIGH_GENERAL)
    with pytest.raises(Conflict, match="ASHDOWN, Kit shares a cell with nobody"):
        services.allocate_cell(actor=manager, prisoner=doubles["first"], cell=doubles["doubles"][1])
    services.allocate_cell(actor=manager, prisoner=doubles["first"], cell=doubles["doubles"][2])
    assert (
        CellAllocation.objects.get(prisoner=doubles["first"], ended_at__isnull=True).cell
        == (doubles["doubles"][2])
    )


def test_a_high_specific_risk_is_left_to_the_staff_making_the_move(doubles):
    assess(doubles, doubles["first"], CellSharingRisk.HIGH_SPECIFIC)
    services.allocate_cell(
        actor=doubles["manager"], prisoner=doubles["second"], cell=doubles["doubles"][0]
    )
    doubles["doubles"][0].refresh_from_db()
    assert doubles["doubles"][0].occupied == 2


def test_free_safer_cells_respect_the_cell_sharing_risk(doubles):
    north, manager = doubles["north"], doubles["manager"]
    safe_a, safe_b = doubles["safe_doubles"]
    services.allocate_cell(actor=manager, prisoner=doubles["second"], cell=safe_a)
    paths = lambda person: [c.path for c in safer_cell_options(north, person)]  # noqa: E731
    # The existing safe cell S-1-001 (single, empty), and both doubles, one with a place left.
    assert paths(doubles["first"]) == ["E-1-001", "E-1-002", "S-1-001"]
    # Someone who shares with nobody: only the empty ones.
    first = assess(doubles, doubles["first"], CellSharingRisk.HIGH_GENERAL)
    assert paths(first) == ["E-1-002", "S-1-001"]
    # And nobody is offered the cell of someone who shares with nobody.
    assess(doubles, doubles["second"], CellSharingRisk.HIGH_GENERAL)
    third = admit(manager, north, "C3333DE", "Carver", "Mo")
    assert paths(third) == ["E-1-002", "S-1-001"]


def test_the_profile_shows_the_assessment_and_managers_change_it(doubles, client):
    number = doubles["first"].prison_number
    client.force_login(doubles["officer"])
    shown = text_of(client.get(f"/people/{number}/"))
    assert "Cell sharing risk Not recorded" in shown
    assert (
        f"/people/{number}/cell-sharing-risk/"
        not in client.get(f"/people/{number}/").content.decode()
    )
    assert client.get(f"/people/{number}/cell-sharing-risk/").status_code == 403

    client.force_login(doubles["manager"])
    refused = client.post(f"/people/{number}/cell-sharing-risk/", {"risk": "HIGH_GENERAL"})
    assert refused.status_code == 400
    assert "Enter the reason for the assessment" in text_of(refused)
    response = client.post(
        f"/people/{number}/cell-sharing-risk/",
        {"risk": "HIGH_GENERAL", "reason": "Threatened previous cellmates."},
    )
    assert response.status_code == 302
    shown = text_of(client.get(f"/people/{number}/"))
    assert re.search(r"Cell sharing risk High: shares a cell with nobody \(assessed \d", shown)
