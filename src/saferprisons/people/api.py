"""People for the JSON API: search, profiles, case notes, cell moves, alerts and transfers.

Thin: reads go through people.selectors (scoped to the caller's prisons and audited), writes
through people.services with ``actor=request.auth``. Records outside the caller's prisons answer
404, the same as records that do not exist.
"""

from uuid import UUID

from ninja import Path, Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from saferprisons.core.api_support import (
    WRITE_ERRORS,
    Pagination,
    api_permission,
    responses,
)
from saferprisons.estate.selectors import cell_in_prison, open_prison, prison_in_scope

from . import permissions as perms
from . import selectors, services
from .schemas import (
    PRISON_NUMBER_PARAM,
    AlertIn,
    AlertOut,
    CaseNoteIn,
    CaseNoteOut,
    CellMoveIn,
    CellMoveOut,
    PrisonerProfileOut,
    SearchFilters,
    SearchResults,
    TransferIn,
    TransferOut,
)

router = Router(tags=["people"])

PrisonNumber = Path[str, PRISON_NUMBER_PARAM]


@router.get("", response=responses(200, SearchResults), url_name="prisoner-search")
@api_permission(perms.SEARCH)
def search(request, filters: Query[SearchFilters]):
    """Search by prison number or name in the caller's prisons (every search is audited)."""
    prison_id = None
    if filters.prison:
        prison_id = prison_in_scope(request.auth, filters.prison).pk
    found = selectors.search_prisoners(request.auth, filters.q, prison_id=prison_id)
    cells = selectors.current_allocations(found)
    items = [
        {
            "prison_number": p.prison_number,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "date_of_birth": p.date_of_birth,
            "prison": p.prison.code if p.prison_id else None,
            "cell": cells[p.pk].cell.path if p.pk in cells else None,
        }
        for p in found
    ]
    return {"count": len(items), "items": items}


@router.get("/{prison_number}", response=responses(200, PrisonerProfileOut), url_name="prisoner")
@api_permission(perms.VIEW_PRISONER)
def profile(request, prison_number: PrisonNumber):
    """One person's record (the view is audited). Health needs only for healthcare roles."""
    found = selectors.prisoner_profile(request.auth, prison_number)
    person = found.prisoner
    return {
        "prison_number": person.prison_number,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth,
        "sex": person.sex,
        "first_language": person.first_language,
        "legal_status": person.legal_status,
        "custody_status": person.custody_status,
        "prison": person.prison.code if person.prison_id else None,
        "version": person.version,
        "current_cell": found.current_cell,
        "alerts": found.alerts,
        "movements": found.movements,
        "health_needs": found.health_needs if found.can_see_health else None,
    }


@router.get(
    "/{prison_number}/case-notes",
    response=responses(200, list[CaseNoteOut]),
    url_name="case-notes",
)
@paginate(Pagination)
@api_permission(perms.VIEW_PRISONER)
def list_case_notes(request, prison_number: PrisonNumber):
    """Case notes the caller may read (sensitive and health notes only for those roles)."""
    person = selectors.get_prisoner(request.auth, prison_number)
    return selectors.case_notes_visible_to(request.auth, person).select_related("prison")


@router.post(
    "/{prison_number}/case-notes",
    response=responses(201, CaseNoteOut, errors=WRITE_ERRORS),
    url_name="add-case-note",
)
@api_permission(perms.ADD_CASE_NOTE)
def add_case_note(request, prison_number: PrisonNumber, payload: CaseNoteIn):
    person = selectors.get_prisoner(request.auth, prison_number, audit_view=False)
    note = services.add_case_note(
        actor=request.auth,
        prisoner=person,
        note_type=payload.note_type,
        text=payload.text,
        occurred_at=payload.occurred_at,
        sensitivity=payload.sensitivity,
    )
    return Status(201, note)


@router.post(
    "/{prison_number}/cell-moves",
    response=responses(201, CellMoveOut, errors=WRITE_ERRORS),
    url_name="cell-move",
)
@api_permission(perms.MOVE_PRISONER)
def move_cell(request, prison_number: PrisonNumber, payload: CellMoveIn):
    """Move the person into a cell of their prison, given its path ("A-1-001") or its id."""
    person = selectors.get_prisoner(request.auth, prison_number, audit_view=False)
    cell = cell_in_prison(person.prison_id, payload.cell)
    allocation = services.allocate_cell(
        actor=request.auth, prisoner=person, cell=cell, reason=payload.reason
    )
    return Status(
        201,
        {
            "prison_number": person.prison_number,
            "cell": allocation.cell,
            "started_at": allocation.started_at,
            "reason": allocation.reason,
        },
    )


@router.post(
    "/{prison_number}/alerts",
    response=responses(201, AlertOut, errors=WRITE_ERRORS),
    url_name="add-alert",
)
@api_permission(perms.MANAGE_ALERTS)
def add_alert(request, prison_number: PrisonNumber, payload: AlertIn):
    person = selectors.get_prisoner(request.auth, prison_number, audit_view=False)
    alert = services.add_alert(
        actor=request.auth, prisoner=person, code=payload.code, comment=payload.comment
    )
    return Status(201, alert)


@router.post(
    "/{prison_number}/alerts/{alert_id}/end",
    response=responses(200, AlertOut, errors=WRITE_ERRORS),
    url_name="end-alert",
)
@api_permission(perms.MANAGE_ALERTS)
def end_alert(request, prison_number: PrisonNumber, alert_id: UUID):
    """End an active alert. Ending an alert that has already ended changes nothing."""
    person = selectors.get_prisoner(request.auth, prison_number, audit_view=False)
    alert = selectors.get_alert(person, alert_id)
    ended = services.end_alert(actor=request.auth, alert=alert)
    ended.alert_code = alert.alert_code
    return ended


@router.post(
    "/{prison_number}/transfers",
    response=responses(201, TransferOut, errors=WRITE_ERRORS),
    url_name="transfer",
)
@api_permission(perms.RECORD_MOVEMENT)
def transfer(request, prison_number: PrisonNumber, payload: TransferIn):
    """Transfer the person to another open prison (which need not be one of the caller's)."""
    person = selectors.get_prisoner(request.auth, prison_number, audit_view=False)
    from_prison = person.prison.code
    to_prison = open_prison(payload.to_prison)
    moved = services.transfer_prisoner(
        actor=request.auth, prisoner=person, to_prison=to_prison, reason=payload.reason
    )
    return Status(
        201,
        {
            "prison_number": moved.prison_number,
            "from_prison": from_prison,
            "to_prison": to_prison.code,
            "custody_status": moved.custody_status,
        },
    )
