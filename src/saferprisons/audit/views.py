from django.shortcuts import render

from saferprisons.core.forms import error_list
from saferprisons.core.permissions import requires

from . import permissions as perms
from .constants import Action
from .forms import EventFilterForm
from .selectors import filter_events, page_of_events
from .services import record


@requires(perms.VIEW_EVENTS)
def events(request):
    form = EventFilterForm(request.GET or None)
    errors, page = [], None
    if form.is_bound and not form.is_valid():
        errors = error_list(form)
    else:
        filters = form.cleaned_data if form.is_bound else {}
        found = filter_events(**{k: v for k, v in filters.items() if v})
        page = page_of_events(found, request.GET.get("page"))
        # Reading the audit trail is itself audited (it names people and staff).
        record(
            actor=request.user,
            action=Action.SEARCH,
            object_type="audit_event",
            details={
                "filters": {k: str(v) for k, v in filters.items() if v},
                "result_count": page.paginator.count,
            },
        )
    return render(
        request,
        "audit/events.html",
        {"title": "Audit trail", "form": form, "page": page, "errors": errors},
        status=400 if errors else 200,
    )
