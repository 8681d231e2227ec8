#!/usr/bin/env python
"""In-cell monitoring ingest over MQTT at estate scale, beside a naive per-reading baseline.

Goal (issue 4): one ingest node on this 2-core machine keeps up with every occupied cell of
England and Wales (about 88,000) reporting once a second, batched per wing gateway, for 5 minutes:
at least 88,000 readings/s sustained through MQTT, validation, rule evaluation and rollup storage,
reading-to-alert-committed p99 <= 250 ms, and no reading lost.

Set-up (not measured): a fictional estate written in bulk straight to the tables (no services,
no audit): 120 prisons, ``--cells`` single cells each with one occupant enrolled by consent, one
wing gateway per ``--cells-per-wing`` cells, one installed sensor per cell. Rule settings are the
built-in defaults except DEVICE_SILENT (15 min instead of 60 s, so that a consumer that falls
behind does not open an alert for every cell). ``--reuse`` keeps a set-up already there.

Each run (the naive baseline first, then the optimised consumer) has three processes besides this
one, all on the same machine, talking to a PRIVATE Mosquitto started by the benchmark (a free
port, no persistence, ``max_queued_messages 0`` so that the broker itself never drops a message
while a consumer is behind, as docs/monitoring-consumer.md requires for production):

  generator  publishes one QoS 1 message per wing gateway per tick (``--rate`` / ``--cells``
             ticks a second: 1 at the defaults), the gateways evenly out of phase over the
             tick (as independent gateways are; in 20 groups), payloads pre-encoded once (a
             few variants per gateway) with ``timestamp_ms`` set to the wall-clock time just
             before the message is published. Injected events open alerts: an out-of-range
             pulse (at once), tamper (10 s), a second person in the cell (2 min by day, 30 s at
             night), each on a cell that has no open alert, at ``--events-per-second``.
  consumer   optimised: the real ``monitoring.consumer.Consumer`` (what ``manage.py
             monitoring_consumer`` runs) with the real ``IngestPipeline``, default options except
             ``--max-in-flight`` and ``--flush-on-ingest-thread`` as given, and a plain
             subscription (no shared group; with ``--consumers 2`` each process subscribes to
             half of the prisons, so a gateway's messages all go to one process). It is given
             the offer once it is connected with its roster loaded. Subclasses of the pipeline
             and the consumer only observe: after ``ingest_many()`` returns, the messages'
             transactions (dead letters, alerts, raw readings around alerts) have committed;
             a message is acknowledged once the minutes of its readings are written.
             naive: paho with manual acks; per reading: a dict lookup of the device, a field
             check, one ORM ``create()`` of the raw reading into a table the benchmark creates
             (``bench_raw_reading``, autocommit: one transaction per reading), one rule check
             with the per-reading reference engine (``reference_rules.ReferenceEngine``), and
             ``Alert.objects.create()`` when a rule fires; each message acknowledged after its
             readings.

Measured (wall-clock, ``time.time()`` on the one machine, so the clocks agree):
  readings/s      readings accepted by the consumers per 10-s interval of the offered window
                  (each consumer's own samples, summed; min / median), and overall (their mean)
  latency         reading-to-alert-committed: the moment ``ingest_many()`` returns after committing
                  the alert's transaction minus the ``timestamp_ms`` of the reading that crossed
                  the threshold (= its send time). Also reading-to-ingested for every message,
                  and reading-to-durable (message acknowledged: the minutes of its readings
                  written) for the optimised consumer, about a minute by design (ADR 0015).
  CPU, memory     utime+stime from /proc of the consumer, the generator, the broker and the
                  consumer's PostgreSQL backend; peak RSS (VmHWM) of the consumer
  none lost       readings offered (generator) vs accepted vs stored (the rise of the sum of
                  MinuteRollup.reading_count over the run's minutes) vs dead-lettered
                  vs duplicates; naive: rows inserted

Usage (from the repository root):
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/mqttwt_bench \\
      .venv/bin/python bench/bench_ingest_mqtt.py         # PostgreSQL, created if missing
  .venv/bin/python bench/bench_ingest_mqtt.py              # SQLite at var/bench.sqlite3
Options: --duration S (300), --naive-duration S (60; 0 skips), --rate N (88000 readings/s),
--cells N (88000), --cells-per-wing N (250), --events-per-second F (2), --consumers N (1; 2 runs
two consumer processes, each subscribed to half of the prisons: still one node),
--max-in-flight N (30000), --flush-on-ingest-thread, --profile (cProfile the optimised consumer),
--reuse, --label TEXT (results file suffix).
Results: the measures on stdout and bench/results/ingest-mqtt-<vendor>[-<label>].json; the
processes' logs in a temporary directory named on stdout. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from bench_people import (  # noqa: E402  (after the path is set)
    configure_environment,
    database_version,
    machine,
    percentile,
)

RESULTS = REPO / "bench" / "results"
GOAL_READINGS_PER_SECOND = 88_000
GOAL_ALERT_P99_MS = 250.0
PRISONS = 120
CELLS_PER_LANDING = 50
PRISON_PREFIX = "MQ"  # fictional prison codes MQ001..MQ120
PLACEHOLDER = b"1111111111111"  # 13 digits, replaced by the send time in ms
VARIANTS = 4
SLOTS = 20  # the generator publishes a tick's messages in this many groups, evenly spaced
INTERVAL_SECONDS = 10
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The optimised consumer is given this long after the generator stops to take every reading;
# DEVICE_SILENT is set to SILENT_SECONDS in the benchmark prisons (slow_silence_rule), so a
# consumer that is behind does not open an alert for every cell.
DRAIN_SECONDS = 150
SILENT_SECONDS = 900


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--naive-duration", type=float, default=60)
    parser.add_argument("--rate", type=int, default=88_000, help="readings/s offered")
    parser.add_argument("--cells", type=int, default=88_000)
    parser.add_argument("--cells-per-wing", type=int, default=250)
    parser.add_argument("--events-per-second", type=float, default=2.0)
    parser.add_argument("--consumers", type=int, default=1)
    # The consumer's default (ConsumerOptions.max_in_flight): about a minute of messages.
    parser.add_argument("--max-in-flight", type=int, default=30_000)
    parser.add_argument(
        "--flush-on-ingest-thread",
        action="store_true",
        help="The consumer writes rollups on its ingest thread, not a second one.",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="Keep a set-up already there.")
    parser.add_argument("--label", default="", help="Suffix of the results file.")
    parser.add_argument("--role", default="main", help=argparse.SUPPRESS)
    parser.add_argument("--spec", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def summarise_ms(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    values = sorted(values)
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(values[-1], 1),
    }


# --- /proc -----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def machine_jiffies() -> tuple[float, float]:
    """CPU seconds spent busy (not idle or waiting) by all cores, and in all, so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK, sum(fields[:8]) / CLK_TCK


def memory_mb(pid: int) -> tuple[float, float] | None:
    """(RSS, peak RSS) in MB."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    values = {}
    for line in lines:
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, amount, _unit = line.split()
            values[key] = int(amount) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


# --- Set-up ----------------------------------------------------------------------------------


def set_up_estate(cells: int, cells_per_wing: int, reuse: bool) -> dict:
    """The fictional estate, in bulk: returns what was there or made, and how long it took."""
    from django.db import connection, transaction

    from saferprisons.accounts.models import User
    from saferprisons.estate.constants import LocationLevel, Operator, Population, PrisonCategory
    from saferprisons.estate.models import Location, Prison
    from saferprisons.monitoring.constants import DeviceKind, EnrolmentBasis
    from saferprisons.monitoring.models import Device, Enrolment, Gateway, RosterVersion
    from saferprisons.people.constants import LegalStatus, Sex
    from saferprisons.people.models import CellAllocation, Prisoner

    ours = Device.objects.filter(gateway__prison__code__startswith=PRISON_PREFIX)
    there = ours.count()
    if reuse and there == cells:
        return {"reused": True, "cells": there, "gateways": gateways_count()}
    if there:
        raise SystemExit(
            f"{there} benchmark devices are already in this database (asked for {cells}): use "
            "--reuse with the same --cells, or a fresh database"
        )
    started = time.perf_counter()
    now = datetime.now(UTC)
    user, _ = User.objects.get_or_create(username="bench.mqtt", defaults={"is_active": True})
    wings = -(-cells // cells_per_wing)
    with transaction.atomic():
        prisons = Prison.objects.bulk_create(
            Prison(
                code=f"{PRISON_PREFIX}{n:03d}",
                name=f"HMP Benchmark {n}",
                category=PrisonCategory.B,
                population=Population.MEN,
                operator=Operator.PUBLIC,
            )
            for n in range(1, PRISONS + 1)
        )
        wing_rows = []
        for w in range(wings):
            prison = prisons[w % PRISONS]
            letter = w // PRISONS
            code = chr(ord("A") + letter) if letter < 26 else f"W{letter}"
            wing_rows.append(
                Location(prison=prison, level=LocationLevel.WING, code=code, path=code)
            )
        wing_rows = Location.objects.bulk_create(wing_rows)
        landing_rows, cell_specs = [], []
        remaining = cells
        for wing in wing_rows:
            here = min(cells_per_wing, remaining)
            remaining -= here
            for landing_number in range(-(-here // CELLS_PER_LANDING)):
                landing = Location(
                    prison_id=wing.prison_id,
                    parent=wing,
                    level=LocationLevel.LANDING,
                    code=str(landing_number + 1),
                    path=f"{wing.code}-{landing_number + 1}",
                )
                landing_rows.append(landing)
                count = min(CELLS_PER_LANDING, here - landing_number * CELLS_PER_LANDING)
                cell_specs.append((landing, count))
        Location.objects.bulk_create(landing_rows, batch_size=2000)
        cell_rows = []
        for landing, count in cell_specs:
            for c in range(1, count + 1):
                cell_rows.append(
                    Location(
                        prison_id=landing.prison_id,
                        parent=landing,
                        level=LocationLevel.CELL,
                        code=f"{c:03d}",
                        path=f"{landing.path}-{c:03d}",
                        certified_normal_accommodation=1,
                        working_capacity=1,
                        max_capacity=1,
                        occupied=1,
                    )
                )
        cell_rows = Location.objects.bulk_create(cell_rows, batch_size=5000)
        letters = [
            a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        ]
        people = Prisoner.objects.bulk_create(
            (
                Prisoner(
                    prison_number=f"Q{i % 10000:04d}{letters[i // 10000]}",
                    first_name="Bench",
                    last_name=f"Person{i}",
                    date_of_birth=datetime(1990, 1, 1).date(),
                    sex=Sex.MALE,
                    legal_status=LegalStatus.SENTENCED,
                    prison_id=cell.prison_id,
                )
                for i, cell in enumerate(cell_rows)
            ),
            batch_size=5000,
        )
        CellAllocation.objects.bulk_create(
            (
                CellAllocation(
                    prisoner=person,
                    cell=cell,
                    started_at=now - timedelta(days=30),
                    allocated_by_label="bench",
                )
                for person, cell in zip(people, cell_rows, strict=True)
            ),
            batch_size=5000,
        )
        gateway_of_wing = {
            wing.pk: gw
            for wing, gw in zip(
                wing_rows,
                Gateway.objects.bulk_create(
                    Gateway(prison_id=w.prison_id, code=f"{w.code}-WING", name=f"{w.code} wing")
                    for w in wing_rows
                ),
                strict=True,
            )
        }
        wing_of_landing = {landing.pk: landing.parent_id for landing in landing_rows}
        prison_code = {p.pk: p.code for p in prisons}
        Device.objects.bulk_create(
            (
                Device(
                    external_id=f"{prison_code[cell.prison_id]}-{cell.path}-V",
                    gateway=gateway_of_wing[wing_of_landing[cell.parent_id]],
                    cell=cell,
                    kind=DeviceKind.VISION,
                    vendor="Fictional Bench Sensors",
                    serial=f"FB-{prison_code[cell.prison_id]}-{cell.path}",
                    installed_at=now - timedelta(days=7),
                )
                for cell in cell_rows
            ),
            batch_size=5000,
        )
        Enrolment.objects.bulk_create(
            (
                Enrolment(
                    prisoner=person,
                    prison_id=person.prison_id,
                    basis=EnrolmentBasis.CONSENT,
                    decided_by=user,
                    review_on=(now + timedelta(days=28)).date(),
                    starts_at=now - timedelta(days=5),
                    ends_at=now + timedelta(days=85),
                )
                for person in people
            ),
            batch_size=5000,
        )
        version, _ = RosterVersion.objects.get_or_create(pk=1)
        RosterVersion.objects.filter(pk=1).update(number=version.number + 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "reused": False,
        "cells": len(cell_rows),
        "gateways": len(wing_rows),
        "set_up_seconds": round(time.perf_counter() - started, 1),
    }


def slow_silence_rule() -> None:
    """DEVICE_SILENT after SILENT_SECONDS instead of 60 s in the benchmark prisons: a consumer
    more than 60 s behind would otherwise open an alert for every cell (and in production it
    would: see the lag reported). Everything else is the built-in default."""
    from saferprisons.accounts.models import User
    from saferprisons.estate.models import Prison
    from saferprisons.monitoring.constants import Priority, RuleKind
    from saferprisons.monitoring.models import RosterVersion, RuleConfig

    user = User.objects.get(username="bench.mqtt")
    changed = False
    for prison in Prison.objects.filter(code__startswith=PRISON_PREFIX):
        _config, made = RuleConfig.objects.update_or_create(
            prison=prison,
            location=None,
            kind=RuleKind.DEVICE_SILENT,
            defaults={
                "enabled": True,
                "priority": Priority.MEDIUM,
                "day_threshold_seconds": SILENT_SECONDS,
                "night_threshold_seconds": SILENT_SECONDS,
                "updated_by": user,
            },
        )
        changed = changed or made
    if changed:
        version, _ = RosterVersion.objects.get_or_create(pk=1)
        RosterVersion.objects.filter(pk=1).update(number=version.number + 1)


def gateways_count() -> int:
    from saferprisons.monitoring.models import Gateway

    return Gateway.objects.filter(prison__code__startswith=PRISON_PREFIX).count()


def plan_gateways() -> list[dict]:
    """Every benchmark gateway with its devices' external ids and whether each has an open alert
    (such a cell cannot open the same alert again, so no event is injected there)."""
    from saferprisons.monitoring.models import Alert, Device

    busy = set(Alert.objects.filter(resolved_at__isnull=True).values_list("device_id", flat=True))
    gateways: dict[int, dict] = {}
    rows = (
        Device.objects.filter(gateway__prison__code__startswith=PRISON_PREFIX)
        .order_by("gateway_id", "external_id")
        .values_list("pk", "external_id", "gateway_id", "gateway__prison__code", "gateway__code")
    )
    for pk, external_id, gateway_pk, prison, code in rows:
        entry = gateways.setdefault(
            gateway_pk,
            {"topic": f"saferprisons/{prison}/{code}/readings", "prison": prison, "devices": []},
        )
        entry["devices"].append([external_id, pk in busy])
    return list(gateways.values())


def stored_readings(since: datetime) -> int:
    from django.db.models import Sum

    from saferprisons.monitoring.models import MinuteRollup

    total = MinuteRollup.objects.filter(
        minute__gte=since, device__gateway__prison__code__startswith=PRISON_PREFIX
    ).aggregate(n=Sum("reading_count"))["n"]
    return int(total or 0)


# --- The private broker ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_broker(directory: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = directory / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "max_queued_messages 0\n"
        "max_queued_bytes 0\n"
        "max_inflight_messages 0\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker = subprocess.Popen(
        [binary, "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "mosquitto.log", "w"),  # noqa: SIM115
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return broker, port
        except OSError:
            time.sleep(0.1)
    broker.kill()
    raise SystemExit("the private Mosquitto did not start: see its log")


# --- The generator (a separate process) -------------------------------------------------------


def reading(external_id: str, rng, spot: bool) -> dict:
    item = {
        "device_id": external_id,
        "timestamp_ms": int(PLACEHOLDER),
        "persons_present": 1,
        "activity_level": round(0.08 + 0.6 * rng.random(), 3),
        "zone": "bed" if rng.random() < 0.6 else "elsewhere",
        "battery_percent": round(55 + 45 * rng.random(), 1),
    }
    if spot:
        item["pulse_bpm"] = round(55 + 30 * rng.random(), 1)
        item["pulse_quality"] = round(0.6 + 0.35 * rng.random(), 2)
        item["breathing_rate"] = round(12 + 6 * rng.random(), 1)
        item["breathing_quality"] = round(0.6 + 0.35 * rng.random(), 2)
    return item


def run_generator(spec: dict) -> None:
    """Publish the offered load; write what was sent to spec['out']."""
    import random

    import orjson
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    rng = random.Random(spec["seed"])
    gateways = spec["gateways"]
    # Pre-encoded variants per gateway: the readings as dicts (for event ticks) and as bytes.
    variants = []
    for gateway in gateways:
        sets = []
        for v in range(VARIANTS):
            items = [
                reading(external_id, rng, spot=(index + v) % 30 == 0)
                for index, (external_id, _busy) in enumerate(gateway["devices"])
            ]
            sets.append((items, orjson.dumps({"schema_version": 1, "readings": items})))
        variants.append(sets)
    events = plan_events(spec, rng)
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"bench-generator-{os.getpid()}",
        protocol=mqtt.MQTTv5,
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    acked = [0]
    client.on_publish = lambda *a: acked.__setitem__(0, acked[0] + 1)
    client.connect("127.0.0.1", spec["port"], keepalive=60)
    client.loop_start()
    period = spec["period_seconds"]
    ticks = round(spec["duration"] / period)
    started = time.time() + 0.5
    Path(spec["out"] + ".started").write_text(str(started))
    sent_messages = sent_readings = 0
    late_ticks = 0
    worst_late = 0.0
    info = None
    active: dict[int, dict[int, dict]] = {}  # gateway -> device index -> overriding fields
    # Gateways keep their own clocks: evenly out of phase, in SLOTS groups a tick (a sleep per
    # message would cost the generator more than it is worth).
    slot_of = [g * SLOTS // len(gateways) for g in range(len(gateways))]
    for tick in range(ticks):
        due = started + tick * period
        wait = due - time.time()
        if -wait > 0.1:
            late_ticks += 1
            worst_late = max(worst_late, -wait)
        active = events_at(events, tick * period)
        for g, gateway in enumerate(gateways):
            if g == 0 or slot_of[g] != slot_of[g - 1]:
                wait = due + slot_of[g] * period / SLOTS - time.time()
                if wait > 0:
                    time.sleep(wait)
            items, body = variants[g][tick % VARIANTS]
            stamp = str(now_ms()).encode()
            overrides = active.get(g)
            if overrides:
                items = [
                    {**item, **overrides[i]} if i in overrides else item
                    for i, item in enumerate(items)
                ]
                body = orjson.dumps({"schema_version": 1, "readings": items})
            info = client.publish(gateway["topic"], body.replace(PLACEHOLDER, stamp), qos=1)
            sent_messages += 1
            sent_readings += len(items)
    if info is not None:
        info.wait_for_publish(60)
    finished = time.time()
    client.disconnect()
    client.loop_stop()
    Path(spec["out"]).write_text(
        json.dumps(
            {
                "started": started,
                "finished": finished,
                "ticks": ticks,
                "messages": sent_messages,
                "readings": sent_readings,
                "broker_acknowledged": acked[0],
                "late_ticks_over_100ms": late_ticks,
                "worst_late_seconds": round(worst_late, 3),
                "events": [
                    {k: e[k] for k in ("kind", "device", "gateway", "start", "alert_expected")}
                    for e in events
                ],
            }
        )
    )


EVENT_KINDS = ("PULSE_OUT_OF_RANGE", "TAMPERED", "SECOND_PERSON")


def plan_events(spec: dict, rng) -> list[dict]:
    """Events spread over the run on distinct cells without an open alert; each lasts past its
    threshold (the one in force then) and ends before the generator stops."""
    from saferprisons.monitoring.reference_rules import london_second_of_day
    from saferprisons.monitoring.rules import default_settings

    settings = default_settings()
    gateways = spec["gateways"]
    free = [
        (g, d)
        for g, gateway in enumerate(gateways)
        for d, (_external_id, busy) in enumerate(gateway["devices"])
        if not busy
    ]
    rng.shuffle(free)
    # The naive run takes its cells from one half, the optimised run from the other.
    half = len(free) // 2
    free = free[:half] if spec["event_half"] == 0 else free[half:]
    count = int(spec["events_per_second"] * spec["duration"])
    events = []
    for n in range(count):
        if not free:
            break
        start = 5 + n / max(spec["events_per_second"], 1e-9)
        kind = EVENT_KINDS[n % len(EVENT_KINDS)]
        setting = settings[kind]
        second = london_second_of_day(int((time.time() + start) * 1000))
        threshold = setting.threshold_seconds(setting.is_day(second)) or 0
        hold = 1 if kind == "PULSE_OUT_OF_RANGE" else threshold + 5
        if start + hold > spec["duration"] - 2:
            continue
        g, d = free.pop()
        fields = {
            "PULSE_OUT_OF_RANGE": {"pulse_bpm": 165.0, "pulse_quality": 0.9},
            "TAMPERED": {"tampered": True},
            "SECOND_PERSON": {"persons_present": 2},
        }[kind]
        events.append(
            {
                "kind": kind,
                "gateway": g,
                "device": gateways[g]["devices"][d][0],
                "index": d,
                "start": start,
                "end": start + hold,
                "fields": fields,
                "alert_expected": True,
            }
        )
    return events


def events_at(events: list[dict], offset: float) -> dict[int, dict[int, dict]]:
    active: dict[int, dict[int, dict]] = {}
    for event in events:
        if event["start"] <= offset < event["end"]:
            active.setdefault(event["gateway"], {})[event["index"]] = event["fields"]
    return active


# --- The optimised consumer (a separate process) ------------------------------------------------


def run_consumer(spec: dict) -> None:
    import django

    django.setup()
    import logging

    from django.db import connection

    from saferprisons.monitoring import conf
    from saferprisons.monitoring.consumer import Broker, Consumer, ConsumerOptions
    from saferprisons.monitoring.ingest import IngestPipeline

    logging.getLogger("saferprisons.monitoring").setLevel(logging.WARNING)

    class ObservedPipeline(IngestPipeline):
        """The real pipeline; only observes when what it committed had been sent."""

        def __init__(self):
            super().__init__()
            self.alert_ms: list[float] = []
            self.message_ms: list[float] = []
            self.durable_ms: list[float] = []
            self._opened_at_ms: list[int] = []
            self.after_ms = conf.value("MONITORING_ALERT_WINDOW_AFTER_SECONDS") * 1000

        def ingest_many(self, messages, **kwargs):
            # Every reading of a generated message carries its send time, so the newest
            # accepted reading of each message is when it was sent.
            self._opened_at_ms = []
            results = super().ingest_many(messages, **kwargs)
            done = time.time() * 1000
            for at in self._opened_at_ms:
                self.alert_ms.append(done - at)
            self.message_ms += [done - r.newest_ms for r in results if r.newest_ms]
            return results

        def _open_alerts(self, triggers, columns, sorting, now):
            opened = super()._open_alerts(triggers, columns, sorting, now)
            if columns is not None:  # a reading crossed it (not the silence clock)
                self._opened_at_ms += [o.capture_until_ms - self.after_ms for o in opened]
            return opened

    class ObservedConsumer(Consumer):
        """The real consumer; only notes when each message was sent and acknowledged (its
        readings durable: the minutes they fall in written)."""

        def _acknowledge(self, done):
            super()._acknowledge(done)
            now = time.time() * 1000
            pipeline.durable_ms += [now - d.newest_ms for d in done if d.newest_ms]

    pipeline = ObservedPipeline()
    options = ConsumerOptions(
        name=spec["name"],
        broker=Broker.from_url(f"mqtt://127.0.0.1:{spec['port']}"),
        prisons=tuple(spec["prisons"]),
        share_group=None,
        max_in_flight=spec["max_in_flight"],
        flush_in_background=spec["flush_in_background"],
    )
    consumer = ObservedConsumer(options, pipeline=pipeline)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            Path(spec["out"] + ".pgpid").write_text(str(cursor.fetchone()[0]))
    progress = open(spec["out"] + ".progress", "w")  # noqa: SIM115
    done = threading.Event()

    def report():
        ready = Path(spec["out"] + ".ready")
        while not done.wait(1.0):
            if not ready.exists() and consumer.connected.is_set() and pipeline.roster is not None:
                ready.write_text("ready")  # connected, subscribed, the roster loaded
            stats = consumer.stats
            progress.write(
                json.dumps(
                    {
                        "t": time.time(),
                        "accepted": stats.accepted,
                        "ingested": stats.ingested,
                        "backlog": consumer.backlog,
                        "queued": consumer._deliveries.qsize(),
                    }
                )
                + "\n"
            )
            progress.flush()

    threading.Thread(target=report, daemon=True).start()
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    stats = consumer.run()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["out"] + ".pstats")
    done.set()
    Path(spec["out"]).write_text(
        json.dumps(
            {
                "stats": stats.__dict__,
                "backlog_at_stop": consumer.backlog,
                "queued_at_stop": consumer._deliveries.qsize(),
                "alert_ms": pipeline.alert_ms,
                "message": summarise_ms(pipeline.message_ms),
                "durable": summarise_ms(pipeline.durable_ms),
            }
        )
    )


# --- The naive consumer (a separate process) ----------------------------------------------------


def raw_reading_model():
    from django.db import models

    class BenchRawReading(models.Model):
        device_id = models.BigIntegerField()
        recorded_at = models.DateTimeField()
        persons_present = models.SmallIntegerField()
        activity_level = models.FloatField()
        zone = models.CharField(max_length=10, null=True)
        pulse_bpm = models.FloatField(null=True)
        pulse_quality = models.FloatField(null=True)
        breathing_rate = models.FloatField(null=True)
        breathing_quality = models.FloatField(null=True)
        tampered = models.BooleanField(default=False)
        battery_percent = models.FloatField(null=True)

        class Meta:
            app_label = "monitoring"
            managed = False
            db_table = "bench_raw_reading"

        def __str__(self) -> str:
            return f"{self.device_id} at {self.recorded_at}"

    return BenchRawReading


def create_raw_reading_table() -> None:
    from django.db import connection

    model = raw_reading_model()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_reading")
    with connection.schema_editor() as editor:
        editor.create_model(model)


def run_naive(spec: dict) -> None:
    import queue

    import django

    django.setup()
    import orjson
    import paho.mqtt.client as mqtt
    from django.db import IntegrityError, connection, transaction
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from saferprisons.monitoring.constants import Zone
    from saferprisons.monitoring.models import Alert, Device
    from saferprisons.monitoring.reference_rules import Reading, ReferenceEngine
    from saferprisons.monitoring.rules import DeviceProfile, default_settings, from_ms

    model = raw_reading_model()
    devices = {
        external_id: (pk, cell, prison, prisoner)
        for external_id, pk, cell, prison, prisoner in Device.objects.filter(
            gateway__prison__code__startswith=PRISON_PREFIX
        ).values_list(
            "external_id", "pk", "cell_id", "gateway__prison_id", "cell__allocations__prisoner_id"
        )
    }
    profile = DeviceProfile(single_occupancy=True, rules=default_settings())
    engine = ReferenceEngine({pk: profile for pk, _c, _p, _pr in devices.values()})
    zones = {None: Zone.NONE, "bed": Zone.BED, "bathroom": Zone.BATHROOM, "door": Zone.DOOR}
    zones["elsewhere"] = Zone.ELSEWHERE
    deliveries: queue.SimpleQueue = queue.SimpleQueue()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"bench-naive-{os.getpid()}",
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )
    client.on_message = lambda c, u, message: deliveries.put(message)

    def on_connect(c, u, f, rc, p):
        c.subscribe("saferprisons/+/+/readings", qos=1)
        Path(spec["out"] + ".ready").write_text("ready")

    client.on_connect = on_connect
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = spec["max_in_flight"]
    properties.SessionExpiryInterval = 0
    client.connect("127.0.0.1", spec["port"], clean_start=True, properties=properties)
    client.loop_start()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            Path(spec["out"] + ".pgpid").write_text(str(cursor.fetchone()[0]))
    progress = open(spec["out"] + ".progress", "w")  # noqa: SIM115
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    counts = {"accepted": 0, "ingested": 0, "alerts": 0, "invalid": 0}
    alert_ms: list[float] = []
    message_ms: list[float] = []
    next_report = time.time() + 1
    while not stop.is_set():
        try:
            message = deliveries.get(timeout=0.2)
        except queue.Empty:
            message = None
        if message is not None:
            sent = None
            for item in orjson.loads(message.payload).get("readings", []):
                device = devices.get(item.get("device_id"))
                stamp = item.get("timestamp_ms")
                if device is None or not isinstance(stamp, int):
                    counts["invalid"] += 1
                    continue
                sent = stamp if sent is None else min(sent, stamp)
                model.objects.create(
                    device_id=device[0],
                    recorded_at=from_ms(stamp),
                    persons_present=item["persons_present"],
                    activity_level=item["activity_level"],
                    zone=item.get("zone"),
                    pulse_bpm=item.get("pulse_bpm"),
                    pulse_quality=item.get("pulse_quality"),
                    breathing_rate=item.get("breathing_rate"),
                    breathing_quality=item.get("breathing_quality"),
                    tampered=item.get("tampered", False),
                    battery_percent=item.get("battery_percent"),
                )
                counts["accepted"] += 1
                fired = engine.reading(
                    device[0],
                    Reading(
                        timestamp_ms=stamp,
                        persons=item["persons_present"],
                        activity=item["activity_level"],
                        zone=zones.get(item.get("zone"), Zone.NONE),
                        pulse=item.get("pulse_bpm"),
                        pulse_quality=item.get("pulse_quality"),
                        breathing=item.get("breathing_rate"),
                        breathing_quality=item.get("breathing_quality"),
                        tampered=item.get("tampered", False),
                    ),
                )
                for _device, kind, at_ms, since_ms, value, quality in fired:
                    setting = profile.rules[kind]
                    try:
                        with transaction.atomic():
                            Alert.objects.create(
                                prison_id=device[2],
                                cell_id=device[1],
                                prisoner_id=device[3],
                                device_id=device[0],
                                rule=kind,
                                priority=setting.priority,
                                threshold_seconds=setting.day_threshold_seconds or 0,
                                first_reading_at=from_ms(since_ms),
                                triggered_at=from_ms(at_ms),
                                measured_value=value,
                                measured_quality=quality,
                            )
                    except IntegrityError:
                        continue
                    counts["alerts"] += 1
                    alert_ms.append(time.time() * 1000 - at_ms)
            counts["ingested"] += 1
            if sent is not None:
                message_ms.append(time.time() * 1000 - sent)
            client.ack(message.mid, message.qos)
        if time.time() >= next_report:
            progress.write(
                json.dumps({"t": time.time(), **counts, "queued": deliveries.qsize()}) + "\n"
            )
            progress.flush()
            next_report += 1
    queued = deliveries.qsize()
    client.disconnect()
    client.loop_stop()
    Path(spec["out"]).write_text(
        json.dumps(
            {
                "stats": counts,
                "queued_at_stop": queued,
                "alert_ms": alert_ms,
                "message": summarise_ms(message_ms),
            }
        )
    )


# --- The orchestration ---------------------------------------------------------------------------


class Sampler:
    """CPU seconds and memory of the processes, once a second."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add(self, name: str, pid: int) -> None:
        self.pids[name] = pid

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        database = _backends_of_this_database()
        while True:
            sample = {"t": time.time(), "load": os.getloadavg()[0]}
            for name, pid in list(self.pids.items()):
                sample[name] = cpu_seconds(pid)
                memory = memory_mb(pid)
                if memory is not None:
                    sample[name + "_rss"], sample[name + "_hwm"] = memory
            if database is not None:
                sample["postgres"] = database()
            sample["machine_busy"], sample["machine_total"] = machine_jiffies()
            self.samples.append(sample)
            if self._stop.wait(1.0):
                return

    def cpu_percent(self, name: str, start: float, end: float) -> float | None:
        """Share of one core used by ``name`` between two times (nearest samples)."""
        inside = [s for s in self.samples if start <= s["t"] <= end and s.get(name) is not None]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        return round(100 * (last[name] - first[name]) / (last["t"] - first["t"]), 1)

    def peak(self, key: str) -> float | None:
        values = [s[key] for s in self.samples if s.get(key) is not None]
        return round(max(values), 1) if values else None


def _backends_of_this_database():
    """PostgreSQL only: a function giving the CPU seconds used so far by every backend
    connected to the benchmark database (the consumers' connections, the flusher thread's)
    since it was first seen, but not this sampler's own."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        return None
    params = {
        "dbname": config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    conn = psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)
    base: dict[int, float] = {}
    last: dict[int, float] = {}

    def used() -> float:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
        for (pid,) in rows:
            seconds = cpu_seconds(pid)
            if seconds is None:
                continue
            base.setdefault(pid, seconds)
            last[pid] = seconds
        return sum(last[pid] - base[pid] for pid in last)

    return used


def child(role: str, spec: dict, workdir: Path, name: str) -> subprocess.Popen:
    path = workdir / f"{name}.spec.json"
    path.write_text(json.dumps(spec))
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--role", role, "--spec", str(path)],
        stderr=open(workdir / f"{name}.log", "w"),  # noqa: SIM115
        env={**os.environ},
    )


def read_progress(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def interval_rates(series: list[list[dict]], start: float, end: float) -> list[float]:
    """Readings/s accepted by all consumers (one progress series each, sampled about once a
    second) in each whole 10-s interval of the offer: per consumer, from its first sample
    after ``start`` (the offer's start) to its sample ten later, and so on while the offer
    lasts, each rate over the exact time between the two samples; summed over consumers.
    (An interval edge between samples is not interpolated: the counts jump when the offer
    starts, and a line through the samples either side would count readings before it.)"""
    per_consumer = []
    for progress in series:
        samples = [p for p in progress if p["t"] >= start]
        rates = []
        for first in range(0, len(samples) - INTERVAL_SECONDS, INTERVAL_SECONDS):
            low, high = samples[first], samples[first + INTERVAL_SECONDS]
            if high["t"] > end:
                break
            rates.append((high["accepted"] - low["accepted"]) / (high["t"] - low["t"]))
        per_consumer.append(rates)
    if not per_consumer:
        return []
    intervals = min(len(rates) for rates in per_consumer)
    return [sum(rates[k] for rates in per_consumer) for k in range(intervals)]


def run_configuration(  # noqa: C901 - one straight sequence
    kind: str, args, gateways: list[dict], workdir: Path, port: int, duration: float
) -> dict:
    """One run: consumer(s) up, generator for ``duration``, drain, stop; the measures."""
    from django.utils import timezone

    from saferprisons.monitoring.models import Alert

    print(f"--- {kind}: {duration:.0f} s at {args.rate} readings/s offered")
    since_minute = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    stored_before = stored_readings(since_minute)
    alerts_before = set(Alert.objects.values_list("pk", flat=True))
    load_before = os.getloadavg()
    consumers = []
    prisons = sorted({g["prison"] for g in gateways})
    count = args.consumers if kind == "optimised" else 1
    name = f"bench-{os.getpid()}-{kind}"
    for index in range(count):
        out = str(workdir / f"{kind}-consumer-{index}.json")
        spec = {
            "port": port,
            "name": f"{name}-{index}",
            "prisons": prisons[index::count] if count > 1 else [],
            "max_in_flight": args.max_in_flight,
            "flush_in_background": not args.flush_on_ingest_thread,
            "profile": args.profile and kind == "optimised",
            "out": out,
        }
        role = "consumer" if kind == "optimised" else "naive"
        consumers.append((child(role, spec, workdir, f"{kind}-consumer-{index}"), out))
    sampler = Sampler({f"consumer{i}": p.pid for i, (p, _) in enumerate(consumers)})
    sampler.add("broker", args.broker_pid)
    waited = time.time()
    while not all(Path(out + ".ready").exists() for _, out in consumers):
        if time.time() - waited > 300 or any(p.poll() is not None for p, _ in consumers):
            raise SystemExit(f"a consumer did not start: see the logs in {workdir}")
        time.sleep(0.2)
    time.sleep(1)
    for index, (_process, out) in enumerate(consumers):
        pgpid = Path(out + ".pgpid")
        if pgpid.exists():
            sampler.add(f"postgres{index}", int(pgpid.read_text()))
    generator_out = str(workdir / f"{kind}-generator.json")
    generator = child(
        "generator",
        {
            "port": port,
            "gateways": gateways,
            "duration": duration,
            "period_seconds": len([d for g in gateways for d in g["devices"]]) / args.rate,
            "events_per_second": args.events_per_second,
            "event_half": 0 if kind == "naive" else 1,
            "seed": 7 if kind == "naive" else 11,
            "out": generator_out,
        },
        workdir,
        f"{kind}-generator",
    )
    sampler.add("generator", generator.pid)
    sampler.start()
    while not Path(generator_out + ".started").exists():
        if generator.poll() is not None:
            raise SystemExit(f"the generator failed: see {workdir}/{kind}-generator.log")
        time.sleep(0.1)
    started = float(Path(generator_out + ".started").read_text())
    generator.wait()
    sent = json.loads(Path(generator_out).read_text())
    offered_end = started + duration
    # Drain: the optimised consumer until it has every reading (at most DRAIN_SECONDS); the
    # naive one is stopped at once (it is measured over its window, and would take hours).
    drain_until = time.time() + (DRAIN_SECONDS if kind == "optimised" else 0)
    caught_up_at = None
    while time.time() < drain_until:
        accepted = sum(
            (read_progress(Path(out + ".progress")) or [{"accepted": 0}])[-1]["accepted"]
            for _, out in consumers
        )
        if accepted >= sent["readings"]:
            caught_up_at = time.time()
            break
        time.sleep(0.5)
    progress_rows = [read_progress(Path(out + ".progress")) for _, out in consumers]
    for process, _ in consumers:
        process.send_signal(signal.SIGTERM)
    for process, _ in consumers:
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
    sampler.stop()
    results = [json.loads(Path(out).read_text()) for _, out in consumers]
    rates = interval_rates(progress_rows, started, offered_end)
    accepted = sum(r["stats"]["accepted"] for r in results)
    alert_ms = [v for r in results for v in r["alert_ms"]]
    new_alerts = Alert.objects.exclude(pk__in=alerts_before).values_list("rule", flat=True)
    by_rule: dict[str, int] = {}
    for rule in new_alerts:
        by_rule[rule] = by_rule.get(rule, 0) + 1
    expected = len(sent["events"])
    result = {
        "configuration": kind if count == 1 else f"{kind}, {count} consumer processes",
        "consumer_processes": count,
        "offered": {
            "seconds": duration,
            "readings_per_second": args.rate,
            "messages": sent["messages"],
            "readings": sent["readings"],
            "broker_acknowledged_messages": sent["broker_acknowledged"],
            "generator_late_ticks_over_100ms": sent["late_ticks_over_100ms"],
            "generator_worst_late_s": sent["worst_late_seconds"],
        },
        "readings_per_second": {
            "overall_in_window": round(
                sum(rows[-1]["accepted"] for rows in progress_rows if rows) / duration
                if not rates
                else sum(rates) * INTERVAL_SECONDS / (len(rates) * INTERVAL_SECONDS),
                0,
            ),
            "per_10s_min": round(min(rates), 0) if rates else None,
            "per_10s_median": round(statistics.median(rates), 0) if rates else None,
            "per_10s_max": round(max(rates), 0) if rates else None,
            "per_10s": [round(r) for r in rates],
        },
        "caught_up_seconds_after_offer_ended": (
            round(caught_up_at - offered_end, 1) if caught_up_at else None
        ),
        "accepted": accepted,
        "alerts": {
            "events_injected": expected,
            "opened": dict(sorted(by_rule.items())),
            "latency_reading_to_committed": summarise_ms(alert_ms),
        },
        "cpu_percent_of_one_core": {
            **{
                name: sampler.cpu_percent(name, started, offered_end)
                for name in sorted(sampler.pids)
            },
            "postgres_all_backends": sampler.cpu_percent("postgres", started, offered_end),
            "machine_all_processes": sampler.cpu_percent("machine_busy", started, offered_end),
        },
        "consumer_peak_rss_mb": max((sampler.peak(f"consumer{i}_hwm") or 0) for i in range(count)),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_1min_during": [
            round(min(s["load"] for s in sampler.samples), 2),
            round(max(s["load"] for s in sampler.samples), 2),
        ],
    }
    if kind == "optimised":
        stored = stored_readings(since_minute) - stored_before
        stats = [r["stats"] for r in results]
        result.update(
            {
                "stored_in_rollups": stored,
                "dead_lettered": sum(s["dead_lettered"] for s in stats),
                "duplicates": sum(s["duplicates"] for s in stats),
                "dropped_not_enrolled": sum(s["dropped_not_enrolled"] for s in stats),
                "messages_refused_or_failed": sum(s["refused"] + s["failed"] for s in stats),
                "not_stored_at_stop": sent["readings"] - stored,
                # Readings not stored when the consumer stopped are still in the broker's
                # session, unacknowledged (not lost) unless the consumer had caught up.
                "lost": (sent["readings"] - stored) if caught_up_at else None,
                "backlog_at_stop_messages": sum(r["backlog_at_stop"] for r in results),
                "latency_reading_to_ingested": [r["message"] for r in results],
                "latency_reading_to_durable_and_acknowledged": [r["durable"] for r in results],
            }
        )
    else:
        stats = results[0]["stats"]
        result.update(
            {
                "inserted_rows": accepted,
                "invalid": stats["invalid"],
                "backlog_at_stop_readings": sent["readings"] - accepted,
                "backlog_at_stop_seconds_of_offer": round(
                    (sent["readings"] - accepted) / args.rate, 1
                ),
                "latency_reading_to_ingested": [results[0]["message"]],
            }
        )
    print(json.dumps({k: v for k, v in result.items() if k != "readings_per_second"}, indent=1))
    print("readings/s per 10 s:", result["readings_per_second"])
    return result


def main() -> int:
    args = parse_args()
    if args.role != "main":
        url = configure_environment()
        spec = json.loads(Path(args.spec).read_text())
        {"generator": run_generator, "consumer": run_consumer, "naive": run_naive}[args.role](spec)
        return 0
    url = configure_environment()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    vendor = connection.vendor
    print(f"database: {vendor} ({url.split('@')[-1]})")
    call_command("migrate", verbosity=0)
    estate = set_up_estate(args.cells, args.cells_per_wing, args.reuse)
    slow_silence_rule()
    print(f"estate: {estate}")
    gateways = plan_gateways()
    if args.naive_duration:
        create_raw_reading_table()
    connection.close()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-mqtt-"))
    broker, port = start_broker(workdir)
    args.broker_pid = broker.pid
    print(f"private broker on port {port}; logs in {workdir}")
    runs = []
    try:
        if args.naive_duration:
            runs.append(
                run_configuration("naive", args, gateways, workdir, port, args.naive_duration)
            )
            gateways = plan_gateways()
        runs.append(run_configuration("optimised", args, gateways, workdir, port, args.duration))
    finally:
        broker.terminate()
        broker.wait(timeout=10)
    optimised = runs[-1]
    p99 = optimised["alerts"]["latency_reading_to_committed"].get("p99_ms")
    sustained = optimised["readings_per_second"]["per_10s_min"] or 0
    output = {
        "benchmark": "ingest-mqtt",
        "vendor": vendor,
        "database_version": database_version(connection),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "mosquitto": subprocess.run(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-h"],
            capture_output=True,
            text=True,
        ).stdout.splitlines()[0],
        "options": {k: v for k, v in vars(args).items() if k not in ("role", "spec")},
        "estate": {**estate, "gateways": len(gateways)},
        "runs": runs,
        "goal": {
            "readings_per_second_at_least": GOAL_READINGS_PER_SECOND,
            "alert_p99_ms_at_most": GOAL_ALERT_P99_MS,
            "sustained_min_10s_readings_per_second": sustained,
            "alert_p99_ms": p99,
            "lost": optimised["lost"],
            "met": bool(
                sustained >= GOAL_READINGS_PER_SECOND
                and p99 is not None
                and p99 <= GOAL_ALERT_P99_MS
                and optimised["lost"] == 0
                and optimised["stored_in_rollups"] == optimised["offered"]["readings"]
                and args.duration >= 300
            ),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.label}" if args.label else ""
    path = RESULTS / f"ingest-mqtt-{vendor}{suffix}.json"
    path.write_text(json.dumps(output, indent=2) + "\n")
    print(f"\ngoal: {output['goal']}")
    print(f"written {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
