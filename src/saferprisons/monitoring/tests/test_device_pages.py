"""Gateways and devices as a system administrator manages them: the token's secret shown once
and working at the ingest endpoint, a new token revoking the old, devices registered in cells
and removed, and bad input refused with nothing changed."""

import re
from datetime import timedelta

import orjson
import pytest

from saferprisons.accounts.models import ApiToken
from saferprisons.audit.models import AuditEvent
from saferprisons.monitoring.constants import DeviceKind
from saferprisons.monitoring.models import Device, Gateway

from .conftest import NIGHT, NIGHT_MS, batch, reading

DEVICES = "/monitoring/devices/"


def text_of(response) -> str:
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def secret_in(response) -> str:
    found = re.search(r'data-testid="gateway-secret">([^<]+)<', response.content.decode())
    assert found, "no token shown"
    return found.group(1)


@pytest.fixture
def admin_client(estate, traveller, client):
    client.force_login(estate["admin"])
    return client


def choose_north(client, estate):
    response = client.post("/choose-prison/", {"prison": estate["north"].code})
    assert response.status_code == 302


def post_readings(client, secret: str, *readings) -> tuple[int, dict]:
    response = client.post(
        "/api/monitoring/readings",
        data=batch(*readings),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    return response.status_code, orjson.loads(response.content)


def device_form(chosen: Gateway, **changes) -> dict:
    return {
        "gateway": str(chosen.public_id),
        "cell": "A-1-001",
        "external_id": "ZNA-A1-001-V",
        "kind": DeviceKind.VISION,
        "vendor": "Fictional Sensors Ltd",
        "serial": "FS-00001",
        "firmware": "2.4.1",
        **changes,
    }


def test_a_gateway_is_registered_and_its_token_shown_once(estate, admin_client, client):
    choose_north(admin_client, estate)
    response = admin_client.post("/monitoring/gateways/new/", {"code": "A-WING", "name": "A wing"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = secret_in(response)
    assert "saferprisons/ZNA/A-WING/readings" in text_of(response)
    gateway = Gateway.objects.get(prison=estate["north"], code="A-WING")
    assert gateway.api_token.scopes == ["sensors:write"]
    assert secret not in str(ApiToken.objects.values_list("key_hash", flat=True)[0])
    # The list shows the token's prefix, never its secret.
    listing = admin_client.get(DEVICES)
    assert gateway.api_token.key_prefix in text_of(listing)
    assert secret not in listing.content.decode()

    # The token works at the ingest endpoint (no devices yet: an unknown device is dead-lettered).
    client.logout()
    status, answer = post_readings(client, secret, reading("ZNA-A1-001-V", NIGHT_MS))
    assert status == 202 and answer["dead_lettered"] == 1

    # A new token revokes the old one.
    admin_client.force_login(estate["admin"])
    choose_north(admin_client, estate)
    renewed = admin_client.post(f"/monitoring/gateways/{gateway.public_id}/token/")
    new_secret = secret_in(renewed)
    assert new_secret != secret
    admin_client.logout()
    assert post_readings(client, secret, reading("ZNA-A1-001-V", NIGHT_MS + 1000))[0] == 401
    assert post_readings(client, new_secret, reading("ZNA-A1-001-V", NIGHT_MS + 2000))[0] == 202


def test_a_device_is_registered_in_a_cell_and_removed(estate, admin_client, traveller):
    choose_north(admin_client, estate)
    admin_client.post("/monitoring/gateways/new/", {"code": "A-WING", "name": "A wing"})
    gateway = Gateway.objects.get()
    response = admin_client.post("/monitoring/devices/new/", device_form(gateway))
    assert response.status_code == 302
    device = Device.objects.get()
    assert (device.cell, device.gateway, device.installed_at) == (
        estate["north_cells"][0],
        gateway,
        NIGHT,
    )
    listing = text_of(admin_client.get(DEVICES))
    assert "Device ZNA-A1-001-V registered" in listing
    assert (
        "A-1-001 ZNA-A1-001-V Contactless vision sensor, Fictional Sensors Ltd FS-00001" in listing
    )
    # Removed the moment it was installed: refused (a device is removed after it was installed).
    assert admin_client.post(f"/monitoring/devices/{device.public_id}/remove/").status_code == 302
    assert "not removed: A device is removed after it was installed" in text_of(
        admin_client.get(DEVICES)
    )
    traveller.shift(60)
    assert admin_client.post(f"/monitoring/devices/{device.public_id}/remove/").status_code == 302
    assert Device.objects.get().removed_at == NIGHT + timedelta(seconds=60)
    assert AuditEvent.objects.filter(object_type="monitoring_device").count() == 2


@pytest.mark.parametrize(
    ("changes", "message", "anchor"),
    [
        ({"cell": "Z-9-999"}, "No cell Z-9-999 in HMP Northfold", "cell"),
        (
            {"external_id": "has spaces"},
            "A device id is 1 to 64 letters, digits and . _ : -",
            "external_id",
        ),
        ({"kind": "CAMERA"}, "Select a valid choice", "kind"),
        (
            {"gateway": "00000000-0000-0000-0000-000000000000"},
            "Choose one of the gateways",
            "gateway",
        ),
        ({"vendor": ""}, "Enter the vendor", "vendor"),
        ({"serial": "x" * 101}, "The serial number must be 100 characters or fewer", "serial"),
    ],
)
def test_bad_devices_are_refused_and_change_nothing(estate, admin_client, changes, message, anchor):
    choose_north(admin_client, estate)
    admin_client.post("/monitoring/gateways/new/", {"code": "A-WING", "name": "A wing"})
    response = admin_client.post(
        "/monitoring/devices/new/", device_form(Gateway.objects.get(), **changes)
    )
    assert response.status_code == 400
    assert message in text_of(response)
    assert f'href="#{anchor}"' in response.content.decode()
    assert not Device.objects.exists()


def test_a_bad_gateway_code_is_refused(estate, admin_client):
    choose_north(admin_client, estate)
    response = admin_client.post("/monitoring/gateways/new/", {"code": "A WING!", "name": "A wing"})
    assert response.status_code == 400
    assert "A gateway code is 1 to 32 letters, digits and hyphens" in text_of(response)
    assert not Gateway.objects.exists() and not ApiToken.objects.exists()


def test_only_system_administrators_of_the_prison_manage_devices(estate, traveller, client):
    client.force_login(estate["manager"])
    assert client.get(DEVICES).status_code == 403
    assert client.post("/monitoring/gateways/new/", {"code": "A", "name": "A"}).status_code == 403
    assert not Gateway.objects.exists()
