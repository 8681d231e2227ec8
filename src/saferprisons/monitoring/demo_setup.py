"""Monitoring for the demo: gateways, devices and enrolments on a few wings, through the services.

``setup_demo_monitoring`` gives the first wings of each prison a gateway (``<wing>-WING``) and a
contactless sensor in every ordinary cell, and enrols the people in those cells: most by consent,
some by a manager's documented decision, and a few who declined (their cells are not monitored:
the ingest drops those readings and only counts them). Every write goes through
``monitoring.services`` as the prison's own system administrator and manager, so it is audited
like any other. Deterministic for a seed. Gateway tokens are returned (their secrets are shown
once) so the simulator can send over HTTP.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from saferprisons.accounts.models import User
from saferprisons.accounts.roles import ROLES
from saferprisons.core import clock
from saferprisons.estate.constants import LocationLevel
from saferprisons.estate.models import Location, Prison
from saferprisons.people.models import CellAllocation

from . import permissions as perms
from . import services
from .constants import DeviceKind, EnrolmentBasis
from .models import Device, Enrolment, Gateway

VENDOR = "Fictional Sensors Ltd"
DECLINED_SHARE = 0.1  # people who do not consent and have no manager's decision
DECISION_SHARE = 0.15  # of those monitored, by a manager's decision rather than consent
DECISION_REASON = (
    "Recent self-harm and an open ACCT: night-time welfare support agreed with healthcare. "
    "Consent was discussed and declined while unwell; reviewed at the next ACCT review."
)
ENROLMENT_DAYS = 90
REVIEW_DAYS = 28


@dataclass
class DemoMonitoring:
    gateways: list[Gateway] = field(default_factory=list)
    devices: int = 0
    enrolled: int = 0
    declined: int = 0
    # "PRISON/GATEWAY" -> the gateway token's secret (shown once; the simulator's --tokens file)
    tokens: dict[str, str] = field(default_factory=dict)


def setup_demo_monitoring(
    *,
    prison_codes: list[str] | None = None,
    wings_per_prison: int = 2,
    seed: int = 1,
    now: datetime | None = None,
) -> DemoMonitoring:
    """Register gateways and devices and enrol people on the first wings of each prison. A wing
    that already has its gateway is left as it is (and has no new token)."""
    now = now or clock.now()
    rng = random.Random(f"{seed}/monitoring")
    prisons = Prison.objects.order_by("code")
    if prison_codes:
        prisons = prisons.filter(code__in=prison_codes)
    result = DemoMonitoring()
    for prison in prisons:
        admin = actor_with(prison, perms.MANAGE_DEVICES)
        manager = actor_with(prison, perms.MANAGE_ENROLMENT)
        if admin is None or manager is None:
            continue  # nobody may register devices or enrol people here
        for wing in _wings(prison)[:wings_per_prison]:
            _set_up_wing(prison, wing, admin, manager, rng, now, result)
    return result


def actor_with(prison: Prison, permission: str) -> User | None:
    roles = [code for code, role in ROLES.items() if permission in role.permissions]
    return (
        User.objects.filter(is_active=True, roles__code__in=roles, prisons=prison)
        .order_by("username")
        .first()
    )


def _wings(prison: Prison) -> list[Location]:
    """Ordinary residential wings: those with lettered codes (not the CSU or healthcare)."""
    wings = Location.objects.filter(prison=prison, level=LocationLevel.WING).order_by("code")
    return [wing for wing in wings if len(wing.code) == 1 and wing.code.isalpha()]


def _set_up_wing(prison, wing, admin, manager, rng, now, result: DemoMonitoring) -> None:
    code = f"{wing.code}-WING"
    if Gateway.objects.filter(prison=prison, code=code).exists():
        return
    gateway, secret = services.register_gateway(
        actor=admin, prison=prison, code=code, name=f"{wing.code} wing monitoring gateway"
    )
    result.gateways.append(gateway)
    result.tokens[f"{prison.code}/{code}"] = secret
    cells = Location.objects.filter(
        prison=prison, level=LocationLevel.CELL, parent__parent=wing
    ).order_by("path")
    installed_at = now - timedelta(days=7)
    equipped = []
    for cell in cells:
        if cell.working_capacity == 0 or Device.objects.filter(cell=cell).exists():
            continue
        services.register_device(
            actor=admin,
            gateway=gateway,
            cell=cell,
            external_id=f"{prison.code}-{cell.path}-V",
            kind=DeviceKind.VISION,
            vendor=VENDOR,
            serial=f"FS-{prison.code}-{cell.path}",
            firmware="2.4.1",
            installed_at=installed_at,
        )
        result.devices += 1
        equipped.append(cell)
    allocations = (
        CellAllocation.objects.filter(cell__in=equipped, ended_at__isnull=True)
        .select_related("prisoner")
        .order_by("cell__path", "prisoner__prison_number")
    )
    for allocation in allocations:
        _enrol(allocation.prisoner, manager, rng, now, result)


def _enrol(prisoner, manager, rng: random.Random, now: datetime, result: DemoMonitoring) -> None:
    draw = rng.random()
    if draw < DECLINED_SHARE:
        result.declined += 1
        return
    if Enrolment.objects.filter(prisoner=prisoner, ends_at__gt=now).exists():
        return
    by_decision = draw < DECLINED_SHARE + DECISION_SHARE
    starts_at = now - timedelta(days=rng.randint(1, 20))
    services.enrol(
        actor=manager,
        prisoner=prisoner,
        basis=EnrolmentBasis.MANAGER_DECISION if by_decision else EnrolmentBasis.CONSENT,
        decision_reason=DECISION_REASON if by_decision else "",
        starts_at=starts_at,
        review_on=(now + timedelta(days=rng.randint(3, REVIEW_DAYS))).date(),
        ends_at=starts_at + timedelta(days=ENROLMENT_DAYS),
    )
    result.enrolled += 1
