"""The MQTT consumer: gateway messages from the broker into the ingest pipeline, none lost.

Delivery is at least once, and a reading is counted once:

- The consumer connects with MQTT 5, a stable client id (``saferprisons-ingest-<name>``), Clean
  Start off and a long session expiry, so the broker keeps its subscription and every message it
  has not acknowledged while it is away (a crash, a restart, a broker restart with persistence).
- It subscribes at QoS 1 and acknowledges a message (paho's ``manual_ack``) only once the
  message's readings are in the database: ``ingest()`` has committed its alerts and dead letters
  and a later flush has committed the rollups and counters of its minutes (which the pipeline
  keeps in memory until then). A message in hand when the process dies is sent again; the
  pipeline treats readings already in a stored rollup as duplicates, so none counts twice, and
  the database's one-open-alert-per-cell-and-rule makes a repeated alert a no-op.
- While messages keep coming, each device-minute is written once, after the minute ends, on a
  second thread (its own connection) in paced transactions, and a message is acknowledged once
  the minutes of its readings are written: messages are held for about a minute. When the
  stream goes quiet, when the held messages near the Receive Maximum, and at shutdown, the open
  minutes are written too (a minute written in parts adds up) and everything is acknowledged.
  See docs/adr/0015-consumer-writes-each-minute-once.md.
- Back-pressure: the CONNECT packet's Receive Maximum caps the messages the broker sends before
  we acknowledge them. While the database is down the consumer retries the same message with
  exponential backoff and acknowledges nothing, so the broker stops sending and queues the rest.
- Reconnects use paho's exponential backoff (``reconnect_delay_set``). Packet ids live in the
  session: after a reconnect that resumes it, the broker re-sends what we hold with the same
  ids, and a message we already hold is not taken twice. If the broker lost the session, what
  we hold is still ingested but never acknowledged (the ids now mean nothing).

Topics are ``saferprisons/<prison code>/<gateway code>/readings``; the topic names the gateway
(the broker's ACL lets a gateway publish only to its own). See docs/monitoring-consumer.md.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import DatabaseError, connection
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from .constants import TOPIC_PREFIX
from .heartbeat import beat, mark_stopped, start_consumer
from .ingest import GatewayRef, IngestPipeline
from .models import Gateway

logger = logging.getLogger(__name__)

DEFAULT_BROKER_URL = "mqtt://127.0.0.1:1883"
DEFAULT_SHARE_GROUP = "saferprisons-ingest"
CLIENT_ID_PREFIX = "saferprisons-ingest-"
TOPIC_SUFFIX = "readings"
MAX_SESSION_EXPIRY_SECONDS = 0xFFFFFFFF  # MQTT 5: never expires
# A message on which the pipeline raises something other than a database error (a bug) is tried
# this many times before it is given up.
UNEXPECTED_ERROR_ATTEMPTS = 3


def broker_url() -> str:
    """The configured broker (setting or environment MONITORING_MQTT_URL), else the local one."""
    return (
        getattr(settings, "MONITORING_MQTT_URL", "")
        or os.environ.get("MONITORING_MQTT_URL", "")
        or DEFAULT_BROKER_URL
    )


def broker_configured() -> bool:
    return bool(
        getattr(settings, "MONITORING_MQTT_URL", "") or os.environ.get("MONITORING_MQTT_URL")
    )


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Broker:
        """``mqtt://[user:password@]host[:port]`` or ``mqtts://`` (TLS, port 8883 by default)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"A broker is mqtt://host:port or mqtts://host:port, not {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def topic_filters(
    prisons: tuple[str, ...] = (),
    gateways: tuple[str, ...] = (),
    share_group: str | None = DEFAULT_SHARE_GROUP,
) -> list[str]:
    """What a consumer subscribes to: every gateway, or only its partition's (whole prisons by
    code, single gateways as ``PRISON/GATEWAY``)."""
    filters = [f"{TOPIC_PREFIX}/{code}/+/{TOPIC_SUFFIX}" for code in prisons]
    filters += [f"{TOPIC_PREFIX}/{key}/{TOPIC_SUFFIX}" for key in gateways]
    filters = filters or [f"{TOPIC_PREFIX}/+/+/{TOPIC_SUFFIX}"]
    if share_group:
        filters = [f"$share/{share_group}/{topic}" for topic in filters]
    return filters


def parse_topic(topic: str) -> tuple[str, str] | None:
    """(prison code, gateway code) of a readings topic, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != TOPIC_PREFIX or parts[3] != TOPIC_SUFFIX:
        return None
    if not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


class GatewayDirectory:
    """(prison code, gateway code) -> the in-service gateway, from a cached table.

    Reloaded every ``reload_seconds``, and on a miss at most every ``miss_reload_seconds`` (a
    gateway registered a moment ago is found quickly; a stream of unknown topics cannot turn
    into a query per message).
    """

    def __init__(self, *, reload_seconds: float = 30.0, miss_reload_seconds: float = 2.0):
        self.reload_seconds = reload_seconds
        self.miss_reload_seconds = miss_reload_seconds
        self._gateways: dict[tuple[str, str], GatewayRef] = {}
        self._loaded_at: float | None = None

    def lookup(self, prison_code: str, gateway_code: str) -> GatewayRef | None:
        key = (prison_code, gateway_code)
        now = time.monotonic()
        age = None if self._loaded_at is None else now - self._loaded_at
        if age is None or age >= self.reload_seconds:
            self._load(now)
        elif key not in self._gateways and age >= self.miss_reload_seconds:
            self._load(now)
        return self._gateways.get(key)

    def _load(self, now: float) -> None:
        rows = Gateway.objects.filter(retired_at__isnull=True).values_list(
            "prison__code", "code", "pk", "prison_id"
        )
        self._gateways = {
            (prison, code): GatewayRef(pk=pk, prison_pk=prison_pk)
            for prison, code, pk, prison_pk in rows
        }
        self._loaded_at = now


@dataclass(frozen=True)
class ConsumerOptions:
    name: str
    broker: Broker = field(default_factory=lambda: Broker.from_url(DEFAULT_BROKER_URL))
    # A partition: only these prisons' topics and these gateways' ("PRISON/GATEWAY"); none: all.
    prisons: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()
    share_group: str | None = DEFAULT_SHARE_GROUP
    keepalive_seconds: int = 30
    session_expiry_seconds: int = 7 * 24 * 3600
    # Messages the broker may send before we acknowledge them (MQTT 5 Receive Maximum). Held
    # for about a minute while the stream flows: at least a minute of this consumer's messages.
    max_in_flight: int = 30000
    # How often ended minutes are written and the messages they cover acknowledged; at once
    # (open minutes too) when three quarters of max_in_flight are held.
    commit_seconds: float = 5.0
    # Write rollups on a second thread (its own database connection) while messages go on
    # being ingested; acknowledged when that write has committed. Off: on the ingest thread.
    flush_in_background: bool = True
    # A write of many rows goes in transactions of this many, this far apart.
    rows_per_transaction: int = 5000
    write_pause_seconds: float = 0.2
    # Messages already waiting are ingested together, up to this many (about 12,500 readings
    # at 250 a message): the cost of each step hardly grows with the number of readings.
    max_batch: int = 50
    tick_seconds: float = 1.0
    heartbeat_seconds: float = 5.0
    report_seconds: float = 0.0  # log throughput this often (0: never)
    reconnect_min_seconds: int = 1
    reconnect_max_seconds: int = 30
    retry_min_seconds: float = 0.5  # database retries back off from here ...
    retry_max_seconds: float = 30.0  # ... to here

    @property
    def client_id(self) -> str:
        return f"{CLIENT_ID_PREFIX}{self.name}"


@dataclass
class ConsumerStats:
    connects: int = 0
    new_sessions: int = 0  # connections on which the broker had no session of ours
    received: int = 0  # deliveries taken in (a redelivery of a message in hand is not)
    ingested: int = 0  # messages the pipeline took
    acknowledged: int = 0
    refused: int = 0  # topic of no gateway in service, or not a readings topic
    failed: int = 0  # the pipeline raised something other than a database error (a bug)
    database_retries: int = 0
    accepted: int = 0
    duplicates: int = 0
    dropped_not_enrolled: int = 0
    dead_lettered: int = 0
    alerts_opened: int = 0


@dataclass
class _Delivery:
    mid: int
    qos: int
    topic: str
    payload: bytes  # emptied once ingested (only the newest reading time is needed then)
    session: int  # which broker session it came in (acknowledged only in that one)
    newest_ms: int | None = None  # the newest accepted reading, once ingested


class Consumer:
    """One consumer process: ``run()`` until ``stop()`` (or SIGTERM/SIGINT), then flush and leave.

    Two threads: paho's network thread only queues deliveries (no database); the thread calling
    ``run()`` ingests, ticks, commits, acknowledges and beats.
    """

    def __init__(
        self,
        options: ConsumerOptions,
        *,
        pipeline: IngestPipeline | None = None,
        directory: GatewayDirectory | None = None,
    ):
        self.options = options
        self.pipeline = pipeline or IngestPipeline()
        self.directory = directory or GatewayDirectory()
        self.stats = ConsumerStats()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._deliveries: queue.SimpleQueue[_Delivery] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _in_hand and _session
        self._in_hand: set[int] = set()  # packet ids received and not yet acknowledged
        self._session = 0
        self._uncommitted: list[_Delivery] = []  # ingested, waiting for the flush and the ack
        self._last_received = time.monotonic()  # set on paho's thread
        self._next_tick = self._next_commit = self._next_beat = self._next_report = 0.0
        self._commit_delay = 0.0  # while flushing fails: how long until the next try
        self._started = False  # the heartbeat row records this start
        self._reported = (time.monotonic(), 0, 0)
        # Background flushing: one batch at a time, with the deliveries it makes durable.
        self._flush_jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._flush_results: queue.SimpleQueue = queue.SimpleQueue()
        self._flushing: tuple | None = None  # (batch, deliveries) being written
        self._flusher: threading.Thread | None = None
        self.client = self._make_client()

    # --- Running ----------------------------------------------------------------------------

    def run(self, *, handle_signals: bool = True) -> ConsumerStats:
        options = self.options
        logger.info(
            "Consumer %s connecting to %s as %s, subscribing to %s",
            options.name,
            options.broker,
            options.client_id,
            ", ".join(self.topics),
        )
        self.client.connect_async(
            options.broker.host,
            options.broker.port,
            keepalive=options.keepalive_seconds,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self.client.loop_start()
        if options.flush_in_background:
            self._flusher = threading.Thread(
                target=self._flush_worker, name="rollup-flusher", daemon=True
            )
            self._flusher.start()
        try:
            with stop_on_signals(self._stop, enabled=handle_signals):
                self._loop()
        finally:
            self._shut_down()
        return self.stats

    @property
    def topics(self) -> list[str]:
        options = self.options
        return topic_filters(options.prisons, options.gateways, options.share_group)

    def stop(self) -> None:
        self._stop.set()

    @property
    def backlog(self) -> int:
        """Messages received and not yet acknowledged."""
        with self._lock:
            return len(self._in_hand)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            wait = max(0.0, min(self._next_tick, self._next_commit, self._next_beat) - now)
            try:
                delivery = self._deliveries.get(timeout=min(wait, 0.2))
            except queue.Empty:
                delivery = None
            if delivery is not None:
                self._take(self._with_waiting(delivery))
            self._timers()

    def _with_waiting(self, first: _Delivery) -> list[_Delivery]:
        """The delivery and the others already waiting, up to ``max_batch`` (never waits for
        more: a quiet stream is taken a message at a time, a busy one in batches)."""
        taken = [first]
        while len(taken) < self.options.max_batch:
            try:
                taken.append(self._deliveries.get_nowait())
            except queue.Empty:
                break
        return taken

    def _timers(self) -> None:
        now = time.monotonic()
        options = self.options
        if options.flush_in_background:
            outcome = self._collect_background_flush()
            if outcome is not None:
                self._after_commit(outcome)
        if now >= self._next_tick:
            if options.flush_in_background:  # the commits write every rollup
                self._run_guarded("tick", lambda: self.pipeline.tick(flush=False))
            else:
                self._run_guarded("tick", self.pipeline.tick)
            self._next_tick = now + options.tick_seconds
        nearly_full = len(self._uncommitted) >= max(1, options.max_in_flight * 3 // 4)
        if now >= self._next_commit or (nearly_full and not self._commit_delay):
            # Open minutes too when the stream is quiet (nothing more will close them soon,
            # or the broker is holding messages back) or the Receive Maximum is near.
            everything = nearly_full or now - self._last_received >= options.commit_seconds
            if options.flush_in_background:
                if self._flushing is None:  # else: due again as soon as that one ends
                    self._commit_in_background(everything=everything)
                    self._next_commit = time.monotonic() + options.commit_seconds
            else:
                self._after_commit(self._commit(everything=everything))
        if now >= self._next_beat:
            self._beat()
            self._next_beat = now + options.heartbeat_seconds
        if options.report_seconds and now >= self._next_report:
            self._report(now)
            self._next_report = now + options.report_seconds

    # --- Messages ---------------------------------------------------------------------------

    def _take(self, deliveries: list[_Delivery]) -> None:
        ready = []
        for delivery in deliveries:
            names = parse_topic(delivery.topic)
            gateway = None
            if names is not None:
                gateway = self._find_gateway(names)
                if self._stop.is_set():
                    return  # stopping while the database is down: not taken, the broker resends
            if gateway is None:
                self._refuse(delivery)
            else:
                ready.append((delivery, gateway))
        self._ingest_until_done(ready)

    def _find_gateway(self, names: tuple[str, str]) -> GatewayRef | None:
        delay = self.options.retry_min_seconds
        while not self._stop.is_set():
            try:
                return self.directory.lookup(*names)
            except DatabaseError:
                delay = self._back_off("gateway lookup", delay)
        return None

    def _refuse(self, delivery: _Delivery) -> None:
        # No gateway in service has this topic (or it is not a readings topic): nothing to
        # ingest it as. Counted, logged, and acknowledged with the next commit so the broker
        # does not send it again.
        self.stats.refused += 1
        logger.warning(
            "Refused a message on %r: no gateway in service has this topic", delivery.topic
        )
        self._uncommitted.append(delivery)

    def _ingest_until_done(self, ready: list[tuple[_Delivery, GatewayRef]]) -> None:
        """Ingest the messages, each then kept for the commit that acknowledges it; stops
        early if told to (what was not taken, the broker sends again)."""
        delay = self.options.retry_min_seconds
        attempts = 0
        while ready and not self._stop.is_set():
            attempts += 1
            try:
                results = self.pipeline.ingest_many([(d.payload, g) for d, g in ready])
            except DatabaseError:
                # Nothing changed in the pipeline: offer the same messages again, read no more.
                delay = self._back_off("ingest", delay)
                continue
            except Exception:
                # The pipeline raises only for the database: anything else is a bug. A batch
                # is taken again a message at a time, so that only the message at fault is
                # given up; that one is tried a few times (it may pass), then counted and
                # acknowledged, so that it cannot stop every gateway's readings.
                if len(ready) > 1:
                    for one in ready:
                        self._ingest_until_done([one])
                    return
                if attempts < UNEXPECTED_ERROR_ATTEMPTS:
                    logger.exception(
                        "Ingest failed on a message from %s: retrying", ready[0][0].topic
                    )
                    self._stop.wait(delay)
                    continue
                self.stats.failed += 1
                logger.exception(
                    "Ingest failed %s times on a message from %s: given up (not stored)",
                    attempts,
                    ready[0][0].topic,
                )
                self._keep(ready[0][0], newest_ms=None)
                return
            for (delivery, _gateway), result in zip(ready, results, strict=False):
                self._count(result)
                self._keep(delivery, newest_ms=result.newest_ms)
            ready = ready[len(results) :]  # the database failed part way: the rest again

    def _keep(self, delivery: _Delivery, *, newest_ms: int | None) -> None:
        """A message taken: acknowledged once its readings' minutes are written."""
        delivery.newest_ms = newest_ms
        delivery.payload = b""
        self._uncommitted.append(delivery)

    def _count(self, result) -> None:
        stats = self.stats
        stats.ingested += 1
        stats.accepted += result.accepted
        stats.duplicates += result.duplicates
        stats.dropped_not_enrolled += result.dropped_not_enrolled
        stats.dead_lettered += result.dead_lettered
        stats.alerts_opened += result.alerts_opened

    def _back_off(self, what: str, delay: float) -> float:
        self.stats.database_retries += 1
        logger.warning("Database unavailable during %s: retrying in %.1f s", what, delay)
        _drop_broken_connection()
        self._stop.wait(delay)
        return min(delay * 2, self.options.retry_max_seconds)

    # --- Making readings durable, then acknowledging ------------------------------------------

    def _after_commit(self, committed: bool) -> None:
        options = self.options
        if committed:
            self._commit_delay = 0.0
            self._next_commit = time.monotonic() + options.commit_seconds
        else:  # the database is down: try again later, backing off
            self._commit_delay = min(
                max(self._commit_delay * 2, options.retry_min_seconds),
                options.retry_max_seconds,
            )
            self._next_commit = time.monotonic() + self._commit_delay

    def _commit(self, *, everything: bool = True) -> bool:
        """Write ended minutes (``everything``: open ones too) and the counters, then
        acknowledge the messages whose readings are all stored."""
        if not self._uncommitted:
            return True
        batch, covered = self._take_batch(everything=everything)
        if not self._run_guarded("flush", lambda: self.pipeline.write_flush(batch)):
            self.pipeline.return_flush(batch)
            self._uncommitted = covered + self._uncommitted
            return False
        self._acknowledge_stored(batch, covered)
        return True

    def _commit_in_background(self, *, everything: bool) -> None:
        """Take ended minutes (``everything``: open ones too) and the counters out of the
        pipeline and hand them to the flusher thread; the messages whose readings they store
        are acknowledged once it has written them."""
        if not self._uncommitted:
            return
        batch, covered = self._take_batch(everything=everything)
        self._flushing = (batch, covered)
        self._flush_jobs.put(batch)

    def _take_batch(self, *, everything: bool) -> tuple:
        """What a commit writes, and the messages ingested before it was taken (only those
        can it store)."""
        batch = self.pipeline.take_flush(everything=everything)
        covered, self._uncommitted = self._uncommitted, []
        return batch, covered

    def _acknowledge_stored(self, batch, covered: list[_Delivery]) -> None:
        """Acknowledge what ``batch`` stored; the rest waits for a later batch, in order."""
        stored = [d for d in covered if batch.stores(d.newest_ms)]
        if len(stored) < len(covered):
            waiting = [d for d in covered if not batch.stores(d.newest_ms)]
            self._uncommitted = waiting + self._uncommitted
        self._acknowledge(stored)

    def _collect_background_flush(self, timeout: float | None = None) -> bool | None:
        """The outcome of the background write, once it has ended (None: none ended). A
        failed batch goes back into the pipeline and its messages wait for the next commit."""
        if self._flushing is None:
            return None
        try:
            error = (
                self._flush_results.get(timeout=timeout)
                if timeout
                else self._flush_results.get_nowait()
            )
        except queue.Empty:
            return None
        batch, covered = self._flushing
        self._flushing = None
        if error is None:
            self._acknowledge_stored(batch, covered)
            return True
        self.pipeline.return_flush(batch)
        self._uncommitted = covered + self._uncommitted
        if not isinstance(error, DatabaseError):
            raise error
        self.stats.database_retries += 1
        logger.warning("Database unavailable during flush: will try again")
        return False

    def _flush_worker(self) -> None:
        try:
            while (batch := self._flush_jobs.get()) is not None:
                self._flush_results.put(self._write_in_background(batch))
        finally:
            connection.close()

    def _write_in_background(self, batch) -> BaseException | None:
        """Write one batch; what went wrong, if anything, is handed to the consumer's thread
        (which waits for an answer to every batch, so this always gives one)."""
        try:
            self.pipeline.write_flush(
                batch,
                rows_per_transaction=self.options.rows_per_transaction,
                pause_seconds=self.options.write_pause_seconds,
            )
        except BaseException as error:
            if isinstance(error, DatabaseError):
                with suppress(DatabaseError):
                    _drop_broken_connection()
            return error
        return None

    def _acknowledge(self, done: list[_Delivery]) -> None:
        with self._lock:
            # Nothing to acknowledge for QoS 0, or if the broker forgot the session.
            due = [d for d in done if d.qos and d.session == self._session]
            self._in_hand.difference_update(d.mid for d in due)
        # Outside our lock: paho's ack may wait for its callback lock, which its network
        # thread holds while it calls _on_message, which waits for our lock.
        for delivery in due:
            self.client.ack(delivery.mid, delivery.qos)
            self.stats.acknowledged += 1

    def _run_guarded(self, what: str, action: Callable) -> bool:
        """Run a periodic database step; a failure is logged and tried again next time."""
        try:
            action()
        except DatabaseError:
            self.stats.database_retries += 1
            logger.warning("Database unavailable during %s: will try again", what)
            _drop_broken_connection()
            return False
        return True

    def _beat(self) -> None:
        stats = self.stats
        try:
            if not self._started:  # a fresh row (the database may have been down at start)
                start_consumer(self.options.name, client_id=self.options.client_id)
                self._started = True
            beat(
                self.options.name,
                connected=self.connected.is_set(),
                backlog=self.backlog,
                messages_acknowledged=stats.acknowledged,
                readings_accepted=stats.accepted,
                messages_refused=stats.refused + stats.failed,
                database_retries=stats.database_retries,
            )
        except DatabaseError:
            _drop_broken_connection()
            logger.warning("Consumer %s: heartbeat not written", self.options.name)

    def _report(self, now: float) -> None:
        then, messages, readings = self._reported
        elapsed = max(now - then, 1e-9)
        stats = self.stats
        logger.info(
            "Consumer %s: %.0f messages/s, %.0f readings/s accepted, backlog %s, "
            "%s alerts opened, %s database retries",
            self.options.name,
            (stats.ingested - messages) / elapsed,
            (stats.accepted - readings) / elapsed,
            self.backlog,
            stats.alerts_opened,
            stats.database_retries,
        )
        self._reported = (now, stats.ingested, stats.accepted)

    def _shut_down(self) -> None:
        # Messages still queued are not taken: unacknowledged, the broker keeps them for us.
        if self._flusher is not None:
            if self._flushing is not None and self._flusher.is_alive():
                self._collect_background_flush(timeout=120)
            self._flush_jobs.put(None)
            self._flusher.join(timeout=30)
        committed = self._commit(everything=True)
        if not committed:
            logger.warning("Could not flush at shutdown: the broker will send those messages again")
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()
        try:
            self._beat()
            mark_stopped(self.options.name)
        except DatabaseError:
            logger.warning("Consumer %s: could not record that it stopped", self.options.name)
        logger.info(
            "Consumer %s stopped: %s messages ingested, %s acknowledged, %s readings accepted",
            self.options.name,
            self.stats.ingested,
            self.stats.acknowledged,
            self.stats.accepted,
        )

    # --- paho (these run on the network thread: no database here) ------------------------------

    def _make_client(self) -> mqtt.Client:
        options = self.options
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.reconnect_delay_set(options.reconnect_min_seconds, options.reconnect_max_seconds)
        if options.broker.username is not None:
            client.username_pw_set(options.broker.username, options.broker.password)
        if options.broker.tls:
            client.tls_set()
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = min(
            self.options.session_expiry_seconds, MAX_SESSION_EXPIRY_SECONDS
        )
        properties.ReceiveMaximum = self.options.max_in_flight
        return properties

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("Broker refused the connection: %s", reason_code)
            return
        with self._lock:
            if not flags.session_present:
                # A new session: ids of messages we hold mean nothing to the broker now.
                self._session += 1
                self._in_hand.clear()
                self.stats.new_sessions += 1
        self.stats.connects += 1
        self.connected.set()
        logger.info(
            "Connected to %s (session %s)",
            self.options.broker,
            "resumed" if flags.session_present else "new",
        )
        # Subscribing again is harmless when the session kept the subscription.
        for topic in self.topics:
            client.subscribe(topic, qos=1)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            logger.warning("Disconnected from the broker (%s): reconnecting", reason_code)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        for code in reason_codes:
            if code.is_failure:
                logger.error("The broker refused a subscription: %s", code)

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            if message.qos:
                if message.mid in self._in_hand:
                    return  # the broker re-sent a message we hold (same session, same id)
                self._in_hand.add(message.mid)
            session = self._session
        self.stats.received += 1
        self._last_received = time.monotonic()
        self._deliveries.put(
            _Delivery(message.mid, message.qos, message.topic, bytes(message.payload), session)
        )


def end_session(options: ConsumerOptions, timeout: float = 10.0) -> bool:
    """Make the broker forget this consumer's session (its subscription and the messages queued
    for it): for a consumer name that will not run again. True once the broker confirmed."""
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=options.client_id,
        protocol=mqtt.MQTTv5,
    )
    if options.broker.username is not None:
        client.username_pw_set(options.broker.username, options.broker.password)
    if options.broker.tls:
        client.tls_set()
    confirmed = threading.Event()
    client.on_connect = lambda c, u, flags, code, p: code.is_failure or confirmed.set()
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0  # the session ends with this connection
    client.connect(
        options.broker.host, options.broker.port, clean_start=True, properties=properties
    )
    client.loop_start()
    try:
        return confirmed.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()


def _drop_broken_connection() -> None:
    # The next query opens a fresh connection (the old one may be dead after a database
    # restart). Never inside a transaction, which closing would destroy.
    if not connection.in_atomic_block:
        connection.close()


@contextmanager
def stop_on_signals(stop: threading.Event, *, enabled: bool) -> Iterator[None]:
    """SIGTERM/SIGINT ask for a clean stop (flush, acknowledge, disconnect); a second acts at
    once."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = (signal.SIGTERM, signal.SIGINT)
    previous = {signum: signal.getsignal(signum) or signal.SIG_DFL for signum in stopping}

    def request_stop(signum, frame):
        logger.info("Received %s: flushing, then stopping", signal.Signals(signum).name)
        stop.set()
        signal.signal(signum, previous[signum])

    for signum in stopping:
        signal.signal(signum, request_stop)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def default_consumer_name() -> str:
    # Stable across restarts on one host, so a restarted consumer resumes its broker session.
    return socket.gethostname()
