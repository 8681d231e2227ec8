from datetime import UTC, datetime

import pytest
import time_machine

from saferprisons.jobs import registry

START = datetime(2025, 3, 10, 9, 0, 0, tzinfo=UTC)


class Calls:
    """Handlers for test job kinds that record each call, and fail when told to."""

    def __init__(self):
        self.payloads: list[dict] = []
        self.failures_left = 0
        self.during_run = None  # called inside the handler, to act while it "runs"

    def ok(self, payload, job):
        self.payloads.append(payload)
        if self.during_run is not None:
            self.during_run(job)

    def flaky(self, payload, job):
        self.payloads.append(payload)
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("boom")


@pytest.fixture
def calls(monkeypatch):
    recorder = Calls()
    monkeypatch.setitem(registry._HANDLERS, "test.ok", recorder.ok)
    monkeypatch.setitem(registry._HANDLERS, "test.flaky", recorder.flaky)
    return recorder


@pytest.fixture
def clock_at_start():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def register(monkeypatch):
    """Register a one-off handler for the length of a test."""

    def add(kind, func):
        monkeypatch.setitem(registry._HANDLERS, kind, func)

    return add
