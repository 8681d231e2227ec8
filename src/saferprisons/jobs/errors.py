"""Errors of the background-work app."""


class UnknownJobKind(LookupError):
    """No handler is registered for a job's kind (a typo, or a handler removed in a deploy)."""

    def __init__(self, kind: str):
        super().__init__(f"No handler is registered for job kind {kind!r}; nothing was run.")
        self.kind = kind


class PermanentFailure(Exception):
    """Raised by a handler when trying again cannot help (bad payload, broken audit chain).

    The job goes straight to FAILED instead of being retried.
    """
