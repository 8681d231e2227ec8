"""Telling people: an in-app task always, and any other channels (e-mail) after commit.

Call ``notify`` inside the service's transaction. The in-app ``StaffTask`` is written in that
transaction (so it commits with the change, or not at all) and is unique per (case, kind, due
time): notifying twice is a no-op and returns the existing task. Other channels hear only of a
newly created task, and send after commit, so a rolled-back change never e-mails anyone.

E-mails carry the prison and the log number only, never a name or prison number: the task list
in the application is where staff see who it is (data minimisation for a channel we do not
control end to end).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from .constants import TITLE_MAX, TaskAudience
from .models import AcctCase, StaffTask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    case: AcctCase
    kind: str  # a TaskKind
    audience: str  # a TaskAudience
    title: str
    due_at: datetime
    wing_path: str = ""


class Channel(Protocol):
    """Delivers a notice whose in-app task has just been created. Runs inside the transaction:
    anything leaving the system must wait for ``transaction.on_commit``."""

    name: str

    def deliver(self, notice: Notice, task: StaffTask) -> None: ...


class EmailChannel:
    """Safer custody's notices to the prison's configured addresses (ACCT_SAFER_CUSTODY_EMAILS)."""

    name = "email"

    def deliver(self, notice: Notice, task: StaffTask) -> None:
        if notice.audience != TaskAudience.SAFER_CUSTODY:
            return
        prison = notice.case.prison
        recipients = list(settings.ACCT_SAFER_CUSTODY_EMAILS.get(prison.code, []))
        if not recipients:
            return
        subject = f"{task.get_kind_display()}: {notice.case.log_number} at {prison.name}"
        body = (
            f"{task.get_kind_display()} at {prison.name}.\n"
            f"ACCT log number: {notice.case.log_number}\n\n"
            "Open the safer custody task list in saferprisons to see who it is and what is due.\n"
        )

        def send() -> None:
            try:
                send_mail(subject, body, None, recipients, fail_silently=False)
            except Exception:
                # The in-app task is the record that must not be lost; it has already committed.
                logger.exception("Could not e-mail safer custody at %s", prison.code)

        transaction.on_commit(send)


CHANNELS: list[Channel] = [EmailChannel()]


def register_channel(channel: Channel) -> None:
    """Add a delivery channel (e.g. pager, Teams) beside the in-app task and e-mail."""
    if all(existing.name != channel.name for existing in CHANNELS):
        CHANNELS.append(channel)


def _in_app_task(notice: Notice) -> tuple[StaffTask, bool]:
    key = {"case": notice.case, "kind": notice.kind, "due_at": notice.due_at}
    existing = StaffTask.objects.filter(**key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():  # a savepoint: losing the race leaves the caller usable
            task = StaffTask.objects.create(
                prison=notice.case.prison,
                audience=notice.audience,
                wing_path=notice.wing_path,
                title=notice.title[:TITLE_MAX],
                **key,
            )
            return task, True
    except IntegrityError:
        return StaffTask.objects.get(**key), False


def notify(notice: Notice) -> tuple[StaffTask, bool]:
    """(the in-app task, whether it was new). Other channels hear only of new tasks."""
    task, created = _in_app_task(notice)
    if created:
        for channel in CHANNELS:
            channel.deliver(notice, task)
    return task, created
