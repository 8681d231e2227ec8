"""What staff can do to an alert, and from which status (pure; services apply it under a lock).

========================= ======================= =========================================
action                    allowed from            notes
========================= ======================= =========================================
acknowledge               OPEN                    again (or later): no-op
reset (high priority)     OPEN, ACKNOWLEDGED      also acknowledges; again: no-op
resolve                   OPEN, ACKNOWLEDGED,     a high-priority alert must be reset first;
                          RESET                   resolving also acknowledges; again: no-op
========================= ======================= =========================================
"""

from saferprisons.core.errors import Conflict

from .constants import AlertStatus, Priority

ACKNOWLEDGE, RESET, RESOLVE = "acknowledge", "reset", "resolve"
ACTIONS = (ACKNOWLEDGE, RESET, RESOLVE)

TRANSITIONS = {
    (ACKNOWLEDGE, AlertStatus.OPEN): AlertStatus.ACKNOWLEDGED,
    (RESET, AlertStatus.OPEN): AlertStatus.RESET,
    (RESET, AlertStatus.ACKNOWLEDGED): AlertStatus.RESET,
    (RESOLVE, AlertStatus.OPEN): AlertStatus.RESOLVED,
    (RESOLVE, AlertStatus.ACKNOWLEDGED): AlertStatus.RESOLVED,
    (RESOLVE, AlertStatus.RESET): AlertStatus.RESOLVED,
}
ALREADY_DONE = {
    ACKNOWLEDGE: {AlertStatus.ACKNOWLEDGED, AlertStatus.RESET, AlertStatus.RESOLVED},
    RESET: {AlertStatus.RESET, AlertStatus.RESOLVED},
    RESOLVE: {AlertStatus.RESOLVED},
}


def next_status(action: str, status: str, priority: str) -> str | None:
    """The status after ``action``, None when it has already been done (a no-op), or Conflict."""
    if action == RESET and priority != Priority.HIGH:
        raise Conflict("Only a high-priority alert is reset")
    if status in ALREADY_DONE[action]:
        return None
    if action == RESOLVE and priority == Priority.HIGH and status != AlertStatus.RESET:
        raise Conflict("Reset this high-priority alert before you resolve it")
    return TRANSITIONS[(action, status)]
