"""Several messages taken in as one (``IngestPipeline.ingest_many``, what the MQTT consumer does
with what it has queued) have exactly the effect of taking them one by one: the same counts per
message, dead letters, alerts, raw readings kept, rollups and counters."""

from datetime import timedelta
from unittest import mock

import orjson
import pytest
from django.db import DatabaseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saferprisons.conftest import admit
from saferprisons.monitoring import services
from saferprisons.monitoring.constants import EnrolmentBasis
from saferprisons.monitoring.ingest import GatewayRef, IngestPipeline
from saferprisons.monitoring.models import (
    Alert,
    AlertReading,
    DeadLetter,
    IngestCounter,
    MinuteRollup,
)

from .conftest import NIGHT, NIGHT_MS, batch, reading

DEVICES = ["ZNA-A1-001-V", "ZNA-A1-002-V", "ZNA-A1-003-V", "ZNA-NOBODY-V"]


@pytest.fixture
def senders(monitored):
    """Gateway A (the wing's three devices: two cells monitored, one whose occupant is not
    enrolled) and gateway B, which has no devices: A's devices sent through B are refused."""
    manager = monitored.manager
    enrolled = admit(
        manager, monitored.north, "A2345BC", "Fenwick", "Lee", cell=monitored.north_cells[2]
    )
    services.enrol(
        actor=manager,
        prisoner=enrolled,
        basis=EnrolmentBasis.CONSENT,
        review_on=(NIGHT + timedelta(days=14)).date(),
        starts_at=NIGHT - timedelta(hours=1),
        ends_at=NIGHT + timedelta(days=28),
    )
    admit(manager, monitored.north, "A3456BC", "Marsh", "Kit", cell=monitored.north_cells[1])
    other, _secret = services.register_gateway(
        actor=monitored.admin, prison=monitored.north, code="B-WING", name="B wing gateway"
    )
    return [monitored.gateway_ref, GatewayRef.of(other)]


def snapshot(pipeline: IngestPipeline) -> dict:
    """Everything the messages left in the database, once the rollups are written."""
    pipeline.flush(everything=True)
    alerts = {
        alert.pk: (alert.cell_id, alert.rule, alert.triggered_at, alert.first_reading_at)
        for alert in Alert.objects.all()
    }
    return {
        "alerts": sorted(alerts.values()),
        "alert_readings": sorted(
            (alerts[r.alert_id], r.recorded_at, r.zone, r.tampered, r.pulse_bpm)
            for r in AlertReading.objects.all()
        ),
        "dead_letters": sorted(
            DeadLetter.objects.values_list(
                "reason", "device_external_id", "detail", "gateway_id", "payload_excerpt"
            )
        ),
        "rollups": sorted(
            MinuteRollup.objects.values_list(
                "device_id", "minute", "reading_count", "tamper_count", "persons_max"
            )
        ),
        "counters": sorted(
            IngestCounter.objects.values_list(
                "prison_id",
                "minute",
                "accepted",
                "duplicate",
                "dropped_not_enrolled",
                "dead_lettered",
            )
        ),
    }


def forget_everything() -> None:
    for model in (AlertReading, Alert, DeadLetter, MinuteRollup, IngestCounter):
        model.objects.all().delete()


def counts(result) -> tuple:
    return (
        result.accepted,
        result.duplicates,
        result.dropped_not_enrolled,
        result.dead_lettered,
        result.alerts_opened,
        result.newest_ms,
        result.message_problem,
    )


def one_by_one_and_together(messages, groups: list[int]) -> tuple:
    """(results, snapshot) taken one by one, then the same in ``groups`` of messages."""
    single = IngestPipeline()
    alone = [counts(single.ingest(raw, gateway=gateway)) for raw, gateway in messages]
    alone_state = snapshot(single)
    forget_everything()
    grouped = IngestPipeline()
    together, start = [], 0
    for size in groups:
        part = messages[start : start + size]
        together += [counts(result) for result in grouped.ingest_many(part)]
        start += size
    return alone, alone_state, together, snapshot(grouped)


def test_a_mixed_batch_has_the_effect_of_its_messages_one_by_one(monitored, senders):
    a, b = senders
    enrolled, empty, second = DEVICES[:3]
    messages = [
        (batch(reading(enrolled, NIGHT_MS - 9000), reading(second, NIGHT_MS - 9000)), a),
        (batch(reading(enrolled, NIGHT_MS - 8000, pulse_bpm=150.0, pulse_quality=0.9)), a),
        (batch(reading(enrolled, NIGHT_MS - 8000), reading(empty, NIGHT_MS - 8000)), a),
        (b"{not json", a),
        (batch(reading(second, NIGHT_MS - 7000, activity_level="high")), a),
        (batch(reading(enrolled, NIGHT_MS - 9500)), a),  # older than the newest: out of order
        (batch(reading(second, NIGHT_MS - 6000)), b),  # through the wrong gateway
        (batch(reading("ZNA-NOBODY-V", NIGHT_MS - 6000)), b),
        (batch(reading(enrolled, NIGHT_MS - 5000), reading(second, NIGHT_MS - 5000)), a),
    ]
    alone, alone_state, together, together_state = one_by_one_and_together(messages, [9])

    assert together == alone
    assert together_state == alone_state
    # What happened, so that a pipeline that did nothing cannot pass.
    assert [row[:5] for row in alone] == [
        (2, 0, 0, 0, 0),
        (1, 0, 0, 0, 1),  # PULSE_OUT_OF_RANGE
        (0, 1, 1, 0, 0),
        (0, 0, 0, 1, 0),
        (0, 0, 0, 1, 0),
        (0, 0, 0, 1, 0),
        (0, 0, 0, 1, 0),
        (0, 0, 0, 1, 0),
        (2, 0, 0, 0, 0),
    ]
    assert alone[0][5] == NIGHT_MS - 9000
    assert [letter[0] for letter in alone_state["dead_letters"]] == sorted(
        ["MALFORMED_JSON", "WRONG_TYPE", "OUT_OF_ORDER", "WRONG_GATEWAY", "UNKNOWN_DEVICE"]
    )
    assert len(alone_state["alerts"]) == 1
    assert sum(row[2] for row in alone_state["rollups"]) == 5


READINGS = st.builds(
    lambda device, offset, extra: reading(device, NIGHT_MS - offset * 1000, **extra),
    st.sampled_from(DEVICES),
    st.integers(0, 130),
    st.sampled_from(
        [
            {},
            {},
            {"tampered": True},
            {"persons_present": 2},
            {"pulse_bpm": 150.0, "pulse_quality": 0.9},
            {"zone": "bathroom", "activity_level": 0.0},
            {"activity_level": "high"},
        ]
    ),
)
MESSAGES = st.one_of(
    st.tuples(st.lists(READINGS, max_size=6).map(lambda r: batch(*r)), st.integers(0, 1)),
    st.tuples(st.just(b"[1, 2"), st.integers(0, 1)),
    st.tuples(st.just(orjson.dumps({"schema_version": 9, "readings": []})), st.integers(0, 1)),
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(stream=st.lists(MESSAGES, min_size=1, max_size=12), cut=st.integers(1, 12))
def test_any_stream_in_any_grouping_has_the_effect_of_its_messages_one_by_one(
    monitored, senders, stream, cut
):
    messages = [(raw, senders[sender]) for raw, sender in stream]
    groups = [cut] * (len(messages) // cut) + ([len(messages) % cut] if len(messages) % cut else [])
    try:
        alone, alone_state, together, together_state = one_by_one_and_together(messages, groups)
    finally:
        forget_everything()
    assert together == alone
    assert together_state == alone_state


def test_a_database_failure_part_way_returns_the_groups_taken_and_the_rest_can_follow(
    monitored, senders
):
    a, _b = senders
    enrolled = DEVICES[0]
    # The same device in every message: three groups, each written (it has a dead letter).
    messages = [
        (batch(reading(enrolled, NIGHT_MS - (9 - k) * 1000), reading("X", NIGHT_MS)), a)
        for k in range(3)
    ]
    alone, alone_state, _together, _state = one_by_one_and_together(messages, [3])
    forget_everything()
    pipeline = IngestPipeline()
    real_write = IngestPipeline._write
    calls = []

    def fail_the_second(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("connection lost")
        return real_write(self, *args)

    with mock.patch.object(IngestPipeline, "_write", fail_the_second):
        taken = pipeline.ingest_many(messages)
    assert [counts(result) for result in taken] == alone[:1]
    assert DeadLetter.objects.count() == 1  # the second group's write was rolled back
    rest = pipeline.ingest_many(messages[len(taken) :])
    assert [counts(result) for result in taken + rest] == alone
    assert snapshot(pipeline) == alone_state

    with mock.patch.object(IngestPipeline, "_write", side_effect=DatabaseError("down")):
        with pytest.raises(DatabaseError):
            pipeline.ingest_many(messages)
