"""Monitoring rule settings for a prison (managers): every rule in force, changing one for the
whole prison or returning it to the built-in default, and a wing's or landing's own setting of a
rule (set, change, remove). Thin: ``selectors.rule_settings`` says what is in force (the most
specific setting: landing, then wing, then prison, then the built-in default; each replaces the
whole rule, ADR 0014), ``services.configure_rule`` and ``services.remove_rule_setting`` check
and audit a change."""

from __future__ import annotations

from datetime import time

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from saferprisons.core.errors import DomainError, NotFound
from saferprisons.core.forms import field_errors, posted, run_form_action
from saferprisons.core.permissions import requires
from saferprisons.core.prison_context import current_prison
from saferprisons.estate.constants import LocationLevel

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


def _or_404(lookup, *args):
    try:
        return lookup(*args)
    except NotFound as error:
        raise Http404 from error


def _kind_or_404(kind: str) -> str:
    if kind not in RuleKind.values:
        raise Http404("No such rule")
    return kind


def _overrides_by_kind(overrides) -> dict[str, list]:
    found: dict[str, list] = {}
    for config in overrides:
        found.setdefault(config.kind, []).append(config.location)
    return found


@requires(perms.CONFIGURE_RULES)
@require_GET
def rules(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    settings_in_force = _or_404(selectors.rule_settings, request.user, prison)
    configured = selectors.configured_rule_kinds(request.user, prison)
    overrides = selectors.rule_overrides(request.user, prison)
    units_by_kind = _overrides_by_kind(overrides)
    rows = [
        {
            "kind": kind,
            "label": RuleKind(kind).label,
            "setting": settings_in_force[kind],
            "unit": monitoring_forms.threshold_unit(kind),
            "configured": kind in configured,
            "overridden_in": [u.path for u in units_by_kind.get(kind, [])],
        }
        for kind in RuleKind.values
    ]
    unit_rows = [
        {
            "config": config,
            "kind": config.kind,
            "label": RuleKind(config.kind).label,
            "where": monitoring_forms.unit_label(config.location),
            "path": config.location.path,
            "unit": monitoring_forms.threshold_unit(config.kind),
        }
        for config in overrides
    ]
    return render(
        request,
        "monitoring/rules.html",
        {
            "title": f"Monitoring rules: {prison.name}",
            "prison": prison,
            "rows": rows,
            "unit_rows": unit_rows,
            "has_units": selectors.rule_units(request.user, prison).exists(),
            "priorities": dict(Priority.choices),
            "notices": list(messages.get_messages(request)),
        },
    )


def _rule_form_page(request, *, prison, kind, setting, unit, context):
    """The form for one rule's setting (the prison's, or a unit's when ``unit`` is given),
    prefilled with ``setting``; saving replaces the whole rule at that level."""
    form = monitoring_forms.RuleForm(
        posted(request), kind=kind, initial=monitoring_forms.rule_initial(setting)
    )
    limits = LIMIT_LABELS.get(kind, [])
    errors: list[dict] = []
    if request.method == "POST":

        def save(data):
            return services.configure_rule(
                actor=request.user,
                prison=prison,
                location=unit,
                kind=kind,
                priority=data["priority"],
                enabled=data["enabled"],
                day_threshold_seconds=data["day_threshold_seconds"],
                night_threshold_seconds=data["night_threshold_seconds"],
                # Not on this form: kept as they are in force here.
                day_starts=_clock_time(setting.day_starts_second),
                day_ends=_clock_time(setting.day_ends_second),
                **{name: data[name] for name, _ in limits},
            )

        # The services' field names, as this form's ids ("location" is not on the form).
        errors = [
            {
                **error,
                "href": error["href"].replace("_seconds", "").replace("#location", "#main-content"),
            }
            for error in run_form_action(form, save)
        ]
        if not errors:
            where = f" for {monitoring_forms.unit_name(unit)}" if unit else ""
            messages.success(
                request,
                f"{RuleKind(kind).label}: saved{where}. Readings from now are checked with it.",
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
            **context,
        },
        status=400 if errors else 200,
    )


@requires(perms.CONFIGURE_RULES)
@require_http_methods(["GET", "POST"])
def edit_rule(request, kind: str):
    kind = _kind_or_404(kind)
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    setting = _or_404(selectors.rule_settings, request.user, prison)[kind]
    overridden = _overrides_by_kind(selectors.rule_overrides(request.user, prison)).get(kind, [])
    configured = kind in selectors.configured_rule_kinds(request.user, prison)
    return _rule_form_page(
        request,
        prison=prison,
        kind=kind,
        setting=setting,
        unit=None,
        context={
            "overridden_in": [monitoring_forms.unit_label(u) for u in overridden],
            "remove_url": reverse("monitoring:remove_rule", args=[kind]) if configured else None,
            "remove_text": "Go back to the built-in default",
        },
    )


def _inherited_from(user, prison, unit, kind: str) -> str:
    """Where a unit's setting of ``kind`` comes from when it has none of its own."""
    if unit.level == LocationLevel.LANDING and unit.parent is not None:
        wing_own = any(
            c.kind == kind and c.location_id == unit.parent_id
            for c in selectors.rule_overrides(user, prison)
        )
        if wing_own:
            return monitoring_forms.unit_name(unit.parent)
    if kind in selectors.configured_rule_kinds(user, prison):
        return f"{prison.name}'s own setting"
    return "the built-in default"


@requires(perms.CONFIGURE_RULES)
@require_http_methods(["GET", "POST"])
def edit_unit_rule(request, kind: str, unit: str):
    kind = _kind_or_404(kind)
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    location = _or_404(selectors.rule_unit, request.user, prison, unit)
    own = {
        c.kind
        for c in selectors.rule_overrides(request.user, prison)
        if c.location_id == location.pk
    }
    if location.deactivated_at is not None and kind not in own:
        raise Http404("This wing or landing is closed")  # its own settings can still change
    inherited = selectors.inherited_rule_settings(request.user, prison, location)[kind]
    in_force = selectors.rule_settings(request.user, prison, location)[kind]
    label = monitoring_forms.unit_label(location)
    return _rule_form_page(
        request,
        prison=prison,
        kind=kind,
        setting=in_force if kind in own else inherited,
        unit=location,
        context={
            "unit_label": label,
            "unit_name": monitoring_forms.unit_name(location),
            "has_own": kind in own,
            "inherited": inherited,
            "inherited_from": _inherited_from(request.user, prison, location, kind),
            "priorities": dict(Priority.choices),
            "threshold_unit": monitoring_forms.threshold_unit(kind),
            "remove_url": (
                reverse("monitoring:remove_unit_rule", args=[kind, location.path])
                if kind in own
                else None
            ),
            "remove_text": f"Remove {monitoring_forms.unit_name(location)}'s own setting",
        },
    )


@requires(perms.CONFIGURE_RULES)
@require_http_methods(["GET", "POST"])
def choose_unit_rule(request):
    """Step one of giving a wing or landing its own setting: which unit, which rule."""
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    units = list(_or_404(selectors.rule_units, request.user, prison))
    form = monitoring_forms.UnitRuleChoiceForm(posted(request) or request.GET or None, units=units)
    errors: list[dict] = []
    if form.is_bound:
        errors = run_form_action(form, lambda data: None)
        if not errors:
            data = form.cleaned_data
            return redirect("monitoring:edit_unit_rule", data["kind"], data["unit"])
    return render(
        request,
        "monitoring/rule_unit_choose.html",
        {
            "title": "Set a rule for a wing or landing",
            "prison": prison,
            "form": form,
            "unit_choices": [(u.path, monitoring_forms.unit_label(u)) for u in units],
            "kind_choices": RuleKind.choices,
            "errors": errors,
            "err": field_errors(errors),
        },
        status=400 if errors else 200,
    )


def _removed(request, prison, kind: str, unit) -> None:
    try:
        services.remove_rule_setting(actor=request.user, prison=prison, kind=kind, location=unit)
    except NotFound as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, f"{RuleKind(kind).label}: not removed. {error.message}")
        return
    if unit is None:
        done = f"{prison.name}'s own setting removed: the built-in default is in force"
    else:
        done = (
            f"{monitoring_forms.unit_label(unit)}'s own setting removed: it follows the setting "
            "above it"
        )
    messages.success(request, f"{RuleKind(kind).label}: {done}.")


@requires(perms.CONFIGURE_RULES)
@require_POST
def remove_rule(request, kind: str):
    kind = _kind_or_404(kind)
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    _removed(request, prison, kind, None)
    return redirect("monitoring:rules")


@requires(perms.CONFIGURE_RULES)
@require_POST
def remove_unit_rule(request, kind: str, unit: str):
    kind = _kind_or_404(kind)
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    location = _or_404(selectors.rule_unit, request.user, prison, unit)
    _removed(request, prison, kind, location)
    return redirect("monitoring:rules")
