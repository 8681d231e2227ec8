"""The wing safety board (page, live rows fragment, handover sheet), staff tasks, the safe-cell
report and the HQ counts. Thin: the selectors scope, audit and compute what is due."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from saferprisons.accounts.models import User
from saferprisons.core import clock
from saferprisons.core.errors import NotFound
from saferprisons.core.permissions import has_permission, requires
from saferprisons.core.prison_context import current_prison
from saferprisons.estate import permissions as estate_perms
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import Location, Prison

from .. import permissions as perms
from .. import selectors, services
from ..constants import REVIEW_DUE_KINDS, CaseStatus, DemandReason, DueKind, TaskAudience
from ..models import CaseReview, StaffTask, SupervisionPlan
from ..rules import Timings

# The rows region asks for fresh rows this often; the board must show a change within 5 s.
POLL_SECONDS = 3


# --- Helpers -----------------------------------------------------------------------------------


def _wings(prison: Prison) -> list[Location]:
    return list(
        Location.objects.filter(
            prison=prison, level=LocationLevel.WING, deactivated_at__isnull=True
        ).order_by("path")
    )


def _wing_or_404(prison: Prison, wing_code: str | None) -> str | None:
    """The wing's path if it is a wing of the current prison; None for the whole prison."""
    code = (wing_code or "").strip().upper()
    if not code:
        return None
    exists = Location.objects.filter(
        prison=prison, level=LocationLevel.WING, path=code, deactivated_at__isnull=True
    ).exists()
    if not exists:
        raise Http404("No such wing in this prison")
    return code


def _board_url(wing: str | None) -> str:
    return reverse("acct:wing_board", args=[wing]) if wing else reverse("acct:board")


def _rows_url(wing: str | None) -> str:
    url = reverse("acct:board_rows")
    return f"{url}?{urlencode({'wing': wing})}" if wing else url


def _shown_key(prison: Prison, wing: str | None) -> str:
    return f"acct_board:{prison.pk}:{wing or ''}"


def _board_or_404(
    request, prison: Prison, wing: str | None, *, poll: bool = False
) -> selectors.WingBoard:
    """A page load is always audited; a poll only when the people shown have changed since
    this session last saw the board (ADR 0010), so an open screen is not an audit flood."""
    try:
        board = selectors.wing_board(request.user, prison, wing, audit=False)
    except NotFound as error:
        raise Http404 from error
    shown = sorted(row.case.log_number for row in board.rows)
    key = _shown_key(prison, wing)
    if not poll or request.session.get(key) != shown:
        selectors.record_board_view(request.user, board)
        request.session[key] = shown
    return board


@dataclass(frozen=True)
class BoardSummary:
    """The counts at the top of the board (and read out, politely, when they change)."""

    people: int
    overdue_observations: int
    overdue_items: int
    due_soon: int
    reviews_overdue: int
    new_concerns: int
    safer_cell_warnings: int

    @classmethod
    def of(cls, board: selectors.WingBoard) -> BoardSummary:
        overdue = board.overdue_by_kind
        return cls(
            people=len(board.rows),
            overdue_observations=sum(
                1 for r in board.rows if any(i.kind == DueKind.OBSERVATION for i in r.overdue)
            ),
            overdue_items=board.overdue_count,
            due_soon=sum(len(r.due_soon) for r in board.rows),
            reviews_overdue=sum(n for kind, n in overdue.items() if kind in REVIEW_DUE_KINDS),
            new_concerns=sum(1 for r in board.rows if r.new_concern),
            safer_cell_warnings=sum(1 for r in board.rows if r.safer_cell_warning),
        )

    @property
    def sentence(self) -> str:
        people = f"{self.people} {'person' if self.people == 1 else 'people'} on the board"
        return (
            f"{people}. {self.overdue_items} overdue, {self.due_soon} due soon, "
            f"{self.safer_cell_warnings} at high risk not in a safer cell."
        )


def _monitoring_alerts(request, prison: Prison, board: selectors.WingBoard) -> dict:
    """Open monitoring alerts per person on the board (a tag on their row); one query."""
    from saferprisons.monitoring.selectors import open_alerts_by_person

    return open_alerts_by_person(request.user, prison, [r.case.prisoner_id for r in board.rows])


def _board_context(request, prison: Prison, wing: str | None, *, poll: bool = False) -> dict:
    board = _board_or_404(request, prison, wing, poll=poll)
    return {
        "monitoring_alerts": _monitoring_alerts(request, prison, board),
        "prison": prison,
        "wing": wing,
        "board": board,
        "summary": BoardSummary.of(board),
        "now": board.generated_at,
        "due_soon_minutes": int(Timings.from_settings().due_soon.total_seconds() // 60),
        "board_url": _board_url(wing),
        "rows_url": _rows_url(wing),
        "poll_seconds": POLL_SECONDS,
        "can_record": has_permission(request.user, perms.RECORD_ENTRY),
        "OPEN": CaseStatus.OPEN,
        "demand_reasons": dict(DemandReason.choices),
    }


def _render_board(request, wing_code: str | None):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    wing = _wing_or_404(prison, wing_code)
    context = _board_context(request, prison, wing)
    context.update(
        title=f"Safety board: {prison.name}" + (f" wing {wing}" if wing else ""),
        wings=_wings(prison),
        # e.g. "Observation recorded" after the entry form sends the officer back here.
        notices=list(messages.get_messages(request)),
    )
    return render(request, "acct/board.html", context)


# --- The board ---------------------------------------------------------------------------------


@requires(perms.VIEW_CASE)
@require_GET
def board(request):
    """The whole prison; the wing filter (a GET form) goes to the wing's own address."""
    wing_code = request.GET.get("wing", "").strip()
    if wing_code:
        prison = current_prison(request)
        if prison is None:
            return redirect("core:choose-prison")
        return redirect("acct:wing_board", _wing_or_404(prison, wing_code))
    return _render_board(request, None)


@requires(perms.VIEW_CASE)
@require_GET
def wing_board(request, wing_code: str):
    return _render_board(request, wing_code)


@requires(perms.VIEW_CASE)
@require_GET
def board_rows(request):
    """Only the live region (summary and rows), for the page's poll. See ADR 0010 for how the
    polls are audited."""
    prison = current_prison(request)
    if prison is None:
        raise Http404("Choose a prison first")
    wing = _wing_or_404(prison, request.GET.get("wing"))
    context = _board_context(request, prison, wing, poll=True)
    # Without the request: the fragment needs none of the layout's context (navigation, worker
    # status), so each poll skips those queries.
    response = HttpResponse(render_to_string("acct/board_rows.html", context))
    # The page shows when the board was last brought up to date (outside the swapped region,
    # so an unchanged board is not swapped and screen readers are not re-read the table).
    response["X-Board-Updated"] = clock.local(context["now"]).strftime("%H:%M:%S")
    response["Cache-Control"] = "no-store"
    return response


# --- Handover sheet ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoverRow:
    row: selectors.BoardRow
    plan: SupervisionPlan | None
    review: CaseReview | None


@requires(perms.VIEW_CASE)
@require_GET
def handover(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    wing = _wing_or_404(prison, request.GET.get("wing"))
    context = _board_context(request, prison, wing)
    rows = context["board"].rows
    # The board's cases carry the ids of their plan in force and latest review (facts.py);
    # two more queries, whatever the number of rows.
    plans = SupervisionPlan.objects.in_bulk([r.case.plan_id for r in rows if r.case.plan_id])
    reviews = CaseReview.objects.select_related("case_manager").in_bulk(
        [r.case.latest_review_id for r in rows if r.case.latest_review_id]
    )
    context.update(
        title=f"Shift handover: {prison.name}" + (f" wing {wing}" if wing else ""),
        rows=[
            HandoverRow(r, plans.get(r.case.plan_id), reviews.get(r.case.latest_review_id))
            for r in rows
        ],
    )
    return render(request, "acct/handover.html", context)


# --- Tasks -------------------------------------------------------------------------------------


@requires(perms.VIEW_CASE)
@require_GET
def tasks(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    audience = request.GET.get("audience", "")
    if audience not in TaskAudience.values:
        audience = ""
    try:
        open_tasks = selectors.open_tasks(request.user, prison, audience=audience or None)
    except NotFound as error:
        raise Http404 from error
    prefetch_related_objects(open_tasks, "case__prisoner")
    return render(
        request,
        "acct/tasks.html",
        {
            "title": f"ACCT tasks: {prison.name}",
            "prison": prison,
            "tasks": open_tasks,
            "audience": audience,
            "audiences": TaskAudience.choices,
            "now": clock.now(),
            "can_complete": has_permission(request.user, perms.MANAGE_CASE),
            "notices": list(messages.get_messages(request)),
        },
    )


@requires(perms.MANAGE_CASE)
@require_POST
def complete_task(request, task_id):
    task = StaffTask.objects.filter(public_id=task_id).first()
    if task is None:
        raise Http404("No such task")
    try:
        done = services.complete_task(actor=request.user, task=task)
    except NotFound as error:  # another prison's task: as if it did not exist
        raise Http404 from error
    messages.success(request, f"Done: {done.title}")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("acct:tasks")


# --- Reports -----------------------------------------------------------------------------------


@requires(perms.VIEW_CASE)
@require_GET
def safe_cells(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    try:
        report = selectors.safe_cell_report(request.user, prison)
    except NotFound as error:
        raise Http404 from error
    certifier_ids = {r.cell.ligature_certified_by_id for r in report.rows}
    certifiers = User.objects.in_bulk([i for i in certifier_ids if i])
    return render(
        request,
        "acct/safe_cells.html",
        {
            "title": f"Safe cells: {prison.name}",
            "prison": prison,
            "report": report,
            "certifiers": certifiers,
        },
    )


REVIEW_COLUMN = "REVIEWS"
ESTATE_COLUMNS = (
    (DueKind.OBSERVATION, "Observations"),
    (DueKind.CONVERSATION, "Conversations"),
    (DueKind.IAP, "Immediate Action Plans"),
    (DueKind.ASSESSMENT, "Assessments"),
    (REVIEW_COLUMN, "Case reviews"),
)


@dataclass(frozen=True)
class EstateRow:
    prison_code: str
    prison_name: str
    live_cases: int
    overdue: dict[str, int]
    overdue_total: int


@requires(estate_perms.VIEW_AGGREGATES)
@require_GET
def estate(request):
    """Counts per prison across the estate: never names or prison numbers."""
    counts = selectors.estate_overdue_counts(request.user)
    names = dict(Prison.objects.values_list("code", "name"))
    rows = []
    totals: Counter = Counter()
    for c in counts:
        overdue = {kind: c.overdue.get(kind, 0) for kind, _ in ESTATE_COLUMNS[:-1]}
        overdue[REVIEW_COLUMN] = sum(c.overdue.get(kind, 0) for kind in REVIEW_DUE_KINDS)
        rows.append(
            EstateRow(
                c.prison_code,
                names.get(c.prison_code, ""),
                c.live_cases,
                overdue,
                sum(overdue.values()),
            )
        )
        totals.update(overdue)
        totals["live"] += c.live_cases
    return render(
        request,
        "acct/estate.html",
        {
            "title": "ACCT figures across the estate",
            "rows": rows,
            "columns": ESTATE_COLUMNS,
            "totals": totals,
            "total_overdue": sum(r.overdue_total for r in rows),
            "now": clock.now(),
        },
    )
