"""Wing and cell views, and estate figures for HQ."""

from django.http import Http404
from django.shortcuts import render

from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import requires
from saferprisons.core.prison_context import choose_prison

from . import permissions as perms
from . import selectors


def _prison_or_404(request, code):
    try:
        prison = selectors.get_prison(request.user, code)
    except NotFound as error:
        raise Http404 from error
    choose_prison(request, prison)
    return prison


@requires(perms.VIEW_ESTATE)
def prison(request, code: str):
    prison = _prison_or_404(request, code)
    return render(
        request,
        "estate/prison.html",
        {"title": prison.name, "prison": prison, "wings": selectors.wing_summaries(prison)},
    )


@requires(perms.VIEW_ESTATE)
def wing(request, code: str, wing: str):
    prison = _prison_or_404(request, code)
    try:
        wing_location, rows = selectors.wing_cells(prison, wing)
    except NotFound as error:
        raise Http404 from error
    return render(
        request,
        "estate/wing.html",
        {
            "title": f"{prison.name} wing {wing_location.path}",
            "prison": prison,
            "wing": wing_location,
            "rows": rows,
        },
    )


@requires(perms.VIEW_AGGREGATES)
def overview(request):
    figures = selectors.estate_figures(request.user)
    return render(request, "estate/overview.html", {"title": "Estate figures", "figures": figures})
