"""Staff pages for people: search, profile, case notes, cell moves, alerts. Thin: forms check
shape, services and selectors do the rest."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from saferprisons.acct import permissions as acct_perms
from saferprisons.acct import selectors as acct_selectors
from saferprisons.core.errors import NotFound
from saferprisons.core.forms import error_list, posted, run_form_action
from saferprisons.core.permissions import has_permission, requires
from saferprisons.core.prison_context import current_prison
from saferprisons.estate.selectors import cell_in_prison, free_cells
from saferprisons.monitoring import permissions as monitoring_perms
from saferprisons.monitoring import selectors as monitoring_selectors

from . import permissions as perms
from . import selectors, services
from .constants import CellSharingRisk
from .forms import AlertForm, CaseNoteForm, CellMoveForm, CellSharingRiskForm, SearchForm
from .models import AlertCode


def _prisoner_or_404(request, prison_number: str, *, audit_view: bool = False):
    try:
        return selectors.get_prisoner(request.user, prison_number, audit_view=audit_view)
    except NotFound as error:
        raise Http404 from error


@requires(perms.SEARCH)
def search(request):
    form = SearchForm(request.GET or None)
    results, searched, errors = [], False, []
    if form.is_bound:
        if form.is_valid() and form.cleaned_data["q"].strip():
            prison = current_prison(request)
            results = selectors.search_prisoners(request.user, form.cleaned_data["q"])
            searched = True
            cells = selectors.current_allocations(results)
            results = [(p, cells.get(p.pk)) for p in results]
            if prison is not None:
                results.sort(key=lambda row: row[0].prison_id != prison.pk)
        elif not form.is_valid():
            errors = error_list(form)
        else:
            errors = [{"text": "Enter a name or prison number", "href": "#q"}]
    return render(
        request,
        "people/search.html",
        {
            "title": "Find a person",
            "form": form,
            "results": results,
            "searched": searched,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@requires(perms.VIEW_PRISONER)
def profile(request, prison_number: str):
    try:
        data = selectors.prisoner_profile(request.user, prison_number)
    except NotFound as error:
        raise Http404 from error
    # The ACCT panel (its own scoped, audited read) for staff who work with ACCTs.
    acct_summary = (
        acct_selectors.case_summary_for(request.user, data.prisoner.prison_number)
        if has_permission(request.user, acct_perms.VIEW_CASE)
        else None
    )
    # The monitoring pilot's panel: enrolments, for staff who see monitoring in this prison.
    monitoring = monitoring_selectors.person_monitoring(request.user, data.prisoner)
    return render(
        request,
        "people/profile.html",
        {
            "title": data.prisoner.display_name,
            "notices": list(messages.get_messages(request)),
            "monitoring": monitoring,
            "can_enrol": has_permission(request.user, monitoring_perms.MANAGE_ENROLMENT),
            "profile": data,
            "can_move": has_permission(request.user, perms.MOVE_PRISONER),
            "can_alert": has_permission(request.user, perms.MANAGE_ALERTS),
            "can_assess_sharing": has_permission(request.user, perms.ASSESS_CELL_SHARING),
            "can_note": has_permission(request.user, perms.ADD_CASE_NOTE),
            "acct_summary": acct_summary,
            "can_raise_concern": has_permission(request.user, acct_perms.RAISE_CONCERN),
        },
    )


def _form_page(request, prisoner, form, action, template: str, context: dict):
    """GET shows the form; POST runs the action and returns to the profile, or shows errors."""
    errors = run_form_action(form, action) if request.method == "POST" else []
    if request.method == "POST" and not errors:
        return redirect("people:profile", prisoner.prison_number)
    context = {"prisoner": prisoner, "form": form, "errors": errors, **context}
    return render(request, template, context, status=400 if errors else 200)


@requires(perms.ADD_CASE_NOTE)
@require_http_methods(["GET", "POST"])
def add_case_note(request, prison_number: str):
    prisoner = _prisoner_or_404(request, prison_number)
    return _form_page(
        request,
        prisoner,
        CaseNoteForm(posted(request)),
        lambda data: services.add_case_note(actor=request.user, prisoner=prisoner, **data),
        "people/case_note_form.html",
        {
            "title": "Add a case note",
            "can_write_health": has_permission(request.user, perms.ADD_HEALTH_NOTE),
        },
    )


@requires(perms.MOVE_PRISONER)
@require_http_methods(["GET", "POST"])
def move_cell(request, prison_number: str):
    prisoner = _prisoner_or_404(request, prison_number)

    def move(data):
        cell = cell_in_prison(prisoner.prison_id, data["cell"])
        services.allocate_cell(
            actor=request.user, prisoner=prisoner, cell=cell, reason=data["reason"]
        )

    return _form_page(
        request,
        prisoner,
        CellMoveForm(posted(request)),
        move,
        "people/move_form.html",
        {"title": "Move to another cell", "free_cells": free_cells(prisoner.prison_id)},
    )


@requires(perms.MANAGE_ALERTS)
@require_http_methods(["GET", "POST"])
def add_alert(request, prison_number: str):
    prisoner = _prisoner_or_404(request, prison_number)
    return _form_page(
        request,
        prisoner,
        AlertForm(posted(request)),
        lambda data: services.add_alert(actor=request.user, prisoner=prisoner, **data),
        "people/alert_form.html",
        {"title": "Add an alert", "codes": AlertCode.objects.active().select_related("alert_type")},
    )


@requires(perms.ASSESS_CELL_SHARING)
@require_http_methods(["GET", "POST"])
def record_cell_sharing_risk(request, prison_number: str):
    prisoner = _prisoner_or_404(request, prison_number)
    form = CellSharingRiskForm(posted(request), initial={"risk": prisoner.cell_sharing_risk})
    return _form_page(
        request,
        prisoner,
        form,
        lambda data: services.record_cell_sharing_risk(
            actor=request.user, prisoner=prisoner, **data
        ),
        "people/cell_sharing_risk_form.html",
        {"title": "Cell sharing risk", "choices": CellSharingRisk.choices},
    )


@requires(perms.MANAGE_ALERTS)
@require_http_methods(["POST"])
def end_alert(request, prison_number: str, alert_id):
    prisoner = _prisoner_or_404(request, prison_number)
    try:
        alert = selectors.get_alert(prisoner, alert_id)
    except NotFound as error:
        raise Http404 from error
    services.end_alert(actor=request.user, alert=alert)
    return redirect("people:profile", prisoner.prison_number)
