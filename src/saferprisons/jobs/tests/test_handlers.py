import pytest
from django.core.exceptions import ImproperlyConfigured

from saferprisons.audit.actors import SYSTEM
from saferprisons.audit.models import AuditEvent
from saferprisons.audit.services import record
from saferprisons.jobs import registry, services, worker
from saferprisons.jobs.constants import JobStatus, RunOutcome
from saferprisons.jobs.errors import UnknownJobKind
from saferprisons.jobs.handlers import verify_audit_chain


def run_verify_chain():
    job = services.enqueue(kind="audit.verify_chain")
    (claimed,) = worker.claim_due_jobs("w1", limit=1)
    outcome = worker.run_job(claimed.pk, claimed.token)
    job.refresh_from_db()
    return outcome, job


@pytest.mark.django_db
def test_verify_chain_succeeds_on_an_intact_chain():
    for n in range(3):
        record(actor=SYSTEM, action="create", object_type="test", object_id=str(n))
    outcome, job = run_verify_chain()
    assert (outcome, job.status) == (RunOutcome.SUCCEEDED, JobStatus.SUCCEEDED)


@pytest.mark.django_db
def test_verify_chain_fails_at_once_on_a_tampered_chain():
    for n in range(3):
        record(actor=SYSTEM, action="create", object_type="test", object_id=str(n))
    AuditEvent.objects.filter(sequence=2).update(object_id="edited")  # bypasses append-only save

    outcome, job = run_verify_chain()

    assert (outcome, job.status, job.attempts) == (RunOutcome.FAILED, JobStatus.FAILED, 1)
    assert job.last_error.startswith(
        "AuditChainBroken: Audit chain broken: event #2 was changed after it was written "
        "(1 events verified)"
    )


def test_the_app_registers_verify_chain_at_start_up():
    assert registry.get_handler("audit.verify_chain") is verify_audit_chain


def test_unknown_kind_lookup_raises_a_clear_error():
    with pytest.raises(UnknownJobKind, match="No handler is registered for job kind 'nope'"):
        registry.get_handler("nope")


def test_a_kind_cannot_get_a_second_different_handler(monkeypatch):
    monkeypatch.setattr(registry, "_HANDLERS", {})

    @registry.handler("test.once")
    def first(payload, job):
        pass

    def rival(payload, job):
        pass

    with pytest.raises(ImproperlyConfigured, match="already has a handler"):
        registry.handler("test.once")(rival)
    registry.handler("test.once")(first)  # the same function again (a re-import) is fine
    assert registry.registered_kinds() == ["test.once"]


@pytest.mark.parametrize("kind", ["", "k" * 101])
def test_a_kind_must_have_a_sensible_length(kind):
    with pytest.raises(ImproperlyConfigured, match="1 to 100 characters"):
        registry.handler(kind)
