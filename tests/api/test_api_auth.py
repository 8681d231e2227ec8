"""Who may call the API: staff sessions and API tokens; never anonymous or kiosk sessions."""

from datetime import timedelta

import time_machine
from django.test import Client
from django.utils.dateparse import parse_datetime

from saferprisons.accounts.services import revoke_api_token
from saferprisons.core import clock
from saferprisons.kiosk.middleware import SESSION_LAST_SEEN_KEY, SESSION_PRISONER_KEY

from .helpers import assert_error, post_json


def test_anonymous_gets_401_in_the_error_shape(world):
    response = Client().get("/api/prisons")
    assert_error(response, 401, "unauthenticated", fields=[])
    assert response["WWW-Authenticate"] == 'Bearer realm="saferprisons"'


def test_anonymous_write_gets_401_not_a_csrf_403(world):
    response = post_json(
        Client(enforce_csrf_checks=True), "/api/prisoners/A1234BC/alerts", {"code": "HA"}
    )
    assert_error(response, 401, "unauthenticated")


def _kiosk_session(client: Client, prisoner) -> None:
    session = client.session
    session[SESSION_PRISONER_KEY] = prisoner.pk
    session[SESSION_LAST_SEEN_KEY] = clock.now().timestamp()
    session.save()


def test_kiosk_session_never_authenticates(world):
    client = Client()
    _kiosk_session(client, world["north_person"])
    # The kiosk session is live (its own page works) ...
    assert client.get("/kiosk/").status_code == 200
    # ... but it is not an API principal.
    assert_error(client.get("/api/me"), 401, "unauthenticated")
    assert_error(client.get("/api/prisoners/A1234BC"), 401, "unauthenticated")


def test_kiosk_session_is_refused_even_alongside_a_staff_login(world, staff_client):
    client = staff_client(world["officer"])
    assert client.get("/api/me").status_code == 200
    _kiosk_session(client, world["north_person"])
    assert_error(client.get("/api/me"), 401, "unauthenticated")


def test_staff_session_identity(world, staff_client):
    response = staff_client(world["officer"]).get("/api/me")
    assert response.status_code == 200
    assert response.json() == {
        "kind": "staff",
        "name": "officer.north",
        "permissions": [
            "acct.raise_concern",
            "acct.record_entry",
            "acct.view_case",
            "estate.view",
            "jobs.view_status",
            "monitoring.respond",
            "monitoring.view_alerts",
            "people.add_case_note",
            "people.search",
            "people.view_prisoner",
        ],
        "prisons": ["XNA"],
        "scopes": None,
        "expires_at": None,
    }


def test_token_identity(world, make_token):
    token, secret = make_token(["people:read", "estate:read"], [world["north"], world["south"]])
    response = Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/me")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "kind": "token",
        "name": "test gateway",
        "permissions": ["estate.view", "people.search", "people.view_prisoner"],
        "prisons": ["XNA", "XSO"],
        "scopes": ["estate:read", "people:read"],
        "expires_at": body["expires_at"],
    }
    # JSON times carry milliseconds.
    expected = token.expires_at.replace(microsecond=token.expires_at.microsecond // 1000 * 1000)
    assert parse_datetime(body["expires_at"]) == expected
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_malformed_and_unknown_tokens_get_401(world, make_token):
    _, secret = make_token(["people:read"])
    wrong_secret = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    for header in ["Bearer nonsense", "Bearer sp__x", f"Bearer {wrong_secret}", "Token abc", ""]:
        response = Client(headers={"Authorization": header}).get("/api/me")
        assert_error(response, 401, "unauthenticated")


def test_expired_token_gets_401(world, make_token):
    _, secret = make_token(["people:read"], valid_days=1)
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/prisoners/A1234BC").status_code == 200
    with time_machine.travel(clock.now() + timedelta(days=1, seconds=1)):
        assert_error(client.get("/api/prisoners/A1234BC"), 401, "unauthenticated")


def test_revoked_token_gets_401(world, make_token):
    token, secret = make_token(["people:read"])
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/prisoners/A1234BC").status_code == 200
    revoke_api_token(actor=world["admin"], token_public_id=token.public_id)
    assert_error(client.get("/api/prisoners/A1234BC"), 401, "unauthenticated")


def test_token_without_the_scope_gets_403(world, token_client):
    client = token_client(["estate:read"])
    assert client.get("/api/prisons").status_code == 200
    error = assert_error(client.get("/api/prisoners?q=brightwater"), 403, "forbidden")
    assert error["message"] == "You need the people.search permission to do this"
    response = post_json(client, "/api/prisoners/A1234BC/alerts", {"code": "HA"})
    assert_error(response, 403, "forbidden")


def test_read_only_token_cannot_write(world, token_client):
    client = token_client(["people:read"])
    response = post_json(
        client, "/api/prisoners/A1234BC/case-notes", {"note_type": "GEN", "text": "Seen."}
    )
    error = assert_error(response, 403, "forbidden")
    assert error["message"] == "You need the people.add_case_note permission to do this"


def test_token_is_limited_to_its_own_prisons(world, token_client):
    client = token_client(["people:read"], [world["south"]])
    assert client.get("/api/prisoners/B3456CD").status_code == 200
    assert_error(client.get("/api/prisoners/A1234BC"), 404, "not_found")


def test_token_never_sees_health_needs(world, token_client):
    response = token_client(["people:read"]).get("/api/prisoners/A1234BC")
    assert response.status_code == 200
    assert response.json()["health_needs"] is None


def test_session_writes_need_the_csrf_token(world, staff_client):
    client = staff_client(world["manager"], enforce_csrf_checks=True)
    body = {"code": "HA", "comment": "Raised after a review"}
    response = post_json(client, "/api/prisoners/A1234BC/alerts", body)
    assert_error(response, 403, "csrf_failed")
    # With the CSRF cookie and header, as the pages' JavaScript would send them:
    client.get("/sign-in/")
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/prisoners/A1234BC/alerts",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201, response.content


def test_token_writes_need_no_csrf_token(world, make_token):
    _, secret = make_token(["people:read", "people:write"])
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})
    response = post_json(client, "/api/prisoners/A1234BC/alerts", {"code": "HA"})
    assert response.status_code == 201, response.content


def test_tokens_with_unstorable_characters_are_refused_before_the_database(world):
    for header in ["Bearer sp_\x00abc_def", "Bearer sp_abc_" + "x" * 500, "Bearer sp_ab%_cd"]:
        response = Client(HTTP_AUTHORIZATION=header).get("/api/me")
        assert_error(response, 401, "unauthenticated")
