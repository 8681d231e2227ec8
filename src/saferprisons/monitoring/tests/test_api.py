"""POST /api/monitoring/readings: a gateway's token, a message, and what happened to it."""

from datetime import timedelta

import pytest
from django.test import Client

from saferprisons.accounts.services import create_api_token
from saferprisons.monitoring import services
from saferprisons.monitoring.models import DeadLetter, IngestCounter, MinuteRollup

from .conftest import NIGHT, NIGHT_MS, batch, reading

URL = "/api/monitoring/readings"


def gateway_client(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def post(client: Client, body: bytes):
    return client.post(URL, data=body, content_type="application/json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


def test_a_batch_answers_202_with_what_happened(monitored):
    response = post(
        gateway_client(monitored.secret),
        batch(
            reading("ZNA-A1-001-V", NIGHT_MS - 1000),
            reading("ZNA-A1-001-V", NIGHT_MS - 1000),
            reading("ZNA-A1-002-V", NIGHT_MS - 1000),
            reading("ZNA-A1-001-V", NIGHT_MS, activity_level=7),
        ),
    )
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 1,
        "duplicates": 1,
        "dropped_not_enrolled": 1,
        "dead_lettered": 1,
        "alerts_opened": 0,
    }
    # The request's tick wrote the counters (the first tick always flushes).
    counter = IngestCounter.objects.get()
    assert (counter.accepted, counter.duplicate, counter.dead_lettered) == (1, 1, 1)
    assert DeadLetter.objects.get().reason == "OUT_OF_RANGE"


def test_a_single_reading_is_a_message_too(monitored):
    response = post(
        gateway_client(monitored.secret),
        b'{"device_id": "ZNA-A1-001-V", "timestamp_ms": %d, "persons_present": 1, '
        b'"activity_level": 0.5}' % NIGHT_MS,
    )
    assert (response.status_code, response.json()["accepted"]) == (202, 1)


def test_rollups_are_written_by_the_requests_ticks(monitored):
    client = gateway_client(monitored.secret)
    post(client, batch(reading("ZNA-A1-001-V", NIGHT_MS - 2000)))  # 01:59, finished at once
    assert list(MinuteRollup.objects.values_list("minute", "reading_count")) == [
        (NIGHT - timedelta(minutes=1), 1)
    ]
    post(client, batch(reading("ZNA-A1-001-V", NIGHT_MS + 1000)))  # 02:00, still open
    monitored.traveller.shift(timedelta(seconds=60))
    post(client, batch(reading("ZNA-A1-001-V", NIGHT_MS + 60_000)))  # 02:00 is finished now
    assert list(MinuteRollup.objects.order_by("minute").values_list("minute", "reading_count")) == [
        (NIGHT - timedelta(minutes=1), 1),
        (NIGHT, 1),
    ]


def test_malformed_json_is_400_and_a_bad_envelope_422(monitored):
    client = gateway_client(monitored.secret)
    assert_error(post(client, b"{oops"), 400, "malformed_json")
    error = assert_error(
        post(client, b'{"schema_version": 9, "readings": []}'), 422, "bad_envelope"
    )
    assert error["message"] == "schema_version must be 1 (got 9)"
    assert list(DeadLetter.objects.order_by("id").values_list("reason", flat=True)) == [
        "MALFORMED_JSON",
        "BAD_ENVELOPE",
    ]


def test_too_large_a_message_is_413(monitored, settings):
    settings.MONITORING_MAX_MESSAGE_BYTES = 100
    body = batch(reading("ZNA-A1-001-V", NIGHT_MS), reading("ZNA-A1-001-V", NIGHT_MS - 1000))
    assert_error(post(gateway_client(monitored.secret), body), 413, "too_large")


def test_no_token_or_a_bad_token_is_401(monitored):
    assert_error(post(Client(), batch()), 401, "unauthenticated")
    assert_error(post(gateway_client("sp_abc_not-a-real-token"), batch()), 401, "unauthenticated")


def test_a_revoked_gateway_token_is_401(monitored):
    services.rotate_gateway_token(actor=monitored.admin, gateway=monitored.gateway)
    assert_error(post(gateway_client(monitored.secret), batch()), 401, "unauthenticated")


@pytest.mark.parametrize("scopes", [["people:read"], ["sensors:write"]])
def test_a_token_that_is_not_a_gateway_s_is_403(monitored, scopes):
    _, secret = create_api_token(
        actor=monitored.admin, name="Other client", scopes=scopes, prisons=[monitored.north]
    )
    assert_error(post(gateway_client(secret), batch()), 403, "forbidden")


def test_staff_cannot_send_readings(monitored):
    client = Client()
    client.force_login(monitored.manager)
    assert_error(post(client, batch()), 403, "forbidden")


def test_a_database_outage_is_503_and_nothing_is_lost(monitored, monkeypatch):
    from django.db import DatabaseError

    from saferprisons.monitoring.ingest import IngestPipeline

    def fail(*args, **kwargs):
        raise DatabaseError("database restarting")

    client = gateway_client(monitored.secret)
    body = batch(reading("ZNA-A1-NOPE", NIGHT_MS))
    with monkeypatch.context() as patch:
        patch.setattr(IngestPipeline, "_write_dead_letters", fail)
        assert_error(post(client, body), 503, "unavailable")
    assert post(client, body).json()["dead_lettered"] == 1
