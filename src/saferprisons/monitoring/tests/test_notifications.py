"""Notifications: in-app always; e-mail and SMS (GOV.UK Notify) through the channel registry,
durable and retried. Notify is never called here: fakes stand in through the registry, and the
Notify channels are given a fake client."""

from datetime import timedelta

import pytest
from notifications_python_client.errors import HTTPError

from saferprisons.jobs.constants import JobStatus, RunOutcome
from saferprisons.jobs.models import Job
from saferprisons.monitoring import notifications, services
from saferprisons.monitoring.constants import (
    JOB_DELIVER_NOTIFICATION,
    DeliveryStatus,
    Priority,
)
from saferprisons.monitoring.escalation import StepSpec
from saferprisons.monitoring.models import NotificationDelivery
from saferprisons.monitoring.notifications import (
    Message,
    NotifyEmailChannel,
    NotifySmsChannel,
    PermanentDeliveryError,
)

from .alerting import open_alert, run_due_jobs
from .conftest import NIGHT

ALL = (Priority.HIGH, Priority.MEDIUM, Priority.LOW)


class FakeChannel:
    """Records what it would send; fails when told to."""

    def __init__(self, name="email", field="email_address"):
        self.name = name
        self.field = field
        self.sent: list[tuple[str, Message, str]] = []
        self.failures: list[Exception] = []
        self.configured = True

    def enabled(self) -> bool:
        return self.configured

    def recipient(self, step) -> str:
        return getattr(step, self.field)

    def send(self, recipient, message, reference) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((recipient, message, reference))
        return f"fake-{len(self.sent)}"


@pytest.fixture
def channels(monkeypatch):
    """Fake e-mail and SMS channels in the registry (replacing the Notify ones)."""
    email, sms = FakeChannel("email", "email_address"), FakeChannel("sms", "phone_number")
    monkeypatch.setitem(notifications.CHANNELS, "email", email)
    monkeypatch.setitem(notifications.CHANNELS, "sms", sms)
    return email, sms


def chain_with_addresses(world):
    services.configure_escalation_chain(
        actor=world.manager,
        prison=world.north,
        steps=[
            StepSpec(0, ("WING_OFFICER",), ALL),
            StepSpec(
                60,
                ("CUSTODIAL_MANAGER",),
                ALL,
                email_address="orderly.officer@example.gov.uk",
                phone_number="07700 900982",
            ),
        ],
    )


def test_a_step_with_addresses_is_sent_by_each_channel_once(monitored, channels):
    email, sms = channels
    chain_with_addresses(monitored)
    alert = open_alert(monitored)
    run_due_jobs()
    assert NotificationDelivery.objects.count() == 0  # step 1 has no addresses
    monitored.traveller.shift(timedelta(seconds=60))
    outcomes = run_due_jobs(kind=JOB_DELIVER_NOTIFICATION)
    assert outcomes == [(JOB_DELIVER_NOTIFICATION, RunOutcome.SUCCEEDED)] * 2
    deliveries = {d.channel: d for d in NotificationDelivery.objects.all()}
    assert deliveries["email"].recipient == "orderly.officer@example.gov.uk"
    assert deliveries["sms"].recipient == "07700 900982"
    for delivery, reference in ((deliveries["email"], "fake-1"), (deliveries["sms"], "fake-1")):
        assert (delivery.status, delivery.sent_at, delivery.provider_reference) == (
            DeliveryStatus.SENT,
            NIGHT + timedelta(seconds=60),
            reference,
        )
    (recipient, message, reference) = email.sent[0]
    assert reference == str(deliveries["email"].public_id)
    assert message.personalisation() == {
        "prison": "HMP Northfold",
        "cell": "A-1-001",
        "alert": "No activity in an occupied cell",
        "priority": "High (immediate response)",
        "opened_at": "02:00:00 on 28 Nov 2026",
        "step": "2",
        "link": "",
        "subject": "Monitoring alert not yet acknowledged: HMP Northfold, cell A-1-001",
        "text": (
            "No activity in an occupied cell (High (immediate response)) in cell A-1-001 at "
            "HMP Northfold, open since 02:00:00 on 28 Nov 2026, has not been acknowledged.\n"
            "Open the monitoring console to see who it is and to respond."
        ),
    }
    # Never the person's name or prison number.
    assert "Brightwater" not in message.text and "A1234BC" not in message.text
    # Running a delivery again sends nothing more.
    assert notifications.deliver(deliveries["email"].pk) is False
    assert len(email.sent) == len(sms.sent) == 1
    assert alert.escalations.get(number=2).deliveries.count() == 2


def test_the_link_uses_the_site_address_when_set(monitored, channels, settings):
    settings.MONITORING_SITE_URL = "https://saferprisons.example.gov.uk/"
    chain_with_addresses(monitored)
    open_alert(monitored)
    monitored.traveller.shift(timedelta(seconds=60))
    run_due_jobs()
    message = channels[0].sent[0][1]
    assert message.link == "https://saferprisons.example.gov.uk/monitoring/console/"
    assert message.text.endswith("\nhttps://saferprisons.example.gov.uk/monitoring/console/")


def test_a_failed_send_is_retried_and_a_refused_one_fails_for_good(monitored, channels):
    email, sms = channels
    email.failures = [ConnectionError("Notify unreachable")]
    sms.failures = [PermanentDeliveryError("400 phone number is not valid")]
    chain_with_addresses(monitored)
    open_alert(monitored)
    monitored.traveller.shift(timedelta(seconds=60))
    run_due_jobs()
    deliveries = {d.channel: d for d in NotificationDelivery.objects.all()}
    email_job = Job.objects.get(payload__delivery=deliveries["email"].pk)
    sms_job = Job.objects.get(payload__delivery=deliveries["sms"].pk)
    assert (email_job.status, email_job.due_at) == (
        JobStatus.QUEUED,
        NIGHT + timedelta(seconds=65),
    )
    assert deliveries["email"].status == DeliveryStatus.QUEUED
    assert deliveries["email"].error == "ConnectionError: Notify unreachable"
    assert sms_job.status == JobStatus.FAILED
    assert (deliveries["sms"].status, deliveries["sms"].error) == (
        DeliveryStatus.FAILED,
        "400 phone number is not valid",
    )
    monitored.traveller.shift(timedelta(seconds=5))
    run_due_jobs()
    deliveries["email"].refresh_from_db()
    assert deliveries["email"].status == DeliveryStatus.SENT
    assert len(email.sent) == 1 and sms.sent == []


def test_no_delivery_is_queued_for_a_channel_that_is_not_configured(monitored, channels):
    email, sms = channels
    email.configured = sms.configured = False
    chain_with_addresses(monitored)
    alert = open_alert(monitored)
    monitored.traveller.shift(timedelta(seconds=60))
    run_due_jobs()
    assert NotificationDelivery.objects.count() == 0
    assert alert.notifications.count() == 2  # in-app, always


def test_the_registry_takes_new_channels(monitored, channels, monkeypatch):
    pager = FakeChannel("pager", "phone_number")
    monkeypatch.setattr(notifications, "CHANNELS", dict(notifications.CHANNELS))
    notifications.register_channel(pager)
    chain_with_addresses(monitored)
    open_alert(monitored)
    monitored.traveller.shift(timedelta(seconds=60))
    run_due_jobs()
    assert [s[0] for s in pager.sent] == ["07700 900982"]


# --- The GOV.UK Notify channels, with a fake client -------------------------------------------


class FakeNotifyClient:
    def __init__(self, error=None):
        self.calls = []
        self.error = error

    def send_email_notification(self, **arguments):
        self.calls.append(("email", arguments))
        if self.error:
            raise self.error
        return {"id": "notify-email-id"}

    def send_sms_notification(self, **arguments):
        self.calls.append(("sms", arguments))
        if self.error:
            raise self.error
        return {"id": "notify-sms-id"}


class FakeResponse:
    def __init__(self, status_code):
        self.status_code = status_code
        self.text = "{}"

    def json(self):
        return {"errors": [{"error": "BadRequestError", "message": "Can't send to this"}]}


MESSAGE = Message(
    prison="HMP Northfold",
    cell="A-1-001",
    alert="No activity in an occupied cell",
    priority="High (immediate response)",
    opened_at="02:00:00 on 28 Nov 2026",
    step=2,
    link="",
)


def notify_settings(settings):
    settings.MONITORING_NOTIFY_API_KEY = "test_key-00000000-0000-0000-0000-000000000000"
    settings.MONITORING_NOTIFY_EMAIL_TEMPLATE_ID = "email-template"
    settings.MONITORING_NOTIFY_SMS_TEMPLATE_ID = "sms-template"


def test_the_notify_channels_are_off_without_a_key_and_template(settings):
    settings.MONITORING_NOTIFY_API_KEY = ""
    settings.MONITORING_NOTIFY_EMAIL_TEMPLATE_ID = "email-template"
    assert NotifyEmailChannel().enabled() is False
    notify_settings(settings)
    settings.MONITORING_NOTIFY_SMS_TEMPLATE_ID = ""
    assert NotifyEmailChannel().enabled() is True
    assert NotifySmsChannel().enabled() is False


def test_the_notify_channels_send_the_template_with_the_message(settings):
    notify_settings(settings)
    client = FakeNotifyClient()
    email = NotifyEmailChannel(client_factory=lambda: client)
    sms = NotifySmsChannel(client_factory=lambda: client)
    assert email.send("oo@example.gov.uk", MESSAGE, "ref-1") == "notify-email-id"
    assert sms.send("07700 900982", MESSAGE, "ref-2") == "notify-sms-id"
    assert client.calls == [
        (
            "email",
            {
                "email_address": "oo@example.gov.uk",
                "template_id": "email-template",
                "personalisation": MESSAGE.personalisation(),
                "reference": "ref-1",
            },
        ),
        (
            "sms",
            {
                "phone_number": "07700 900982",
                "template_id": "sms-template",
                "personalisation": MESSAGE.personalisation(),
                "reference": "ref-2",
            },
        ),
    ]


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (403, True), (429, False)])
def test_notify_refusals_are_permanent_and_throttling_is_retried(settings, status, permanent):
    notify_settings(settings)
    client = FakeNotifyClient(error=HTTPError(FakeResponse(status)))
    channel = NotifyEmailChannel(client_factory=lambda: client)
    expected = PermanentDeliveryError if permanent else HTTPError
    with pytest.raises(expected):
        channel.send("oo@example.gov.uk", MESSAGE, "ref")


def test_the_default_registry_holds_the_notify_channels():
    assert isinstance(notifications.CHANNELS["email"], NotifyEmailChannel)
    assert isinstance(notifications.CHANNELS["sms"], NotifySmsChannel)
