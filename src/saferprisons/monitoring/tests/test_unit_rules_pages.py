"""A wing's or landing's own setting of a rule, as a manager sets, changes and removes it on the
rules pages; a prison's own setting removed; a device's firmware change recorded by a system
administrator. Exact values, what ingest then uses, refusals that change nothing, audit rows."""

import html
import re
from datetime import timedelta

import pytest

from saferprisons.accounts.services import set_kiosk_pin
from saferprisons.audit.models import AuditEvent
from saferprisons.estate.models import Location
from saferprisons.monitoring.constants import Priority, RuleKind
from saferprisons.monitoring.models import Device, RuleConfig
from saferprisons.monitoring.roster import load_roster

from .conftest import NIGHT

RULES = "/monitoring/rules/"
CHOOSE = "/monitoring/rules/units/new/"
NO_ACTIVITY = RuleKind.NO_ACTIVITY


def unit_url(kind: str, unit: str) -> str:
    return f"/monitoring/rules/{kind}/units/{unit}/"


def text_of(response) -> str:
    page = response.content.decode()
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def rule_form(**changes) -> dict:
    form = {
        "enabled": "yes",
        "priority": Priority.MEDIUM,
        "day_threshold": "10",
        "night_threshold": "5",
        "limit_high": "0.05",
    }
    return {**form, **changes}


def rule_audits(action: str | None = None):
    events = AuditEvent.objects.filter(object_type="monitoring_ruleconfig")
    return events.filter(action=action) if action else events


def no_activity_in(roster, device: Device):
    row = roster.row_by_external_id[device.external_id]
    return roster.setting_groups[int(roster.group_of_device[row])][NO_ACTIVITY]


@pytest.fixture
def manager(monitored, client):
    client.force_login(monitored.manager)
    return client


@pytest.fixture
def landing(monitored):
    return Location.objects.get(prison=monitored.north, path="A-1")


@pytest.fixture
def wing(monitored):
    return Location.objects.get(prison=monitored.north, path="A")


def test_a_manager_gives_a_landing_its_own_setting_and_ingest_uses_it_there_only(
    monitored, manager, landing
):
    listing = text_of(manager.get(RULES))
    assert "No wing or landing has a setting of its own" in listing

    chosen = manager.post(CHOOSE, {"unit": "A-1", "kind": NO_ACTIVITY})
    assert chosen.status_code == 302
    assert chosen["Location"] == unit_url(NO_ACTIVITY, "A-1")

    page = manager.get(unit_url(NO_ACTIVITY, "A-1"))
    assert page.status_code == 200
    shown = text_of(page)
    assert "No activity in an occupied cell: landing A-1" in shown
    assert (
        "Now landing A-1 follows the built-in default: high (immediate response) priority, "
        "by day 30 min, by night 20 min." in shown
    )
    # The form starts from what is in force there (30 and 20 minutes).
    assert 'name="day_threshold" type="text" value="30"' in page.content.decode()

    saved = manager.post(unit_url(NO_ACTIVITY, "A-1"), rule_form())
    assert saved.status_code == 302 and saved["Location"] == RULES
    config = RuleConfig.objects.get()
    assert (config.location, config.kind, config.priority) == (landing, NO_ACTIVITY, "MEDIUM")
    assert (config.day_threshold_seconds, config.night_threshold_seconds) == (600, 300)
    assert (config.limit_high, config.enabled, config.updated_by) == (0.05, True, monitored.manager)
    event = rule_audits("create").get()
    assert (event.prison_code, event.details) == ("ZNA", {"location": "A-1"})
    assert event.after["night_threshold_seconds"] == 300

    listing = text_of(manager.get(RULES))
    assert "saved for landing A-1" in listing
    assert "Landing A-1 No activity in an occupied cell Medium (prompt response) 10 min 5 min" in (
        listing
    )
    assert "Built-in default Own setting in A-1" in listing

    # Ingest: a cell on landing A-1 uses the landing's setting; a cell on another wing the
    # prison's (here the built-in default).
    gateway = monitored.gateway
    safe = Device.objects.create(
        external_id="ZNA-S1-001-V",
        gateway=gateway,
        cell=monitored.safe_cells[0],
        kind="VISION",
        vendor="Fictional Sensors Ltd",
        serial="FS-09999",
        installed_at=NIGHT - timedelta(days=1),
    )
    roster = load_roster(NIGHT)
    on_landing = no_activity_in(roster, monitored.devices[0])
    assert (on_landing.priority, on_landing.night_threshold_seconds) == ("MEDIUM", 300)
    elsewhere = no_activity_in(roster, safe)
    assert (elsewhere.priority, elsewhere.night_threshold_seconds) == ("HIGH", 1200)


def test_changing_a_landings_setting_replaces_it_and_audits_before_and_after(
    monitored, manager, landing
):
    assert manager.post(unit_url(NO_ACTIVITY, "A-1"), rule_form()).status_code == 302
    page = manager.get(unit_url(NO_ACTIVITY, "A-1"))
    # It now has its own: the form shows it, and says what it would follow without it.
    assert 'name="day_threshold" type="text" value="10"' in page.content.decode()
    assert "Without its own setting landing A-1 follows the built-in default" in text_of(page)

    changed = manager.post(
        unit_url(NO_ACTIVITY, "A-1"),
        rule_form(priority=Priority.LOW, day_threshold="", night_threshold="3"),
    )
    assert changed.status_code == 302
    config = RuleConfig.objects.get()
    assert (config.priority, config.day_threshold_seconds, config.night_threshold_seconds) == (
        "LOW",
        None,
        180,
    )
    update = rule_audits("update").get()
    assert update.before["day_threshold_seconds"] == 600
    assert (update.after["day_threshold_seconds"], update.after["priority"]) == (None, "LOW")


def test_a_landing_follows_its_wings_setting_until_it_has_its_own(monitored, manager, wing):
    manager.post(f"/monitoring/rules/{NO_ACTIVITY}/", rule_form(day_threshold="40"))
    assert manager.post(unit_url(NO_ACTIVITY, "A"), rule_form(night_threshold="7")).status_code == (
        302
    )
    assert (
        "Without its own setting wing A follows HMP Northfold's own setting: medium (prompt "
        "response) priority, by day 40 min, by night 5 min."
        in text_of(manager.get(unit_url(NO_ACTIVITY, "A")))
    )
    landing_page = text_of(manager.get(unit_url(NO_ACTIVITY, "A-1")))
    assert "Now landing A-1 follows wing A: medium (prompt response) priority" in landing_page
    assert "by night 7 min" in landing_page
    # The prison's page says the wing keeps its own.
    assert "Wing A has a setting of their own for this rule" in text_of(
        manager.get(f"/monitoring/rules/{NO_ACTIVITY}/")
    )
    roster = load_roster(NIGHT)
    assert no_activity_in(roster, monitored.devices[0]).night_threshold_seconds == 420


def test_removing_a_units_setting_brings_back_the_one_above_it(monitored, manager, landing):
    manager.post(unit_url(NO_ACTIVITY, "A-1"), rule_form())
    page = manager.get(unit_url(NO_ACTIVITY, "A-1"))
    remove = f"/monitoring/rules/{NO_ACTIVITY}/units/A-1/remove/"
    assert f'action="{remove}"' in page.content.decode()

    removed = manager.post(remove)
    assert removed.status_code == 302 and removed["Location"] == RULES
    assert not RuleConfig.objects.exists()
    event = rule_audits("delete").get()
    assert (event.before["priority"], event.before["day_threshold_seconds"]) == ("MEDIUM", 600)
    assert event.details == {"location": "A-1"}
    assert "Landing A-1's own setting removed: it follows the setting above it" in text_of(
        manager.get(RULES)
    )
    assert no_activity_in(load_roster(NIGHT), monitored.devices[0]).night_threshold_seconds == 1200
    # Again: nothing there to remove.
    assert manager.post(remove).status_code == 404
    assert rule_audits("delete").count() == 1


def test_a_prisons_own_setting_goes_back_to_the_built_in_default(monitored, manager):
    edit = f"/monitoring/rules/{NO_ACTIVITY}/"
    assert "Go back to the built-in default" not in text_of(manager.get(edit))
    manager.post(edit, rule_form(day_threshold="45"))
    assert "Go back to the built-in default" in text_of(manager.get(edit))
    assert manager.post(f"{edit}remove/").status_code == 302
    assert not RuleConfig.objects.exists()
    assert rule_audits("delete").get().details == {"location": ""}
    assert (
        "No activity in an occupied cell High (immediate response) 30 min 20 min Built-in default"
        in text_of(manager.get(RULES))
    )


@pytest.mark.parametrize(
    ("choice", "message", "anchor"),
    [
        ({"unit": "B", "kind": NO_ACTIVITY}, "Choose one of the wings or landings", "unit"),
        ({"unit": "A-1-001", "kind": NO_ACTIVITY}, "Choose one of the wings or landings", "unit"),
        ({"unit": "A-1", "kind": "NOT_A_RULE"}, "Choose one of the rules", "kind"),
        ({"kind": NO_ACTIVITY}, "Choose a wing or landing", "unit"),
    ],
)
def test_choosing_something_that_is_not_a_unit_or_rule_here_is_refused(
    monitored, manager, choice, message, anchor
):
    response = manager.post(CHOOSE, choice)
    assert response.status_code == 400
    assert message in text_of(response)
    assert f'href="#{anchor}"' in response.content.decode()


def test_bad_unit_settings_change_nothing(monitored, manager, landing):
    response = manager.post(unit_url(NO_ACTIVITY, "A-1"), rule_form(night_threshold="-5"))
    assert response.status_code == 400
    assert "The night threshold must be 0 minutes or more" in text_of(response)
    response = manager.post(unit_url(RuleKind.PULSE_OUT_OF_RANGE, "A-1"), {
        "enabled": "yes", "priority": "LOW", "day_threshold": "0", "night_threshold": "0",
        "limit_low": "90", "limit_high": "60",
    })  # fmt: skip
    assert response.status_code == 400
    assert "The lower limit must be below the upper limit" in text_of(response)
    # A cell, another prison's wing and an unknown rule are not units or rules here.
    assert manager.get(unit_url(NO_ACTIVITY, "A-1-001")).status_code == 404
    assert manager.post(unit_url(NO_ACTIVITY, "B"), rule_form()).status_code == 404
    assert manager.post(unit_url("NOT_A_RULE", "A-1"), rule_form()).status_code == 404
    assert not RuleConfig.objects.exists()
    assert not rule_audits().exists()


def test_a_closed_landing_gets_no_new_setting_but_its_own_can_be_removed(
    monitored, manager, landing
):
    manager.post(unit_url(NO_ACTIVITY, "A-1"), rule_form())
    Location.objects.filter(pk=landing.pk).update(deactivated_at=NIGHT)
    assert manager.get(unit_url(RuleKind.TAMPERED, "A-1")).status_code == 404
    refused = manager.post(unit_url(NO_ACTIVITY, "A-1"), rule_form(day_threshold="99"))
    assert refused.status_code == 400 and "Landing A-1 is closed" in text_of(refused)
    assert 'href="#main-content"' in refused.content.decode()
    assert RuleConfig.objects.get().day_threshold_seconds == 600
    assert manager.post(f"/monitoring/rules/{NO_ACTIVITY}/units/A-1/remove/").status_code == 302
    assert not RuleConfig.objects.exists()


def test_only_managers_of_the_prison_set_or_remove_unit_settings(monitored, client, landing):
    client.force_login(monitored.manager)
    client.post(unit_url(NO_ACTIVITY, "A-1"), rule_form())
    remove = f"/monitoring/rules/{NO_ACTIVITY}/units/A-1/remove/"
    for user in (monitored.officer, monitored.nurse):
        client.force_login(user)
        assert client.get(CHOOSE).status_code == 403
        assert client.get(unit_url(NO_ACTIVITY, "A-1")).status_code == 403
        assert client.post(unit_url(NO_ACTIVITY, "A-1"), rule_form(priority="LOW")).status_code == (
            403
        )
        assert client.post(remove).status_code == 403
    # Another prison's manager: their prison has no landing A-1, and they cannot reach north's.
    client.force_login(monitored.south_manager)
    assert client.post(unit_url(NO_ACTIVITY, "A-1"), rule_form(priority="LOW")).status_code == 404
    assert client.post(remove).status_code == 404
    # A prisoner at the kiosk is sent to sign in.
    client.logout()
    set_kiosk_pin(actor=monitored.manager, prisoner=monitored.north_person, pin="2468")
    client.post("/kiosk/sign-in/", {"prison_number": "A1234BC", "pin": "2468"})
    assert client.post(remove).status_code == 302
    config = RuleConfig.objects.get()
    assert (config.priority, config.location) == ("MEDIUM", landing)
    assert rule_audits().count() == 1


# --- Firmware -----------------------------------------------------------------------------------


@pytest.fixture
def admin(monitored, client):
    client.force_login(monitored.admin)
    assert client.post("/choose-prison/", {"prison": "ZNA"}).status_code == 302
    return client


def firmware_url(device: Device) -> str:
    return f"/monitoring/devices/{device.public_id}/firmware/"


def test_an_administrator_records_a_firmware_change(monitored, admin):
    device = monitored.devices[0]
    assert firmware_url(device) in admin.get("/monitoring/devices/").content.decode()
    page = text_of(admin.get(firmware_url(device)))
    assert "Firmware now Not recorded" in page
    response = admin.post(firmware_url(device), {"firmware": " 2.4.1 "})
    assert response.status_code == 302 and response["Location"] == "/monitoring/devices/"
    device.refresh_from_db()
    assert (device.firmware, device.updated_at) == ("2.4.1", NIGHT)
    event = AuditEvent.objects.get(object_type="monitoring_device", action="update")
    assert (event.object_id, event.before, event.after) == (
        str(device.public_id),
        {"firmware": ""},
        {"firmware": "2.4.1"},
    )
    listing = text_of(admin.get("/monitoring/devices/"))
    assert "Device ZNA-A1-001-V: firmware 2.4.1 recorded" in listing
    assert "Fictional Sensors Ltd FS-00001, firmware 2.4.1" in listing
    # The same version again changes nothing and writes nothing.
    assert admin.post(firmware_url(device), {"firmware": "2.4.1"}).status_code == 302
    assert AuditEvent.objects.filter(object_type="monitoring_device", action="update").count() == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "Enter the firmware version"), ("9" * 51, "must be 50 characters or fewer")],
)
def test_a_bad_firmware_version_changes_nothing(monitored, admin, typed, message):
    device = monitored.devices[0]
    response = admin.post(firmware_url(device), {"firmware": typed})
    assert response.status_code == 400
    assert message in text_of(response)
    device.refresh_from_db()
    assert device.firmware == ""
    assert not AuditEvent.objects.filter(object_type="monitoring_device", action="update").exists()


def test_firmware_is_for_administrators_of_the_devices_prison_and_installed_devices(
    monitored, client
):
    device = monitored.devices[0]
    client.force_login(monitored.manager)
    assert client.post(firmware_url(device), {"firmware": "9.9"}).status_code == 403
    other_admin = monitored.admin.__class__.objects.create_user(
        username="admin.south", password="correct-horse-battery", band="4"
    )
    other_admin.roles.set(monitored.admin.roles.all())
    other_admin.prisons.set([monitored.south])
    client.force_login(other_admin)
    assert client.post(firmware_url(device), {"firmware": "9.9"}).status_code == 404
    client.force_login(monitored.admin)
    removed = monitored.devices[1]
    client.post(f"/monitoring/devices/{removed.public_id}/remove/")
    assert client.get(firmware_url(removed)).status_code == 404
    assert client.post(firmware_url(removed), {"firmware": "9.9"}).status_code == 404
    assert set(Device.objects.values_list("firmware", flat=True)) == {""}
