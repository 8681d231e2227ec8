"""The rules one reading at a time, in plain Python: the reference the numpy engine must match.

Deliberately simple and independent of ``rules.py``'s arrays: dictionaries of per-device state,
``zoneinfo`` for London time, and an ``if`` per rule. It shares only the settings types
(``RuleSetting``, ``DeviceProfile``) so both engines are configured identically. The docstring of
``rules.py`` states the rules; a test feeds both engines the same streams (recorded and
hypothesis-generated) and requires identical triggers.

It is also the "naive baseline" shape: one rule check per reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from saferprisons.core.clock import LONDON

from .constants import RULE_ORDER, RuleKind, Zone
from .rules import DeviceProfile, RuleSetting

READING_RULES = RULE_ORDER[:-1]


@dataclass(frozen=True)
class Reading:
    timestamp_ms: int
    persons: int
    activity: float
    zone: int = Zone.NONE
    pulse: float | None = None
    pulse_quality: float | None = None
    breathing: float | None = None
    breathing_quality: float | None = None
    tampered: bool = False


@dataclass
class _DeviceState:
    since: dict[str, int] = field(default_factory=dict)  # rule -> start of the current run
    fired: set[str] = field(default_factory=set)
    last_seen: int | None = None
    latest_vital: dict[str, tuple[float, float]] = field(default_factory=dict)


def london_second_of_day(timestamp_ms: int) -> int:
    local = datetime.fromtimestamp(timestamp_ms // 1000, UTC).astimezone(LONDON)
    return local.hour * 3600 + local.minute * 60 + local.second


def _vital(reading: Reading, kind: str) -> tuple[float | None, float | None]:
    if kind == RuleKind.PULSE_OUT_OF_RANGE:
        return reading.pulse, reading.pulse_quality
    return reading.breathing, reading.breathing_quality


def _usable(value, quality, setting: RuleSetting) -> bool:
    if value is None or quality is None or setting.min_quality is None:
        return False
    return quality >= setting.min_quality


def _out_of_range(value: float, setting: RuleSetting) -> bool:
    too_low = setting.limit_low is not None and value < setting.limit_low
    too_high = setting.limit_high is not None and value > setting.limit_high
    return too_low or too_high


def condition(kind: str, reading: Reading, profile: DeviceProfile) -> bool | None:
    """Does the condition hold at this reading? None: the reading says nothing about it."""
    setting = profile.rules[kind]
    if kind == RuleKind.NO_ACTIVITY:
        still = setting.limit_high
        return reading.persons >= 1 and still is not None and reading.activity <= still
    if kind == RuleKind.BATHROOM_OCCUPANCY:
        return reading.zone == Zone.BATHROOM
    if kind == RuleKind.SECOND_PERSON:
        return profile.single_occupancy and reading.persons >= 2
    if kind == RuleKind.LEFT_DETECTABLE_AREA:
        return reading.persons == 0
    if kind == RuleKind.TAMPERED:
        return reading.tampered
    value, quality = _vital(reading, kind)
    if not _usable(value, quality, setting):
        return None
    return _out_of_range(value, setting)


def threshold_ms(setting: RuleSetting, at_ms: int) -> float:
    seconds = setting.threshold_seconds(setting.is_day(london_second_of_day(at_ms)))
    return math.inf if seconds is None else seconds * 1000


class ReferenceEngine:
    """Per-reading evaluation. Triggers are (device, rule, at, since, value, quality) tuples."""

    def __init__(self, profiles: dict):
        self.profiles: dict[object, DeviceProfile] = dict(profiles)
        self.state: dict[object, _DeviceState] = {key: _DeviceState() for key in self.profiles}

    def reading(self, device, reading: Reading) -> list[tuple]:
        profile = self.profiles[device]
        state = self.state[device]
        fired = []
        for kind in READING_RULES:
            holds = condition(kind, reading, profile)
            if holds is None:
                pass  # nothing measured: the run (if any) goes on
            elif holds:
                state.since.setdefault(kind, reading.timestamp_ms)
            else:
                state.since.pop(kind, None)
                state.fired.discard(kind)
            if kind in (RuleKind.PULSE_OUT_OF_RANGE, RuleKind.BREATHING_OUT_OF_RANGE):
                if holds is not None:
                    state.latest_vital[kind] = _vital(reading, kind)
        for kind in READING_RULES:
            since = state.since.get(kind)
            if since is None or kind in state.fired:
                continue
            if reading.timestamp_ms - since >= threshold_ms(
                profile.rules[kind], reading.timestamp_ms
            ):
                state.fired.add(kind)
                value, quality = state.latest_vital.get(kind, (None, None))
                fired.append((device, kind.value, reading.timestamp_ms, since, value, quality))
        state.last_seen = reading.timestamp_ms
        state.fired.discard(RuleKind.DEVICE_SILENT)
        return fired

    def tick(self, now_ms: int, eligible) -> list[tuple]:
        """Look for silent devices among ``eligible`` at clock time ``now_ms``."""
        fired = []
        kind = RuleKind.DEVICE_SILENT
        for device in self.profiles:
            state = self.state[device]
            if device not in eligible or state.last_seen is None or kind in state.fired:
                continue
            if now_ms - state.last_seen >= threshold_ms(self.profiles[device].rules[kind], now_ms):
                state.fired.add(kind)
                fired.append((device, kind.value, now_ms, state.last_seen, None, None))
        return fired
