"""A sensor simulator for the demo and for load tests: plausible readings for every monitored cell.

Each simulated person follows a prison day in London time: asleep in bed at night (low but
present movement), awake in the cell in the morning and evening, out of the cell at work,
education and association for part of the day (nobody detected), with short bathroom visits.
Injected events, at a configurable rate over all cells, hold a condition just past the threshold
in force for that cell, so each one should raise an alert:

- no movement: present, activity below the still level (NO_ACTIVITY);
- long bathroom stay (BATHROOM_OCCUPANCY);
- device silent: the device sends nothing (DEVICE_SILENT);
- second person in a single-occupancy cell (SECOND_PERSON).

Everything is vectorised with numpy over all devices; a run is deterministic for a seed and a
start time. One message per wing gateway per tick (``rate`` ticks a second; 1 by default), sent
over HTTP (the batch endpoint with the gateway's token) or MQTT (QoS 1). See
docs/monitoring-consumer.md.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import numpy as np
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from saferprisons.core import clock

from .constants import RULE_INDEX, SCHEMA_VERSION, TOPIC_TEMPLATE, RuleKind
from .consumer import Broker
from .models import Gateway
from .roster import load_roster
from .rules import OFF, RuleTable, london_second_of_day, to_ms

logger = logging.getLogger(__name__)

# What a person is doing (their "mode") ...
OUT, ASLEEP, RESTING, MOVING, BATHROOM = range(5)
MODE_NAMES = ("out of the cell", "asleep", "resting", "moving about", "in the bathroom")
# ... and the injected events that override it.
NO_EVENT, NO_MOVEMENT, LONG_BATHROOM, DEVICE_SILENT, SECOND_PERSON = range(5)
EVENT_NAMES = ("none", "no movement", "long bathroom stay", "device silent", "second person")
EVENT_RULES = {
    NO_MOVEMENT: RuleKind.NO_ACTIVITY,
    LONG_BATHROOM: RuleKind.BATHROOM_OCCUPANCY,
    DEVICE_SILENT: RuleKind.DEVICE_SILENT,
    SECOND_PERSON: RuleKind.SECOND_PERSON,
}
# An event lasts this much longer than the threshold in force, so that it crosses it.
EVENT_MARGIN_SECONDS = 30
ZONE_WIRE_NAMES = (None, "bed", "bathroom", "door", "elsewhere")
NO_ZONE, BED, BATHROOM_ZONE, DOOR, ELSEWHERE = range(5)
# A spot pulse and breathing rate roughly this often per device.
VITALS_EVERY_SECONDS = 30

# The regime (London time): (starts at second of day, mode weights OUT..BATHROOM for a person who
# works or studies, the same for one who stays in). Weights are for the next mode chosen.
H = 3600
REGIME = (
    (0 * H, (0, 90, 8, 0, 2), (0, 90, 8, 0, 2)),  # night: asleep
    (6 * H + 1800, (0, 10, 40, 35, 15), (0, 30, 40, 20, 10)),  # unlock, breakfast in cell
    (8 * H + 1800, (85, 0, 5, 8, 2), (15, 5, 40, 35, 5)),  # work, education, exercise
    (11 * H + 2700, (0, 5, 45, 40, 10), (0, 10, 45, 35, 10)),  # lunch and lock-up
    (13 * H + 2700, (80, 0, 8, 10, 2), (15, 10, 40, 30, 5)),  # afternoon activities
    (16 * H + 2700, (50, 0, 20, 25, 5), (30, 0, 30, 35, 5)),  # tea, association
    (17 * H + 1800, (0, 0, 45, 45, 10), (0, 5, 45, 40, 10)),  # evening lock-up
    (22 * H, (0, 70, 22, 3, 5), (0, 70, 22, 3, 5)),  # lights out
)
REGIME_STARTS = np.array([start for start, _, _ in REGIME], dtype=np.int64)
WORKER_WEIGHTS = np.array([w for _, w, _ in REGIME], dtype=np.float64)
STAYER_WEIGHTS = np.array([w for _, _, w in REGIME], dtype=np.float64)
# How long a mode lasts, seconds (low, high); OUT lasts to the end of its regime period.
MODE_SECONDS = np.array([(0, 0), (1200, 5400), (300, 1800), (180, 1200), (120, 360)])


@dataclass(frozen=True)
class SimulatedGateway:
    prison_code: str
    code: str
    devices: np.ndarray  # indices into the plan's devices

    @property
    def topic(self) -> str:
        return TOPIC_TEMPLATE.format(prison=self.prison_code, gateway=self.code)

    @property
    def key(self) -> str:
        return f"{self.prison_code}/{self.code}"


@dataclass(frozen=True)
class Plan:
    """The devices to simulate, grouped by gateway, with the rule settings of their cells."""

    external_ids: list[str]
    gateways: list[SimulatedGateway]
    rules: RuleTable

    def __len__(self) -> int:
        return len(self.external_ids)


def load_plan(
    now: datetime | None = None, *, prison_codes=(), include_unmonitored: bool = False
) -> Plan:
    """Every monitored device (an installed device whose cell's occupants are all enrolled), or
    every installed device with ``include_unmonitored`` (their readings are dropped at ingest)."""
    roster = load_roster(now or clock.now())
    chosen = np.ones(len(roster), dtype=bool) if include_unmonitored else roster.monitored.copy()
    if prison_codes:
        wanted = {pk for pk, code in roster.prison_codes.items() if code in set(prison_codes)}
        chosen &= np.isin(roster.prison_pk, list(wanted))
    rows = np.flatnonzero(chosen)
    external_ids = [None] * len(roster)
    for external_id, row in roster.row_by_external_id.items():
        external_ids[row] = external_id
    gateway_names = dict(
        (pk, (prison, code))
        for pk, prison, code in Gateway.objects.filter(
            pk__in=set(roster.gateway_pk[rows].tolist())
        ).values_list("pk", "prison__code", "code")
    )
    gateways = []
    for gateway_pk in sorted(gateway_names, key=gateway_names.get):
        members = np.flatnonzero(roster.gateway_pk[rows] == gateway_pk)
        gateways.append(SimulatedGateway(*gateway_names[gateway_pk], devices=members))
    return Plan(
        external_ids=[external_ids[row] for row in rows.tolist()],
        gateways=gateways,
        rules=roster.rules.take(rows),
    )


@dataclass
class SimulatorCounts:
    ticks: int = 0
    messages: int = 0
    readings: int = 0
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_NAMES[1:], 0))


class SensorSimulator:
    """Readings for every device of a plan, one tick at a time (deterministic for a seed)."""

    def __init__(
        self,
        plan: Plan,
        *,
        seed: int = 1,
        events_per_hour: float = 6.0,
        rate: float = 1.0,
        start_ms: int,
    ):
        self.plan = plan
        self.random = np.random.default_rng(seed)
        self.events_per_hour = events_per_hour
        self.period_ms = 1000.0 / rate
        self.start_ms = start_ms
        self.tick_number = 0
        self.counts = SimulatorCounts()
        count = len(plan)
        self.works = self.random.random(count) < 0.6  # goes to work or education
        self.mode = np.full(count, RESTING, dtype=np.int8)
        self.mode_until_ms = np.full(count, start_ms, dtype=np.int64)  # choose at the first tick
        self.event = np.zeros(count, dtype=np.int8)
        self.event_until_ms = np.zeros(count, dtype=np.int64)
        self.jitter_ms = self.random.integers(0, max(int(self.period_ms * 0.8), 1), count)
        self.vitals_phase = self.random.integers(0, VITALS_EVERY_SECONDS, count)
        self.battery = self.random.uniform(55.0, 100.0, count)
        self.resting_pulse = self.random.uniform(52.0, 75.0, count)

    # --- One tick -----------------------------------------------------------------------------

    @property
    def next_tick_ms(self) -> int:
        return self.start_ms + round(self.tick_number * self.period_ms)

    def tick(self) -> list[tuple[SimulatedGateway, bytes]]:
        """The next tick's messages: one per gateway with a reading for each of its devices
        (none from a device that is simulating silence)."""
        at_ms = self.next_tick_ms
        self.tick_number += 1
        second = london_second_of_day(np.array([at_ms]))[0]
        self._end_events(at_ms)
        self._choose_modes(at_ms, int(second))
        self._inject_events(at_ms, int(second))
        readings = self._readings(at_ms)
        messages = []
        for gateway in self.plan.gateways:
            items = [readings[i] for i in gateway.devices.tolist() if readings[i] is not None]
            body = orjson.dumps({"schema_version": SCHEMA_VERSION, "readings": items})
            messages.append((gateway, body))
            self.counts.readings += len(items)
        self.counts.ticks += 1
        self.counts.messages += len(messages)
        return messages

    def _end_events(self, at_ms: int) -> None:
        ended = (self.event != NO_EVENT) & (self.event_until_ms <= at_ms)
        self.event[ended] = NO_EVENT
        self.mode_until_ms[ended] = at_ms  # choose what they do next

    def _choose_modes(self, at_ms: int, second: int) -> None:
        due = np.flatnonzero((self.mode_until_ms <= at_ms) & (self.event == NO_EVENT))
        if len(due) == 0:
            return
        period = int(np.searchsorted(REGIME_STARTS, second, side="right") - 1)
        weights = np.where(self.works[due, None], WORKER_WEIGHTS[period], STAYER_WEIGHTS[period])
        cumulative = np.cumsum(weights, axis=1)
        draws = self.random.random(len(due)) * cumulative[:, -1]
        modes = (draws[:, None] >= cumulative).sum(axis=1).astype(np.int8)
        low, high = MODE_SECONDS[modes, 0], MODE_SECONDS[modes, 1]
        seconds = self.random.uniform(low, np.maximum(high, low + 1))
        period_end = REGIME_STARTS[period + 1] if period + 1 < len(REGIME) else 24 * H
        out_seconds = period_end - second + self.random.uniform(0, 300, len(due))
        seconds = np.where(modes == OUT, out_seconds, seconds)
        self.mode[due] = modes
        self.mode_until_ms[due] = at_ms + (seconds * 1000).astype(np.int64)

    def _inject_events(self, at_ms: int, second: int) -> None:
        expected = self.events_per_hour * self.period_ms / 3_600_000
        count = int(self.random.poisson(expected)) if expected > 0 else 0
        for _ in range(count):
            kind = int(self.random.integers(1, len(EVENT_NAMES)))
            candidates = (self.event == NO_EVENT) & (self.mode != OUT)
            if kind == SECOND_PERSON:
                candidates &= self.plan.rules.single_occupancy
            candidates &= self._threshold_ms(kind, second) != OFF
            choices = np.flatnonzero(candidates)
            if len(choices) > 0:
                self.start_event(int(self.random.choice(choices)), kind, at_ms)

    def start_event(self, device: int, kind: int, at_ms: int) -> None:
        """Hold event ``kind`` on the plan's ``device`` from ``at_ms`` until just past the
        threshold in force then (a rule that is off then: it still lasts the margin)."""
        second = int(london_second_of_day(np.array([at_ms]))[0])
        threshold_ms = int(self._threshold_ms(kind, second)[device])
        threshold_ms = 0 if threshold_ms == OFF else threshold_ms
        self.event[device] = kind
        self.event_until_ms[device] = at_ms + threshold_ms + EVENT_MARGIN_SECONDS * 1000
        self.counts.events[EVENT_NAMES[kind]] += 1
        logger.info(
            "Injected %s at %s for %s",
            EVENT_NAMES[kind],
            datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(timespec="seconds"),
            self.plan.external_ids[device],
        )

    def _threshold_ms(self, kind: int, second: int) -> np.ndarray:
        rules = self.plan.rules
        column = RULE_INDEX[EVENT_RULES[kind]]
        is_day = (rules.day_starts_second[:, column] <= second) & (
            second < rules.day_ends_second[:, column]
        )
        return np.where(
            is_day, rules.day_threshold_ms[:, column], rules.night_threshold_ms[:, column]
        )

    def _readings(self, at_ms: int) -> list[dict | None]:
        count = len(self.plan)
        rand = self.random.random
        mode, event = self.mode, self.event
        persons = np.where(mode == OUT, 0, 1)
        activity = np.select(
            [mode == OUT, mode == ASLEEP, mode == RESTING, mode == MOVING],
            [
                np.zeros(count),
                0.06 + 0.1 * rand(count) + np.where(rand(count) < 0.02, 0.3, 0.0),
                0.08 + 0.22 * rand(count),
                0.25 + 0.6 * rand(count),
            ],
            default=0.1 + 0.4 * rand(count),  # in the bathroom
        )
        zone_draw = rand(count)
        zone = np.select(
            [
                mode == OUT,
                mode == ASLEEP,
                mode == RESTING,
                mode == BATHROOM,
            ],
            [
                np.full(count, NO_ZONE),
                np.full(count, BED),
                np.where(zone_draw < 0.7, BED, ELSEWHERE),
                np.full(count, BATHROOM_ZONE),
            ],
            default=np.where(zone_draw < 0.15, BED, np.where(zone_draw < 0.3, DOOR, ELSEWHERE)),
        )
        # Injected events override what the person is doing.
        still = event == NO_MOVEMENT
        activity = np.where(still, 0.03 * rand(count), activity)
        zone = np.where(still, np.where(mode == ASLEEP, BED, ELSEWHERE), zone)
        bathroom = event == LONG_BATHROOM
        activity = np.where(bathroom, 0.06 + 0.3 * rand(count), activity)
        zone = np.where(bathroom, BATHROOM_ZONE, zone)
        second_person = event == SECOND_PERSON
        persons = np.where(still | bathroom, 1, persons)
        persons = np.where(second_person, 2, persons)
        activity = np.where(second_person, 0.3 + 0.6 * rand(count), activity)
        zone = np.where(second_person & (zone == NO_ZONE), ELSEWHERE, zone)
        silent = event == DEVICE_SILENT

        self.battery = np.maximum(self.battery - 0.0002 * self.period_ms / 1000, 5.0)
        vitals = (persons > 0) & (
            (self.tick_number + self.vitals_phase) % VITALS_EVERY_SECONDS == 0
        )
        asleep = mode == ASLEEP
        pulse = self.resting_pulse + np.where(asleep, -4.0, 8.0) + 6.0 * rand(count)
        breathing = np.where(asleep, 12.0, 15.0) + 4.0 * rand(count)
        pulse_quality = 0.5 + 0.45 * rand(count)
        breathing_quality = 0.5 + 0.45 * rand(count)

        stamps = (at_ms + self.jitter_ms).tolist()
        readings: list[dict | None] = []
        columns = zip(
            self.plan.external_ids,
            stamps,
            persons.tolist(),
            np.round(activity, 3).tolist(),
            zone.tolist(),
            silent.tolist(),
            vitals.tolist(),
            np.round(self.battery, 1).tolist(),
            strict=True,
        )
        for index, (device, stamp, people, moved, where, quiet, spot, charge) in enumerate(columns):
            if quiet:
                readings.append(None)
                continue
            reading = {
                "device_id": device,
                "timestamp_ms": stamp,
                "persons_present": people,
                "activity_level": moved,
                "zone": ZONE_WIRE_NAMES[where],
                "battery_percent": charge,
            }
            if spot:
                reading["pulse_bpm"] = round(float(pulse[index]), 1)
                reading["pulse_quality"] = round(float(pulse_quality[index]), 2)
                reading["breathing_rate"] = round(float(breathing[index]), 1)
                reading["breathing_quality"] = round(float(breathing_quality[index]), 2)
            readings.append(reading)
        return readings


# --- Transports -----------------------------------------------------------------------------------


@dataclass
class SendCounts:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    answers: dict[str, int] = field(default_factory=dict)  # HTTP: summed ingest counts


class HttpTransport:
    """POST each message to the batch endpoint with its gateway's token (one kept-alive
    connection). A 503 is sent again after a pause; any other refusal is counted and logged."""

    PATH = "/api/monitoring/readings"

    def __init__(self, base_url: str, tokens: dict[str, str], *, retries: int = 5):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"The server is http://host:port, not {base_url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.tokens = tokens
        self.retries = retries
        self.counts = SendCounts()
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (
                http.client.HTTPSConnection
                if self.scheme == "https"
                else http.client.HTTPConnection
            )
            self._connection = kind(self.host, self.port, timeout=30)
        return self._connection

    def send(self, gateway: SimulatedGateway, body: bytes) -> None:
        token = self.tokens.get(gateway.key)
        if token is None:
            self.counts.failed += 1
            logger.warning("No token for gateway %s: message not sent", gateway.key)
            return
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for attempt in range(self.retries + 1):
            try:
                connection = self._connect()
                connection.request("POST", self.prefix + self.PATH, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                self._reset()
                status, answer = 0, str(error).encode()
            else:
                status = response.status
            if status == 202:
                self.counts.sent += 1
                for name, value in orjson.loads(answer).items():
                    self.counts.answers[name] = self.counts.answers.get(name, 0) + value
                return
            if status not in (0, 503) or attempt == self.retries:
                break
            self.counts.retried += 1
            time.sleep(min(0.25 * 2**attempt, 5.0))
        self.counts.failed += 1
        logger.warning("Gateway %s: message refused (%s) %s", gateway.key, status, answer[:200])

    def _reset(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def close(self) -> None:
        self._reset()


class MqttTransport:
    """Publish each message at QoS 1 to ``saferprisons/<prison>/<gateway>/readings``."""

    def __init__(self, broker: Broker, *, client_id: str = ""):
        self.counts = SendCounts()
        self._published = threading.Semaphore(0)
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)  # keep every message while reconnecting
        if broker.username is not None:
            self.client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            self.client.tls_set()
        self.client.on_publish = self._on_publish
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        self._last = None

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.counts.failed += 1
        else:
            self.counts.sent += 1

    def send(self, gateway: SimulatedGateway, body: bytes) -> None:
        self._last = self.client.publish(gateway.topic, body, qos=1)

    def close(self, timeout: float = 30.0) -> None:
        """Wait until the broker has every message (PUBACK), then disconnect."""
        if self._last is not None:
            self._last.wait_for_publish(timeout)
        self.client.disconnect()
        self.client.loop_stop()


# --- Running in real time -------------------------------------------------------------------------


def run(
    simulator: SensorSimulator,
    send: Callable[[SimulatedGateway, bytes], None],
    *,
    duration_seconds: float | None,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] | None = None,
) -> SimulatorCounts:
    """Send a tick's messages when its time comes, until ``duration_seconds`` of simulated time
    have been sent or ``stop`` is set. A tick that falls behind is sent at once (never skipped)."""
    stop = stop or threading.Event()
    wait = sleep or stop.wait
    ticks = (
        None if duration_seconds is None else round(duration_seconds * 1000 / simulator.period_ms)
    )
    behind_logged = False
    while not stop.is_set() and (ticks is None or simulator.tick_number < ticks):
        late_ms = to_ms(clock.now()) - simulator.next_tick_ms
        if late_ms < 0:
            wait(-late_ms / 1000)
            continue
        if late_ms > 5000 and not behind_logged:
            logger.warning("The simulator is %.1f s behind real time", late_ms / 1000)
            behind_logged = True
        for gateway, body in simulator.tick():
            send(gateway, body)
    return simulator.counts
