"""Measures of whether monitoring helps (with CSV export) and the ingest operations page.

Thin: ``monitoring.measures`` scopes, computes and audits. Measures are for staff who see
monitoring alerts (their prisons) and for whoever sees estate-wide counts (every prison); both
are counts only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from saferprisons.acct.forms import parse_date
from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import SIGNED_IN, requires
from saferprisons.core.prison_context import current_prison
from saferprisons.estate import permissions as estate_perms
from saferprisons.estate.models import Prison

from .. import measures
from .. import permissions as perms
from ..constants import AlertOutcome, Priority, RuleKind

DATE_PARTS = ("day", "month", "year")
ALL_PRISONS = "ALL"


def requires_measures(view):
    """Sign-in, then monitoring alerts (own prisons) or estate-wide counts (every prison):
    ``core.permissions.requires`` takes one permission, these pages take either."""

    @requires(SIGNED_IN)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not measures.can_view_measures(request.user):
            from saferprisons.core.views import forbidden

            return forbidden(request)
        return view(request, *args, **kwargs)

    wrapped.declared_permission = f"{perms.VIEW_ALERTS} or {estate_perms.VIEW_AGGREGATES}"
    return wrapped


# --- The filter: prison and period -------------------------------------------------------------


@dataclass
class MeasuresFilter:
    prisons: list[Prison]
    prison: Prison | None  # None: every prison in scope that took part
    period: measures.Period | None
    typed: dict[str, str]  # what the date boxes show
    errors: list[dict] = field(default_factory=list)

    @property
    def query(self) -> str:
        """The filter as a query string (for the CSV link)."""
        values = {"prison": self.prison.code if self.prison else ALL_PRISONS, **self.typed}
        return urlencode(values)


def _typed_dates(period: measures.Period) -> dict[str, str]:
    typed = {}
    for prefix, day in (("from", period.first), ("to", period.last)):
        typed.update({f"{prefix}_day": str(day.day), f"{prefix}_month": str(day.month)})
        typed[f"{prefix}_year"] = str(day.year)
    return typed


def _read_filter(request) -> MeasuresFilter:
    """The prison and period asked for. An unknown or out-of-scope prison is Http404; dates that
    are not real or make no period are errors for the summary."""
    user = request.user
    prisons = measures.measures_prisons(user)
    asked = request.GET.get("prison")
    if asked is None:
        chosen = current_prison(request)
        prison = chosen if chosen is not None and chosen in prisons else None
    elif asked in ("", ALL_PRISONS):
        prison = None
    else:
        try:
            prison = measures.measures_prison(user, asked.strip())
        except NotFound as error:
            raise Http404 from error

    names = [f"{prefix}_{part}" for prefix in ("from", "to") for part in DATE_PARTS]
    if not any(request.GET.get(name) for name in names):
        period = measures.default_period()
        return MeasuresFilter(prisons, prison, period, _typed_dates(period))

    typed = {name: (request.GET.get(name) or "").strip()[:10] for name in names}
    errors = []
    days = {}
    for prefix, what in (("from", "start date"), ("to", "end date")):
        try:
            days[prefix] = parse_date(*(typed[f"{prefix}_{part}"] for part in DATE_PARTS), what)
        except ValueError as error:
            errors.append({"text": str(error), "href": f"#{prefix}_day"})
    period = None
    if not errors:
        period = measures.Period(days["from"], days["to"])
        problems = measures.period_problems(period, clock.today_london())
        errors = [{"text": text, "href": f"#{name}"} for name, text in problems]
        if errors:
            period = None
    return MeasuresFilter(prisons, prison, period, typed, errors)


def _error_page(request, chosen: MeasuresFilter):
    return render(
        request,
        "monitoring/report_measures.html",
        _context(chosen, report=None),
        status=400,
    )


def _context(chosen: MeasuresFilter, report) -> dict:
    return {
        "title": "Monitoring measures",
        "filter": chosen,
        "errors": chosen.errors,
        "report": report,
        "all_prisons": ALL_PRISONS,
        "rule_names": dict(RuleKind.choices),
        # "High", not "High (immediate response)": the table is narrow.
        "priority_names": {value: label.split(" (")[0] for value, label in Priority.choices},
        "outcomes": AlertOutcome.choices,
        "night_starts": measures.NIGHT_STARTS,
        "night_ends": measures.NIGHT_ENDS,
    }


@requires_measures
@require_GET
def measures_page(request):
    chosen = _read_filter(request)
    if chosen.errors:
        return _error_page(request, chosen)
    report = measures.measures_report(request.user, period=chosen.period, prison=chosen.prison)
    return render(request, "monitoring/report_measures.html", _context(chosen, report))


@requires_measures
@require_GET
def measures_csv(request):
    chosen = _read_filter(request)
    if chosen.errors:
        return _error_page(request, chosen)
    report = measures.measures_report(
        request.user, period=chosen.period, prison=chosen.prison, export=True
    )
    which = chosen.prison.code if chosen.prison else "all-prisons"
    filename = (
        f"monitoring-measures-{which}-{chosen.period.first.isoformat()}"
        f"-to-{chosen.period.last.isoformat()}.csv"
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    csv.writer(response).writerows(measures.csv_rows(report))
    return response


# --- Ingest operations -------------------------------------------------------------------------


@requires(perms.VIEW_OPERATIONS)
@require_GET
def operations(request):
    report = measures.operations_report(request.user)
    return render(
        request,
        "monitoring/operations.html",
        {"title": "Monitoring ingest operations", "report": report},
    )
