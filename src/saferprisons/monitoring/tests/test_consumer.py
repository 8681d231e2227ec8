"""The MQTT consumer against a real Mosquitto: on 127.0.0.1:1883 (CI starts it), and a private one
on a free port for the broker-restart test, so the shared broker is never restarted.

These tests use real time (readings are stamped from the real clock, as a gateway's are): the
consumer's timers, the broker and the child processes all run on it. Each test has its own
gateway code, so its topic, and its own client id and share group: tests running at the same
time on one broker never see each other's messages.
"""

import getpass
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import orjson
import paho.mqtt.client as mqtt
import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import Sum
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from saferprisons.conftest import admit
from saferprisons.core import clock
from saferprisons.monitoring import services
from saferprisons.monitoring.constants import (
    DeviceKind,
    EnrolmentBasis,
    Priority,
    RuleKind,
)
from saferprisons.monitoring.consumer import (
    Broker,
    Consumer,
    ConsumerOptions,
    GatewayDirectory,
    _Delivery,
    end_session,
    parse_topic,
    topic_filters,
)
from saferprisons.monitoring.heartbeat import beat, consumer_statuses, mark_stopped, start_consumer
from saferprisons.monitoring.ingest import GatewayRef, IngestPipeline
from saferprisons.monitoring.models import Alert, ConsumerHeartbeat, IngestCounter, MinuteRollup
from saferprisons.monitoring.rules import to_ms

SHARED_BROKER = Broker(host="127.0.0.1", port=1883)
REPO = Path(__file__).resolve().parents[4]

# --- Pure parts -----------------------------------------------------------------------------------


def test_a_readings_topic_names_the_prison_and_the_gateway():
    assert parse_topic("saferprisons/ZNA/A-WING/readings") == ("ZNA", "A-WING")
    assert parse_topic("saferprisons/ZNA/A-WING/status") is None
    assert parse_topic("saferprisons/ZNA/readings") is None
    assert parse_topic("saferprisons//A-WING/readings") is None
    assert parse_topic("other/ZNA/A-WING/readings") is None
    assert parse_topic("saferprisons/ZNA/A-WING/readings/extra") is None


def test_subscriptions_cover_every_gateway_or_only_a_partition():
    assert topic_filters() == ["$share/saferprisons-ingest/saferprisons/+/+/readings"]
    assert topic_filters(share_group=None) == ["saferprisons/+/+/readings"]
    assert topic_filters(("ZNA", "ZSO"), ("ZLA/B-WING",), "g") == [
        "$share/g/saferprisons/ZNA/+/readings",
        "$share/g/saferprisons/ZSO/+/readings",
        "$share/g/saferprisons/ZLA/B-WING/readings",
    ]


def test_a_broker_is_given_as_a_url():
    assert Broker.from_url("mqtt://127.0.0.1") == Broker("127.0.0.1", 1883)
    assert Broker.from_url("mqtts://ingest:p%40ss@broker.example:8884") == Broker(
        "broker.example", 8884, tls=True, username="ingest", password="p@ss"
    )
    assert Broker.from_url("mqtts://broker.example").port == 8883
    for wrong in ("http://broker.example", "broker.example:1883", "mqtt://"):
        with pytest.raises(ValueError, match="mqtt://host:port"):
            Broker.from_url(wrong)


@pytest.mark.parametrize(
    "arguments, problem",
    [
        (["--broker", "http://broker.example"], "mqtt://host:port"),
        (["--max-in-flight", "0"], "--max-in-flight"),
        (["--gateway", "A-WING"], "PRISON/GATEWAY"),
        (["--commit-seconds", "0"], "--commit-seconds"),
    ],
)
def test_the_command_refuses_bad_options(arguments, problem):
    with pytest.raises(CommandError, match=problem):
        call_command("monitoring_consumer", *arguments)


# --- Fixtures -------------------------------------------------------------------------------------


def _broker_listening(broker: Broker) -> bool:
    try:
        with socket.create_connection((broker.host, broker.port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def shared_broker():
    # Not a skip: these tests must run wherever the suite runs (.ci/run starts Mosquitto).
    assert _broker_listening(SHARED_BROKER), (
        "Mosquitto is not listening on 127.0.0.1:1883: install and start it "
        "(apt-get install mosquitto; .ci/run does this)"
    )
    return SHARED_BROKER


@pytest.fixture
def wing(estate):
    """A gateway with a unique code and three monitored cells (everyone enrolled), in real time;
    DEVICE_SILENT is off so that a slow machine cannot add an alert of its own."""
    north, admin, manager = estate["north"], estate["admin"], estate["manager"]
    now = clock.now()
    code = f"T{uuid.uuid4().hex[:10].upper()}"
    gateway, _secret = services.register_gateway(
        actor=admin, prison=north, code=code, name="Test gateway"
    )
    people = [
        estate["north_person"],
        admit(manager, north, "A2345BC", "Fenwick", "Lee", cell=estate["north_cells"][1]),
        admit(manager, north, "A3456BC", "Marsh", "Kit", cell=estate["north_cells"][2]),
    ]
    devices = []
    for number, (cell, person) in enumerate(zip(estate["north_cells"], people, strict=True)):
        devices.append(
            services.register_device(
                actor=admin,
                gateway=gateway,
                cell=cell,
                external_id=f"{code}-{number}",
                kind=DeviceKind.VISION,
                vendor="Fictional Sensors Ltd",
                serial=f"{code}-{number}",
                installed_at=now - timedelta(days=1),
            )
        )
        services.enrol(
            actor=manager,
            prisoner=person,
            basis=EnrolmentBasis.CONSENT,
            review_on=(now + timedelta(days=14)).date(),
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=28),
        )
    services.configure_rule(
        actor=manager,
        prison=north,
        kind=RuleKind.DEVICE_SILENT,
        priority=Priority.MEDIUM,
        day_threshold_seconds=None,
        night_threshold_seconds=None,
        enabled=False,
    )
    return SimpleNamespace(
        gateway=gateway,
        code=code,
        key=f"ZNA/{code}",
        topic=f"saferprisons/ZNA/{code}/readings",
        device_ids=[device.external_id for device in devices],
        cells=estate["north_cells"],
        north=north,
        admin=admin,
    )


def stream(wing, count: int, *, first_ms: int | None = None) -> list[bytes]:
    """``count`` one-second messages for the wing's three devices, ending about now. Device 0
    is tampered with from the 5th message (TAMPERED after 10 s); device 1 reports a pulse of 150
    at the 25th (PULSE_OUT_OF_RANGE at once). Nothing else should raise an alert."""
    first_ms = first_ms or to_ms(clock.now()) - (count + 2) * 1000
    messages = []
    for k in range(count):
        readings = []
        for number, device in enumerate(wing.device_ids):
            reading = {
                "device_id": device,
                "timestamp_ms": first_ms + k * 1000 + number * 10,
                "persons_present": 1,
                "activity_level": 0.3,
                "zone": "bed",
            }
            if number == 0 and k >= 5:
                reading["tampered"] = True
            if number == 1 and k == 25:
                reading.update(pulse_bpm=150.0, pulse_quality=0.9)
            readings.append(reading)
        messages.append(orjson.dumps({"schema_version": 1, "readings": readings}))
    return messages


def expected_alerts(wing, count: int) -> set:
    alerts = {(wing.cells[0].pk, RuleKind.TAMPERED)} if count > 15 else set()
    if count > 25:
        alerts.add((wing.cells[1].pk, RuleKind.PULSE_OUT_OF_RANGE))
    return alerts


def stored() -> dict:
    return {
        "rollup_readings": MinuteRollup.objects.aggregate(n=Sum("reading_count"))["n"] or 0,
        "accepted": IngestCounter.objects.aggregate(n=Sum("accepted"))["n"] or 0,
        "alerts": set(Alert.objects.values_list("cell_id", "rule")),
        "alert_count": Alert.objects.count(),
    }


class Publisher:
    """A gateway's side: publish at QoS 1 and wait for the broker's PUBACK."""

    def __init__(self, broker: Broker):
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-publisher-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()

    def publish(self, topic: str, messages, *, pause: float = 0.0) -> None:
        for body in messages:
            info = self.client.publish(topic, body, qos=1)
            info.wait_for_publish(10)
            assert info.rc == mqtt.MQTT_ERR_SUCCESS
            if pause:
                time.sleep(pause)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(shared_broker):
    made = Publisher(shared_broker)
    yield made
    made.close()


@pytest.fixture
def options_for():
    """Consumer options with a fresh name (client id) and share group; the broker forgets their
    sessions after the test, whatever happens."""
    made = []

    def make(broker: Broker, wing, **overrides) -> ConsumerOptions:
        name = f"test-{uuid.uuid4().hex[:10]}"
        values = {
            "name": name,
            "broker": broker,
            "gateways": (wing.key,),
            "share_group": f"test-{name}",
            "session_expiry_seconds": 600,
            "commit_seconds": 0.3,
            "heartbeat_seconds": 0.5,
            "reconnect_max_seconds": 2,
            "retry_min_seconds": 0.05,
            "retry_max_seconds": 0.4,
            # Rollups written on the consumer's thread, inside the test's transaction; tests
            # of the flusher thread (its own connection) use a transactional database.
            "flush_in_background": False,
            **overrides,
        }
        made.append(ConsumerOptions(**values))
        return made[-1]

    yield make
    for options in made:
        if _broker_listening(options.broker):
            end_session(options)


def create_session(options: ConsumerOptions) -> None:
    """Connect once as the consumer and subscribe, as a deployment's first start does: from
    then on the broker keeps the consumer's messages while it is away."""
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=options.client_id,
        protocol=mqtt.MQTTv5,
    )
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 600
    client.connect(
        options.broker.host, options.broker.port, clean_start=False, properties=properties
    )
    client.loop_start()
    for topic in topic_filters(options.prisons, options.gateways, options.share_group):
        client.subscribe(topic, qos=1)
    assert subscribed.wait(10)
    client.disconnect()
    client.loop_stop()


def wait_until(condition, timeout: float, message) -> None:
    """Poll ``condition``; ``message`` (text, or a function giving it) explains a timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message() if callable(message) else message
        time.sleep(0.05)


def run_until(consumer: Consumer, done, *, timeout: float = 30.0, during=None) -> None:
    """Run the consumer in this thread (the database work stays on the test's connection) until
    ``done()``; ``during`` runs meanwhile in another thread (publishing, restarting a broker)."""
    failures = []

    def watch():
        try:
            if during is not None:
                during()
            deadline = time.monotonic() + timeout
            while not done() and time.monotonic() < deadline:
                time.sleep(0.05)
        except BaseException as error:  # reported in the test's thread
            failures.append(error)
        finally:
            consumer.stop()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        consumer.run(handle_signals=False)
    finally:
        consumer.stop()
        watcher.join(timeout + 60)
    if failures:
        raise failures[0]
    assert done(), f"not done in {timeout} s: {consumer.stats}"


# --- The gateway directory ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_directory_knows_gateways_in_service_only(wing):
    directory = GatewayDirectory(miss_reload_seconds=0)
    assert directory.lookup("ZNA", wing.code) == GatewayRef(wing.gateway.pk, wing.north.pk)
    assert directory.lookup("ZSO", wing.code) is None
    assert directory.lookup("ZNA", "NO-SUCH") is None

    later, _ = services.register_gateway(
        actor=wing.admin, prison=wing.north, code="LATER", name="Registered after the first look"
    )
    assert directory.lookup("ZNA", "LATER") == GatewayRef(later.pk, wing.north.pk)

    services.retire_gateway(actor=wing.admin, gateway=later)
    directory.reload_seconds = 0
    assert directory.lookup("ZNA", "LATER") is None


# --- The heartbeat --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_consumer_is_alive_while_it_beats_and_until_it_stops():
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        start_consumer("north-1", client_id="saferprisons-ingest-north-1")
        traveller.shift(20)
        beat("north-1", connected=True, backlog=7, messages_acknowledged=100)
        traveller.shift(29)
        (status,) = consumer_statuses()
        assert (status.name, status.alive, status.connected) == ("north-1", True, True)
        assert (status.backlog, status.messages_acknowledged) == (7, 100)
        assert status.last_beat_at == start + timedelta(seconds=20)

        traveller.shift(2)  # 31 s without a beat: shown as not running
        assert [(s.alive, s.connected) for s in consumer_statuses()] == [(False, False)]

        beat("north-1", connected=True)
        mark_stopped("north-1")
        assert [(s.alive, s.connected) for s in consumer_statuses()] == [(False, False)]
        # A restart under the same name begins fresh counts.
        start_consumer("north-1", client_id="saferprisons-ingest-north-1")
        (status,) = consumer_statuses()
        assert (status.alive, status.messages_acknowledged) == (True, 0)


@pytest.mark.django_db
def test_while_messages_flow_each_is_acknowledged_once_the_minute_of_its_readings_is_written(wing):
    consumer = Consumer(ConsumerOptions(name="minute-test", flush_in_background=False))
    acknowledged = []
    consumer.client.ack = lambda mid, qos: acknowledged.append(mid)
    base = clock.now().replace(second=50, microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(base, tick=False) as traveller:
        # One message a second from hh:mm:50 to hh:(mm+1):09: ten in each minute.
        for mid in range(1, 21):
            (message,) = stream(wing, 1, first_ms=to_ms(clock.now()))
            consumer._take([_Delivery(mid, 1, wing.topic, message, session=0)])
            traveller.shift(1)
        assert [d.payload for d in consumer._uncommitted] == [b""] * 20  # not kept once taken

        # Messages are still coming: only the minute that has ended is written.
        consumer._last_received = time.monotonic()
        consumer._next_commit = 0.0
        consumer._timers()
        assert acknowledged == list(range(1, 11))
        assert stored()["rollup_readings"] == 30
        assert [d.mid for d in consumer._uncommitted] == list(range(11, 21))

        # The stream has gone quiet: the open minute is written too, and the rest acknowledged.
        consumer._last_received = time.monotonic() - consumer.options.commit_seconds
        consumer._next_commit = 0.0
        consumer._timers()
    assert acknowledged == list(range(1, 21))
    assert stored()["rollup_readings"] == stored()["accepted"] == 60
    assert consumer._uncommitted == []


@pytest.mark.django_db
def test_waiting_messages_are_ingested_together_and_a_bug_gives_up_only_its_own(wing):
    class OneBadMessage(IngestPipeline):
        def __init__(self):
            super().__init__()
            self.batch_sizes = []

        def ingest_many(self, messages, **options):
            self.batch_sizes.append(len(messages))
            if any(raw == b"bad" for raw, _gateway in messages):
                raise ValueError("a bug this message sets off")
            return super().ingest_many(messages, **options)

    pipeline = OneBadMessage()
    consumer = Consumer(
        ConsumerOptions(name="batch-test", max_batch=3, retry_min_seconds=0.01),
        pipeline=pipeline,
    )
    good = stream(wing, 3)
    payloads = [good[0], b"bad", good[1], good[2]]
    for mid, payload in enumerate(payloads, start=1):
        consumer._deliveries.put(_Delivery(mid, 1, wing.topic, payload, session=0))

    first = consumer._with_waiting(consumer._deliveries.get_nowait())
    assert [d.mid for d in first] == [1, 2, 3]  # what was waiting, up to max_batch
    consumer._take(first)
    consumer._take(consumer._with_waiting(consumer._deliveries.get_nowait()))

    # The batch of three failed, so each was taken alone: the bad one three times, then given
    # up (counted, kept for acknowledgement so that it is not sent again).
    assert pipeline.batch_sizes == [3, 1, 1, 1, 1, 1, 1]
    stats = consumer.stats
    assert (stats.ingested, stats.failed, stats.accepted) == (3, 1, 9)
    assert [d.mid for d in consumer._uncommitted] == [1, 2, 3, 4]
    assert [d.newest_ms is None for d in consumer._uncommitted] == [False, True, False, False]


# --- In this process, on the shared broker -------------------------------------------------------


@pytest.mark.mqtt
@pytest.mark.django_db
def test_messages_are_ingested_then_acknowledged_once_their_rollups_are_stored(
    wing, publisher, shared_broker, options_for
):
    stranger = f"ZNA/NOT-{wing.code}"  # no such gateway: refused, counted, acknowledged
    options = options_for(shared_broker, wing, gateways=(wing.key, stranger))
    create_session(options)
    messages = stream(wing, 30)
    publisher.publish(wing.topic, messages)
    publisher.publish(f"saferprisons/{stranger}/readings", [messages[0]])
    consumer = Consumer(options)

    run_until(consumer, lambda: consumer.stats.acknowledged == 31)

    figures = stored()
    assert figures["rollup_readings"] == figures["accepted"] == 90
    assert figures["alerts"] == expected_alerts(wing, 30)
    stats = consumer.stats
    assert (stats.received, stats.ingested, stats.accepted, stats.refused) == (31, 30, 90, 1)
    assert (stats.duplicates, stats.dead_lettered, stats.alerts_opened) == (0, 0, 2)
    heartbeat = ConsumerHeartbeat.objects.get(name=options.name)
    assert heartbeat.client_id == f"saferprisons-ingest-{options.name}"
    assert (heartbeat.messages_acknowledged, heartbeat.readings_accepted) == (31, 90)
    assert (heartbeat.messages_refused, heartbeat.stopped_at is not None) == (1, True)
    assert [(s.name, s.alive) for s in consumer_statuses()] == [(options.name, False)]

    # Everything was acknowledged: a consumer resuming the session gets nothing again.
    again = Consumer(options)

    def connected_for_a_second():
        wait_until(again.connected.is_set, 10, "never connected")
        time.sleep(1.0)

    run_until(again, lambda: True, during=connected_for_a_second)
    assert (again.stats.connects, again.stats.new_sessions, again.stats.received) == (1, 0, 0)
    assert consumer.stats.new_sessions == 0  # create_session made it, as a first start does

    # A consumer name retired for good: the broker forgets its session.
    assert end_session(options)
    afresh = Consumer(options)
    run_until(afresh, lambda: afresh.stats.connects == 1, timeout=10)
    assert afresh.stats.new_sessions == 1


class FlakyPipeline(IngestPipeline):
    """The real pipeline, but the database is "down" (OperationalError) while ``down`` is set,
    before anything is done, as a dropped connection would be."""

    def __init__(self):
        super().__init__()
        self.down = threading.Event()
        self.refusals = 0

    def _fail_if_down(self):
        if self.down.is_set():
            self.refusals += 1
            raise OperationalError("server closed the connection unexpectedly")

    def ingest_many(self, messages, *, received_at=None):
        self._fail_if_down()
        return super().ingest_many(messages, received_at=received_at)

    def write_flush(self, batch, **pacing):
        self._fail_if_down()
        return super().write_flush(batch, **pacing)

    def tick(self, now=None, **options):
        self._fail_if_down()
        return super().tick(now, **options)


@pytest.mark.mqtt
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("flush_in_background", [True, False], ids=["flusher", "ingest-thread"])
def test_a_database_outage_holds_messages_back_and_loses_none(
    wing, publisher, shared_broker, options_for, flush_in_background
):
    options = options_for(
        shared_broker, wing, max_in_flight=4, flush_in_background=flush_in_background
    )
    create_session(options)
    pipeline = FlakyPipeline()
    pipeline.down.set()
    consumer = Consumer(options, pipeline=pipeline)
    received_during_outage = []

    def outage_then_recovery():
        publisher.publish(wing.topic, stream(wing, 40))
        wait_until(lambda: pipeline.refusals >= 10, 20, "the consumer did not retry")
        time.sleep(0.5)
        received_during_outage.append(consumer.stats.received)
        pipeline.down.clear()

    run_until(consumer, lambda: consumer.stats.acknowledged == 40, during=outage_then_recovery)

    # Back-pressure: while nothing could be stored, the broker sent no more than the consumer's
    # Receive Maximum, and nothing was acknowledged; afterwards every message came, once.
    assert received_during_outage == [4]
    assert consumer.stats.database_retries >= 10
    assert (consumer.stats.received, consumer.stats.ingested) == (40, 40)
    assert (consumer.stats.accepted, consumer.stats.duplicates) == (120, 0)
    figures = stored()
    assert figures["rollup_readings"] == figures["accepted"] == 120
    assert figures["alerts"] == expected_alerts(wing, 40)
    assert figures["alert_count"] == 2


@pytest.mark.mqtt
@pytest.mark.django_db
def test_a_crash_after_storing_but_before_acknowledging_counts_nothing_twice(
    wing, publisher, shared_broker, options_for
):
    options = options_for(shared_broker, wing)
    create_session(options)
    publisher.publish(wing.topic, stream(wing, 30))
    crashed = Consumer(options)
    crashed.client.ack = lambda mid, qos: mqtt.MQTT_ERR_SUCCESS  # the acks never leave

    run_until(crashed, lambda: crashed.stats.acknowledged == 30)
    assert stored()["rollup_readings"] == 90

    # A new process (a fresh pipeline) resumes the session: the broker sends all 30 again.
    restarted = Consumer(options)
    run_until(restarted, lambda: restarted.stats.acknowledged == 30)

    assert (restarted.stats.received, restarted.stats.ingested) == (30, 30)
    assert (restarted.stats.accepted, restarted.stats.duplicates) == (0, 90)
    assert restarted.stats.alerts_opened == 0
    figures = stored()
    assert figures["rollup_readings"] == figures["accepted"] == 90
    assert figures["alerts"] == expected_alerts(wing, 30)
    assert figures["alert_count"] == 2


# --- A broker restart, on a private broker --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateBroker:
    """A Mosquitto of our own on a free port, persisting to a temporary directory."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {directory}/\n"
            "log_dest stderr\n"
            # Run as ourselves: as root, Mosquitto would become its own user, which cannot
            # write to our temporary directory.
            f"user {getpass.getuser()}\n"
        )
        self.process = None
        self.broker = Broker("127.0.0.1", self.port)

    def start(self) -> None:
        executable = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [executable, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _broker_listening(self.broker), 10, "Mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # saves its persistence file, as a service restart does
            self.process.wait(10)


@pytest.fixture
def private_broker(tmp_path, shared_broker):
    broker = PrivateBroker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.mark.mqtt
@pytest.mark.django_db
def test_a_broker_restart_is_survived_by_reconnecting(wing, private_broker, options_for):
    options = options_for(private_broker.broker, wing)
    messages = stream(wing, 40)
    consumer = Consumer(options)
    after_restart = []

    def restart_the_broker_midstream():
        wait_until(consumer.connected.is_set, 10, "never connected")
        time.sleep(0.3)  # the SUBACK
        first = Publisher(private_broker.broker)
        first.publish(wing.topic, messages[:20])
        first.close()
        wait_until(lambda: consumer.stats.ingested >= 10, 10, "nothing ingested")
        private_broker.stop()
        wait_until(lambda: not consumer.connected.is_set(), 10, "no disconnect seen")
        time.sleep(1.5)  # a second reconnect attempt fails too: backoff
        private_broker.start()
        wait_until(consumer.connected.is_set, 20, "never reconnected")
        after_restart.append(consumer.stats.connects)
        second = Publisher(private_broker.broker)
        second.publish(wing.topic, messages[20:])
        second.close()

    run_until(
        consumer,
        lambda: consumer.stats.accepted >= 120 and not consumer.backlog,
        during=restart_the_broker_midstream,
        timeout=40,
    )

    assert after_restart == [2]
    assert consumer.stats.new_sessions == 1  # the broker kept the session through its restart
    assert consumer.stats.accepted == 120
    figures = stored()
    assert figures["rollup_readings"] == figures["accepted"] == 120
    assert figures["alerts"] == expected_alerts(wing, 40)
    assert figures["alert_count"] == 2


# --- Killing the consumer process mid-stream ------------------------------------------------------


class SharedDatabase:
    """The test database, opened by child processes too. PostgreSQL: the test database itself.
    SQLite (in memory): copied to a file for the children and copied back afterwards."""

    def __init__(self, directory: Path):
        self.vendor = connection.vendor
        self.path = directory / "consumer.sqlite3"

    def url(self) -> str:
        if self.vendor == "postgresql":
            db = connection.settings_dict
            user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
            return f"postgres://{user}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        connection.ensure_connection()
        with sqlite3.connect(self.path) as copy:
            connection.connection.backup(copy)
        return f"sqlite:///{self.path}"

    def stored_readings(self) -> int:
        if self.vendor == "postgresql":
            return MinuteRollup.objects.aggregate(n=Sum("reading_count"))["n"] or 0
        with sqlite3.connect(self.path, timeout=20) as reader:
            (total,) = reader.execute(
                "SELECT COALESCE(SUM(reading_count), 0) FROM monitoring_minuterollup"
            ).fetchone()
        return total

    def bring_back(self) -> None:
        if self.vendor != "postgresql":
            with sqlite3.connect(self.path) as copy:
                copy.backup(connection.connection)


def stopped(process: subprocess.Popen, timeout: float) -> int | None:
    """The process's exit code once it has stopped; if it has not within ``timeout``, its
    threads' stacks go to its log (the command dumps them on SIGUSR1) and it is killed."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGUSR1)
        time.sleep(1.0)
        process.kill()
        process.wait(10)
        return None


def start_consumer_process(
    options: ConsumerOptions, database_url: str, log: Path, *, commit_seconds: float
):
    command = [
        sys.executable,
        str(REPO / "manage.py"),
        "monitoring_consumer",
        f"--name={options.name}",
        f"--broker=mqtt://{options.broker.host}:{options.broker.port}",
        f"--gateway={options.gateways[0]}",
        f"--share-group={options.share_group}",
        f"--commit-seconds={commit_seconds}",
    ]
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            command, cwd=REPO, env=environment, stdout=output, stderr=subprocess.STDOUT
        )


@pytest.mark.mqtt
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_killing_the_consumer_midstream_loses_no_reading_and_repeats_no_alert(
    wing, publisher, shared_broker, tmp_path, options_for
):
    options = options_for(shared_broker, wing)
    create_session(options)
    database = SharedDatabase(tmp_path)
    url = database.url()
    log = tmp_path / "consumer.log"
    messages = stream(wing, 60)
    publisher.publish(wing.topic, messages[:20])

    # The first commits once a second, so messages taken after a commit are in its memory
    # only (alerts stored, rollups not) when it is killed.
    first = start_consumer_process(options, url, log, commit_seconds=1.0)
    try:
        wait_until(lambda: database.stored_readings() > 0, 60, log.read_text)
        publisher.publish(wing.topic, messages[20:30], pause=0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    stored_at_kill = database.stored_readings()
    publisher.publish(wing.topic, messages[30:])

    second = start_consumer_process(options, url, log, commit_seconds=0.3)
    try:
        wait_until(lambda: database.stored_readings() >= 180, 60, log.read_text)
        time.sleep(1.0)  # anything wrongly counted twice would show by now
    finally:
        second.send_signal(signal.SIGTERM)
        assert stopped(second, 30) == 0, log.read_text()
    database.bring_back()

    assert 0 < stored_at_kill <= 90  # killed mid-stream: at most 30 of 60 messages were sent
    figures = stored()
    assert figures["rollup_readings"] == figures["accepted"] == 180
    assert figures["alerts"] == expected_alerts(wing, 60)
    assert figures["alert_count"] == 2
    assert ConsumerHeartbeat.objects.get(name=options.name).stopped_at is not None
