"""Which function runs each kind of job.

Apps register handlers in their ``tasks.py`` (found at start-up by ``JobsConfig.ready``)::

    @handler("acct.case_review_due")
    def case_review_due(payload: dict, job: Job) -> None: ...

Delivery is at least once (a worker can die after the work but before recording it), so a handler
must be safe to run again with the same payload.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured

from .constants import KIND_MAX_LENGTH
from .errors import UnknownJobKind

if TYPE_CHECKING:
    from .models import Job

Handler = Callable[[dict, "Job"], None]

_HANDLERS: dict[str, Handler] = {}


def _same_function(one: Handler, other: Handler) -> bool:
    # A module imported twice (autoreload, tests) re-registers an equal function, not a rival.
    return (one.__module__, one.__qualname__) == (other.__module__, other.__qualname__)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler for ``kind``."""
    if not kind or len(kind) > KIND_MAX_LENGTH:
        raise ImproperlyConfigured(f"Job kind must be 1 to {KIND_MAX_LENGTH} characters: {kind!r}")

    def register(func: Handler) -> Handler:
        existing = _HANDLERS.get(kind)
        if existing is not None and not _same_function(existing, func):
            raise ImproperlyConfigured(
                f"Job kind {kind!r} already has a handler: "
                f"{existing.__module__}.{existing.__qualname__}"
            )
        _HANDLERS[kind] = func
        return func

    return register


def get_handler(kind: str) -> Handler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise UnknownJobKind(kind) from None


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)
