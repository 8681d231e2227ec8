"""The ingest process's snapshot of who and what is monitored, as arrays (read in a few queries).

A device is *monitored* when it is installed, its gateway is in service, and its cell has at
least one occupant and every occupant is enrolled in this prison now (a cellmate who is not
enrolled must not be monitored, so the whole cell's readings are dropped). Rule settings come
from the most specific RuleConfig (landing, then wing, then prison) and otherwise the built-in
defaults.

The snapshot is rebuilt when ``fingerprint()`` changes (a device, gateway, enrolment, rule or
cell allocation changed) or when ``valid_until`` passes (an enrolment or installation starts or
ends on its own).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import Count, Max, Min, Q

from saferprisons.estate.models import Prison
from saferprisons.people.models import CellAllocation

from .constants import DEFAULT_RULES, RULE_ORDER
from .models import Device, Enrolment, MinuteRollup, RosterVersion, RuleConfig
from .rules import (
    RuleSetting,
    RuleTable,
    build_rule_table,
    default_settings,
    second_of_day,
    to_ms,
)


@dataclass
class Roster:
    built_at: datetime
    fingerprint: tuple
    valid_until: datetime | None
    device_pks: np.ndarray  # int64, sorted: row numbers of every per-device array
    row_by_external_id: dict[str, int]
    gateway_pk: np.ndarray
    prison_pk: np.ndarray
    cell_pk: np.ndarray
    prisoner_pk: np.ndarray  # the single occupant's pk, or 0 for a shared cell
    monitored: np.ndarray  # bool
    group_of_device: np.ndarray  # index into setting_groups
    setting_groups: list[dict[str, RuleSetting]]
    rules: RuleTable
    prison_codes: dict[int, str]

    def __len__(self) -> int:
        return len(self.device_pks)

    def setting(self, row: int, rule_index: int) -> RuleSetting:
        return self.setting_groups[int(self.group_of_device[row])][RULE_ORDER[rule_index]]


def fingerprint() -> tuple:
    """Changes whenever anything the roster is built from changes: our own records count up
    RosterVersion; cell allocations (the people app's) are summarised."""
    version = RosterVersion.objects.filter(pk=1).values_list("number", flat=True).first()
    allocations = CellAllocation.objects.aggregate(
        count=Count("pk"),
        current=Count("pk", filter=Q(ended_at__isnull=True)),
        newest=Max("pk"),
        ended=Max("ended_at"),
    )
    return (version, *allocations.values())


def load_roster(now: datetime) -> Roster:
    stamp = fingerprint()
    devices = list(
        Device.objects.filter(installed_at__lte=now, gateway__retired_at__isnull=True)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=now))
        .order_by("pk")
        .values_list(
            "pk",
            "external_id",
            "gateway_id",
            "gateway__prison_id",
            "cell_id",
            "cell__working_capacity",
            "cell__parent_id",
            "cell__parent__parent_id",
        )
    )
    columns = list(zip(*devices, strict=True)) if devices else [()] * 8
    pks, external_ids, gateways, prisons, cells, capacities, landings, wings = columns
    prison_ids = sorted(set(prisons))
    occupants = _occupants(prison_ids)
    enrolled = _enrolled(now, prison_ids)
    monitored, prisoner = _monitored_cells(cells, prisons, occupants, enrolled)
    groups, group_of_device = _setting_groups(prison_ids, prisons, wings, landings)
    return Roster(
        built_at=now,
        fingerprint=stamp,
        valid_until=_valid_until(now),
        device_pks=np.array(pks, dtype=np.int64),
        row_by_external_id={external_id: row for row, external_id in enumerate(external_ids)},
        gateway_pk=np.array(gateways, dtype=np.int64),
        prison_pk=np.array(prisons, dtype=np.int64),
        cell_pk=np.array(cells, dtype=np.int64),
        prisoner_pk=np.array(prisoner, dtype=np.int64),
        monitored=np.array(monitored, dtype=bool),
        group_of_device=group_of_device,
        setting_groups=groups,
        rules=build_rule_table(groups, group_of_device, [c == 1 for c in capacities]),
        prison_codes=dict(Prison.objects.filter(pk__in=prison_ids).values_list("pk", "code")),
    )


def _occupants(prison_ids) -> dict[int, list[int]]:
    found = defaultdict(list)
    rows = CellAllocation.objects.filter(
        ended_at__isnull=True, cell__prison_id__in=prison_ids
    ).values_list("cell_id", "prisoner_id")
    for cell, prisoner in rows:
        found[cell].append(prisoner)
    return found


def _enrolled(now: datetime, prison_ids) -> set[tuple[int, int]]:
    return set(
        Enrolment.objects.filter(
            starts_at__lte=now, ends_at__gt=now, prison_id__in=prison_ids
        ).values_list("prisoner_id", "prison_id")
    )


def _monitored_cells(cells, prisons, occupants, enrolled) -> tuple[list[bool], list[int]]:
    monitored, prisoner = [], []
    for cell, prison in zip(cells, prisons, strict=True):
        people = occupants.get(cell, [])
        every_one_enrolled = bool(people) and all((p, prison) in enrolled for p in people)
        monitored.append(every_one_enrolled)
        prisoner.append(people[0] if len(people) == 1 else 0)
    return monitored, prisoner


def _valid_until(now: datetime) -> datetime | None:
    """The next moment an enrolment or an installation starts or ends by itself."""
    upcoming = [
        Enrolment.objects.filter(starts_at__gt=now).aggregate(at=Min("starts_at"))["at"],
        Enrolment.objects.filter(ends_at__gt=now).aggregate(at=Min("ends_at"))["at"],
        Device.objects.filter(installed_at__gt=now).aggregate(at=Min("installed_at"))["at"],
        Device.objects.filter(removed_at__gt=now).aggregate(at=Min("removed_at"))["at"],
    ]
    return min((at for at in upcoming if at is not None), default=None)


# --- Rule settings --------------------------------------------------------------------------------


def setting_from_config(config: RuleConfig) -> RuleSetting:
    """A RuleConfig as the engines use it; limits it leaves empty come from the defaults."""
    default = DEFAULT_RULES[config.kind]
    return RuleSetting(
        kind=config.kind,
        enabled=config.enabled,
        priority=config.priority,
        day_threshold_seconds=config.day_threshold_seconds,
        night_threshold_seconds=config.night_threshold_seconds,
        day_starts_second=second_of_day(config.day_starts),
        day_ends_second=second_of_day(config.day_ends),
        limit_low=_first_set(config.limit_low, default.get("limit_low")),
        limit_high=_first_set(config.limit_high, default.get("limit_high")),
        min_quality=_first_set(config.min_quality, default.get("min_quality")),
    )


def _first_set(*values):
    return next((v for v in values if v is not None), None)


def settings_for(configs_by_scope: dict, prison: int, wing: int | None, landing: int | None):
    """Every rule's setting for a cell: landing over wing over prison over the defaults."""
    settings = default_settings()
    for location in [None, *(scope for scope in (wing, landing) if scope is not None)]:
        for kind, config in configs_by_scope.get((prison, location), {}).items():
            settings[kind] = setting_from_config(config)
    return settings


def _setting_groups(prison_ids, prisons, wings, landings):
    configs_by_scope: dict[tuple, dict] = defaultdict(dict)
    for config in RuleConfig.objects.filter(prison_id__in=prison_ids):
        configs_by_scope[(config.prison_id, config.location_id)][config.kind] = config
    groups: list[dict[str, RuleSetting]] = []
    group_by_key: dict[tuple, int] = {}
    group_of_device = np.zeros(len(prisons), dtype=np.int64)
    for row, key in enumerate(zip(prisons, wings, landings, strict=True)):
        if key not in group_by_key:
            group_by_key[key] = len(groups)
            groups.append(settings_for(configs_by_scope, *key))
        group_of_device[row] = group_by_key[key]
    if not groups:
        groups.append(default_settings())
    return groups, group_of_device


def replay_floors(device_pks: np.ndarray, since: datetime) -> np.ndarray:
    """Per device, the newest reading already in a rollup written since ``since`` (or NONE)."""
    floors = np.full(len(device_pks), -1, dtype=np.int64)
    newest = (
        MinuteRollup.objects.filter(minute__gte=since)
        .values("device_id")
        .annotate(last=Max("last_reading_at"))
        .values_list("device_id", "last")
    )
    for device_pk, last in newest:
        row = np.searchsorted(device_pks, device_pk)
        if row < len(device_pks) and device_pks[row] == device_pk:
            floors[row] = to_ms(last)
    return floors
