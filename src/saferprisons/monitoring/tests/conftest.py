"""Monitoring fixtures: the shared fictional estate at a frozen night-time, a gateway with a
device in each cell of north wing A, and the person in A-1-001 enrolled (consent)."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import orjson
import pytest
import time_machine
from django.test import Client

from saferprisons.monitoring import services
from saferprisons.monitoring.constants import DeviceKind, EnrolmentBasis
from saferprisons.monitoring.ingest import GatewayRef, IngestPipeline, reset_default_pipeline
from saferprisons.monitoring.rules import to_ms

# 02:00 on a Saturday in November: London is on GMT, so London time equals UTC. Night.
NIGHT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
NIGHT_MS = to_ms(NIGHT)


def reading(device: str, at_ms: int, **fields) -> dict:
    """A plausible reading: one person, a little movement, in bed."""
    return {
        "device_id": device,
        "timestamp_ms": at_ms,
        "persons_present": 1,
        "activity_level": 0.3,
        "zone": "bed",
        **fields,
    }


def batch(*readings: dict) -> bytes:
    return orjson.dumps({"schema_version": 1, "readings": list(readings)})


def iso(moment: datetime) -> str:
    """A time as the API writes it."""
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def api_for():
    """A test client signed in as the user (a staff session, as the API's management needs)."""

    def sign_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def fresh_default_pipeline():
    reset_default_pipeline()
    yield
    reset_default_pipeline()


@pytest.fixture
def traveller():
    with time_machine.travel(NIGHT, tick=False) as travel:
        yield travel


@pytest.fixture
def monitored(estate, traveller):
    north = estate["north"]
    admin = estate["admin"]
    gateway, secret = services.register_gateway(
        actor=admin, prison=north, code="A-WING", name="A wing gateway"
    )
    devices = [
        services.register_device(
            actor=admin,
            gateway=gateway,
            cell=cell,
            external_id=f"ZNA-A1-{number:03d}-V",
            kind=DeviceKind.VISION,
            vendor="Fictional Sensors Ltd",
            serial=f"FS-{number:05d}",
            installed_at=NIGHT - timedelta(days=1),
        )
        for number, cell in enumerate(estate["north_cells"], start=1)
    ]
    enrolment = services.enrol(
        actor=estate["manager"],
        prisoner=estate["north_person"],
        basis=EnrolmentBasis.CONSENT,
        review_on=date(2026, 12, 12),
        starts_at=NIGHT - timedelta(hours=1),
        ends_at=NIGHT + timedelta(days=28),
    )
    return SimpleNamespace(
        **estate,
        traveller=traveller,
        gateway=gateway,
        gateway_ref=GatewayRef.of(gateway),
        secret=secret,
        devices=devices,
        enrolled_device="ZNA-A1-001-V",
        empty_cell_device="ZNA-A1-002-V",
        enrolment=enrolment,
    )


@pytest.fixture
def pipeline(monitored):
    return IngestPipeline()
