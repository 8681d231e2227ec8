"""Handlers the jobs app provides itself (other apps keep theirs in their own tasks.py)."""

from saferprisons.audit.verification import verify_chain

from .errors import PermanentFailure
from .registry import handler


class AuditChainBroken(PermanentFailure):
    """Checking again finds the same break: fail at once so the status page shows it."""


@handler("audit.verify_chain")
def verify_audit_chain(payload: dict, job) -> None:
    report = verify_chain()
    if not report.ok:
        raise AuditChainBroken(
            f"Audit chain broken: {report.problem} ({report.checked} events verified)"
        )
