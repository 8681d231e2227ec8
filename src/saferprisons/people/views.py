"""Staff pages for people: search, profile, case notes, cell moves, alerts. Thin: forms check
shape, services and selectors do the rest."""

from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from saferprisons.core.errors import DomainError, NotFound
from saferprisons.core.permissions import has_permission, requires
from saferprisons.core.prison_context import current_prison
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import Location

from . import permissions as perms
from . import selectors, services
from .forms import AlertForm, CaseNoteForm, CellMoveForm, SearchForm, error_list
from .models import AlertCode


def _prisoner_or_404(request, prison_number: str, *, audit_view: bool = False):
    try:
        return selectors.get_prisoner(request.user, prison_number, audit_view=audit_view)
    except NotFound as error:
        raise Http404 from error


def _domain_errors(error: DomainError) -> list[dict]:
    return [{"text": error.message, "href": f"#{error.field or 'main-content'}"}]


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
    return render(
        request,
        "people/profile.html",
        {
            "title": data.prisoner.display_name,
            "profile": data,
            "can_move": has_permission(request.user, perms.MOVE_PRISONER),
            "can_alert": has_permission(request.user, perms.MANAGE_ALERTS),
            "can_note": has_permission(request.user, perms.ADD_CASE_NOTE),
        },
    )


@requires(perms.ADD_CASE_NOTE)
@require_http_methods(["GET", "POST"])
def add_case_note(request, prison_number: str):
    prisoner = _prisoner_or_404(request, prison_number)
    form = CaseNoteForm(request.POST or None)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_case_note(actor=request.user, prisoner=prisoner, **form.cleaned_data)
            except DomainError as error:
                errors = _domain_errors(error)
            else:
                return redirect("people:profile", prisoner.prison_number)
        else:
            errors = error_list(form)
    return render(
        request,
        "people/case_note_form.html",
        {
            "title": "Add a case note",
            "prisoner": prisoner,
            "form": form,
            "errors": errors,
            "can_write_health": has_permission(request.user, perms.ADD_HEALTH_NOTE),
        },
        status=400 if errors else 200,
    )


@requires(perms.MOVE_PRISONER)
@require_http_methods(["GET", "POST"])
def move_cell(request, prison_number: str):
    prisoner = _prisoner_or_404(request, prison_number)
    form = CellMoveForm(request.POST or None)
    errors = []
    free_cells = (
        Location.objects.filter(
            prison_id=prisoner.prison_id, level=LocationLevel.CELL, deactivated_at__isnull=True
        )
        .filter(occupied__lt=F("working_capacity"))
        .order_by("path")
    )
    if request.method == "POST":
        if form.is_valid():
            cell = Location.objects.filter(
                prison_id=prisoner.prison_id, path=form.cleaned_data["cell"].strip().upper()
            ).first()
            try:
                if cell is None:
                    raise NotFound("Choose a cell in this prison", field="cell")
                services.allocate_cell(
                    actor=request.user,
                    prisoner=prisoner,
                    cell=cell,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                errors = _domain_errors(error)
            else:
                return redirect("people:profile", prisoner.prison_number)
        else:
            errors = error_list(form)
    return render(
        request,
        "people/move_form.html",
        {
            "title": "Move to another cell",
            "prisoner": prisoner,
            "form": form,
            "free_cells": free_cells[:300],
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@requires(perms.MANAGE_ALERTS)
@require_http_methods(["GET", "POST"])
def add_alert(request, prison_number: str):
    prisoner = _prisoner_or_404(request, prison_number)
    form = AlertForm(request.POST or None)
    errors = []
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_alert(actor=request.user, prisoner=prisoner, **form.cleaned_data)
            except DomainError as error:
                errors = _domain_errors(error)
            else:
                return redirect("people:profile", prisoner.prison_number)
        else:
            errors = error_list(form)
    return render(
        request,
        "people/alert_form.html",
        {
            "title": "Add an alert",
            "prisoner": prisoner,
            "form": form,
            "codes": AlertCode.objects.active().select_related("alert_type"),
            "errors": errors,
        },
        status=400 if errors else 200,
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
