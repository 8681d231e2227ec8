"""Make the recorded streams in this folder (run once; the JSON files are committed).

    .venv/bin/python -m saferprisons.monitoring.tests.streams.record

Each stream is a wing's sensors over a stretch of time with scripted episodes (stillness, long
bathroom stays, a second person, leaving the detectable area, tampering, spot pulse and
breathing measurements of varying quality, silent devices) and clock ticks. Thresholds are
shortened so every rule fires several times in a few minutes of readings.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from saferprisons.monitoring.rules import to_ms

from . import HERE

SHORT_RULES = {
    "NO_ACTIVITY": {"day_threshold_seconds": 90, "night_threshold_seconds": 60},
    "BATHROOM_OCCUPANCY": {"day_threshold_seconds": 80, "night_threshold_seconds": 40},
    "SECOND_PERSON": {"day_threshold_seconds": 20, "night_threshold_seconds": 6},
    "LEFT_DETECTABLE_AREA": {"day_threshold_seconds": None, "night_threshold_seconds": 12},
    "TAMPERED": {"day_threshold_seconds": 4, "night_threshold_seconds": 2},
    "DEVICE_SILENT": {"day_threshold_seconds": 20, "night_threshold_seconds": 12},
}


def _profile(single: bool, day_starts: int = 8 * 3600, day_ends: int = 20 * 3600) -> dict:
    window = {"day_starts_second": day_starts, "day_ends_second": day_ends}
    rules = {kind: {**fields, **window} for kind, fields in SHORT_RULES.items()}
    for kind in ("PULSE_OUT_OF_RANGE", "BREATHING_OUT_OF_RANGE"):
        rules[kind] = dict(window)
    return {"single_occupancy": single, "rules": rules}


def _episode(rng: random.Random) -> str:
    return rng.choice(
        ["settled", "settled", "still", "bathroom", "visitor", "away", "tamper", "restless"]
    )


def _reading(rng: random.Random, device: str, at: int, episode: str) -> list:
    persons, activity, zone = 1, round(rng.uniform(0.08, 0.6), 3), rng.choice([1, 1, 4, 3])
    if episode == "still":
        activity = rng.choice([0.0, 0.01, 0.05, 0.05])  # 0.05 is exactly the still level
    elif episode == "bathroom":
        zone = 2
    elif episode == "visitor":
        persons = rng.choice([2, 2, 3])
    elif episode == "away":
        persons, activity, zone = 0, 0.0, 0
    pulse = pulse_q = breathing = breathing_q = None
    if activity <= 0.1 and persons == 1 and rng.random() < 0.5:
        pulse = rng.choice([35.0, 40.0, 58.5, 72.0, 130.0, 131.5])
        pulse_q = rng.choice([0.4, 0.6, 0.9])
    if activity <= 0.1 and persons == 1 and rng.random() < 0.5:
        breathing = rng.choice([6.0, 8.0, 14.0, 30.0, 31.0])
        breathing_q = rng.choice([0.5, 0.6, 0.95])
    tampered = episode == "tamper" and rng.random() < 0.9
    return [
        "reading",
        device,
        at,
        persons,
        activity,
        zone,
        pulse,
        pulse_q,
        breathing,
        breathing_q,
        tampered,
    ]


def record(name: str, start: datetime, minutes: int, profiles: dict, seed: int, note: str):
    rng = random.Random(seed)
    devices = list(profiles)
    episodes = dict.fromkeys(devices, "settled")
    silent_until = dict.fromkeys(devices, 0)
    events: list = []
    begin = to_ms(start)
    for second in range(0, minutes * 60, 2):
        at = begin + second * 1000
        for device in devices:
            if rng.random() < 0.04:
                episodes[device] = _episode(rng)
            if rng.random() < 0.005:
                silent_until[device] = at + rng.choice([8_000, 14_000, 30_000])
            if at < silent_until[device]:
                continue
            jitter = rng.randrange(0, 900)
            events.append(_reading(rng, device, at + jitter, episodes[device]))
        events.append(["batch_end"])
        if second % 4 == 0:
            eligible = [d for d in devices if rng.random() < 0.9]
            events.append(["tick", at + 1500, eligible])
    stream = {"description": note, "profiles": profiles, "events": events}
    text = json.dumps(stream, separators=(",", ":"))
    (HERE / name).write_text(text + "\n", encoding="utf-8")
    return len(events)


def main() -> None:
    record(
        "night_wing.json",
        datetime(2026, 11, 28, 1, 0, tzinfo=UTC),
        20,
        {
            "cell-001": _profile(True),
            "cell-002": _profile(True),
            "cell-003": _profile(False),
            "cell-004": _profile(True),
        },
        seed=2026,
        note="A wing at night (GMT): four cells, one shared, readings every 2 s for 20 minutes",
    )
    record(
        "dst_spring.json",
        datetime(2026, 3, 29, 0, 50, tzinfo=UTC),
        20,
        {
            "cell-101": _profile(True, day_starts=int(1.75 * 3600), day_ends=23 * 3600),
            "cell-102": _profile(True, day_starts=2 * 3600, day_ends=23 * 3600),
        },
        seed=329,
        note="Clocks go forward at 01:00 UTC; day starts at 01:45 and 02:00 London time",
    )
    record(
        "dst_autumn.json",
        datetime(2026, 10, 25, 0, 20, tzinfo=UTC),
        20,
        {
            "cell-201": _profile(True, day_starts=int(1.5 * 3600), day_ends=23 * 3600),
            "cell-202": _profile(False, day_starts=3600, day_ends=int(1.25 * 3600)),
        },
        seed=1025,
        note="Clocks go back at 01:00 UTC, so 01:00-02:00 London time happens twice",
    )


if __name__ == "__main__":
    main()
