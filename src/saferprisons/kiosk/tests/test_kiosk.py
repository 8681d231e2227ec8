from datetime import timedelta

import pytest
import time_machine

from saferprisons.accounts.models import KioskCredential
from saferprisons.accounts.services import set_kiosk_pin
from saferprisons.audit.models import AuditEvent


@pytest.fixture
def pins(estate):
    set_kiosk_pin(actor=estate["manager"], prisoner=estate["north_person"], pin="2468")
    set_kiosk_pin(actor=estate["south_manager"], prisoner=estate["south_person"], pin="1357")
    return estate


def kiosk_sign_in(client, number="A1234BC", pin="2468"):
    return client.post("/kiosk/sign-in/", {"prison_number": number, "pin": pin})


def test_prisoner_signs_in_and_sees_only_own_data(pins, client):
    response = kiosk_sign_in(client)
    assert response.status_code == 302
    home = client.get("/kiosk/").content.decode()
    assert "Hello, Sam" in home and "A-1-001" in home
    assert "Hollins" not in home and "B2345CD" not in home
    # A kiosk session is not a staff session: staff pages and the API refuse it.
    assert client.get("/people/B2345CD/").status_code == 302
    assert client.get("/people/A1234BC/").status_code == 302
    assert client.get("/audit/").status_code == 302
    api = client.get("/api/prisoners/B2345CD")
    assert api.status_code in (401, 404)


def test_wrong_pin_locks_after_three_attempts(pins, client, settings):
    for _ in range(settings.KIOSK_PIN_MAX_FAILURES):
        response = kiosk_sign_in(client, pin="0000")
        assert response.status_code == 400
        assert "Enter a correct prison number and PIN" in response.content.decode()
    assert KioskCredential.objects.get(prisoner=pins["north_person"]).is_locked()
    # Even the right PIN is refused while locked, with the same message.
    response = kiosk_sign_in(client)
    assert response.status_code == 400
    assert (
        AuditEvent.objects.filter(action="sign_in_failed", object_type="kiosk_session").count() == 4
    )


def test_unknown_prison_number_is_refused_plainly(pins, client):
    response = kiosk_sign_in(client, number="Z9999ZZ", pin="1234")
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_idle_timeout_signs_out(pins, client, settings):
    with time_machine.travel("2026-11-28 09:00:00+00:00", tick=False) as traveller:
        kiosk_sign_in(client)
        assert client.get("/kiosk/").status_code == 200
        traveller.shift(timedelta(seconds=settings.KIOSK_IDLE_TIMEOUT_SECONDS - 1))
        assert client.get("/kiosk/").status_code == 200  # activity resets the timer
        traveller.shift(timedelta(seconds=settings.KIOSK_IDLE_TIMEOUT_SECONDS + 1))
        response = client.get("/kiosk/")
        assert response.status_code == 302
        assert response["Location"] == "/kiosk/sign-in/"


def test_released_person_cannot_use_kiosk(pins, client):
    from saferprisons.people.services import release_prisoner

    release_prisoner(actor=pins["manager"], prisoner=pins["north_person"])
    assert kiosk_sign_in(client).status_code == 400


def test_welsh(pins, client):
    client.get("/kiosk/language/cy/")
    page = client.get("/kiosk/sign-in/").content.decode()
    assert 'lang="cy"' in page
    assert "Mewngofnodi i&#39;r ciosg" in page or "Mewngofnodi i'r ciosg" in page
    kiosk_sign_in(client)
    assert "Allgofnodi" in client.get("/kiosk/").content.decode()


def test_sign_out_returns_the_terminal_to_english(pins, client):
    client.get("/kiosk/language/cy/")
    kiosk_sign_in(client)
    assert "Allgofnodi" in client.get("/kiosk/").content.decode()
    client.post("/kiosk/sign-out/")
    page = client.get("/kiosk/sign-in/").content.decode()
    assert 'lang="en"' in page and "Sign in to the kiosk" in page


def test_idle_timeout_returns_the_terminal_to_english(pins, client, settings):
    with time_machine.travel("2026-11-28 09:00:00+00:00", tick=False) as traveller:
        client.get("/kiosk/language/cy/")
        kiosk_sign_in(client)
        traveller.shift(timedelta(seconds=settings.KIOSK_IDLE_TIMEOUT_SECONDS + 1))
        assert client.get("/kiosk/").status_code == 302
        assert 'lang="en"' in client.get("/kiosk/sign-in/").content.decode()


def test_asset_requests_neither_extend_nor_write_the_kiosk_session(pins, client, settings):
    with time_machine.travel("2026-11-28 09:00:00+00:00", tick=False) as traveller:
        kiosk_sign_in(client)
        traveller.shift(timedelta(seconds=settings.KIOSK_IDLE_TIMEOUT_SECONDS - 1))
        asset = client.get("/assets/images/favicon.ico")
        assert asset.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in asset.cookies
        traveller.shift(timedelta(seconds=2))
        # The font or image fetch was not activity: the session has still timed out.
        assert client.get("/kiosk/").status_code == 302
