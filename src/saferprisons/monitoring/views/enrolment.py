"""Enrolling people in the monitoring pilot (managers): enrol from the person's profile, end an
enrolment with a reason, and the prison's list of people enrolled with their review dates.

Thin: the services check the basis, dates, overlaps and scope and audit each change; people's
records are read through the people selectors, which audit the view.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from saferprisons.acct.forms import date_initial
from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.core.forms import field_errors, posted, run_form_action
from saferprisons.core.permissions import requires
from saferprisons.core.prison_context import current_prison
from saferprisons.people.selectors import get_prisoner

from .. import forms as monitoring_forms
from .. import permissions as perms
from .. import selectors, services
from ..constants import REASON_MAX_LENGTH, EnrolmentBasis

# Proposed on the form: a review in 4 weeks, monitoring for 13 weeks (local choices, changeable).
REVIEW_AFTER_DAYS = 28
ENROL_FOR_DAYS = 91
# Where a service's field error points on the page.
ANCHORS = {"review_on": "review_day", "ends_at": "end_day"}


def _person_or_404(request, prison_number: str):
    try:
        return get_prisoner(request.user, prison_number)
    except NotFound as error:
        raise Http404 from error


def _profile_url(prisoner) -> str:
    return reverse("people:profile", args=[prisoner.prison_number]) + "#monitoring"


def _errors(form, action: Callable[[dict], object]) -> list[dict]:
    return [
        {**error, "href": "#" + ANCHORS.get(error["href"][1:], error["href"][1:])}
        for error in run_form_action(form, action)
    ]


def _page(request, template: str, context: dict, errors: list[dict]):
    return render(
        request,
        template,
        {
            **context,
            "errors": errors,
            "err": field_errors(errors),
            "max_length": REASON_MAX_LENGTH,
        },
        status=400 if errors else 200,
    )


@requires(perms.MANAGE_ENROLMENT)
@require_http_methods(["GET", "POST"])
def enrol(request, prison_number: str):
    prisoner = _person_or_404(request, prison_number)
    today = clock.today_london()
    form = monitoring_forms.EnrolForm(
        posted(request),
        initial={
            **date_initial("review", today + timedelta(days=REVIEW_AFTER_DAYS), with_time=False),
            **date_initial("end", today + timedelta(days=ENROL_FOR_DAYS), with_time=False),
        },
    )
    errors: list[dict] = []
    if request.method == "POST":
        errors = _errors(
            form,
            lambda data: services.enrol(
                actor=request.user,
                prisoner=prisoner,
                basis=data["basis"],
                review_on=data["review_on"],
                ends_at=data["ends_at"],
                decision_reason=data["decision_reason"],
            ),
        )
        if not errors:
            messages.success(request, f"{prisoner.display_name} is enrolled in monitoring")
            return redirect(_profile_url(prisoner))
    context = {
        "title": "Enrol in in-cell monitoring",
        "prisoner": prisoner,
        "form": form,
        "basis_choices": EnrolmentBasis.choices,
        "back_url": _profile_url(prisoner),
    }
    return _page(request, "monitoring/enrol.html", context, errors)


@requires(perms.MANAGE_ENROLMENT)
@require_http_methods(["GET", "POST"])
def end_enrolment(request, prison_number: str):
    prisoner = _person_or_404(request, prison_number)
    shown = selectors.person_monitoring(request.user, prisoner)
    if shown is None or shown.current is None:
        raise Http404("This person is not enrolled in monitoring now")
    form = monitoring_forms.EndEnrolmentForm(posted(request))
    errors: list[dict] = []
    if request.method == "POST":
        errors = _errors(
            form,
            lambda data: services.end_enrolment(
                actor=request.user, enrolment=shown.current, reason=data["end_reason"]
            ),
        )
        if not errors:
            messages.success(request, f"Monitoring of {prisoner.display_name} has ended")
            return redirect(_profile_url(prisoner))
    context = {
        "title": "End in-cell monitoring",
        "prisoner": prisoner,
        "enrolment": shown.current,
        "form": form,
        "back_url": _profile_url(prisoner),
    }
    return _page(request, "monitoring/end_enrolment.html", context, errors)


@requires(perms.MANAGE_ENROLMENT)
@require_GET
def enrolments(request):
    """Everyone enrolled now in the prison being worked in, soonest review first. Names are
    shown, so the view is audited like a search (with its count)."""
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    rows = list(selectors.current_enrolments(request.user, prison))
    selectors.record_enrolments_view(request.user, prison, len(rows))
    context = {
        "title": f"People enrolled in monitoring: {prison.name}",
        "prison": prison,
        "enrolments": rows,
        "today": clock.today_london(),
    }
    return _page(request, "monitoring/enrolments.html", context, [])
