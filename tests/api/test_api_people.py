"""People through the API: scoping, health data, search audit, case notes, moves, alerts."""

from datetime import timedelta

from django.test import Client

from saferprisons.audit.models import AuditEvent
from saferprisons.core import clock
from saferprisons.estate.models import Location
from saferprisons.people import services
from saferprisons.people.models import CellAllocation, PersonAlert, Prisoner

from .conftest import NORTH_HEALTH
from .helpers import assert_error, post_json


def test_prisoner_in_another_prison_answers_404(world, staff_client):
    client = staff_client(world["manager"])
    error = assert_error(client.get("/api/prisoners/B3456CD"), 404, "not_found")
    assert error["message"] == "No person with that prison number in your prisons"
    # Unknown and out-of-scope look the same.
    assert_error(client.get("/api/prisoners/Z9999ZZ"), 404, "not_found")
    assert_error(client.get("/api/prisoners/B3456CD/case-notes"), 404, "not_found")
    response = post_json(client, "/api/prisoners/B3456CD/alerts", {"code": "HA"})
    assert_error(response, 404, "not_found")
    assert not PersonAlert.objects.filter(prisoner=world["south_person"]).exists()


def test_malformed_prison_number_is_a_422(world, staff_client):
    response = staff_client(world["officer"]).get("/api/prisoners/12345")
    assert_error(response, 422, "validation_failed", fields=["prison_number"])


def test_profile_for_a_wing_officer_hides_health_needs(world, staff_client):
    person = world["north_person"]
    services.add_alert(actor=world["manager"], prisoner=person, code="HA", comment="Self-harm")
    response = staff_client(world["officer"]).get("/api/prisoners/a1234bc")
    assert response.status_code == 200
    body = response.json()
    assert body["health_needs"] is None
    assert {k: body[k] for k in body if k not in ("alerts", "movements", "current_cell")} == {
        "prison_number": "A1234BC",
        "first_name": "Sam",
        "last_name": "Brightwater",
        "date_of_birth": "1988-03-14",
        "sex": "M",
        "first_language": "English",
        "legal_status": "REMAND",
        "custody_status": "IN",
        "prison": "XNA",
        "version": 1,
        "health_needs": None,
    }
    cell = world["north_cells"][0]
    assert body["current_cell"] == {"id": str(cell.public_id), "path": "A-1-001"}
    [alert] = body["alerts"]
    assert {k: alert[k] for k in ("code", "alert_type", "comment", "ended_at", "created_by")} == {
        "code": "HA",
        "alert_type": "H",
        "comment": "Self-harm",
        "ended_at": None,
        "created_by": "manager.north",
    }
    [movement] = body["movements"]
    assert {k: movement[k] for k in ("kind", "from_prison", "to_prison", "reason")} == {
        "kind": "ADM",
        "from_prison": None,
        "to_prison": "XNA",
        "reason": "",
    }
    view = AuditEvent.objects.filter(action="view", object_type="prisoner").latest("sequence")
    assert (view.actor_label, view.object_id) == ("officer.north", str(person.public_id))


def test_profile_for_healthcare_shows_health_needs(world, staff_client):
    response = staff_client(world["nurse"]).get("/api/prisoners/A1234BC")
    assert response.status_code == 200
    assert response.json()["health_needs"] == NORTH_HEALTH


def test_search_is_scoped_and_audited_with_its_result_count(world, staff_client):
    client = staff_client(world["officer"])
    response = client.get("/api/prisoners", {"q": "bright"})
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "items": [
            {
                "prison_number": "A2345BC",
                "first_name": "Lee",
                "last_name": "Brightman",
                "date_of_birth": "1988-03-14",
                "prison": "XNA",
                "cell": "A-1-002",
            },
            {
                "prison_number": "A1234BC",
                "first_name": "Sam",
                "last_name": "Brightwater",
                "date_of_birth": "1988-03-14",
                "prison": "XNA",
                "cell": "A-1-001",
            },
        ],
    }
    search = AuditEvent.objects.filter(action="search", object_type="prisoner").latest("sequence")
    assert search.actor_label == "officer.north"
    assert search.details == {"query": "bright", "prison_id": None, "result_count": 2}
    # Someone in another prison is not found, and that search is audited too.
    response = client.get("/api/prisoners", {"q": "B3456CD"})
    assert response.json() == {"count": 0, "items": []}
    search = AuditEvent.objects.filter(action="search", object_type="prisoner").latest("sequence")
    assert search.details == {"query": "b3456cd", "prison_id": None, "result_count": 0}


def test_search_filtered_by_prison(world, staff_client):
    client = staff_client(world["reception"])
    response = client.get("/api/prisoners", {"q": "hollins", "prison": "xso"})
    assert [p["prison_number"] for p in response.json()["items"]] == ["B3456CD"]
    search = AuditEvent.objects.filter(action="search", object_type="prisoner").latest("sequence")
    assert search.details["prison_id"] == world["south"].pk
    assert client.get("/api/prisoners", {"q": "hollins", "prison": "XNA"}).json()["count"] == 0


def test_search_in_a_prison_not_yours_is_404(world, staff_client):
    response = staff_client(world["officer"]).get("/api/prisoners", {"q": "x", "prison": "XSO"})
    assert_error(response, 404, "not_found", fields=["prison"])


def test_search_needs_a_query(world, staff_client):
    client = staff_client(world["officer"])
    assert_error(client.get("/api/prisoners"), 422, "validation_failed", fields=["q"])
    response = client.get("/api/prisoners", {"q": "x" * 101})
    assert_error(response, 422, "validation_failed", fields=["q"])
    response = client.get("/api/prisoners", {"q": "bad\x00text"})
    assert_error(response, 422, "validation_failed", fields=["q"])


def _note(actor, person, text, *, hours_ago, **kwargs):
    return services.add_case_note(
        actor=actor,
        prisoner=person,
        note_type=kwargs.pop("note_type", "GEN"),
        text=text,
        occurred_at=clock.now() - timedelta(hours=hours_ago),
        **kwargs,
    )


def test_case_notes_are_filtered_by_sensitivity(world, staff_client):
    person = world["north_person"]
    _note(world["officer"], person, "Settled on the wing.", hours_ago=3)
    _note(world["security"], person, "Intelligence report.", hours_ago=2, sensitivity="SENSITIVE")
    _note(world["nurse"], person, "Reviewed medication.", hours_ago=1, note_type="HEALTH")

    def texts(user):
        response = staff_client(user).get("/api/prisoners/A1234BC/case-notes")
        assert response.status_code == 200
        return [note["text"] for note in response.json()["items"]]

    assert texts(world["officer"]) == ["Settled on the wing."]
    assert texts(world["security"]) == ["Intelligence report.", "Settled on the wing."]
    assert texts(world["nurse"]) == ["Reviewed medication.", "Settled on the wing."]


def test_case_notes_are_paginated_newest_first(world, staff_client):
    person = world["north_person"]
    for hours in (5, 4, 3, 2, 1):
        _note(world["officer"], person, f"Note from {hours} hours ago", hours_ago=hours)
    client = staff_client(world["officer"])
    first = client.get("/api/prisoners/A1234BC/case-notes", {"page_size": 2}).json()
    assert first["count"] == 5
    assert [n["text"] for n in first["items"]] == [
        "Note from 1 hours ago",
        "Note from 2 hours ago",
    ]
    last = client.get("/api/prisoners/A1234BC/case-notes", {"page_size": 2, "page": 3}).json()
    assert last == {"count": 5, "items": [last["items"][0]]}
    assert last["items"][0]["text"] == "Note from 5 hours ago"
    assert last["items"][0]["author"] == "officer.north"
    assert last["items"][0]["prison"] == "XNA"
    beyond = client.get("/api/prisoners/A1234BC/case-notes", {"page": 4, "page_size": 2}).json()
    assert beyond == {"count": 5, "items": []}
    response = client.get("/api/prisoners/A1234BC/case-notes", {"page": 0})
    assert_error(response, 422, "validation_failed", fields=["page"])


def test_add_case_note(world, staff_client):
    response = post_json(
        staff_client(world["officer"]),
        "/api/prisoners/A1234BC/case-notes",
        {"note_type": "KEY", "text": "  Key work session held.  "},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    note = world["north_person"].case_notes.get()
    assert body["id"] == str(note.public_id)
    assert (body["note_type"], body["sensitivity"], body["text"], body["author"]) == (
        "KEY",
        "NORMAL",
        "Key work session held.",
        "officer.north",
    )
    created = AuditEvent.objects.filter(action="create", object_type="case_note").get()
    assert created.object_id == str(note.public_id)


def test_case_note_in_the_future_is_a_422(world, staff_client):
    future = (clock.now() + timedelta(hours=1)).isoformat()
    response = post_json(
        staff_client(world["officer"]),
        "/api/prisoners/A1234BC/case-notes",
        {"note_type": "GEN", "text": "Not yet.", "occurred_at": future},
    )
    error = assert_error(response, 422, "validation_failed", fields=["occurred_at"])
    assert error["message"] == "The time of a case note cannot be in the future"
    assert not world["north_person"].case_notes.exists()


def test_case_note_time_without_a_timezone_is_a_422(world, staff_client):
    response = post_json(
        staff_client(world["officer"]),
        "/api/prisoners/A1234BC/case-notes",
        {"note_type": "GEN", "text": "When?", "occurred_at": "2024-01-01T10:00:00"},
    )
    assert_error(response, 422, "validation_failed", fields=["occurred_at"])


def test_over_long_case_note_is_a_422(world, staff_client):
    response = post_json(
        staff_client(world["officer"]),
        "/api/prisoners/A1234BC/case-notes",
        {"note_type": "GEN", "text": "x" * 4001},
    )
    error = assert_error(response, 422, "validation_failed", fields=["text"])
    assert error["fields"][0]["message"] == "String should have at most 4000 characters"
    assert not world["north_person"].case_notes.exists()


def test_case_note_with_unknown_type_and_missing_text(world, staff_client):
    response = post_json(
        staff_client(world["officer"]), "/api/prisoners/A1234BC/case-notes", {"note_type": "X"}
    )
    assert_error(response, 422, "validation_failed", fields=["note_type", "text"])


def test_health_note_needs_healthcare(world, staff_client):
    response = post_json(
        staff_client(world["officer"]),
        "/api/prisoners/A1234BC/case-notes",
        {"note_type": "HEALTH", "text": "Not mine to write."},
    )
    error = assert_error(response, 403, "forbidden", fields=[])
    assert error["message"] == "Only healthcare staff can write health notes"


def test_malformed_json_is_a_400(world, staff_client):
    client = staff_client(world["officer"])
    for body in ['{"note_type": "GEN", "text": ', "not json", b"\xff\xfe"]:
        response = client.post(
            "/api/prisoners/A1234BC/case-notes", data=body, content_type="application/json"
        )
        error = assert_error(response, 400, "malformed_json")
        assert error["message"] == "The request body is not valid JSON"


def test_json_that_is_not_an_object_is_a_422(world, staff_client):
    client = staff_client(world["officer"])
    for body in ([1, 2], "text", None, 7):
        response = post_json(client, "/api/prisoners/A1234BC/case-notes", body)
        assert_error(response, 422, "validation_failed", fields=["note_type", "text"])


def test_empty_body_is_a_422(world, staff_client):
    response = staff_client(world["officer"]).post(
        "/api/prisoners/A1234BC/case-notes", content_type="application/json"
    )
    assert_error(response, 422, "validation_failed", fields=["note_type", "text"])


def test_wrong_method_is_a_405_in_the_error_shape(world, staff_client):
    response = staff_client(world["officer"]).delete("/api/prisoners/A1234BC")
    error = assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"
    assert error["message"] == "Use one of these methods: GET"


def test_move_into_a_cell_by_path_and_by_id(world, staff_client):
    client = staff_client(world["manager"])
    safe_cell = world["north_cells"][2]
    response = post_json(
        client, "/api/prisoners/A1234BC/cell-moves", {"cell": "a-1-003", "reason": "Observation"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cell"] == {"id": str(safe_cell.public_id), "path": "A-1-003"}
    assert (body["prison_number"], body["reason"]) == ("A1234BC", "Observation")
    response = post_json(
        client,
        "/api/prisoners/A1234BC/cell-moves",
        {"cell": str(world["north_cells"][0].public_id)},
    )
    assert response.status_code == 201, response.content
    assert response.json()["cell"]["path"] == "A-1-001"
    occupied = dict(Location.objects.filter(prison=world["north"]).values_list("path", "occupied"))
    assert occupied == {"A": 0, "A-1": 0, "A-1-001": 1, "A-1-002": 1, "A-1-003": 0}


def test_move_into_a_full_cell_is_a_409(world, staff_client):
    response = post_json(
        staff_client(world["manager"]), "/api/prisoners/A2345BC/cell-moves", {"cell": "A-1-001"}
    )
    error = assert_error(response, 409, "conflict", fields=["cell"])
    assert error["message"] == "Cell A-1-001 is full"
    current = CellAllocation.objects.get(prisoner=world["north_other"], ended_at__isnull=True)
    assert current.cell.path == "A-1-002"


def test_move_into_a_wing_or_unknown_cell(world, staff_client):
    client = staff_client(world["manager"])
    response = post_json(client, "/api/prisoners/A1234BC/cell-moves", {"cell": "A"})
    assert_error(response, 409, "conflict", fields=["cell"])
    response = post_json(client, "/api/prisoners/A1234BC/cell-moves", {"cell": "B-1-001"})
    assert_error(response, 404, "not_found", fields=["cell"])
    response = post_json(client, "/api/prisoners/A1234BC/cell-moves", {"cell": ""})
    assert_error(response, 422, "validation_failed", fields=["cell"])


def test_wing_officer_cannot_move_people(world, staff_client):
    response = post_json(
        staff_client(world["officer"]), "/api/prisoners/A1234BC/cell-moves", {"cell": "A-1-003"}
    )
    assert_error(response, 403, "forbidden")


def test_add_and_end_an_alert(world, staff_client):
    client = staff_client(world["manager"])
    response = post_json(
        client, "/api/prisoners/A1234BC/alerts", {"code": "hA", "comment": "Found ligature"}
    )
    assert response.status_code == 201, response.content
    alert = response.json()
    assert (alert["code"], alert["alert_type"], alert["comment"], alert["ended_at"]) == (
        "HA",
        "H",
        "Found ligature",
        None,
    )
    url = f"/api/prisoners/A1234BC/alerts/{alert['id']}/end"
    ended = client.post(url)
    assert ended.status_code == 200, ended.content
    assert ended.json()["ended_at"] is not None
    again = client.post(url)  # ending twice is a no-op
    assert again.status_code == 200
    assert again.json()["ended_at"] == ended.json()["ended_at"]
    assert PersonAlert.objects.get(public_id=alert["id"]).ended_by_label == "manager.north"


def test_duplicate_active_alert_is_a_409(world, staff_client):
    client = staff_client(world["manager"])
    assert post_json(client, "/api/prisoners/A1234BC/alerts", {"code": "HA"}).status_code == 201
    response = post_json(client, "/api/prisoners/A1234BC/alerts", {"code": "HA"})
    error = assert_error(response, 409, "conflict", fields=["code"])
    assert error["message"] == "HA is already active for this person"
    assert PersonAlert.objects.filter(prisoner=world["north_person"]).count() == 1


def test_unknown_alert_code_and_over_long_comment(world, staff_client):
    client = staff_client(world["manager"])
    response = post_json(client, "/api/prisoners/A1234BC/alerts", {"code": "NOPE"})
    assert_error(response, 422, "validation_failed", fields=["code"])
    response = post_json(
        client, "/api/prisoners/A1234BC/alerts", {"code": "HA", "comment": "x" * 1001}
    )
    assert_error(response, 422, "validation_failed", fields=["comment"])


def test_ending_an_unknown_alert(world, staff_client):
    client = staff_client(world["manager"])
    other = services.add_alert(actor=world["reception"], prisoner=world["south_person"], code="HA")
    response = client.post(f"/api/prisoners/A1234BC/alerts/{other.public_id}/end")
    assert_error(response, 404, "not_found")
    response = client.post(f"/api/prisoners/B3456CD/alerts/{other.public_id}/end")
    assert_error(response, 404, "not_found")
    assert_error(
        client.post("/api/prisoners/A1234BC/alerts/not-a-uuid/end"),
        422,
        "validation_failed",
        fields=["alert_id"],
    )
    other.refresh_from_db()
    assert other.ended_at is None


def test_transfer(world, staff_client):
    reception = staff_client(world["reception"])
    response = post_json(
        reception, "/api/prisoners/A1234BC/transfers", {"to_prison": "xso", "reason": "Court"}
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "prison_number": "A1234BC",
        "from_prison": "XNA",
        "to_prison": "XSO",
        "custody_status": "IN",
    }
    assert Prisoner.objects.get(prison_number="A1234BC").prison == world["south"]
    # Now out of the north-only manager's scope.
    assert_error(staff_client(world["manager"]).get("/api/prisoners/A1234BC"), 404, "not_found")
    kinds = [m["kind"] for m in reception.get("/api/prisoners/A1234BC").json()["movements"]]
    assert kinds == ["TRN_IN", "TRN_OUT", "ADM"]


def test_transfer_to_an_unknown_or_the_same_prison_is_a_422(world, staff_client):
    client = staff_client(world["manager"])
    response = post_json(client, "/api/prisoners/A1234BC/transfers", {"to_prison": "QQQ"})
    assert_error(response, 422, "validation_failed", fields=["to_prison"])
    response = post_json(client, "/api/prisoners/A1234BC/transfers", {"to_prison": "XNA"})
    assert_error(response, 422, "validation_failed", fields=["to_prison"])
    assert Prisoner.objects.get(prison_number="A1234BC").prison == world["north"]


def test_token_can_write_within_its_scopes(world, token_client):
    client = token_client(["people:read", "people:write"])
    response = post_json(
        client, "/api/prisoners/A1234BC/case-notes", {"note_type": "OBS", "text": "Checked."}
    )
    assert response.status_code == 201, response.content
    assert response.json()["author"].startswith("token test gateway (")
    response = post_json(
        client, "/api/prisoners/A1234BC/case-notes", {"note_type": "HEALTH", "text": "No."}
    )
    assert_error(response, 403, "forbidden")


def test_unauthenticated_profile(world):
    assert_error(Client().get("/api/prisoners/A1234BC"), 401, "unauthenticated")


def test_text_the_database_cannot_store_is_a_422(world, staff_client):
    client = staff_client(world["officer"])
    # (A query string cannot carry a lone surrogate: Django decodes it with replacement.)
    for text in ["nul\x00here", "non\ufffecharacter", "\U0010ffff"]:
        response = client.get("/api/prisoners", {"q": text})
        assert_error(response, 422, "validation_failed", fields=["q"])
    body = '{"note_type": "GEN", "text": "lone \\ud800 surrogate"}'
    response = client.post(
        "/api/prisoners/A1234BC/case-notes", data=body, content_type="application/json"
    )
    error = assert_error(response, 422, "validation_failed", fields=["text"])
    assert error["fields"][0]["message"] == (
        "Input should be a valid string, unable to parse raw data as a unicode string"
    )
    response = post_json(
        client, "/api/prisoners/A1234BC/case-notes", {"note_type": "GEN", "text": "a\x00b"}
    )
    error = assert_error(response, 422, "validation_failed", fields=["text"])
    assert error["fields"][0]["message"] == (
        "Text must not contain NUL, unpaired surrogates or noncharacters"
    )
    assert not world["north_person"].case_notes.exists()


def test_over_large_body_is_a_413(world, staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post_json(
        staff_client(world["officer"]),
        "/api/prisoners/A1234BC/case-notes",
        {"note_type": "GEN", "text": "x" * 20_000},
    )
    assert_error(response, 413, "too_large")
