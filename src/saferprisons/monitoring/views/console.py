"""The live monitoring console and responding to an alert: the console page and its polled rows
fragment, one alert's page, acknowledge, reset, resolve with an outcome, the in-app
notifications for the user's roles, and the prison's escalation chain (managers).

Thin: selectors scope and audit the reads, services check and write. The console is audited once
per page and again only when the set of alerts shown changes (as the wing board, ADR 0010).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from saferprisons.accounts.roles import ROLES
from saferprisons.core import clock
from saferprisons.core.errors import DomainError, NotFound, ValidationFailed
from saferprisons.core.forms import domain_error_list, field_errors, run_form_action
from saferprisons.core.permissions import has_permission, requires
from saferprisons.core.prison_context import current_prison
from saferprisons.jobs.selectors import worker_status

from .. import permissions as perms
from .. import selectors, services
from ..constants import (
    ESCALATION_ROLES,
    MAX_ESCALATION_STEPS,
    NOT_SUPERVISION_NOTICE,
    REASON_MAX_LENGTH,
    AlertOutcome,
    AlertStatus,
    EscalationStatus,
    Priority,
)
from ..escalation import DEFAULT_CHAIN, StepSpec
from ..models import Alert

# The rows ask for fresh alerts this often: an alert must show within 4 s of its reading.
POLL_SECONDS = 2
SHOWN_KEY = "monitoring_console:{prison}"


# --- Helpers -----------------------------------------------------------------------------------


def role_name(code: str) -> str:
    role = ROLES.get(code)
    return role.name if role else code


def _prison_or_404(request):
    prison = current_prison(request)
    if prison is None:
        raise Http404("Choose a prison first")
    return prison


def _alert_or_404(request, alert_id) -> Alert:
    alert = selectors.alerts_visible_to(request.user).filter(public_id=alert_id).first()
    if alert is None:
        raise Http404("No such alert in your prisons")
    return alert


def _safe_next(request, address: str | None) -> str | None:
    address = (address or "").strip()
    if not address.startswith("/") or address.startswith("//"):
        return None
    if not url_has_allowed_host_and_scheme(
        address, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return address


def _summary(rows: list[selectors.ConsoleAlert]) -> str:
    if not rows:
        return "No open monitoring alerts."
    by_priority = Counter(row.alert.priority for row in rows)
    waiting = sum(1 for row in rows if row.alert.status == AlertStatus.OPEN)
    count = len(rows)
    return (
        f"{count} open monitoring alert{'s' if count != 1 else ''}: "
        f"{by_priority[Priority.HIGH]} high priority, {by_priority[Priority.MEDIUM]} medium, "
        f"{by_priority[Priority.LOW]} low. {waiting} not yet acknowledged."
    )


def _common(request) -> dict:
    return {
        "notice": NOT_SUPERVISION_NOTICE,
        "role_name": role_name,
        "can_respond": has_permission(request.user, perms.RESPOND),
        "can_configure": has_permission(request.user, perms.CONFIGURE_RULES),
        "can_enrol": has_permission(request.user, perms.MANAGE_ENROLMENT),
        "AlertStatus": AlertStatus,
        "EscalationStatus": EscalationStatus,
        "HIGH": Priority.HIGH,
        "console_url": reverse("monitoring:console"),
    }


def _console_context(request, prison, *, poll: bool) -> dict:
    try:
        rows = selectors.console_alerts(request.user, prison)
    except NotFound as error:
        raise Http404 from error
    shown = sorted(str(row.alert.public_id) for row in rows)
    key = SHOWN_KEY.format(prison=prison.pk)
    if not poll or request.session.get(key) != shown:
        selectors.record_console_view(request.user, prison, rows)
        request.session[key] = shown
    return {
        **_common(request),
        "prison": prison,
        "rows": rows,
        "summary": _summary(rows),
        "now": clock.now(),
        "rows_url": reverse("monitoring:console_rows"),
        "poll_seconds": POLL_SECONDS,
        "worker": worker_status(),
        "csrf_token": get_token(request),
    }


# --- The console -------------------------------------------------------------------------------


@requires(perms.VIEW_ALERTS)
@require_GET
def console(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    context = _console_context(request, prison, poll=False)
    context.update(
        title=f"Monitoring console: {prison.name}",
        notices=list(messages.get_messages(request)),
    )
    return render(request, "monitoring/console.html", context)


@requires(perms.VIEW_ALERTS)
@require_GET
def console_rows(request):
    """Only the live region, for the page's poll. Rendered without the layout's context
    processors (no navigation queries) so each poll stays cheap."""
    prison = _prison_or_404(request)
    context = _console_context(request, prison, poll=True)
    response = HttpResponse(render_to_string("monitoring/console_rows.html", context))
    response["X-Console-Updated"] = clock.local(context["now"]).strftime("%H:%M:%S")
    response["Cache-Control"] = "no-store"
    return response


# --- One alert ---------------------------------------------------------------------------------


def _alert_page(request, alert_id, *, errors=None, status=200, form=None, template=None):
    try:
        row, readings = selectors.alert_detail(request.user, alert_id)
    except NotFound as error:
        raise Http404 from error
    alert = row.alert
    errors = errors or []
    return render(
        request,
        template or "monitoring/alert.html",
        {
            **_common(request),
            "title": f"{alert.get_rule_display()}: cell {alert.cell.path}",
            "row": row,
            "alert": alert,
            "readings": readings,
            "form": form or ResolveForm(),
            "outcomes": AlertOutcome.choices,
            "errors": errors,
            "err": field_errors(errors),
            "now": clock.now(),
            "notices": list(messages.get_messages(request)),
            "can_resolve": alert.status in (AlertStatus.RESET,)
            or (alert.priority != Priority.HIGH and alert.status != AlertStatus.RESOLVED),
        },
        status=status,
    )


@requires(perms.VIEW_ALERTS)
@require_GET
def alert(request, alert_id):
    return _alert_page(request, alert_id)


def _respond(request, alert_id, action: Callable, done: str):
    target = _alert_or_404(request, alert_id)
    try:
        action(actor=request.user, alert=target)
    except DomainError as error:
        errors = [{"text": error.message, "href": "#actions"}]
        return _alert_page(request, alert_id, errors=errors, status=error.status_code)
    messages.success(request, f"{done}: {target.get_rule_display()}, cell {target.cell.path}")
    return redirect(_safe_next(request, request.POST.get("next")) or "monitoring:console")


@requires(perms.RESPOND)
@require_POST
def acknowledge(request, alert_id):
    return _respond(request, alert_id, services.acknowledge_alert, "Acknowledged")


@requires(perms.RESPOND)
@require_POST
def reset(request, alert_id):
    return _respond(request, alert_id, services.reset_alert, "Reset")


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=AlertOutcome.choices,
        error_messages={
            "required": "Choose what was found",
            "invalid_choice": "Choose what was found",
        },
    )
    note = forms.CharField(
        required=False,
        max_length=REASON_MAX_LENGTH,
        error_messages={"max_length": f"The note must be {REASON_MAX_LENGTH} characters or fewer"},
    )


RESOLVED_BANNERS = {
    AlertOutcome.SELF_HARM_FOUND: (
        "Resolved: self-harm found. An incident must be reported"
        "{acct}. Record it in the incident reporting system."
    ),
}


@requires(perms.RESPOND)
@require_http_methods(["GET", "POST"])
def resolve(request, alert_id):
    target = _alert_or_404(request, alert_id)
    form = ResolveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        outcome: dict = {}

        def act(data):
            outcome["alert"] = services.resolve_alert(
                actor=request.user, alert=target, outcome=data["outcome"], note=data["note"]
            )

        errors = run_form_action(form, act)
        if not errors:
            resolved = outcome["alert"]
            if resolved.outcome == AlertOutcome.SELF_HARM_FOUND:
                demanded = resolved.acct_review_demand_id is not None
                acct = " and an ACCT case review is now due" if demanded else ""
                text = RESOLVED_BANNERS[AlertOutcome.SELF_HARM_FOUND].format(acct=acct)
            else:
                text = f"Resolved: {resolved.get_outcome_display().lower()}"
            messages.success(request, f"{text} (cell {resolved.cell.path})")
            return redirect("monitoring:console")
        return _alert_page(
            request,
            alert_id,
            errors=errors,
            status=400,
            form=form,
            template="monitoring/alert_resolve.html",
        )
    return _alert_page(request, alert_id, form=form, template="monitoring/alert_resolve.html")


# --- Notifications for my roles ----------------------------------------------------------------


@requires(perms.VIEW_ALERTS)
@require_GET
def notifications(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    try:
        items = selectors.notifications_for(request.user, prison)
    except NotFound as error:
        raise Http404 from error
    return render(
        request,
        "monitoring/console_notifications.html",
        {
            **_common(request),
            "title": f"Monitoring notifications: {prison.name}",
            "prison": prison,
            "items": items,
            "my_roles": [role_name(code) for code in request.user.role_codes()],
            "now": clock.now(),
        },
    )


# --- The escalation chain (managers) -----------------------------------------------------------


def _posted_steps(data) -> list[StepSpec]:
    """The chain as typed: a step with no wait and no one chosen is left out."""
    steps = []
    for number in range(1, MAX_ESCALATION_STEPS + 1):
        prefix = f"step-{number}"
        delay_text = (data.get(f"{prefix}-delay") or "").strip()
        roles = data.getlist(f"{prefix}-roles")
        if not delay_text and not roles:
            continue
        if not delay_text.isdigit():
            raise ValidationFailed(
                f"Step {number}: enter the wait in whole seconds, like 60", field=f"{prefix}-delay"
            )
        steps.append(
            StepSpec(
                delay_seconds=int(delay_text),
                roles=tuple(roles),
                priorities=tuple(data.getlist(f"{prefix}-priorities")),
                email_address=data.get(f"{prefix}-email", ""),
                phone_number=data.get(f"{prefix}-phone", ""),
            )
        )
    return steps


def _step_values(steps) -> list[dict]:
    values = [
        {
            "delay": str(step.delay_seconds),
            "roles": list(step.roles),
            "priorities": list(step.priorities),
            "email": step.email_address,
            "phone": step.phone_number,
        }
        for step in steps
    ]
    blank = {"delay": "", "roles": [], "priorities": [], "email": "", "phone": ""}
    return values + [dict(blank) for _ in range(MAX_ESCALATION_STEPS - len(values))]


def _typed_values(data) -> list[dict]:
    return [
        {
            "delay": data.get(f"step-{n}-delay", ""),
            "roles": data.getlist(f"step-{n}-roles"),
            "priorities": data.getlist(f"step-{n}-priorities"),
            "email": data.get(f"step-{n}-email", ""),
            "phone": data.get(f"step-{n}-phone", ""),
        }
        for n in range(1, MAX_ESCALATION_STEPS + 1)
    ]


@requires(perms.CONFIGURE_RULES)
@require_http_methods(["GET", "POST"])
def escalation_chain(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    try:
        configured = selectors.escalation_chain(request.user, prison)
    except NotFound as error:
        raise Http404 from error
    errors: list[dict] = []
    values = _step_values([StepSpec.of(step) for step in configured] or DEFAULT_CHAIN)
    if request.method == "POST":
        try:
            services.configure_escalation_chain(
                actor=request.user, prison=prison, steps=_posted_steps(request.POST)
            )
        except DomainError as error:
            errors = domain_error_list(error)
            values = _typed_values(request.POST)
        else:
            messages.success(request, "Escalation chain saved. Alerts that open from now use it.")
            return redirect("monitoring:console")
    return render(
        request,
        "monitoring/console_escalation.html",
        {
            **_common(request),
            "title": f"Escalation chain: {prison.name}",
            "prison": prison,
            "steps": values,
            "is_default": not configured,
            "role_choices": [(code, role_name(code)) for code in ESCALATION_ROLES],
            "priority_choices": Priority.choices,
            "errors": errors,
            "err": field_errors(errors),
        },
        status=400 if errors else 200,
    )
