from datetime import timedelta

import pytest
import time_machine

from saferprisons.conftest import admit
from saferprisons.core import clock
from saferprisons.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from saferprisons.people import selectors, services
from saferprisons.people.models import CaseNote, CellAllocation, Movement, PersonAlert


def test_reception_refuses_bad_prison_number_and_changes_nothing(estate):
    with pytest.raises(ValidationFailed, match="like A1234BC"):
        admit(estate["manager"], estate["north"], "12345")
    with pytest.raises(Conflict, match="already exists"):
        admit(estate["manager"], estate["north"], "A1234BC")
    assert Movement.objects.count() == 2


def test_cannot_admit_into_another_prison(estate):
    with pytest.raises(NotFound):
        admit(estate["manager"], estate["south"], "D4567EF")


def test_move_refuses_full_and_inactive_cells(estate):
    person = estate["north_person"]
    other = admit(estate["manager"], estate["north"], "C3456DE", cell=estate["north_cells"][1])
    with pytest.raises(Conflict, match="is full"):
        services.allocate_cell(
            actor=estate["manager"], prisoner=person, cell=estate["north_cells"][1]
        )
    closed = estate["north_cells"][2]
    closed.deactivated_at = clock.now()
    closed.save()
    with pytest.raises(Conflict, match="not an open cell"):
        services.allocate_cell(actor=estate["manager"], prisoner=other, cell=closed)
    with pytest.raises(NotFound):
        services.allocate_cell(
            actor=estate["manager"], prisoner=person, cell=estate["south_cells"][1]
        )
    assert (
        CellAllocation.objects.get(prisoner=person, ended_at__isnull=True).cell
        == estate["north_cells"][0]
    )


def test_move_keeps_history_and_counts(estate):
    person, cells = estate["north_person"], estate["north_cells"]
    services.allocate_cell(actor=estate["manager"], prisoner=person, cell=cells[2], reason="x")
    cells[0].refresh_from_db()
    cells[2].refresh_from_db()
    assert (cells[0].occupied, cells[2].occupied) == (0, 1)
    history = list(CellAllocation.objects.filter(prisoner=person).order_by("id"))
    assert [a.cell_id for a in history] == [cells[0].pk, cells[2].pk]
    assert history[0].ended_at == history[1].started_at


def test_officer_cannot_move_people(estate):
    with pytest.raises(PermissionDenied):
        services.allocate_cell(
            actor=estate["officer"], prisoner=estate["north_person"], cell=estate["north_cells"][2]
        )


def test_duplicate_active_alert_refused_then_allowed_after_end(estate):
    person = estate["north_person"]
    alert = services.add_alert(actor=estate["manager"], prisoner=person, code="hc")
    with pytest.raises(Conflict, match="HC is already active"):
        services.add_alert(actor=estate["manager"], prisoner=person, code="HC")
    services.end_alert(actor=estate["manager"], alert=alert)
    services.add_alert(actor=estate["manager"], prisoner=person, code="HC")
    assert PersonAlert.objects.filter(prisoner=person, alert_code__code="HC").count() == 2
    with pytest.raises(ValidationFailed, match="alert code from the list"):
        services.add_alert(actor=estate["manager"], prisoner=person, code="NOPE")


def test_case_note_rules(estate):
    person = estate["north_person"]
    with time_machine.travel("2026-11-28 10:00:00+00:00", tick=False):
        with pytest.raises(ValidationFailed, match="cannot be in the future"):
            services.add_case_note(
                actor=estate["officer"],
                prisoner=person,
                note_type="GEN",
                text="x",
                occurred_at=clock.now() + timedelta(minutes=1),
            )
        with pytest.raises(ValidationFailed, match="4000 characters"):
            services.add_case_note(
                actor=estate["officer"], prisoner=person, note_type="GEN", text="x" * 4001
            )
        services.add_case_note(
            actor=estate["nurse"],
            prisoner=person,
            note_type="HEALTH",
            text="Seen by mental health in-reach.",
        )
        note = services.add_case_note(
            actor=estate["officer"], prisoner=person, note_type="GEN", text="Went to education."
        )
        assert note.occurred_at.isoformat() == "2026-11-28T10:00:00+00:00"
    officer_notes = list(selectors.case_notes_visible_to(estate["officer"], person))
    nurse_notes = list(selectors.case_notes_visible_to(estate["nurse"], person))
    assert [n.text for n in officer_notes] == ["Went to education."]
    assert len(nurse_notes) == 2
    assert CaseNote.objects.get(note_type="HEALTH").author_label == "nurse.north"


def test_transfer_moves_scope_and_ends_cell(estate):
    from saferprisons.conftest import make_user

    both = make_user("hub.manager", ["CUSTODIAL_MANAGER"], [estate["north"], estate["south"]])
    person = estate["north_person"]
    services.transfer_prisoner(
        actor=both, prisoner=person, to_prison=estate["south"], reason="Court proximity"
    )
    person.refresh_from_db()
    assert person.prison == estate["south"]
    assert not CellAllocation.objects.filter(prisoner=person, ended_at__isnull=True).exists()
    assert list(person.movements.values_list("kind", flat=True)[:2]) in (
        ["TRN_IN", "TRN_OUT"],
        ["TRN_OUT", "TRN_IN"],
    )
    with pytest.raises(NotFound):
        selectors.get_prisoner(estate["officer"], "A1234BC")
    assert selectors.get_prisoner(estate["south_manager"], "A1234BC") == person


def test_release_is_idempotent(estate):
    person = estate["north_person"]
    services.release_prisoner(actor=estate["manager"], prisoner=person)
    person.refresh_from_db()
    assert (person.custody_status, person.prison) == ("OUT", None)
    estate["north_cells"][0].refresh_from_db()
    assert estate["north_cells"][0].occupied == 0


def test_optimistic_locking_refuses_stale_edit(estate):
    person = estate["north_person"]
    person.refresh_from_db()
    version = person.version
    services.update_personal_details(
        actor=estate["manager"], prisoner=person, expected_version=version, first_language="Welsh"
    )
    with pytest.raises(Conflict, match="Someone else changed"):
        services.update_personal_details(
            actor=estate["manager"],
            prisoner=person,
            expected_version=version,
            first_language="Polish",
        )
    person.refresh_from_db()
    assert person.first_language == "Welsh"


def test_search_by_forename_first_and_number(estate):
    officer = estate["officer"]
    assert [p.prison_number for p in selectors.search_prisoners(officer, "sam bright")] == [
        "A1234BC"
    ]
    assert [p.prison_number for p in selectors.search_prisoners(officer, "a1234bc")] == ["A1234BC"]
    assert selectors.search_prisoners(officer, "B2345CD") == []
    assert [p.prison_number for p in selectors.search_prisoners(officer, "Brightwater, Sam")] == [
        "A1234BC"
    ]


def test_search_ignores_characters_that_are_not_in_names(estate):
    officer = estate["officer"]
    assert selectors.search_prisoners(officer, "\x00\U0010ffff") == []
    assert [p.prison_number for p in selectors.search_prisoners(officer, "Bright\x00water")] == [
        "A1234BC"
    ]
