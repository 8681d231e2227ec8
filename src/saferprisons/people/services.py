"""Every write to people's records: keyword-only, an actor, one transaction, one audit event."""

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F

from saferprisons.accounts.models import User
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record, snapshot
from saferprisons.core import clock
from saferprisons.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from saferprisons.core.permissions import has_permission, principal_prison_ids
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import Location, Prison

from . import events
from . import permissions as perms
from .constants import (
    ALERT_COMMENT_MAX_LENGTH,
    CASE_NOTE_MAX_LENGTH,
    CSRA_REASON_MAX_LENGTH,
    PRISON_NUMBER_RE,
    CaseNoteType,
    CellSharingRisk,
    CustodyStatus,
    LegalStatus,
    MovementKind,
    Sensitivity,
    Sex,
)
from .models import AlertCode, CaseNote, CellAllocation, Movement, PersonAlert, Prisoner


def _require(actor, permission: str, message: str) -> None:
    if not has_permission(actor, permission):
        raise PermissionDenied(message)


def _require_prison(actor, prison: Prison | None) -> None:
    # Out of scope looks the same as not existing.
    if prison is None or prison.id not in principal_prison_ids(actor):
        raise NotFound("No such person or place in your prisons")


def _label(actor) -> str:
    from saferprisons.audit.actors import describe_actor

    return describe_actor(actor)[2]


def _locked_prisoner(actor, prisoner: Prisoner) -> Prisoner:
    locked = (
        Prisoner.objects.select_for_update(of=("self",))
        .select_related("prison")
        .get(pk=prisoner.pk)
    )
    _require_prison(actor, locked.prison)
    return locked


def _end_current_allocation(prisoner: Prisoner, at: datetime) -> CellAllocation | None:
    current = (
        CellAllocation.objects.select_for_update()
        .filter(prisoner=prisoner, ended_at__isnull=True)
        .first()
    )
    if current is not None:
        current.ended_at = at
        current.save(update_fields=["ended_at"])
        Location.objects.filter(pk=current.cell_id).update(occupied=F("occupied") - 1)
    return current


def admit_prisoner(
    *,
    actor,
    prison: Prison,
    prison_number: str,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    sex: str,
    legal_status: str,
    first_language: str = "English",
    health_needs: str = "",
) -> Prisoner:
    """Reception: a new person arrives. The prison number must be in the NOMIS shape."""
    _require(actor, perms.RECORD_MOVEMENT, "You cannot record receptions")
    _require_prison(actor, prison)
    number = prison_number.strip().upper()
    if not PRISON_NUMBER_RE.match(number):
        raise ValidationFailed("Enter a prison number like A1234BC", field="prison_number")
    if not first_name.strip() or not last_name.strip():
        raise ValidationFailed("Enter the person's first and last name", field="last_name")
    if len(first_name) > 60 or len(last_name) > 60:
        raise ValidationFailed("Names must be 60 characters or fewer", field="last_name")
    if sex not in Sex.values or legal_status not in LegalStatus.values:
        raise ValidationFailed("Choose a sex and a legal status from the list", field="sex")
    if date_of_birth >= clock.today_london() or date_of_birth.year < 1900:
        raise ValidationFailed(
            "Date of birth must be a real date in the past", field="date_of_birth"
        )
    if health_needs and not has_permission(actor, perms.VIEW_HEALTH):
        raise PermissionDenied("Only healthcare staff can record health information")
    with transaction.atomic():
        if Prisoner.objects.filter(prison_number=number).exists():
            raise Conflict("A person with that prison number already exists", field="prison_number")
        prisoner = Prisoner.objects.create(
            prison_number=number,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            date_of_birth=date_of_birth,
            sex=sex,
            legal_status=legal_status,
            first_language=first_language.strip()[:40] or "English",
            prison=prison,
            custody_status=CustodyStatus.IN,
            health_needs=health_needs,
        )
        Movement.objects.create(
            prisoner=prisoner,
            kind=MovementKind.RECEPTION,
            to_prison=prison,
            recorded_by_label=_label(actor),
        )
        record(
            actor=actor,
            action=Action.CREATE,
            object_type="prisoner",
            object_id=prisoner.public_id,
            prison_code=prison.code,
            after=snapshot(
                prisoner,
                [
                    "prison_number",
                    "first_name",
                    "last_name",
                    "date_of_birth",
                    "sex",
                    "legal_status",
                    "health_needs",
                ],
            ),
        )
    return prisoner


def allocate_cell(*, actor, prisoner: Prisoner, cell: Location, reason: str = "") -> CellAllocation:
    """Move a person into a cell. Never over working capacity, even when two moves race:
    both cells are row-locked in id order, and the database refuses occupied > working."""
    _require(actor, perms.MOVE_PRISONER, "You cannot move people between cells")
    if len(reason) > 200:
        raise ValidationFailed("The reason must be 200 characters or fewer", field="reason")
    try:
        with transaction.atomic():
            person = _locked_prisoner(actor, prisoner)
            if person.custody_status != CustodyStatus.IN:
                raise Conflict("This person is not in prison")
            current = CellAllocation.objects.filter(prisoner=person, ended_at__isnull=True).first()
            cell_ids = sorted({cell.pk} | ({current.cell_id} if current else set()))
            cells = {
                c.pk: c
                for c in Location.objects.select_for_update().filter(pk__in=cell_ids).order_by("pk")
            }
            target = cells.get(cell.pk)
            if target is None or target.prison_id != person.prison_id:
                raise NotFound("No such cell in this person's prison", field="cell")
            if target.level != LocationLevel.CELL or not target.is_active:
                raise Conflict("That location is not an open cell", field="cell")
            if current and current.cell_id == target.pk:
                raise Conflict("The person is already in that cell", field="cell")
            if target.occupied >= target.working_capacity:
                raise Conflict(f"Cell {target.path} is full", field="cell")
            _check_cell_sharing(person, target)
            now = clock.now()
            previous = _end_current_allocation(person, now)
            Location.objects.filter(pk=target.pk).update(occupied=F("occupied") + 1)
            allocation = CellAllocation.objects.create(
                prisoner=person,
                cell=target,
                started_at=now,
                reason=reason.strip(),
                allocated_by_label=_label(actor),
            )
            record(
                actor=actor,
                action=Action.UPDATE,
                object_type="cell_allocation",
                object_id=person.public_id,
                prison_code=person.prison.code,
                before={"cell": previous.cell.path if previous else None},
                after={"cell": target.path, "reason": reason.strip()},
            )
            return allocation
    except IntegrityError as error:
        # The capacity check constraint caught a race the row locks could not (e.g. SQLite).
        raise Conflict("That cell has just become full", field="cell") from error


def _check_cell_sharing(person: Prisoner, cell: Location) -> None:
    """A person whose cell sharing risk is HIGH_GENERAL shares a cell with nobody: refuse a move
    of theirs into an occupied cell, and anyone's into their cell. (HIGH_SPECIFIC is a risk to
    particular people, judged by the staff making the move.) The cell is locked by the caller."""
    if cell.occupied == 0:
        return
    if person.cell_sharing_risk == CellSharingRisk.HIGH_GENERAL:
        raise Conflict(
            f"{person.display_name} shares a cell with nobody (cell sharing risk: high): "
            f"choose an empty cell",
            field="cell",
        )
    occupants = Prisoner.objects.filter(
        allocations__cell=cell,
        allocations__ended_at__isnull=True,
        cell_sharing_risk=CellSharingRisk.HIGH_GENERAL,
    )
    if occupants.exists():
        raise Conflict(
            f"Cell {cell.path} is held by someone who shares a cell with nobody",
            field="cell",
        )


def record_cell_sharing_risk(*, actor, prisoner: Prisoner, risk: str, reason: str) -> Prisoner:
    """Record a cell sharing risk assessment's outcome, with a case note saying why."""
    _require(actor, perms.ASSESS_CELL_SHARING, "You cannot record cell sharing risk")
    if risk not in CellSharingRisk.values:
        raise ValidationFailed("Choose the cell sharing risk", field="risk")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Enter the reason for the assessment", field="reason")
    if len(reason) > CSRA_REASON_MAX_LENGTH:
        raise ValidationFailed(
            f"The reason must be {CSRA_REASON_MAX_LENGTH} characters or fewer", field="reason"
        )
    with transaction.atomic():
        person = _locked_prisoner(actor, prisoner)
        if person.custody_status == CustodyStatus.OUT:
            raise Conflict("This person has been released")
        before = person.cell_sharing_risk
        now = clock.now()
        person.cell_sharing_risk = risk
        person.cell_sharing_assessed_at = now
        person.version += 1
        person.save(update_fields=["cell_sharing_risk", "cell_sharing_assessed_at", "version"])
        CaseNote.objects.create(
            prisoner=person,
            prison=person.prison,
            note_type=CaseNoteType.GENERAL,
            sensitivity=Sensitivity.NORMAL,
            text=f"Cell sharing risk assessed: {CellSharingRisk(risk).label}. {reason}",
            occurred_at=now,
            author=actor if isinstance(actor, User) else None,
            author_label=_label(actor),
        )
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="prisoner",
            object_id=person.public_id,
            prison_code=person.prison.code,
            before={"cell_sharing_risk": before},
            after={"cell_sharing_risk": risk},
            details={"event": "cell_sharing_risk", "reason": reason},
        )
    return person


def _record_movement(actor, prisoner, kind, *, from_prison=None, to_prison=None, reason=""):
    return Movement.objects.create(
        prisoner=prisoner,
        kind=kind,
        from_prison=from_prison,
        to_prison=to_prison,
        reason=reason.strip()[:200],
        recorded_by_label=_label(actor),
    )


def transfer_prisoner(
    *, actor, prisoner: Prisoner, to_prison: Prison, reason: str = ""
) -> Prisoner:
    """Transfer out and in, in one step: the receiving prison sees the person at once."""
    _require(actor, perms.RECORD_MOVEMENT, "You cannot record transfers")
    with transaction.atomic():
        person = _locked_prisoner(actor, prisoner)
        if person.custody_status != CustodyStatus.IN:
            raise Conflict("Only a person in prison can be transferred")
        if not to_prison.is_active or to_prison.pk == person.prison_id:
            raise ValidationFailed("Choose another, open prison", field="to_prison")
        from_prison = person.prison
        _end_current_allocation(person, clock.now())
        _record_movement(
            actor,
            person,
            MovementKind.TRANSFER_OUT,
            from_prison=from_prison,
            to_prison=to_prison,
            reason=reason,
        )
        _record_movement(
            actor,
            person,
            MovementKind.TRANSFER_IN,
            from_prison=from_prison,
            to_prison=to_prison,
            reason=reason,
        )
        person.prison = to_prison
        person.version += 1
        person.save(update_fields=["prison", "version"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="prisoner",
            object_id=person.public_id,
            prison_code=from_prison.code,
            before={"prison": from_prison.code},
            after={"prison": to_prison.code},
            details={"movement": "transfer", "reason": reason.strip()[:200]},
        )
        events.announce_transfer(prisoner=person, from_prison=from_prison, to_prison=to_prison)
    return person


def release_prisoner(*, actor, prisoner: Prisoner, reason: str = "") -> Prisoner:
    _require(actor, perms.RECORD_MOVEMENT, "You cannot record releases")
    with transaction.atomic():
        person = _locked_prisoner(actor, prisoner)
        if person.custody_status == CustodyStatus.OUT:
            return person  # already released: repeating is a no-op
        from_prison = person.prison
        _end_current_allocation(person, clock.now())
        _record_movement(
            actor, person, MovementKind.RELEASE, from_prison=from_prison, reason=reason
        )
        person.prison = None
        person.custody_status = CustodyStatus.OUT
        person.version += 1
        person.save(update_fields=["prison", "custody_status", "version"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="prisoner",
            object_id=person.public_id,
            prison_code=from_prison.code,
            before={"custody_status": CustodyStatus.IN},
            after={"custody_status": "OUT"},
            details={"movement": "release"},
        )
        events.announce_release(prisoner=person, from_prison=from_prison)
    return person


def update_personal_details(
    *,
    actor,
    prisoner: Prisoner,
    expected_version: int,
    first_language: str | None = None,
    legal_status: str | None = None,
) -> Prisoner:
    """Optimistic locking: refuse an edit based on a version someone else has since changed."""
    _require(actor, perms.RECORD_MOVEMENT, "You cannot change personal details")
    if legal_status is not None and legal_status not in LegalStatus.values:
        raise ValidationFailed("Choose a legal status from the list", field="legal_status")
    with transaction.atomic():
        person = _locked_prisoner(actor, prisoner)
        if person.version != expected_version:
            raise Conflict("Someone else changed this record; reload it and try again")
        before = snapshot(person, ["first_language", "legal_status"])
        if first_language is not None:
            person.first_language = first_language.strip()[:40]
        if legal_status is not None:
            person.legal_status = legal_status
        person.version += 1
        person.save(update_fields=["first_language", "legal_status", "version"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="prisoner",
            object_id=person.public_id,
            prison_code=person.prison.code,
            before=before,
            after=snapshot(person, ["first_language", "legal_status"]),
        )
    return person


def add_alert(*, actor, prisoner: Prisoner, code: str, comment: str = "") -> PersonAlert:
    _require(actor, perms.MANAGE_ALERTS, "You cannot add alerts")
    if len(comment) > ALERT_COMMENT_MAX_LENGTH:
        raise ValidationFailed(
            f"The comment must be {ALERT_COMMENT_MAX_LENGTH} characters or fewer", field="comment"
        )
    alert_code = AlertCode.objects.active().filter(code=(code or "").strip().upper()).first()
    if alert_code is None:
        raise ValidationFailed("Choose an alert code from the list", field="code")
    try:
        with transaction.atomic():
            person = _locked_prisoner(actor, prisoner)
            if PersonAlert.objects.filter(
                prisoner=person, alert_code=alert_code, ended_at__isnull=True
            ).exists():
                raise Conflict(f"{alert_code.code} is already active for this person", field="code")
            alert = PersonAlert.objects.create(
                prisoner=person,
                alert_code=alert_code,
                comment=comment.strip(),
                created_by_label=_label(actor),
            )
            record(
                actor=actor,
                action=Action.CREATE,
                object_type="person_alert",
                object_id=alert.public_id,
                prison_code=person.prison.code,
                after={"prisoner": person.prison_number, "code": alert_code.code},
            )
            return alert
    except IntegrityError as error:
        raise Conflict(
            f"{alert_code.code} is already active for this person", field="code"
        ) from error


def end_alert(*, actor, alert: PersonAlert) -> PersonAlert:
    _require(actor, perms.MANAGE_ALERTS, "You cannot end alerts")
    with transaction.atomic():
        _locked_prisoner(actor, alert.prisoner)
        locked = PersonAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.ended_at is not None:
            return locked  # ending twice is a no-op
        locked.ended_at = clock.now()
        locked.ended_by_label = _label(actor)
        locked.save(update_fields=["ended_at", "ended_by_label"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="person_alert",
            object_id=locked.public_id,
            prison_code=alert.prisoner.prison.code,
            after={"ended_at": locked.ended_at},
        )
    return locked


def apply_system_alert(*, actor, prisoner: Prisoner, code: str, comment: str = "") -> PersonAlert:
    """Set an alert as the side effect of another action its service has already permitted
    (e.g. HA when an ACCT opens), so there is no MANAGE_ALERTS check here. Idempotent: an
    already active alert with the code is returned unchanged."""
    alert_code = AlertCode.objects.filter(code=(code or "").strip().upper()).first()
    if alert_code is None:
        raise ValidationFailed(f"Unknown alert code {code!r}", field="code")
    comment = (comment or "").strip()[:ALERT_COMMENT_MAX_LENGTH]
    with transaction.atomic():
        person = (
            Prisoner.objects.select_for_update(of=("self",))
            .select_related("prison")
            .get(pk=prisoner.pk)
        )
        active = PersonAlert.objects.filter(
            prisoner=person, alert_code=alert_code, ended_at__isnull=True
        ).first()
        if active is not None:
            return active
        alert = PersonAlert.objects.create(
            prisoner=person,
            alert_code=alert_code,
            comment=comment,
            created_by_label=_label(actor),
        )
        record(
            actor=actor,
            action=Action.CREATE,
            object_type="person_alert",
            object_id=alert.public_id,
            prison_code=person.prison.code if person.prison else "",
            after={"prisoner": person.prison_number, "code": alert_code.code},
            details={"system": True},
        )
    return alert


def end_active_alert(*, actor, prisoner: Prisoner, code: str) -> PersonAlert | None:
    """End the person's active alert with ``code`` as a side effect of another permitted action
    (no MANAGE_ALERTS check). Idempotent: no active alert with the code is a no-op (None)."""
    with transaction.atomic():
        person = (
            Prisoner.objects.select_for_update(of=("self",))
            .select_related("prison")
            .get(pk=prisoner.pk)
        )
        active = (
            PersonAlert.objects.select_for_update()
            .filter(
                prisoner=person,
                alert_code__code=(code or "").strip().upper(),
                ended_at__isnull=True,
            )
            .first()
        )
        if active is None:
            return None
        active.ended_at = clock.now()
        active.ended_by_label = _label(actor)
        active.save(update_fields=["ended_at", "ended_by_label"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="person_alert",
            object_id=active.public_id,
            prison_code=person.prison.code if person.prison else "",
            after={"ended_at": active.ended_at},
            details={"system": True, "code": code},
        )
    return active


def add_case_note(
    *,
    actor,
    prisoner: Prisoner,
    note_type: str,
    text: str,
    occurred_at: datetime | None = None,
    sensitivity: str = Sensitivity.NORMAL,
) -> CaseNote:
    _require(actor, perms.ADD_CASE_NOTE, "You cannot write case notes")
    if note_type not in CaseNoteType.values:
        raise ValidationFailed("Choose a case note type from the list", field="note_type")
    if sensitivity not in Sensitivity.values:
        raise ValidationFailed("Choose who may read this note", field="sensitivity")
    if (
        sensitivity == Sensitivity.HEALTH or note_type == CaseNoteType.HEALTH
    ) and not has_permission(actor, perms.ADD_HEALTH_NOTE):
        raise PermissionDenied("Only healthcare staff can write health notes")
    if note_type == CaseNoteType.HEALTH:
        sensitivity = Sensitivity.HEALTH
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("Enter the case note", field="text")
    if len(text) > CASE_NOTE_MAX_LENGTH:
        raise ValidationFailed(
            f"A case note must be {CASE_NOTE_MAX_LENGTH} characters or fewer", field="text"
        )
    now = clock.now()
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise ValidationFailed(
            "The time of a case note cannot be in the future", field="occurred_at"
        )
    with transaction.atomic():
        person = _locked_prisoner(actor, prisoner)
        note = CaseNote.objects.create(
            prisoner=person,
            prison=person.prison,
            note_type=note_type,
            sensitivity=sensitivity,
            text=text,
            occurred_at=occurred_at,
            author=actor if isinstance(actor, User) else None,
            author_label=_label(actor),
        )
        record(
            actor=actor,
            action=Action.CREATE,
            object_type="case_note",
            object_id=note.public_id,
            prison_code=person.prison.code,
            after={
                "prisoner": person.prison_number,
                "type": note_type,
                "sensitivity": sensitivity,
                "text": text,
            },
        )
    return note


def set_health_needs(*, actor, prisoner: Prisoner, health_needs: str) -> Prisoner:
    """Healthcare records the health needs other staff cannot see."""
    _require(actor, perms.VIEW_HEALTH, "Only healthcare staff can record health information")
    if len(health_needs) > 2000:
        raise ValidationFailed(
            "Health needs must be 2000 characters or fewer", field="health_needs"
        )
    with transaction.atomic():
        person = _locked_prisoner(actor, prisoner)
        person.health_needs = health_needs.strip()
        person.version += 1
        person.save(update_fields=["health_needs", "version"])
        record(
            actor=actor,
            action=Action.UPDATE,
            object_type="prisoner",
            object_id=person.public_id,
            prison_code=person.prison.code,
            after={"health_needs": person.health_needs},
        )
    return person
