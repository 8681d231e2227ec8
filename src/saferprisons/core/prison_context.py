"""The prison a member of staff is working in now (chosen after sign-in, kept in the session)."""

from saferprisons.estate.models import Prison

SESSION_KEY = "current_prison_id"


def prisons_for(user):
    return Prison.objects.filter(pk__in=user.prison_ids()).order_by("name")


def current_prison(request) -> Prison | None:
    cached = getattr(request, "_current_prison", None)
    if cached is not None:
        return cached
    user = request.user
    prison_id = request.session.get(SESSION_KEY)
    allowed = user.prison_ids()
    if prison_id not in allowed:
        prison_id = allowed[0] if len(allowed) == 1 else None
    prison = Prison.objects.filter(pk=prison_id).first() if prison_id else None
    request._current_prison = prison
    return prison


def choose_prison(request, prison: Prison) -> None:
    request.session[SESSION_KEY] = prison.pk
    request._current_prison = prison
