import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.models import AuditEvent
from saferprisons.audit.services import record
from saferprisons.audit.verification import verify_chain


@pytest.fixture
def three_events(db):
    return [
        record(actor=SYSTEM, action="create", object_type="thing", object_id=str(i), after={"n": i})
        for i in range(1, 4)
    ]


def test_intact_chain_verifies(three_events):
    report = verify_chain()
    assert (report.ok, report.checked) == (True, 3)
    call_command("audit_verify")


def test_edited_row_is_detected(three_events):
    AuditEvent.objects.filter(sequence=2).update(after={"n": 99})
    report = verify_chain()
    assert not report.ok
    assert report.sequence == 2
    assert report.problem == "event #2 was changed after it was written"
    with pytest.raises(CommandError, match="event #2 was changed"):
        call_command("audit_verify")


def test_removed_row_is_detected(three_events):
    AuditEvent.objects.filter(sequence=2).delete()  # queryset delete bypasses the model guard
    report = verify_chain()
    assert (report.ok, report.sequence) == (False, 2)
    assert report.problem == "event #2 is missing"


def test_removed_last_row_is_detected(three_events):
    AuditEvent.objects.filter(sequence=3).delete()
    report = verify_chain()
    assert not report.ok
    assert report.problem == "the chain should end at event #3, found 2"


def test_events_are_append_only(three_events):
    event = AuditEvent.objects.get(sequence=1)
    event.action = "delete"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_sensitive_values_are_masked(db):
    event = record(
        actor=SYSTEM,
        action="create",
        object_type="kiosk_credential",
        after={"pin": "1234", "name": "x"},
    )
    assert event.after == {"pin": "***", "name": "x"}


def test_actor_survives_and_user_cannot_be_deleted(estate):
    from django.db.models import ProtectedError

    officer = estate["officer"]
    record(actor=officer, action="view", object_type="prisoner")
    with pytest.raises(ProtectedError):
        officer.delete()
