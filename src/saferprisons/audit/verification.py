"""Walk the chain and report the first broken or missing link."""

from dataclasses import dataclass

from .constants import GENESIS_HASH
from .models import AuditChainHead, AuditEvent


@dataclass
class ChainReport:
    checked: int
    ok: bool
    problem: str = ""
    sequence: int | None = None


def verify_chain(batch_size: int = 2000) -> ChainReport:
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    events = AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size)
    for event in events:
        if event.sequence != expected_sequence:
            return ChainReport(
                checked, False, f"event #{expected_sequence} is missing", expected_sequence
            )
        if event.previous_hash != expected_previous:
            return ChainReport(
                checked,
                False,
                f"event #{event.sequence} does not follow the event before it",
                event.sequence,
            )
        if event.compute_hash() != event.hash:
            return ChainReport(
                checked,
                False,
                f"event #{event.sequence} was changed after it was written",
                event.sequence,
            )
        expected_previous = event.hash
        expected_sequence += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_sequence != checked:
        return ChainReport(
            checked,
            False,
            f"the chain should end at event #{head.last_sequence}, found {checked}",
            checked + 1,
        )
    return ChainReport(checked, True)
