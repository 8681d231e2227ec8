"""The audit trail for the JSON API: auditors only. Reading it is itself audited."""

from ninja import Query, Router
from ninja.pagination import paginate

from saferprisons.core.api_support import Pagination, api_permission, responses

from . import permissions as perms
from .constants import Action
from .schemas import AuditEventOut, AuditFilters
from .selectors import filter_events
from .services import record

router = Router(tags=["audit"])


@router.get("/events", response=responses(200, list[AuditEventOut]), url_name="audit-events")
@paginate(Pagination)
@api_permission(perms.VIEW_EVENTS)
def list_events(request, filters: Query[AuditFilters]):
    """Audit events, newest first, filtered by actor, action, object, prison and date range."""
    chosen = {
        "actor": filters.actor or "",
        "action": filters.action or "",
        "object_type": filters.object_type or "",
        "object_id": filters.object_id or "",
        "prison_code": filters.prison or "",
        "date_from": filters.date_from,
        "date_to": filters.date_to,
    }
    events = filter_events(**chosen)
    searched = record(
        actor=request.auth,
        action=Action.SEARCH,
        object_type="audit_event",
        details={
            **{key: str(value) if value else "" for key, value in chosen.items()},
            "result_count": events.count(),
        },
    )
    # The trail as it stood before this read (the read's own event shows up next time).
    return events.filter(sequence__lt=searched.sequence)
