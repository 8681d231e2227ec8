"""Event streams that drive both rule engines, and the harness that runs them.

A stream is JSON::

    {"description": "...",
     "profiles": {"<device>": {"single_occupancy": true,
                               "rules": {"<RuleKind>": {<RuleSetting fields>}}}},
     "events": [["reading", device, timestamp_ms, persons, activity, zone,
                 pulse, pulse_quality, breathing, breathing_quality, tampered],
                ["tick", timestamp_ms, [eligible devices]],
                ["batch_end"]]}

Rules a profile leaves out use the built-in defaults. The recorded streams in this folder were
made once by ``record.py`` and are committed, so the engines are compared on fixed data.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from saferprisons.monitoring import reference_rules, rules

HERE = Path(__file__).parent


def load(name: str) -> dict:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def recorded_stream_names() -> list[str]:
    return sorted(path.name for path in HERE.glob("*.json"))


def profiles_of(stream: dict) -> dict[str, rules.DeviceProfile]:
    profiles = {}
    for device, spec in stream["profiles"].items():
        settings = rules.default_settings()
        for kind, fields in spec.get("rules", {}).items():
            settings[kind] = replace(settings[kind], **fields)
        profiles[device] = rules.DeviceProfile(spec["single_occupancy"], settings)
    return profiles


def _reading(event) -> reference_rules.Reading:
    _, _, at, persons, activity, zone, pulse, pulse_q, breathing, breathing_q, tampered = event
    return reference_rules.Reading(
        timestamp_ms=at,
        persons=persons,
        activity=activity,
        zone=zone,
        pulse=pulse,
        pulse_quality=pulse_q,
        breathing=breathing,
        breathing_quality=breathing_q,
        tampered=tampered,
    )


def run_reference(stream: dict) -> list[tuple]:
    """One reading at a time through the plain Python engine."""
    engine = reference_rules.ReferenceEngine(profiles_of(stream))
    fired = []
    for event in stream["events"]:
        if event[0] == "reading":
            fired += engine.reading(event[1], _reading(event))
        elif event[0] == "tick":
            fired += engine.tick(event[1], set(event[2]))
    return fired


def run_numpy(stream: dict, *, batch_until_tick: bool = False) -> list[tuple]:
    """Readings gathered into batches (to each batch_end or tick; only ticks with
    ``batch_until_tick``), each batch applied in rounds of one reading per device, as ingest
    does."""
    profiles = profiles_of(stream)
    devices = list(profiles)
    row_of = {device: row for row, device in enumerate(devices)}
    table = rules.table_for_profiles([profiles[d] for d in devices])
    state = rules.EngineState.empty(len(devices))
    fired: list[tuple] = []
    pending: list = []

    def apply_pending() -> None:
        per_device: dict[str, int] = {}
        rounds: list[list] = []
        for event in pending:
            number = per_device.get(event[1], 0)
            per_device[event[1]] = number + 1
            if number == len(rounds):
                rounds.append([])
            rounds[number].append(event)
        for events in rounds:
            fired.extend(rules.apply_round(state, table, _round(events, row_of)).as_tuples(devices))
        pending.clear()

    for event in stream["events"]:
        if event[0] == "reading":
            pending.append(event)
            continue
        if event[0] == "batch_end" and batch_until_tick:
            continue
        apply_pending()
        if event[0] == "tick":
            eligible = np.array([d in set(event[2]) for d in devices], dtype=bool)
            fired += rules.check_silence(state, table, event[1], eligible).as_tuples(devices)
    apply_pending()
    return fired


def _round(events: list, row_of: dict) -> rules.ReadingRound:
    def column(index, dtype, none=np.nan):
        return np.array([none if e[index] is None else e[index] for e in events], dtype=dtype)

    return rules.ReadingRound(
        device=np.array([row_of[e[1]] for e in events], dtype=np.int64),
        timestamp_ms=column(2, np.int64),
        persons=column(3, np.int64),
        activity=column(4, np.float64),
        zone=column(5, np.int64),
        pulse=column(6, np.float64),
        pulse_quality=column(7, np.float64),
        breathing=column(8, np.float64),
        breathing_quality=column(9, np.float64),
        tampered=column(10, bool),
    )


def canonical(triggers: list[tuple]) -> list[tuple]:
    """Sorted, so the order triggers come out in within one moment does not matter."""
    return sorted(triggers, key=lambda t: (t[2], str(t[0]), t[1], t[3]))
