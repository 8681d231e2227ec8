"""Every read of people's records, scoped to what the principal may see, and audited."""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower

from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import has_permission, principal_prison_ids

from . import permissions as perms
from .constants import PRISON_NUMBER_RE, Sensitivity
from .models import CaseNote, CellAllocation, Movement, PersonAlert, Prisoner

SEARCH_RESULT_LIMIT = 100


def prisoners_visible_to(principal) -> QuerySet[Prisoner]:
    """People in the principal's prisons; a kiosk sees only its own person; others nobody."""
    from saferprisons.accounts.models import KioskPrincipal

    if isinstance(principal, KioskPrincipal):
        return Prisoner.objects.filter(pk=principal.prisoner.pk)
    if not has_permission(principal, perms.VIEW_PRISONER):
        return Prisoner.objects.none()
    return Prisoner.objects.filter(prison_id__in=principal_prison_ids(principal))


def get_prisoner(principal, prison_number: str, *, audit_view: bool = True) -> Prisoner:
    """One person by prison number; out of scope answers NotFound (the same as missing)."""
    number = (prison_number or "").strip().upper()
    prisoner = (
        prisoners_visible_to(principal)
        .select_related("prison")
        .filter(prison_number=number)
        .first()
    )
    if prisoner is None:
        raise NotFound("No person with that prison number in your prisons")
    if audit_view:
        record(
            actor=principal,
            action=Action.VIEW,
            object_type="prisoner",
            object_id=prisoner.public_id,
            prison_code=prisoner.prison.code,
        )
    return prisoner


def _next_prefix(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _name_starts_with(column: str, prefix: str) -> Q:
    # A range on lower(name) lets the functional index serve a prefix search on any database.
    return Q(
        **{
            f"{column}__gte": prefix,
            f"{column}__lt": _next_prefix(prefix),
            f"{column}__startswith": prefix,
        }
    )


def _search_text(query: str) -> str:
    """Letters, digits, spaces, hyphens and apostrophes only: what names and numbers contain."""
    spaced = (query or "").replace(",", " ")  # "Smith, John"
    kept = "".join(ch for ch in spaced if ch.isalnum() or ch in " -'")
    return " ".join(kept.split()).lower()[:100]


def search_prisoners(
    principal, query: str, *, prison_id: int | None = None, limit: int = SEARCH_RESULT_LIMIT
) -> list[Prisoner]:
    """By prison number (exact) or by name: "surname", "surname firstname" or "first surname".

    Every search is audited with its filters and result count.
    """
    text = _search_text(query)
    scope = prisoners_visible_to(principal)
    if prison_id is not None:
        scope = scope.filter(prison_id=prison_id)
    if not text:
        results: list[Prisoner] = []
    elif PRISON_NUMBER_RE.match(text.upper()):
        results = list(scope.filter(prison_number=text.upper()).select_related("prison"))
    else:
        words = text.split(" ")
        named = scope.annotate(last_key=Lower("last_name"), first_key=Lower("first_name"))
        if len(words) == 1:
            condition = _name_starts_with("last_key", words[0])
        else:
            surname_first = _name_starts_with("last_key", words[0]) & _name_starts_with(
                "first_key", words[1]
            )
            forename_first = _name_starts_with("first_key", words[0]) & _name_starts_with(
                "last_key", words[-1]
            )
            condition = surname_first | forename_first
        results = list(
            named.filter(condition)
            .select_related("prison")
            .order_by("last_key", "first_key", "prison_number")[:limit]
        )
    record(
        actor=principal,
        action=Action.SEARCH,
        object_type="prisoner",
        details={"query": text, "prison_id": prison_id, "result_count": len(results)},
    )
    return results


def current_allocations(prisoners) -> dict[int, CellAllocation]:
    rows = CellAllocation.objects.filter(
        prisoner__in=prisoners, ended_at__isnull=True
    ).select_related("cell")
    return {row.prisoner_id: row for row in rows}


def case_notes_visible_to(principal, prisoner: Prisoner) -> QuerySet[CaseNote]:
    allowed = [Sensitivity.NORMAL]
    if has_permission(principal, perms.VIEW_SENSITIVE):
        allowed.append(Sensitivity.SENSITIVE)
    if has_permission(principal, perms.VIEW_HEALTH):
        allowed.append(Sensitivity.HEALTH)
    return prisoner.case_notes.filter(sensitivity__in=allowed)


@dataclass
class PrisonerProfile:
    prisoner: Prisoner
    current_cell: object | None
    alerts: list[PersonAlert]
    case_notes: list[CaseNote]
    movements: list[Movement]
    allocations: list[CellAllocation]
    can_see_health: bool
    health_needs: str | None = None
    extras: dict = field(default_factory=dict)


def prisoner_profile(
    principal, prison_number: str, *, case_note_limit: int = 50
) -> PrisonerProfile:
    """Everything the profile page shows, in a fixed number of queries; the view is audited."""
    prisoner = get_prisoner(principal, prison_number)
    allocations = list(
        prisoner.allocations.select_related("cell__prison").prefetch_related(
            Prefetch("cell__cell_types")
        )[:20]
    )
    current = next((a.cell for a in allocations if a.ended_at is None), None)
    can_see_health = has_permission(principal, perms.VIEW_HEALTH)
    return PrisonerProfile(
        prisoner=prisoner,
        current_cell=current,
        alerts=list(
            prisoner.alerts.filter(ended_at__isnull=True).select_related("alert_code__alert_type")
        ),
        case_notes=list(case_notes_visible_to(principal, prisoner)[:case_note_limit]),
        movements=list(prisoner.movements.select_related("from_prison", "to_prison")[:20]),
        allocations=allocations,
        can_see_health=can_see_health,
        health_needs=prisoner.health_needs if can_see_health else None,
    )


def get_alert(prisoner: Prisoner, alert_id) -> PersonAlert:
    """One of an (already scoped) person's alerts by public id."""
    alert = (
        PersonAlert.objects.filter(prisoner=prisoner, public_id=alert_id)
        .select_related("prisoner__prison", "alert_code__alert_type")
        .first()
    )
    if alert is None:
        raise NotFound("No such alert for this person")
    return alert
