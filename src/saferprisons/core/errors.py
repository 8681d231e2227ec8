"""Domain errors. Pages show them in the GOV.UK error summary; the API maps them to 4xx."""


class DomainError(Exception):
    """A request the domain refuses. Nothing has been changed when this is raised."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_failed"


class NotFound(DomainError):
    """Also used for records outside the user's scope, so their existence is not revealed."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The record's state does not allow this (wrong state, stale version, full cell)."""

    status_code = 409
    code = "conflict"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"
