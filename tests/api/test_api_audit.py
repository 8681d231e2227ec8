"""The audit trail through the API: auditors only, filtered, paginated, and itself audited."""

from datetime import datetime

import time_machine

from saferprisons.audit.models import AuditEvent
from saferprisons.core.clock import LONDON

from .helpers import assert_error


def test_only_auditors_read_the_trail(world, staff_client, token_client):
    for user in ("officer", "manager", "admin"):
        response = staff_client(world[user]).get("/api/audit/events")
        assert_error(response, 403, "forbidden")
    client = token_client(["people:read", "people:write", "estate:read", "sensors:write"])
    assert_error(client.get("/api/audit/events"), 403, "forbidden")


def test_events_newest_first_and_paginated(world, staff_client):
    before = list(AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True))
    assert len(before) == 6  # three receptions and three cell allocations
    client = staff_client(world["auditor"])
    page = client.get("/api/audit/events", {"page_size": 4}).json()
    # Each read is audited, but lists the trail as it stood before that read.
    assert page["count"] == 6
    assert [e["sequence"] for e in page["items"]] == before[:4]
    assert page["items"][0]["actor_label"] == "reception.both"
    second = client.get("/api/audit/events", {"page_size": 4, "page": 2}).json()
    assert second["count"] == 7  # now including the first read
    assert [e["sequence"] for e in second["items"]] == before[3:6]


def test_reading_the_trail_is_audited_with_filters_and_count(world, staff_client):
    client = staff_client(world["auditor"])
    response = client.get("/api/audit/events", {"action": "create", "object_type": "prisoner"})
    assert response.json()["count"] == 3
    read = AuditEvent.objects.latest("sequence")
    assert (read.actor_label, read.action, read.object_type) == (
        "auditor.hq",
        "search",
        "audit_event",
    )
    assert read.details == {
        "actor": "",
        "action": "create",
        "object_type": "prisoner",
        "object_id": "",
        "prison_code": "",
        "date_from": "",
        "date_to": "",
        "result_count": 3,
    }


def test_filters(world, staff_client):
    client = staff_client(world["auditor"])
    staff_client(world["officer"]).get("/api/prisoners/A1234BC")
    views = client.get("/api/audit/events", {"actor": "officer", "action": "view"}).json()
    assert views["count"] == 1
    [event] = views["items"]
    assert (event["actor_label"], event["object_type"], event["prison_code"]) == (
        "officer.north",
        "prisoner",
        "XNA",
    )
    assert event["object_id"] == str(world["north_person"].public_id)
    south = client.get("/api/audit/events", {"prison": "xso", "object_type": "prisoner"}).json()
    assert [e["object_id"] for e in south["items"]] == [str(world["south_person"].public_id)]


def test_date_range(world, staff_client):
    with time_machine.travel(datetime(2030, 6, 1, 23, 30, tzinfo=LONDON)):
        staff_client(world["officer"]).get("/api/prisoners/A1234BC")
    with time_machine.travel(datetime(2030, 6, 2, 0, 30, tzinfo=LONDON)):
        staff_client(world["nurse"]).get("/api/prisoners/A1234BC")
    client = staff_client(world["auditor"])

    def labels(**filters):
        body = client.get("/api/audit/events", {"action": "view", **filters}).json()
        return [e["actor_label"] for e in body["items"]]

    assert labels(date_from="2030-06-01", date_to="2030-06-01") == ["officer.north"]
    assert labels(date_from="2030-06-02") == ["nurse.north"]
    assert labels(date_from="2030-06-01", date_to="2030-06-02") == ["nurse.north", "officer.north"]
    assert labels(date_to="2030-05-31") == []


def test_bad_filters_are_422(world, staff_client):
    client = staff_client(world["auditor"])
    response = client.get("/api/audit/events", {"date_from": "2030-06-02", "date_to": "2030-06-01"})
    error = assert_error(response, 422, "validation_failed")
    assert error["fields"][0]["message"] == "date_from must be on or before date_to"
    response = client.get("/api/audit/events", {"date_from": "yesterday"})
    assert_error(response, 422, "validation_failed", fields=["date_from"])
    response = client.get("/api/audit/events", {"action": "destroy"})
    assert_error(response, 422, "validation_failed", fields=["action"])
    response = client.get("/api/audit/events", {"page": 10**30})
    assert_error(response, 422, "validation_failed", fields=["page"])
