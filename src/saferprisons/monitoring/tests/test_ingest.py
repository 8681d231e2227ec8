"""The ingest pipeline against the database: what is kept, counted, dead-lettered and alerted."""

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saferprisons.core import clock
from saferprisons.jobs.models import Job
from saferprisons.monitoring import ingest as ingest_module
from saferprisons.monitoring import services
from saferprisons.monitoring.constants import (
    JOB_PURGE_RAW_READINGS,
    AlertOutcome,
    DeadLetterReason,
    Priority,
    RuleKind,
    Zone,
)
from saferprisons.monitoring.ingest import IngestPipeline
from saferprisons.monitoring.models import (
    Alert,
    DeadLetter,
    IngestCounter,
    MinuteRollup,
)
from saferprisons.monitoring.rules import from_ms, to_ms
from saferprisons.monitoring.validation import decode_message
from saferprisons.people import services as people_services

from .conftest import NIGHT, NIGHT_MS, batch, reading

DEVICE = "ZNA-A1-001-V"
EMPTY_CELL = "ZNA-A1-002-V"


def ingest(pipeline, world, *readings, at=None):
    return pipeline.ingest(batch(*readings), gateway=world.gateway_ref, received_at=at)


def counts(result) -> tuple:
    return (
        result.accepted,
        result.duplicates,
        result.dropped_not_enrolled,
        result.dead_lettered,
        result.alerts_opened,
    )


def dead_letters() -> list[tuple]:
    return list(
        DeadLetter.objects.order_by("id").values_list("reason", "device_external_id", "detail")
    )


# --- What happens to each reading -----------------------------------------------------------------


def test_accepted_readings_become_a_rollup_and_counters(monitored, pipeline):
    result = ingest(
        pipeline,
        monitored,
        reading(DEVICE, NIGHT_MS - 3000, activity_level=0.2),
        reading(DEVICE, NIGHT_MS - 2000, activity_level=0.4, zone="bathroom", battery_percent=71),
        reading(DEVICE, NIGHT_MS - 1000, activity_level=0.6, pulse_bpm=64.0, pulse_quality=0.7),
    )
    assert counts(result) == (3, 0, 0, 0, 0)
    assert MinuteRollup.objects.count() == 0  # in memory until flushed
    pipeline.flush(everything=True)
    rollup = MinuteRollup.objects.get()
    assert rollup.device == monitored.devices[0]
    assert rollup.minute == NIGHT - timedelta(minutes=1)
    assert (rollup.reading_count, rollup.activity_max) == (3, 0.6)
    assert rollup.activity_mean == pytest.approx(0.4)
    assert (rollup.bed_seconds, rollup.bathroom_seconds, rollup.door_seconds) == (2, 1, 0)
    assert (rollup.pulse_count, rollup.pulse_min, rollup.pulse_max) == (1, 64.0, 64.0)
    assert (rollup.pulse_quality_min, rollup.breathing_count, rollup.breathing_min) == (
        0.7,
        0,
        None,
    )
    assert (rollup.battery_min, rollup.persons_max, rollup.tamper_count) == (71.0, 1, 0)
    assert rollup.last_reading_at == from_ms(NIGHT_MS - 1000)
    counter = IngestCounter.objects.get()
    assert (counter.prison, counter.minute) == (monitored.north, NIGHT)
    assert (counter.accepted, counter.duplicate, counter.dropped_not_enrolled) == (3, 0, 0)


def test_duplicates_have_no_effect(monitored, pipeline):
    first = reading(DEVICE, NIGHT_MS - 2000)
    assert counts(ingest(pipeline, monitored, first, first)) == (1, 1, 0, 0, 0)
    assert counts(ingest(pipeline, monitored, first)) == (0, 1, 0, 0, 0)
    pipeline.flush(everything=True)
    assert MinuteRollup.objects.get().reading_count == 1
    assert IngestCounter.objects.get().duplicate == 2
    assert DeadLetter.objects.count() == 0


def test_out_of_order_readings_are_dead_lettered(monitored, pipeline):
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 1000))
    result = ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 5000))
    assert counts(result) == (0, 0, 0, 1, 0)
    assert dead_letters() == [
        (
            "OUT_OF_ORDER",
            DEVICE,
            f"timestamp_ms {NIGHT_MS - 5000}: {DeadLetterReason.OUT_OF_ORDER.label}",
        )
    ]


def test_readings_within_one_message_are_put_in_time_order(monitored, pipeline):
    result = ingest(
        pipeline,
        monitored,
        reading(DEVICE, NIGHT_MS - 1000),
        reading(DEVICE, NIGHT_MS - 3000),
        reading(DEVICE, NIGHT_MS - 2000),
    )
    assert counts(result) == (3, 0, 0, 0, 0)


def test_timestamps_too_far_ahead_or_too_old(monitored, pipeline, settings):
    settings.MONITORING_MAX_CLOCK_SKEW_SECONDS = 5
    settings.MONITORING_MAX_READING_AGE_SECONDS = 600
    result = ingest(
        pipeline,
        monitored,
        reading(DEVICE, NIGHT_MS + 5000),  # at the skew limit: fine
        reading(DEVICE, NIGHT_MS + 5001),
        reading(DEVICE, NIGHT_MS - 600_001),
    )
    assert counts(result) == (1, 0, 0, 2, 0)
    assert [row[0] for row in dead_letters()] == ["FUTURE_TIMESTAMP", "TOO_OLD"]


def test_unknown_devices_and_devices_of_another_gateway(monitored, pipeline):
    other, _ = services.register_gateway(
        actor=monitored.admin, prison=monitored.north, code="S-WING", name="Safe cells"
    )
    services.register_device(
        actor=monitored.admin,
        gateway=other,
        cell=monitored.safe_cells[0],
        external_id="ZNA-S1-001-V",
        kind="VISION",
        vendor="Fictional Sensors Ltd",
        serial="FS-90001",
        installed_at=NIGHT - timedelta(days=1),
    )
    result = ingest(
        pipeline,
        monitored,
        reading("ZNA-NOPE", NIGHT_MS),
        reading("ZNA-S1-001-V", NIGHT_MS),
    )
    assert counts(result) == (0, 0, 0, 2, 0)
    assert dead_letters() == [
        ("UNKNOWN_DEVICE", "ZNA-NOPE", "device_id is not an installed device"),
        ("WRONG_GATEWAY", "ZNA-S1-001-V", "device_id is registered to another gateway"),
    ]


def test_readings_from_cells_without_an_enrolled_occupant_are_dropped_and_never_stored(
    monitored, pipeline
):
    # An empty cell, and a bad reading from it: dropped and counted, not even a dead letter.
    result = ingest(
        pipeline,
        monitored,
        reading(EMPTY_CELL, NIGHT_MS, persons_present=2),
        reading(EMPTY_CELL, NIGHT_MS - 1000, activity_level="lots"),
    )
    pipeline.flush(everything=True)
    assert counts(result) == (0, 0, 2, 0, 0)
    assert (MinuteRollup.objects.count(), DeadLetter.objects.count(), Alert.objects.count()) == (
        0,
        0,
        0,
    )
    assert IngestCounter.objects.get().dropped_not_enrolled == 2


def test_a_cellmate_who_is_not_enrolled_stops_monitoring_of_the_cell(monitored):
    from saferprisons.conftest import admit

    cell = monitored.north_cells[1]
    first = admit(monitored.manager, monitored.north, "A7777AA", cell=cell)
    services.enrol(
        actor=monitored.manager,
        prisoner=first,
        basis="CONSENT",
        review_on=NIGHT.date() + timedelta(days=7),
        starts_at=NIGHT - timedelta(hours=1),
        ends_at=NIGHT + timedelta(days=7),
    )
    pipeline = IngestPipeline()
    assert counts(ingest(pipeline, monitored, reading(EMPTY_CELL, NIGHT_MS - 9000))) == (
        1,
        0,
        0,
        0,
        0,
    )
    # A second, unenrolled person is moved in (the cell's capacity allows two).
    cell.working_capacity = cell.max_capacity = 2
    cell.save(update_fields=["working_capacity", "max_capacity"])
    admit(monitored.manager, monitored.north, "A8888AA", cell=cell)
    monitored.traveller.shift(timedelta(seconds=3))  # past the roster check interval
    assert counts(ingest(pipeline, monitored, reading(EMPTY_CELL, NIGHT_MS - 1000))) == (
        0,
        0,
        1,
        0,
        0,
    )


def test_ending_an_enrolment_stops_storage_within_the_roster_check(monitored, pipeline, settings):
    settings.MONITORING_ROSTER_CHECK_SECONDS = 2
    assert ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 5000)).accepted == 1
    services.end_enrolment(
        actor=monitored.manager, enrolment=monitored.enrolment, reason="Withdrew consent"
    )
    monitored.traveller.shift(timedelta(seconds=2))
    result = ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS + 1000))
    assert counts(result) == (0, 0, 1, 0, 0)


def test_an_enrolment_that_runs_out_stops_monitoring_without_any_change(monitored, pipeline):
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 5000))
    monitored.traveller.move_to(monitored.enrolment.ends_at)
    late = to_ms(monitored.enrolment.ends_at)
    assert ingest(pipeline, monitored, reading(DEVICE, late)).dropped_not_enrolled == 1


def test_malformed_messages_are_dead_lettered_whole(monitored, pipeline):
    result = pipeline.ingest(
        b'{"schema_version": 1, "readings": [\x00', gateway=monitored.gateway_ref
    )
    assert result.message_problem == DeadLetterReason.MALFORMED_JSON
    assert counts(result) == (0, 0, 0, 1, 0)
    envelope = pipeline.ingest(b'{"readings": 5}', gateway=monitored.gateway_ref)
    assert envelope.message_problem == DeadLetterReason.BAD_ENVELOPE
    letters = list(DeadLetter.objects.order_by("id").values("reason", "payload_excerpt", "gateway"))
    assert letters == [
        {
            "reason": "MALFORMED_JSON",
            "payload_excerpt": '{"schema_version": 1, "readings": [\ufffd',
            "gateway": monitored.gateway.pk,
        },
        {
            "reason": "BAD_ENVELOPE",
            "payload_excerpt": '{"readings": 5}',
            "gateway": monitored.gateway.pk,
        },
    ]
    pipeline.flush()
    assert IngestCounter.objects.get().dead_lettered == 2


def test_dead_letters_per_message_are_capped_but_all_counted(monitored, pipeline, settings):
    settings.MONITORING_DEAD_LETTERS_PER_MESSAGE = 3
    result = ingest(pipeline, monitored, *[reading(f"ZNA-X{n}", NIGHT_MS) for n in range(10)])
    assert result.dead_lettered == 10
    assert DeadLetter.objects.count() == 3


# --- Alerts ---------------------------------------------------------------------------------------


def now_ms() -> int:
    return to_ms(clock.now())


def second_person_for(pipeline, world, seconds: int):
    """A reading a second with two people present, from now, the clock moving along."""
    results = []
    for _ in range(seconds):
        results.append(ingest(pipeline, world, reading(DEVICE, now_ms(), persons_present=2)))
        world.traveller.shift(timedelta(seconds=1))
    return results


def test_an_alert_opens_with_the_raw_readings_around_it(monitored, pipeline, settings):
    settings.MONITORING_ALERT_WINDOW_BEFORE_SECONDS = 10
    settings.MONITORING_ALERT_WINDOW_AFTER_SECONDS = 5
    pipeline = IngestPipeline()  # the history ring is sized from the setting
    results = second_person_for(pipeline, monitored, 40)  # night threshold: 30 s
    assert [r.alerts_opened for r in results].index(1) == 30
    alert = Alert.objects.get()
    assert alert.rule == RuleKind.SECOND_PERSON
    assert (alert.cell, alert.prisoner, alert.device) == (
        monitored.north_cells[0],
        monitored.north_person,
        monitored.devices[0],
    )
    assert (alert.priority, alert.threshold_seconds) == (Priority.MEDIUM, 30)
    assert alert.first_reading_at == NIGHT
    assert alert.triggered_at == NIGHT + timedelta(seconds=30)
    assert alert.opened_at == NIGHT + timedelta(seconds=30)
    kept = list(alert.readings.order_by("recorded_at").values_list("recorded_at", flat=True))
    assert kept == [NIGHT + timedelta(seconds=s) for s in range(20, 36)]
    first = alert.readings.order_by("recorded_at").first()
    assert (first.persons_present, first.activity_level, first.zone) == (2, 0.3, Zone.BED)
    job = Job.objects.get(kind=JOB_PURGE_RAW_READINGS)
    assert job.dedupe_key == f"{JOB_PURGE_RAW_READINGS}:2027-02-27"


def test_one_open_alert_per_cell_and_rule(monitored, pipeline):
    second_person_for(pipeline, monitored, 31)
    alert = Alert.objects.get()
    # A fresh process forgets the run: the same condition again is a no-op in the database.
    again = IngestPipeline()
    assert sum(r.alerts_opened for r in second_person_for(again, monitored, 31)) == 0
    assert Alert.objects.count() == 1
    services.resolve_alert(actor=monitored.officer, alert=alert, outcome=AlertOutcome.FALSE_ALARM)
    ingest(pipeline, monitored, reading(DEVICE, now_ms()))  # alone: the run ends
    monitored.traveller.shift(timedelta(seconds=1))
    assert sum(r.alerts_opened for r in second_person_for(pipeline, monitored, 31)) == 1
    assert Alert.objects.filter(resolved_at__isnull=True).count() == 1
    assert Alert.objects.count() == 2


def test_a_silent_device_raises_an_alert_on_the_tick(monitored, pipeline):
    """The wing's other sensor keeps reporting (its cell is empty: dropped, but heard), so the
    stream is up to date and the enrolled cell's sensor is silent."""
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS))
    monitored.traveller.shift(timedelta(seconds=59))
    ingest(pipeline, monitored, reading(monitored.empty_cell_device, now_ms()))
    assert pipeline.tick() == 0
    monitored.traveller.shift(timedelta(seconds=1))
    ingest(pipeline, monitored, reading(monitored.empty_cell_device, now_ms()))
    assert pipeline.tick() == 1
    alert = Alert.objects.get()
    assert (alert.rule, alert.first_reading_at, alert.triggered_at) == (
        RuleKind.DEVICE_SILENT,
        NIGHT,
        NIGHT + timedelta(seconds=60),
    )
    assert list(alert.readings.values_list("recorded_at", flat=True)) == [NIGHT]
    monitored.traveller.shift(timedelta(seconds=30))
    assert pipeline.tick() == 0


def test_a_backlog_is_not_taken_for_silence_but_a_stalled_stream_is(monitored, pipeline):
    """Nothing heard from any device (the process is behind, or every gateway has stopped):
    silence is measured to the newest reading heard, until the stream has been still for
    MONITORING_STREAM_STALL_SECONDS (180); then to the clock."""
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS))
    monitored.traveller.shift(timedelta(seconds=179))
    assert pipeline.tick() == 0
    # The backlog arrives: the stream moves on to 61 s and the device was silent after 0 s.
    ingest(pipeline, monitored, reading(monitored.empty_cell_device, NIGHT_MS + 61_000))
    monitored.traveller.shift(timedelta(seconds=1))  # the next silence check
    assert pipeline.tick() == 1
    alert = Alert.objects.get()
    assert (alert.rule, alert.triggered_at) == (
        RuleKind.DEVICE_SILENT,
        NIGHT + timedelta(seconds=61),
    )
    services.resolve_alert(actor=monitored.officer, alert=alert, outcome=AlertOutcome.FALSE_ALARM)


def test_when_nothing_is_heard_for_the_stall_time_the_clock_decides(monitored, pipeline):
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS))
    monitored.traveller.shift(timedelta(seconds=179))
    assert pipeline.tick() == 0
    monitored.traveller.shift(timedelta(seconds=1))
    assert pipeline.tick() == 1
    alert = Alert.objects.get()
    assert (alert.rule, alert.triggered_at) == (
        RuleKind.DEVICE_SILENT,
        NIGHT + timedelta(seconds=180),
    )


def test_a_failed_write_changes_nothing_and_the_message_can_be_sent_again(monitored, pipeline):
    second_person_for(pipeline, monitored, 30)  # the next reading crosses the threshold
    message = reading(DEVICE, NIGHT_MS + 30_000, persons_present=2)
    with mock.patch.object(Alert.objects, "create", side_effect=DatabaseError("database gone")):
        with pytest.raises(DatabaseError):
            ingest(pipeline, monitored, message)
    assert Alert.objects.count() == 0
    result = ingest(pipeline, monitored, message)
    assert counts(result) == (1, 0, 0, 0, 1)


def test_a_restarted_process_treats_replayed_readings_as_duplicates(monitored, pipeline):
    sent = [reading(DEVICE, NIGHT_MS - 3000 + n * 1000) for n in range(3)]
    ingest(pipeline, monitored, *sent)
    pipeline.flush(everything=True)
    restarted = IngestPipeline()
    assert counts(ingest(restarted, monitored, *sent)) == (0, 3, 0, 0, 0)
    assert ingest(restarted, monitored, reading(DEVICE, NIGHT_MS + 1000)).accepted == 1


def test_a_minute_written_in_parts_adds_up(monitored, pipeline):
    ingest(
        pipeline,
        monitored,
        reading(DEVICE, NIGHT_MS + 1000, activity_level=0.2, battery_percent=50),
    )
    pipeline.flush(everything=True)
    ingest(
        pipeline,
        monitored,
        reading(DEVICE, NIGHT_MS + 2000, activity_level=0.5, pulse_bpm=80.0, pulse_quality=0.9),
        reading(DEVICE, NIGHT_MS + 3000, activity_level=0.8, tampered=True, battery_percent=40),
    )
    pipeline.flush(everything=True)
    rollup = MinuteRollup.objects.get()
    assert rollup.reading_count == 3
    assert rollup.activity_mean == pytest.approx(0.5)
    assert (rollup.activity_max, rollup.tamper_count, rollup.battery_min) == (0.8, 1, 40.0)
    assert (rollup.pulse_count, rollup.pulse_min, rollup.pulse_quality_min) == (1, 80.0, 0.9)
    assert rollup.last_reading_at == from_ms(NIGHT_MS + 3000)


def test_the_flush_writes_only_finished_minutes(monitored, pipeline):
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 1000), reading(DEVICE, NIGHT_MS + 1000))
    assert pipeline.flush() == 1  # 01:59 is finished; 02:00 is still open
    assert list(MinuteRollup.objects.values_list("minute", flat=True)) == [
        NIGHT - timedelta(minutes=1)
    ]


def test_a_flush_taken_out_and_written_later_counts_each_reading_once(monitored, pipeline):
    # A consumer flushing in the background takes a batch out, goes on ingesting, and writes
    # the batch on another thread; a batch that fails goes back and is written with the next.
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 3000), reading(DEVICE, NIGHT_MS - 2000))
    batch = pipeline.take_flush(everything=True)
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 1000))  # into the next batch
    with mock.patch(
        "saferprisons.monitoring.ingest.write_rollups", side_effect=DatabaseError("down")
    ):
        with pytest.raises(DatabaseError):
            pipeline.write_flush(batch)
    pipeline.return_flush(batch)
    assert MinuteRollup.objects.count() == IngestCounter.objects.count() == 0
    later = pipeline.take_flush(everything=True)
    assert pipeline.write_flush(later) == 2  # the returned part and the newer part of 01:59
    assert MinuteRollup.objects.get().reading_count == 3
    assert IngestCounter.objects.get().accepted == 3
    assert pipeline.flush(everything=True) == 0  # nothing left in memory


def test_a_batch_written_in_parts_that_fails_midway_gives_back_only_the_unwritten_rows(
    monitored, pipeline
):
    # Four minutes of one device: four rows, written one per transaction.
    for at_ms in (NIGHT_MS - 181_000, NIGHT_MS - 121_000, NIGHT_MS - 61_000, NIGHT_MS - 1000):
        ingest(pipeline, monitored, reading(DEVICE, at_ms))
    batch = pipeline.take_flush(everything=True)
    assert (len(batch.rollups), batch.cut_ms) == (4, None)
    real_write = ingest_module.write_rollups
    calls = []

    def fail_on_the_third(rows, **options):
        calls.append(len(rows))
        if len(calls) == 3:
            raise DatabaseError("down")
        return real_write(rows, **options)

    with mock.patch("saferprisons.monitoring.ingest.write_rollups", fail_on_the_third):
        with pytest.raises(DatabaseError):
            pipeline.write_flush(batch, rows_per_transaction=1)
    assert (calls, batch.written) == ([1, 1, 1], 2)
    assert MinuteRollup.objects.count() == 2
    assert IngestCounter.objects.get().accepted == 4  # the counters went with the first part
    pipeline.return_flush(batch)
    assert pipeline.flush(everything=True) == 2  # only the two rows not written
    assert MinuteRollup.objects.aggregate(n=Sum("reading_count"))["n"] == 4
    assert IngestCounter.objects.get().accepted == 4


def test_a_batch_of_ended_minutes_stores_only_messages_whose_readings_came_before_its_cut(
    monitored, pipeline
):
    earlier = ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 1000))
    current = ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS))
    batch = pipeline.take_flush()  # at NIGHT (hh:mm:00): the minute before it has ended
    assert batch.cut_ms == NIGHT_MS
    assert (batch.stores(earlier.newest_ms), batch.stores(current.newest_ms)) == (True, False)
    assert batch.stores(None)  # a message with no reading to store
    assert (earlier.newest_ms, current.newest_ms) == (NIGHT_MS - 1000, NIGHT_MS)
    assert pipeline.write_flush(batch) == 1


def test_moving_the_person_out_drops_the_cell(monitored, pipeline):
    ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS - 4000))
    people_services.allocate_cell(
        actor=monitored.manager, prisoner=monitored.north_person, cell=monitored.north_cells[2]
    )
    monitored.traveller.shift(timedelta(seconds=3))
    assert ingest(pipeline, monitored, reading(DEVICE, NIGHT_MS)).dropped_not_enrolled == 1
    # The person's new cell is monitored now.
    assert ingest(pipeline, monitored, reading("ZNA-A1-003-V", NIGHT_MS)).accepted == 1


# --- Nothing a device sends raises ----------------------------------------------------------------

JSONISH = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
READINGISH = st.fixed_dictionaries(
    {},
    optional={
        "device_id": st.sampled_from([DEVICE, EMPTY_CELL, "nobody", ""]) | JSONISH,
        "timestamp_ms": st.integers(NIGHT_MS - 700_000, NIGHT_MS + 10_000) | JSONISH,
        "persons_present": st.integers(-1, 4) | JSONISH,
        "activity_level": st.floats(-1, 2) | JSONISH,
        "zone": st.sampled_from(["bed", "bathroom", None]) | JSONISH,
        "pulse_bpm": st.floats(0, 400) | JSONISH,
        "pulse_quality": st.floats(0, 1) | JSONISH,
        "tampered": st.booleans() | JSONISH,
    },
)


@given(
    messages=st.lists(
        st.one_of(
            st.builds(
                lambda rs: json.dumps({"schema_version": 1, "readings": rs}).encode(),
                st.lists(READINGISH | JSONISH, max_size=6),
            ),
            st.builds(lambda r: json.dumps(r).encode(), READINGISH),
            st.binary(max_size=40),
            st.builds(lambda v: json.dumps(v).encode(), JSONISH),
        ),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_nothing_a_device_sends_raises(monitored, messages):
    pipeline = IngestPipeline()
    for raw in messages:
        result = pipeline.ingest(raw, gateway=monitored.gateway_ref)
        total = (
            result.accepted + result.duplicates + result.dropped_not_enrolled + result.dead_lettered
        )
        message = decode_message(raw, max_readings=1000)
        # Every reading has exactly one outcome; a message that cannot be read is one dead letter.
        assert total == (len(message.items) if message.problem is None else 1)
    pipeline.tick()
    pipeline.flush(everything=True)


def test_a_device_added_while_running_keeps_the_others_memory(monitored, pipeline):
    first = reading(DEVICE, NIGHT_MS - 2000)
    assert ingest(pipeline, monitored, first).accepted == 1
    pipeline.flush()  # 01:59 is written; its replay floor is not what keeps the duplicate below
    from saferprisons.conftest import admit

    admit(monitored.manager, monitored.north, "A5555AA", cell=monitored.safe_cells[0])
    new_person = monitored.north.prisoners.get(prison_number="A5555AA")
    services.enrol(
        actor=monitored.manager,
        prisoner=new_person,
        basis="CONSENT",
        review_on=NIGHT.date() + timedelta(days=7),
        starts_at=NIGHT - timedelta(hours=1),
        ends_at=NIGHT + timedelta(days=7),
    )
    services.register_device(
        actor=monitored.admin,
        gateway=monitored.gateway,
        cell=monitored.safe_cells[0],
        external_id="ZNA-S1-001-V",
        kind="VISION",
        vendor="Fictional Sensors Ltd",
        serial="FS-90002",
        installed_at=NIGHT - timedelta(minutes=5),
    )
    monitored.traveller.shift(timedelta(seconds=3))
    result = ingest(pipeline, monitored, first, reading("ZNA-S1-001-V", NIGHT_MS + 1000))
    assert counts(result) == (1, 1, 0, 0, 0)
    assert len(pipeline.roster) == 4
