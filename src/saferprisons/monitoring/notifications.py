"""Telling people about an escalated alert: in the app always, and through other channels
(e-mail and SMS by GOV.UK Notify) when they are configured.

The in-app ``Notification`` rows are written by ``escalation.fire_step`` in the step's own
transaction. For every registered channel that is configured and has a recipient for the step,
``queue_deliveries`` (same transaction) writes a ``NotificationDelivery`` and queues a worker job,
so nothing leaves the system unless the step committed, and a failed send is retried. Delivery is
at least once: a worker that dies after Notify accepted a message but before recording it sends
it again on the retry (the delivery's public id goes to Notify as the reference, so a repeat can
be traced).

Messages carry the prison, the cell, the rule, the priority and the time: never a name, a prison
number or a reading (data minimisation for channels we do not control end to end). The console
is where staff see who it is, as the ACCT e-mails do (acct/notifications.py).

Channels are pluggable: ``register_channel`` adds one (a pager, Teams); tests replace the
registry's entries with fakes, so Notify is never called in tests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.db import transaction
from django.urls import reverse

from saferprisons.core import clock
from saferprisons.jobs import services as jobs
from saferprisons.jobs.errors import PermanentFailure

from . import conf
from .constants import JOB_DELIVER_NOTIFICATION, DeliveryStatus, Priority
from .models import Alert, AlertEscalation, NotificationDelivery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """What an e-mail or text says (also the Notify template's personalisation)."""

    prison: str
    cell: str
    alert: str
    priority: str
    opened_at: str
    step: int
    link: str

    @classmethod
    def about(cls, step: AlertEscalation, alert: Alert) -> Message:
        site = (conf.value("MONITORING_SITE_URL") or "").rstrip("/")
        return cls(
            prison=alert.prison.name,
            cell=alert.cell.path,
            alert=alert.get_rule_display(),
            priority=Priority(alert.priority).label,
            opened_at=clock.local(alert.opened_at).strftime("%H:%M:%S on %d %b %Y"),
            step=step.number,
            link=f"{site}{reverse('monitoring:console')}" if site else "",
        )

    @property
    def subject(self) -> str:
        return f"Monitoring alert not yet acknowledged: {self.prison}, cell {self.cell}"

    @property
    def text(self) -> str:
        lines = [
            f"{self.alert} ({self.priority}) in cell {self.cell} at {self.prison}, "
            f"open since {self.opened_at}, has not been acknowledged.",
            "Open the monitoring console to see who it is and to respond.",
        ]
        if self.link:
            lines.append(self.link)
        return "\n".join(lines)

    def personalisation(self) -> dict[str, str]:
        return {
            "prison": self.prison,
            "cell": self.cell,
            "alert": self.alert,
            "priority": self.priority,
            "opened_at": self.opened_at,
            "step": str(self.step),
            "link": self.link,
            "subject": self.subject,
            "text": self.text,
        }


class PermanentDeliveryError(Exception):
    """Sending again cannot help (a refused address, a bad key): the delivery fails at once."""


class Channel(Protocol):
    name: str

    def enabled(self) -> bool:
        """Configured (a key, a template): only then are deliveries queued for it."""

    def recipient(self, step: AlertEscalation) -> str:
        """Where this step goes by this channel, or "" for nowhere."""

    def send(self, recipient: str, message: Message, reference: str) -> str:
        """Send now; return the provider's id. Raise PermanentDeliveryError when retrying
        cannot help; any other exception is retried by the worker."""


def _notify_client():
    from notifications_python_client.notifications import NotificationsAPIClient

    return NotificationsAPIClient(conf.value("MONITORING_NOTIFY_API_KEY"))


def _notify_call(send):
    from notifications_python_client.errors import HTTPError

    try:
        return send()
    except HTTPError as error:
        # 400 (bad recipient or template) and 403 (bad key) do not get better; 429 and 5xx do.
        if getattr(error, "status_code", 500) in (400, 403):
            raise PermanentDeliveryError(str(error)[:500]) from error
        raise


class NotifyEmailChannel:
    """E-mail through GOV.UK Notify to the step's duty address."""

    name = "email"

    def __init__(self, client_factory=_notify_client):
        self._client_factory = client_factory

    def enabled(self) -> bool:
        return bool(
            conf.value("MONITORING_NOTIFY_API_KEY")
            and conf.value("MONITORING_NOTIFY_EMAIL_TEMPLATE_ID")
        )

    def recipient(self, step: AlertEscalation) -> str:
        return step.email_address

    def send(self, recipient: str, message: Message, reference: str) -> str:
        client = self._client_factory()
        response = _notify_call(
            lambda: client.send_email_notification(
                email_address=recipient,
                template_id=conf.value("MONITORING_NOTIFY_EMAIL_TEMPLATE_ID"),
                personalisation=message.personalisation(),
                reference=reference,
            )
        )
        return str(response.get("id", ""))


class NotifySmsChannel:
    """A text through GOV.UK Notify to the step's duty mobile."""

    name = "sms"

    def __init__(self, client_factory=_notify_client):
        self._client_factory = client_factory

    def enabled(self) -> bool:
        return bool(
            conf.value("MONITORING_NOTIFY_API_KEY")
            and conf.value("MONITORING_NOTIFY_SMS_TEMPLATE_ID")
        )

    def recipient(self, step: AlertEscalation) -> str:
        return step.phone_number

    def send(self, recipient: str, message: Message, reference: str) -> str:
        client = self._client_factory()
        response = _notify_call(
            lambda: client.send_sms_notification(
                phone_number=recipient,
                template_id=conf.value("MONITORING_NOTIFY_SMS_TEMPLATE_ID"),
                personalisation=message.personalisation(),
                reference=reference,
            )
        )
        return str(response.get("id", ""))


# The registry: channel name -> channel. Tests put fakes here (monkeypatch.setitem).
CHANNELS: dict[str, Channel] = {}


def register_channel(channel: Channel) -> None:
    """Add (or replace) a delivery channel beside the in-app notification."""
    CHANNELS[channel.name] = channel


register_channel(NotifyEmailChannel())
register_channel(NotifySmsChannel())


def queue_deliveries(step: AlertEscalation, alert: Alert) -> list[NotificationDelivery]:
    """One delivery and one worker job per configured channel with a recipient for the step.
    Call inside the step's transaction."""
    deliveries = []
    for channel in list(CHANNELS.values()):
        if not channel.enabled():
            continue
        recipient = (channel.recipient(step) or "").strip()
        if not recipient:
            continue
        delivery = NotificationDelivery.objects.create(
            escalation=step, channel=channel.name, recipient=recipient
        )
        jobs.enqueue(
            kind=JOB_DELIVER_NOTIFICATION,
            payload={"delivery": delivery.pk},
            dedupe_key=f"{JOB_DELIVER_NOTIFICATION}:{delivery.pk}",
        )
        deliveries.append(delivery)
    return deliveries


def deliver(delivery_id: int) -> bool:
    """The delivery job: send once (at least once), then record it. True if sent now."""
    delivery = (
        NotificationDelivery.objects.select_related(
            "escalation__alert__prison", "escalation__alert__cell"
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status != DeliveryStatus.QUEUED:
        return False
    channel = CHANNELS.get(delivery.channel)
    if channel is None or not channel.enabled():
        _record(delivery_id, DeliveryStatus.FAILED, error="The channel is no longer configured")
        raise PermanentFailure(f"Channel {delivery.channel!r} is not configured")
    message = Message.about(delivery.escalation, delivery.escalation.alert)
    try:
        reference = channel.send(delivery.recipient, message, str(delivery.public_id))
    except PermanentDeliveryError as error:
        _record(delivery_id, DeliveryStatus.FAILED, error=str(error))
        raise PermanentFailure(f"{delivery.channel} refused the message: {error}") from error
    except Exception as error:
        _record(delivery_id, DeliveryStatus.QUEUED, error=f"{type(error).__name__}: {error}")
        raise
    _record(delivery_id, DeliveryStatus.SENT, reference=reference)
    return True


def _record(delivery_id: int, status: str, *, error: str = "", reference: str = "") -> None:
    with transaction.atomic():
        delivery = NotificationDelivery.objects.select_for_update().get(pk=delivery_id)
        if delivery.status == DeliveryStatus.SENT:
            return
        delivery.status = status
        delivery.error = error[:500]
        fields = ["status", "error"]
        if status == DeliveryStatus.SENT:
            delivery.sent_at = clock.now()
            delivery.provider_reference = reference[:100]
            fields += ["sent_at", "provider_reference"]
        delivery.save(update_fields=fields)
