"""One person's ACCT pages: the summary and timeline, and a form for each action. Thin: forms
check shape, services check the rules and write, selectors scope and audit the reads."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from saferprisons.accounts.models import TrainingRecord
from saferprisons.core import clock
from saferprisons.core.errors import Conflict, NotFound
from saferprisons.core.forms import field_errors, posted, run_form_action
from saferprisons.core.permissions import has_permission, requires
from saferprisons.people import permissions as people_perms

from .. import forms as acct_forms
from .. import permissions as perms
from .. import selectors, services
from ..constants import (
    ASSESSOR_COURSE,
    CaremapStatus,
    CaseStatus,
    ConcernEffect,
    DemandReason,
    Discipline,
    EntryKind,
    RiskLevel,
)

# Where the services' field names are shown on the pages (the first box of a date input, ...).
ANCHORS = {
    "occurred_at": "occurred_time",
    "interviewed_at": "interviewed_time",
    "next_review": "next_review_day",
    "review": "main-content",
    "held_at": "main-content",
}


# --- Helpers -----------------------------------------------------------------------------------


def _summary(request, prison_number: str) -> selectors.CaseSummary:
    """The person's ACCT summary (scoped and audited as a view of the case), or 404."""
    try:
        return selectors.case_summary_for(request.user, prison_number)
    except NotFound as error:
        raise Http404 from error


def _with_case(request, prison_number: str) -> selectors.CaseSummary:
    summary = _summary(request, prison_number)
    if summary.case is None:
        raise Http404("No ACCT for this person")
    return summary


def _case_url(summary: selectors.CaseSummary) -> str:
    return reverse("acct:case", args=[summary.prisoner.prison_number])


def _anchored(errors: list[dict]) -> list[dict]:
    return [
        {**error, "href": "#" + ANCHORS.get(error["href"][1:], error["href"][1:])}
        for error in errors
    ]


def _form_page(
    request,
    summary: selectors.CaseSummary,
    form,
    action: Callable[[dict], object],
    *,
    template: str,
    title: str,
    done: Callable[[object], tuple[str, str]],
    context: dict | None = None,
):
    """GET shows the form. POST runs the service; on success shows ``done``'s message at its
    address, else the form again with the GOV.UK error summary (400) and nothing changed."""
    errors: list[dict] = []
    if request.method == "POST":
        outcome: dict = {}
        errors = _anchored(run_form_action(form, lambda data: outcome.update(result=action(data))))
        if not errors:
            message, address = done(outcome["result"])
            if message:
                messages.success(request, message)
            return redirect(address)
    page = {
        "title": title,
        "summary": summary,
        "prisoner": summary.prisoner,
        "case": summary.case,
        "form": form,
        "errors": errors,
        "err": field_errors(errors),
        "case_url": _case_url(summary),
        "now": clock.now(),
        **(context or {}),
    }
    return render(request, template, page, status=400 if errors else 200)


def _safe_next(request, address: str) -> str | None:
    """``address`` if it is a path on this site (never another site), else None."""
    address = (address or "").strip()
    if not address.startswith("/") or address.startswith("//"):
        return None
    if not url_has_allowed_host_and_scheme(
        address, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return address


def _at(moment) -> str:
    return clock.local(moment).strftime("%d/%m/%Y %H:%M")


def _can(request, permission: str) -> bool:
    return has_permission(request.user, permission)


# --- The summary and timeline ------------------------------------------------------------------


@requires(perms.VIEW_CASE)
@require_GET
def case(request, prison_number: str):
    summary = _summary(request, prison_number)
    timeline = []
    options = []
    if summary.case is not None:
        timeline = list(reversed(selectors.case_timeline(request.user, prison_number)))
        if summary.safer_cell_warning:
            options = selectors.safer_cell_options(summary.prisoner.prison, summary.prisoner)
    name = summary.prisoner.display_name
    return render(
        request,
        "acct/case.html",
        {
            "title": f"ACCT: {name}",
            "summary": summary,
            "prisoner": summary.prisoner,
            "case": summary.case,
            "timeline": timeline,
            "safer_cells": options,
            "now": clock.now(),
            "notices": list(messages.get_messages(request)),
            "can_raise": _can(request, perms.RAISE_CONCERN),
            "can_record": _can(request, perms.RECORD_ENTRY),
            "can_manage": _can(request, perms.MANAGE_CASE),
            "can_move": _can(request, people_perms.MOVE_PRISONER),
            "OPEN": CaseStatus.OPEN,
            "POST_CLOSURE": CaseStatus.POST_CLOSURE,
            "demand_reasons": dict(DemandReason.choices),
        },
    )


# --- Concern and Keep Safe ---------------------------------------------------------------------

CONCERN_BANNERS = {
    ConcernEffect.OPENED: "ACCT opened. Log number {log}",
    ConcernEffect.RECORDED: "Concern recorded on the open ACCT, log number {log}",
    ConcernEffect.REOPENED: "ACCT reopened. Log number {log}",
}


@requires(perms.RAISE_CONCERN)
@require_http_methods(["GET", "POST"])
def raise_concern(request, prison_number: str):
    summary = _summary(request, prison_number)
    return _form_page(
        request,
        summary,
        acct_forms.ConcernForm(posted(request)),
        lambda data: services.raise_concern(actor=request.user, prisoner=summary.prisoner, **data),
        template="acct/case_concern.html",
        title="Raise a concern",
        done=lambda concern: (
            CONCERN_BANNERS[concern.effect].format(log=concern.case.log_number),
            _case_url(summary),
        ),
    )


# --- Immediate Action Plan and assessment ------------------------------------------------------


@requires(perms.RECORD_ENTRY)
@require_http_methods(["GET", "POST"])
def record_iap(request, prison_number: str):
    summary = _with_case(request, prison_number)
    form = acct_forms.IapForm(
        posted(request), initial={"supervision": acct_forms.SupervisionChoice.NONE}
    )
    return _form_page(
        request,
        summary,
        form,
        lambda data: services.record_iap(
            actor=request.user,
            case=summary.case,
            plan=data["plan"],
            supervision=data["supervision_levels"],
        ),
        template="acct/case_iap.html",
        title="Immediate Action Plan",
        done=lambda iap: ("Immediate Action Plan recorded", _case_url(summary)),
    )


@requires(perms.RECORD_ENTRY)
@require_http_methods(["GET", "POST"])
def record_assessment(request, prison_number: str):
    summary = _with_case(request, prison_number)
    form = acct_forms.AssessmentForm(
        posted(request), initial=acct_forms.date_initial("interviewed", clock.now())
    )
    trained = (
        TrainingRecord.current_for(request.user, ASSESSOR_COURSE, clock.today_london()) is not None
    )
    return _form_page(
        request,
        summary,
        form,
        lambda data: services.record_assessment(
            actor=request.user,
            case=summary.case,
            summary=data["summary"],
            interviewed_at=data["interviewed_at"],
        ),
        template="acct/case_assessment.html",
        title="Assessment interview",
        done=lambda assessment: ("Assessment interview recorded", _case_url(summary)),
        context={"trained": trained},
    )


# --- Case reviews ------------------------------------------------------------------------------


def _attendee_context() -> dict:
    return {"disciplines": Discipline.choices, "PERSON": Discipline.PERSON}


@requires(perms.MANAGE_CASE)
@require_http_methods(["GET", "POST"])
def hold_review(request, prison_number: str):
    summary = _with_case(request, prison_number)
    review = summary.latest_review
    staff = acct_forms.staff_of(summary.case.prison)
    initial = {
        "expected_version": summary.case.version,
        "supervision": acct_forms.SupervisionChoice.KEEP if summary.plan else "",
        **acct_forms.supervision_initial(summary.plan),
    }
    if review is not None:
        initial.update(
            case_manager=str(review.case_manager.public_id) if review.case_manager else "",
            case_coordinator=(
                str(review.case_coordinator.public_id) if review.case_coordinator else ""
            ),
            risk_level=review.risk_level,
            triggers=review.triggers,
            warning_signs=review.warning_signs,
            protective_factors=review.protective_factors,
        )
    form = acct_forms.ReviewForm(
        posted(request),
        initial=initial,
        caremap=summary.caremap,
        staff=staff,
        has_plan=summary.plan is not None,
        person_name=summary.prisoner.display_name,
    )

    def hold(data):
        return services.hold_review(
            actor=request.user,
            case=summary.case,
            expected_version=data["expected_version"],
            attendees=data["attendee_list"],
            risk_level=data["risk_level"],
            next_review_at=data["next_review_at"],
            supervision=data["supervision_levels"],
            case_manager=data["case_manager"],
            case_coordinator=data["case_coordinator"],
            triggers=data["triggers"],
            warning_signs=data["warning_signs"],
            protective_factors=data["protective_factors"],
            notes=data["notes"],
            caremap_new=data["caremap_new"],
            caremap_updates=data["caremap_updates"],
            family_consent=data["family_consent"],
            close=data["close"],
            closure_reason=data["closure_reason"],
        )

    def done(held):
        if held.outcome == "CLOSE":
            return (
                f"Case review recorded. ACCT {summary.case.log_number} is closed: the "
                "post-closure review is now due",
                _case_url(summary),
            )
        return (
            f"Case review recorded. Next review {_at(held.next_review_at)}",
            _case_url(summary),
        )

    return _form_page(
        request,
        summary,
        form,
        hold,
        template="acct/case_review.html",
        title="Case review",
        done=done,
        context={
            **_attendee_context(),
            "risk_levels": RiskLevel.choices,
            "caremap_statuses": CaremapStatus.choices,
            "new_rows": range(acct_forms.NEW_CAREMAP_ROWS),
            "stale": request.method == "POST"
            and str(summary.case.version) != request.POST.get("expected_version", ""),
        },
    )


@requires(perms.MANAGE_CASE)
@require_http_methods(["GET", "POST"])
def post_closure_review(request, prison_number: str):
    summary = _with_case(request, prison_number)
    form = acct_forms.PostClosureReviewForm(
        posted(request),
        initial={"expected_version": summary.case.version},
        person_name=summary.prisoner.display_name,
    )

    def complete(data):
        return services.complete_post_closure_review(
            actor=request.user,
            case=summary.case,
            expected_version=data["expected_version"],
            notes=data["notes"],
            attendees=data["attendee_list"],
            family_consent=data["family_consent"],
        )

    return _form_page(
        request,
        summary,
        form,
        complete,
        template="acct/case_post_closure_review.html",
        title="Post-closure review",
        done=lambda review: (
            f"Post-closure review recorded. ACCT {summary.case.log_number} is closed"
            if review is not None
            else "The post-closure review had already been completed",
            _case_url(summary),
        ),
        context=_attendee_context(),
    )


@requires(perms.MANAGE_CASE)
@require_http_methods(["GET", "POST"])
def reopen(request, prison_number: str):
    summary = _with_case(request, prison_number)

    def reopen_case(data):
        if summary.case.status == CaseStatus.OPEN:
            # The service would change nothing: say so rather than pretend it reopened.
            raise Conflict("This ACCT is already open", field="reason")
        return services.reopen_case(actor=request.user, case=summary.case, reason=data["reason"])

    return _form_page(
        request,
        summary,
        acct_forms.ReopenForm(posted(request)),
        reopen_case,
        template="acct/case_reopen.html",
        title="Reopen the ACCT",
        done=lambda case: (f"ACCT {case.log_number} reopened", _case_url(summary)),
    )


# --- Observations and conversations ------------------------------------------------------------


@requires(perms.RECORD_ENTRY)
@require_http_methods(["GET", "POST"])
def record_entry(request, prison_number: str):
    summary = _with_case(request, prison_number)
    asked_kind = request.GET.get("kind", "").upper()
    kind = asked_kind if asked_kind in EntryKind.values else ""
    back = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    form = acct_forms.EntryForm(
        posted(request),
        initial={
            "kind": kind,
            "next": back or "",
            **acct_forms.date_initial("occurred", clock.now()),
        },
    )
    can_health = _can(request, people_perms.ADD_HEALTH_NOTE)

    def record(data):
        return services.record_entry(
            actor=request.user,
            case=summary.case,
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            seen_or_spoken_to=data["seen_or_spoken_to"] == "yes",
            presentation=data["presentation"],
            concerns=data["concerns"],
            health=data["health"],
        )

    def done(entry):
        message = (
            f"{entry.get_kind_display()} recorded for {summary.prisoner.display_name} at "
            f"{clock.local(entry.occurred_at):%H:%M}"
        )
        return message, back or _case_url(summary)

    posted_kind = form["kind"].value() or kind
    return _form_page(
        request,
        summary,
        form,
        record,
        template="acct/case_entry.html",
        title=(
            f"Record {EntryKind(posted_kind).label.lower()}"
            if posted_kind in EntryKind.values
            else "Record an observation or conversation"
        ),
        done=done,
        context={
            "kind": posted_kind if posted_kind in EntryKind.values else "",
            "fixed_kind": bool(kind),
            "kinds": EntryKind.choices,
            "can_health": can_health,
            "back_url": back or _case_url(summary),
        },
    )


@requires(perms.RECORD_ENTRY)
@require_http_methods(["GET", "POST"])
def correct_entry(request, prison_number: str, entry_id):
    summary = _with_case(request, prison_number)
    try:
        entry = selectors.get_entry(request.user, summary.case, entry_id)
    except NotFound as error:
        raise Http404 from error
    form = acct_forms.CorrectionForm(
        posted(request),
        initial={
            "seen_or_spoken_to": "yes" if entry.seen_or_spoken_to else "no",
            "presentation": entry.presentation,
            "concerns": entry.concerns,
        },
    )
    return _form_page(
        request,
        summary,
        form,
        lambda data: services.correct_entry(
            actor=request.user,
            entry=entry,
            presentation=data["presentation"],
            concerns=data["concerns"],
            seen_or_spoken_to=data["seen_or_spoken_to"] == "yes",
        ),
        template="acct/case_correct_entry.html",
        title=f"Correct the {entry.get_kind_display().lower()} of {_at(entry.occurred_at)}",
        done=lambda correction: (
            f"Correction recorded for the {entry.get_kind_display().lower()} of "
            f"{_at(entry.occurred_at)}",
            _case_url(summary),
        ),
        context={"entry": entry},
    )


# --- Review demands and safer cells ------------------------------------------------------------


@requires(perms.RECORD_ENTRY)
@require_http_methods(["GET", "POST"])
def demand_review(request, prison_number: str):
    summary = _with_case(request, prison_number)
    return _form_page(
        request,
        summary,
        acct_forms.DemandForm(posted(request)),
        lambda data: services.demand_review(actor=request.user, case=summary.case, **data),
        template="acct/case_demand_review.html",
        title="Ask for a case review",
        done=lambda demand: (
            f"Case review requested: due by {_at(demand.due_at)}",
            _case_url(summary),
        ),
        context={"reasons": acct_forms.STAFF_DEMAND_REASONS},
    )


@requires(perms.MANAGE_CASE)
@require_http_methods(["GET", "POST"])
def safer_cell_decision(request, prison_number: str):
    summary = _with_case(request, prison_number)
    options = selectors.safer_cell_options(summary.prisoner.prison, summary.prisoner)
    return _form_page(
        request,
        summary,
        acct_forms.SaferCellDecisionForm(posted(request)),
        lambda data: services.record_safer_cell_decision(
            actor=request.user, case=summary.case, reason=data["reason"]
        ),
        template="acct/case_safer_cell_decision.html",
        title="Record why the person is not moved to a safer cell",
        done=lambda decision: ("Safer-cell decision recorded", _case_url(summary)),
        context={
            "safer_cells": options,
            "can_move": _can(request, people_perms.MOVE_PRISONER),
        },
    )
