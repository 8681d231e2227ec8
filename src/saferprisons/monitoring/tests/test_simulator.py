"""The sensor simulator: a plausible prison day and night, injected events that raise the alerts
they are meant to, deterministic for a seed; its HTTP and MQTT transports; the demo set-up."""

import io
import socket
import threading
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import orjson
import paho.mqtt.client as mqtt
import pytest
from django.core.management import CommandError, call_command
from paho.mqtt.enums import CallbackAPIVersion

from saferprisons.accounts.models import ApiToken
from saferprisons.audit.models import AuditEvent
from saferprisons.monitoring import services
from saferprisons.monitoring.constants import RuleKind
from saferprisons.monitoring.consumer import Broker
from saferprisons.monitoring.demo_setup import setup_demo_monitoring
from saferprisons.monitoring.ingest import IngestPipeline
from saferprisons.monitoring.models import Alert, Device, Enrolment, Gateway
from saferprisons.monitoring.roster import load_roster
from saferprisons.monitoring.rules import DeviceProfile, default_settings, table_for_profiles, to_ms
from saferprisons.monitoring.simulator import (
    DEVICE_SILENT,
    LONG_BATHROOM,
    NO_MOVEMENT,
    SECOND_PERSON,
    HttpTransport,
    MqttTransport,
    Plan,
    SensorSimulator,
    SimulatedGateway,
    load_plan,
    run,
)

from .conftest import NIGHT

# 10:00 on a weekday in November (London is on GMT): the morning work period.
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def synthetic_plan(count: int = 400, gateways: int = 4) -> Plan:
    """``count`` devices with the built-in rule settings, all in single cells (no database)."""
    profile = DeviceProfile(single_occupancy=True, rules=default_settings())
    per_gateway = np.array_split(np.arange(count), gateways)
    return Plan(
        external_ids=[f"SIM-{n:05d}" for n in range(count)],
        gateways=[
            SimulatedGateway("ZSI", f"W{n}", devices=members)
            for n, members in enumerate(per_gateway)
        ],
        rules=table_for_profiles([profile] * count),
    )


def readings_of(messages) -> list[dict]:
    return [r for _, body in messages for r in orjson.loads(body)["readings"]]


def simulate(plan, start: datetime, ticks: int, **options) -> list[dict]:
    simulator = SensorSimulator(plan, start_ms=to_ms(start), **options)
    return [r for _ in range(ticks) for r in readings_of(simulator.tick())]


# --- Patterns, without a database -----------------------------------------------------------------


def test_one_message_per_gateway_per_tick_with_a_reading_per_device():
    plan = synthetic_plan(10, gateways=3)
    simulator = SensorSimulator(plan, start_ms=to_ms(NIGHT), events_per_hour=0)

    messages = simulator.tick()

    assert [gateway.topic for gateway, _ in messages] == [
        "saferprisons/ZSI/W0/readings",
        "saferprisons/ZSI/W1/readings",
        "saferprisons/ZSI/W2/readings",
    ]
    bodies = [orjson.loads(body) for _, body in messages]
    assert [body["schema_version"] for body in bodies] == [1, 1, 1]
    assert [len(body["readings"]) for body in bodies] == [4, 3, 3]
    stamps = [r["timestamp_ms"] for r in readings_of(messages)]
    assert all(to_ms(NIGHT) <= stamp < to_ms(NIGHT) + 1000 for stamp in stamps)
    assert [
        r["timestamp_ms"] - s for r, s in zip(readings_of(simulator.tick()), stamps, strict=True)
    ] == [1000] * 10


def test_the_same_seed_gives_the_same_readings_and_another_seed_does_not():
    plan = synthetic_plan(50, gateways=2)

    def bodies(seed):
        simulator = SensorSimulator(plan, seed=seed, start_ms=to_ms(NIGHT), events_per_hour=600)
        return [body for _ in range(120) for _, body in simulator.tick()]

    assert bodies(7) == bodies(7)
    assert bodies(7) != bodies(8)


def test_at_night_people_are_in_bed_and_still_but_not_motionless():
    readings = simulate(synthetic_plan(), NIGHT, 120, events_per_hour=0)

    in_bed = [r for r in readings if r["zone"] == "bed" and r["persons_present"] == 1]
    assert len(in_bed) / len(readings) > 0.9
    assert all(r["persons_present"] == 1 for r in readings)  # locked in: nobody out of the cell
    activity = np.array([r["activity_level"] for r in in_bed])
    assert 0.05 < activity.mean() < 0.25
    # A sleeper breathes and turns: above the still level (0.05) that NO_ACTIVITY looks for.
    assert np.mean(activity > 0.05) > 0.95


def test_in_the_morning_most_people_are_out_at_work_and_the_rest_move_about():
    readings = simulate(synthetic_plan(), MORNING, 60, events_per_hour=0)

    out = [r for r in readings if r["persons_present"] == 0]
    assert 0.35 < len(out) / len(readings) < 0.75
    assert all(r["zone"] is None and r["activity_level"] == 0 for r in out)
    present = [r for r in readings if r["persons_present"] > 0]
    assert np.mean([r["activity_level"] for r in present]) > 0.25
    assert {r["zone"] for r in present} >= {"bed", "elsewhere", "door"}


def test_spot_vitals_come_now_and_then_with_their_quality():
    readings = simulate(synthetic_plan(100), NIGHT, 60, events_per_hour=0)

    with_pulse = [r for r in readings if "pulse_bpm" in r]
    assert 0.02 < len(with_pulse) / len(readings) < 0.05  # about one in 30 s per device
    assert all(
        40 <= r["pulse_bpm"] <= 100 and 0.5 <= r["pulse_quality"] <= 0.95 for r in with_pulse
    )
    assert all(8 <= r["breathing_rate"] <= 20 for r in with_pulse)


def test_events_are_injected_at_about_the_configured_rate():
    simulator = SensorSimulator(
        synthetic_plan(), start_ms=to_ms(NIGHT), events_per_hour=3600, seed=3
    )
    for _ in range(300):
        simulator.tick()

    injected = sum(simulator.counts.events.values())
    assert 240 <= injected <= 360  # Poisson, mean 300
    assert all(count > 0 for count in simulator.counts.events.values())


def test_a_silent_device_sends_nothing_until_its_threshold_has_passed():
    plan = synthetic_plan(3, gateways=1)
    simulator = SensorSimulator(plan, start_ms=to_ms(NIGHT), events_per_hour=0)
    simulator.start_event(1, DEVICE_SILENT, to_ms(NIGHT))

    sent = [{r["device_id"] for r in readings_of(simulator.tick())} for _ in range(100)]

    # DEVICE_SILENT's default threshold is 60 s; the simulator stays silent 30 s longer.
    assert [("SIM-00001" in devices) for devices in sent] == [False] * 90 + [True] * 10


# --- Against the pipeline -------------------------------------------------------------------------


@pytest.fixture
def short_rules(monitored):
    """Thresholds of a minute or less, so each event's alert comes within a test."""
    for kind, seconds in [
        (RuleKind.NO_ACTIVITY, 60),
        (RuleKind.BATHROOM_OCCUPANCY, 60),
        (RuleKind.SECOND_PERSON, 20),
        (RuleKind.DEVICE_SILENT, 30),
    ]:
        services.configure_rule(
            actor=monitored.manager,
            prison=monitored.north,
            kind=kind,
            priority="MEDIUM",
            day_threshold_seconds=seconds,
            night_threshold_seconds=seconds,
        )
    return monitored


@pytest.mark.django_db
@pytest.mark.parametrize(
    "event, rule",
    [
        (NO_MOVEMENT, RuleKind.NO_ACTIVITY),
        (LONG_BATHROOM, RuleKind.BATHROOM_OCCUPANCY),
        (SECOND_PERSON, RuleKind.SECOND_PERSON),
        (DEVICE_SILENT, RuleKind.DEVICE_SILENT),
    ],
)
def test_each_injected_event_raises_its_alert_and_nothing_else(short_rules, event, rule):
    # The wing's sensors in empty cells report too (dropped, but heard): the stream is up to
    # date, so a silent sensor is found by its own threshold (ingest measures silence to the
    # newest reading heard).
    plan = load_plan(include_unmonitored=True)
    monitored_device = plan.external_ids.index(short_rules.enrolled_device)
    simulator = SensorSimulator(plan, start_ms=to_ms(NIGHT), events_per_hour=0)
    pipeline = IngestPipeline()

    for number in range(180):
        if number == 30:  # after half a minute of ordinary sleep
            simulator.start_event(monitored_device, event, simulator.next_tick_ms)
        for gateway, body in simulator.tick():
            assert gateway.key == f"ZNA/{short_rules.gateway.code}"
            pipeline.ingest(body, gateway=short_rules.gateway_ref)
        short_rules.traveller.shift(1)
        pipeline.tick()

    assert list(Alert.objects.values_list("rule", "cell_id")) == [
        (rule, short_rules.north_cells[0].pk)
    ]


@pytest.mark.django_db
def test_a_quiet_night_raises_no_alert(monitored):
    simulator = SensorSimulator(load_plan(), start_ms=to_ms(NIGHT), events_per_hour=0, seed=5)
    pipeline = IngestPipeline()
    for _ in range(1500):  # 25 minutes, past the night NO_ACTIVITY threshold (20)
        for _, body in simulator.tick():
            pipeline.ingest(body, gateway=monitored.gateway_ref)
        monitored.traveller.shift(1)
        pipeline.tick()

    assert Alert.objects.count() == 0


@pytest.mark.django_db
def test_the_plan_can_include_devices_in_cells_not_monitored(monitored):
    plan = load_plan(include_unmonitored=True)
    simulator = SensorSimulator(plan, start_ms=to_ms(NIGHT), events_per_hour=0)
    ((gateway, body),) = simulator.tick()

    result = IngestPipeline().ingest(body, gateway=monitored.gateway_ref)

    assert plan.external_ids == [d.external_id for d in monitored.devices]
    assert (result.accepted, result.dropped_not_enrolled) == (1, 2)


@pytest.mark.django_db
def test_run_sends_each_tick_when_its_time_comes(monitored):
    simulator = SensorSimulator(load_plan(), start_ms=to_ms(NIGHT) + 500, events_per_hour=0)
    sent = []

    def sleep(seconds):
        monitored.traveller.shift(seconds)

    counts = run(simulator, lambda g, body: sent.append(body), duration_seconds=5, sleep=sleep)

    assert (counts.ticks, counts.messages, counts.readings, len(sent)) == (5, 5, 5, 5)


# --- Transports -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_http_sends_each_gateway_message_with_its_token(monitored, live_server):
    plan = load_plan(include_unmonitored=True)
    simulator = SensorSimulator(plan, start_ms=to_ms(NIGHT) - 5000, events_per_hour=0)
    transport = HttpTransport(live_server.url, {"ZNA/A-WING": monitored.secret})
    wrong = HttpTransport(live_server.url, {"ZNA/A-WING": "sp_wrong_token"}, retries=0)

    for _ in range(3):
        for gateway, body in simulator.tick():
            transport.send(gateway, body)
    wrong.send(*simulator.tick()[0])
    transport.close()

    assert (transport.counts.sent, transport.counts.failed) == (3, 0)
    assert transport.counts.answers == {
        "accepted": 3,
        "duplicates": 0,
        "dropped_not_enrolled": 6,
        "dead_lettered": 0,
        "alerts_opened": 0,
    }
    assert (wrong.counts.sent, wrong.counts.failed) == (0, 1)


def test_http_sends_again_after_a_503_and_gives_up_in_the_end():
    answers = [b"503", b"503", b"202"]
    bodies = []
    server = socket.socket()  # answers 503, 503, then 202, closing the connection each time
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def serve():
        while answers:
            client, _ = server.accept()
            with client:
                request = client.makefile("rb")
                headers = b"".join(iter(request.readline, b"\r\n"))
                length = int(headers.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                bodies.append(request.read(length))
                status = answers.pop(0)
                text = b'{"accepted": 1}' if status == b"202" else b"{}"
                client.sendall(
                    b"HTTP/1.1 "
                    + status
                    + b" X\r\nContent-Length: "
                    + str(len(text)).encode()
                    + b"\r\nConnection: close\r\n\r\n"
                    + text
                )

    thread = threading.Thread(target=serve)
    thread.start()
    transport = HttpTransport(f"http://127.0.0.1:{port}", {"ZSI/W0": "sp_x_y"})
    gateway = SimulatedGateway("ZSI", "W0", devices=np.arange(1))
    transport.send(gateway, b'{"readings": []}')
    thread.join(10)
    server.close()

    assert bodies == [b'{"readings": []}'] * 3
    assert (transport.counts.sent, transport.counts.retried, transport.counts.answers) == (
        1,
        2,
        {"accepted": 1},
    )


@pytest.mark.mqtt
def test_mqtt_publishes_each_gateway_message_at_qos_1_on_its_topic():
    broker = Broker("127.0.0.1", 1883)
    code = f"T{uuid.uuid4().hex[:10].upper()}"
    topic = f"saferprisons/ZSI/{code}/readings"
    received = []
    subscribed = threading.Event()
    listener = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    listener.on_message = lambda c, u, message: received.append(message)
    listener.on_subscribe = lambda *args: subscribed.set()
    listener.connect(broker.host, broker.port)
    listener.loop_start()
    listener.subscribe(topic, qos=1)
    assert subscribed.wait(10)
    plan = synthetic_plan(6, gateways=1)
    plan = Plan(
        plan.external_ids, [SimulatedGateway("ZSI", code, plan.gateways[0].devices)], plan.rules
    )
    simulator = SensorSimulator(plan, start_ms=to_ms(NIGHT), events_per_hour=0)
    expected = [body for _ in range(3) for _, body in simulator.tick()]

    transport = MqttTransport(broker)
    for body in expected:
        transport.send(plan.gateways[0], body)
    transport.close()
    deadline = time.monotonic() + 10
    while len(received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    listener.disconnect()
    listener.loop_stop()

    assert [(m.topic, m.qos, m.payload) for m in received] == [(topic, 1, b) for b in expected]
    assert (transport.counts.sent, transport.counts.failed) == (3, 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_command_sets_up_the_demo_and_sends_over_http(estate, live_server):
    out = io.StringIO()

    call_command(
        "simulate_sensors",
        "--set-up-demo",
        "--server",
        live_server.url,
        "--duration",
        "2",
        "--seed",
        "4",
        stdout=out,
    )

    plan = load_plan()
    text = out.getvalue()
    assert "Set up 3 gateway(s), 6 device(s)" in text
    assert f"Simulating {len(plan)} cell(s) behind {len(plan.gateways)} gateway(s) over http" in (
        text
    )
    assert (
        f"Sent {2 * len(plan.gateways)} message(s) with {2 * len(plan)} reading(s) (0 failed)"
        in (text)
    )
    assert len(plan) > 0

    # Without the set-up's tokens, it issues itself new ones (the old ones are revoked).
    again = io.StringIO()
    call_command("simulate_sensors", "--server", live_server.url, "--duration", "1", stdout=again)
    assert f"Issued new tokens for {len(plan.gateways)} gateway(s)" in again.getvalue()
    assert f"Sent {len(plan.gateways)} message(s)" in again.getvalue()


@pytest.mark.django_db
def test_the_command_refuses_what_it_cannot_do(estate):
    with pytest.raises(CommandError, match="No monitored cells"):
        call_command("simulate_sensors", "--duration", "1")
    with pytest.raises(CommandError, match="--rate"):
        call_command("simulate_sensors", "--rate", "0")


# --- The demo set-up ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_set_up_equips_the_first_wings_and_enrols_their_people(estate):
    made = setup_demo_monitoring(seed=1, wings_per_prison=2)

    gateways = sorted(Gateway.objects.values_list("prison__code", "code"))
    assert gateways == [("ZNA", "A-WING"), ("ZNA", "S-WING"), ("ZSO", "B-WING")]
    assert sorted(made.tokens) == ["ZNA/A-WING", "ZNA/S-WING", "ZSO/B-WING"]
    assert Device.objects.count() == made.devices == 6  # every cell of those wings
    assert set(Device.objects.values_list("external_id", flat=True)) >= {"ZNA-A-1-001-V"}
    enrolled = set(Enrolment.objects.values_list("prisoner__prison_number", flat=True))
    assert made.enrolled + made.declined == 2
    assert enrolled <= {"A1234BC", "B2345CD"} and len(enrolled) == made.enrolled
    # Through the services: every registration and enrolment is in the audit trail.
    assert AuditEvent.objects.filter(object_type="monitoring_device").count() == 6
    assert AuditEvent.objects.filter(object_type="monitoring_enrolment").count() == made.enrolled
    tokens = ApiToken.objects.filter(gateway__isnull=False)
    assert sorted(tokens.values_list("scopes", flat=True)) == [["sensors:write"]] * 3
    assert load_roster(datetime.now(UTC)).monitored.sum() == made.enrolled

    again = setup_demo_monitoring(seed=1, wings_per_prison=2)
    assert (again.gateways, again.devices, again.enrolled) == ([], 0, 0)
