"""API shapes for the audit trail."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import model_validator

from saferprisons.core.api_support import Text

from .constants import Action

EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)


class AuditFilters(Schema):
    """All optional. Dates are inclusive, in Europe/London."""

    actor: Text(200) | None = Field(None, description="Part of the actor's name or token label")
    action: Literal[tuple(Action.values)] | None = None
    object_type: Text(60) | None = None
    object_id: Text(64) | None = None
    prison: Text(10) | None = Field(None, description="Prison code, e.g. ZNA")
    date_from: date | None = Field(None, ge=EARLIEST, le=LATEST)
    date_to: date | None = Field(None, ge=EARLIEST, le=LATEST)

    @model_validator(mode="after")
    def dates_in_order(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must be on or before date_to")
        return self


class AuditEventOut(Schema):
    sequence: int
    occurred_at: datetime
    actor_kind: str
    actor_label: str
    action: str
    object_type: str
    object_id: str
    prison_code: str
    before: Any | None
    after: Any | None
    details: Any
    request_id: str
