"""Monitoring rule settings for a prison (managers): every rule in force, and a page to change
one for the whole prison. Thin: ``selectors.rule_settings`` says what is in force (the prison's
own setting or the built-in default), ``services.configure_rule`` checks and audits a change.
Settings for one wing or landing are made through ``services.configure_rule(location=...)``."""

from __future__ import annotations

from datetime import time

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from saferprisons.core.errors import NotFound
from saferprisons.core.forms import field_errors, posted, run_form_action
from saferprisons.core.permissions import requires
from saferprisons.core.prison_context import current_prison

from .. import forms as monitoring_forms
from .. import permissions as perms
from .. import selectors, services
from ..constants import Priority, RuleKind

# The limits a rule has besides its thresholds, as the form asks for them.
QUALITY = ("min_quality", "Lowest reading quality to act on (0 to 1)")
LIMIT_LABELS = {
    RuleKind.NO_ACTIVITY: [
        ("limit_high", "Activity level at or below which the person counts as still (0 to 1)")
    ],
    RuleKind.PULSE_OUT_OF_RANGE: [
        ("limit_low", "Lowest pulse (beats a minute)"),
        ("limit_high", "Highest pulse (beats a minute)"),
        QUALITY,
    ],
    RuleKind.BREATHING_OUT_OF_RANGE: [
        ("limit_low", "Lowest breathing rate (breaths a minute)"),
        ("limit_high", "Highest breathing rate (breaths a minute)"),
        QUALITY,
    ],
}


def _clock_time(second_of_day: int) -> time:
    return time(second_of_day // 3600, second_of_day % 3600 // 60, second_of_day % 60)


def _prison_settings(request):
    prison = current_prison(request)
    if prison is None:
        return None, None
    try:
        return prison, selectors.rule_settings(request.user, prison)
    except NotFound as error:
        raise Http404 from error


@requires(perms.CONFIGURE_RULES)
@require_GET
def rules(request):
    prison, settings_in_force = _prison_settings(request)
    if prison is None:
        return redirect("core:choose-prison")
    configured = selectors.configured_rule_kinds(request.user, prison)
    rows = [
        {
            "kind": kind,
            "label": RuleKind(kind).label,
            "setting": settings_in_force[kind],
            "unit": monitoring_forms.threshold_unit(kind),
            "configured": kind in configured,
        }
        for kind in RuleKind.values
    ]
    return render(
        request,
        "monitoring/rules.html",
        {
            "title": f"Monitoring rules: {prison.name}",
            "prison": prison,
            "rows": rows,
            "priorities": dict(Priority.choices),
            "notices": list(messages.get_messages(request)),
        },
    )


@requires(perms.CONFIGURE_RULES)
@require_http_methods(["GET", "POST"])
def edit_rule(request, kind: str):
    if kind not in RuleKind.values:
        raise Http404("No such rule")
    prison, settings_in_force = _prison_settings(request)
    if prison is None:
        return redirect("core:choose-prison")
    setting = settings_in_force[kind]
    form = monitoring_forms.RuleForm(
        posted(request),
        kind=kind,
        initial=monitoring_forms.rule_initial(setting),
    )
    limits = LIMIT_LABELS.get(kind, [])
    errors: list[dict] = []
    if request.method == "POST":

        def save(data):
            return services.configure_rule(
                actor=request.user,
                prison=prison,
                kind=kind,
                priority=data["priority"],
                enabled=data["enabled"],
                day_threshold_seconds=data["day_threshold_seconds"],
                night_threshold_seconds=data["night_threshold_seconds"],
                # Not on this form: kept as they are.
                day_starts=_clock_time(setting.day_starts_second),
                day_ends=_clock_time(setting.day_ends_second),
                **{name: data[name] for name, _ in limits},
            )

        errors = [
            {**error, "href": error["href"].replace("_seconds", "")}
            for error in run_form_action(form, save)
        ]
        if not errors:
            messages.success(
                request, f"{RuleKind(kind).label}: saved. Readings from now are checked with it."
            )
            return redirect("monitoring:rules")
    return render(
        request,
        "monitoring/rule_edit.html",
        {
            "title": RuleKind(kind).label,
            "prison": prison,
            "kind": kind,
            "form": form,
            "unit": form.unit,
            "limits": limits,
            "priority_choices": Priority.choices,
            "errors": errors,
            "err": field_errors(errors),
        },
        status=400 if errors else 200,
    )
