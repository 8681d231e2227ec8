from datetime import date, datetime, time

from django.core.paginator import Paginator

from saferprisons.core.clock import LONDON

from .models import AuditEvent

EVENTS_PER_PAGE = 50


def filter_events(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    prison_code: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
):
    events = AuditEvent.objects.all()
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if prison_code:
        events = events.filter(prison_code=prison_code.upper())
    if date_from:
        events = events.filter(occurred_at__gte=datetime.combine(date_from, time.min, LONDON))
    if date_to:
        events = events.filter(occurred_at__lt=datetime.combine(date_to, time.max, LONDON))
    return events.order_by("-sequence")


def page_of_events(events, page_number) -> object:
    return Paginator(events, EVENTS_PER_PAGE).get_page(page_number)
