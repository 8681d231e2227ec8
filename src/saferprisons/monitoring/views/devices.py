"""Gateways and devices (system administrators): the prison's gateways and sensors, registering
a gateway (its token's secret is shown once), a new token, taking a gateway out of service,
registering a device in a cell, recording a firmware change and recording its removal.

Thin: the services check and audit every change. A page that shows a token's secret is never
cached and the secret is never stored: only its hash is.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from saferprisons.core.errors import DomainError, NotFound, ValidationFailed
from saferprisons.core.forms import field_errors, posted, run_form_action
from saferprisons.core.permissions import requires
from saferprisons.core.prison_context import current_prison
from saferprisons.estate.selectors import cell_in_prison

from .. import forms as monitoring_forms
from .. import permissions as perms
from .. import selectors, services
from ..constants import TOPIC_TEMPLATE, DeviceKind


def _form_page(request, template: str, context: dict, errors: list[dict]):
    return render(
        request,
        template,
        {**context, "errors": errors, "err": field_errors(errors)},
        status=400 if errors else 200,
    )


def _token_page(request, gateway, secret: str, heading: str):
    """The one time a token's secret is shown."""
    return render(
        request,
        "monitoring/gateway_token.html",
        {
            "title": heading,
            "gateway": gateway,
            "secret": secret,
            "topic": TOPIC_TEMPLATE.format(prison=gateway.prison.code, gateway=gateway.code),
        },
    )


def _or_404(lookup, request, public_id):
    try:
        return lookup(request.user, public_id)
    except NotFound as error:
        raise Http404 from error


@requires(perms.MANAGE_DEVICES)
@require_GET
def devices(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    return render(
        request,
        "monitoring/devices.html",
        {
            "title": f"Monitoring gateways and devices: {prison.name}",
            "prison": prison,
            "gateways": list(selectors.gateways(request.user, prison)),
            "devices": list(selectors.devices(request.user, prison)),
            "notices": list(messages.get_messages(request)),
        },
    )


@requires(perms.MANAGE_DEVICES)
@require_http_methods(["GET", "POST"])
@never_cache
def register_gateway(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    form = monitoring_forms.GatewayForm(posted(request))
    errors: list[dict] = []
    if request.method == "POST":
        made = {}

        def register(data):
            made["gateway"], made["secret"] = services.register_gateway(
                actor=request.user, prison=prison, code=data["code"], name=data["name"]
            )

        errors = run_form_action(form, register)
        if not errors:
            return _token_page(request, made["gateway"], made["secret"], "Gateway registered")
    context = {"title": "Register a gateway", "prison": prison, "form": form}
    return _form_page(request, "monitoring/gateway_register.html", context, errors)


@requires(perms.MANAGE_DEVICES)
@require_POST
@never_cache
def new_gateway_token(request, gateway_id):
    gateway = _or_404(selectors.gateway_to_manage, request, gateway_id)
    if gateway.retired_at is not None:
        messages.success(request, f"Gateway {gateway.code} is out of service: it has no token")
        return redirect("monitoring:devices")
    gateway, secret = services.rotate_gateway_token(actor=request.user, gateway=gateway)
    return _token_page(request, gateway, secret, "New token issued")


@requires(perms.MANAGE_DEVICES)
@require_POST
def retire_gateway(request, gateway_id):
    gateway = _or_404(selectors.gateway_to_manage, request, gateway_id)
    services.retire_gateway(actor=request.user, gateway=gateway)
    messages.success(request, f"Gateway {gateway.code} is out of service: its token is revoked")
    return redirect("monitoring:devices")


@requires(perms.MANAGE_DEVICES)
@require_http_methods(["GET", "POST"])
def register_device(request):
    prison = current_prison(request)
    if prison is None:
        return redirect("core:choose-prison")
    in_service = [g for g in selectors.gateways(request.user, prison) if g.retired_at is None]
    form = monitoring_forms.DeviceForm(posted(request), gateways=in_service)
    errors: list[dict] = []
    if request.method == "POST":

        def register(data):
            try:
                cell = cell_in_prison(prison.pk, data["cell"])
            except NotFound as error:
                raise ValidationFailed(
                    f"No cell {data['cell']} in {prison.name}", field="cell"
                ) from error
            gateway = next(g for g in in_service if str(g.public_id) == data["gateway"])
            return services.register_device(
                actor=request.user,
                gateway=gateway,
                cell=cell,
                external_id=data["external_id"],
                kind=data["kind"],
                vendor=data["vendor"],
                serial=data["serial"],
                firmware=data["firmware"],
            )

        errors = run_form_action(form, register)
        if not errors:
            messages.success(request, f"Device {form.cleaned_data['external_id']} registered")
            return redirect("monitoring:devices")
    context = {
        "title": "Register a device",
        "prison": prison,
        "form": form,
        "kind_choices": DeviceKind.choices,
        "has_gateways": bool(in_service),
    }
    return _form_page(request, "monitoring/device_register.html", context, errors)


@requires(perms.MANAGE_DEVICES)
@require_POST
def remove_device(request, device_id):
    device = _or_404(selectors.device_to_manage, request, device_id)
    try:
        services.remove_device(actor=request.user, device=device)
    except DomainError as error:
        messages.error(request, f"Device {device.external_id} not removed: {error.message}")
    else:
        messages.success(request, f"Device {device.external_id} recorded as removed")
    return redirect("monitoring:devices")


@requires(perms.MANAGE_DEVICES)
@require_http_methods(["GET", "POST"])
def device_firmware(request, device_id):
    """Record that a device's firmware was changed (an installed device only)."""
    device = _or_404(selectors.device_to_manage, request, device_id)
    if device.removed_at is not None:
        raise Http404("This device has been removed")
    form = monitoring_forms.FirmwareForm(posted(request), initial={"firmware": device.firmware})
    errors: list[dict] = []
    if request.method == "POST":
        errors = run_form_action(
            form,
            lambda data: services.update_device_firmware(
                actor=request.user, device=device, firmware=data["firmware"]
            ),
        )
        if not errors:
            messages.success(
                request,
                f"Device {device.external_id}: firmware {form.cleaned_data['firmware']} recorded",
            )
            return redirect("monitoring:devices")
    context = {
        "title": "Record a firmware change",
        "prison": device.gateway.prison,
        "device": device,
        "form": form,
    }
    return _form_page(request, "monitoring/device_firmware.html", context, errors)
