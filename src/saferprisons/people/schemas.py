"""API shapes for people: search results, profiles, alerts, case notes and movements."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, field_validator

from saferprisons.core.api_support import Text

from .constants import (
    ALERT_COMMENT_MAX_LENGTH,
    CASE_NOTE_MAX_LENGTH,
    CaseNoteType,
    Sensitivity,
)

# Prison numbers are matched case-insensitively (the selectors upper-case them).
PRISON_NUMBER_PARAM = {
    "min_length": 7,
    "max_length": 7,
    "pattern": r"^[A-Za-z][0-9]{4}[A-Za-z]{2}$",
}
EARLIEST_NOTE_YEAR = 1900


def _code(prison) -> str | None:
    return prison.code if prison is not None else None


class CellRef(Schema):
    id: UUID
    path: str

    @staticmethod
    def resolve_id(cell) -> UUID:
        return cell.public_id


class SearchFilters(Schema):
    q: Text(100, min_length=1)
    prison: Text(5, min_length=2) | None = None


class PrisonerSummary(Schema):
    prison_number: str
    first_name: str
    last_name: str
    date_of_birth: date
    prison: str | None
    cell: str | None


class SearchResults(Schema):
    """At most 100 matches (the search is not paged: narrow it instead)."""

    count: int
    items: list[PrisonerSummary]


class AlertOut(Schema):
    id: UUID
    code: str
    description: str
    alert_type: str
    comment: str
    active_from: datetime
    ended_at: datetime | None
    created_by: str

    @staticmethod
    def resolve_id(alert) -> UUID:
        return alert.public_id

    @staticmethod
    def resolve_code(alert) -> str:
        return alert.alert_code.code

    @staticmethod
    def resolve_description(alert) -> str:
        return alert.alert_code.description

    @staticmethod
    def resolve_alert_type(alert) -> str:
        return alert.alert_code.alert_type.code

    @staticmethod
    def resolve_created_by(alert) -> str:
        return alert.created_by_label


class MovementOut(Schema):
    id: UUID
    kind: str
    from_prison: str | None
    to_prison: str | None
    occurred_at: datetime
    reason: str

    @staticmethod
    def resolve_id(movement) -> UUID:
        return movement.public_id

    @staticmethod
    def resolve_from_prison(movement) -> str | None:
        return _code(movement.from_prison)

    @staticmethod
    def resolve_to_prison(movement) -> str | None:
        return _code(movement.to_prison)


class PrisonerProfileOut(Schema):
    """``health_needs`` is null unless the caller holds people.view_health (healthcare)."""

    prison_number: str
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    first_language: str
    legal_status: str
    custody_status: str
    prison: str | None
    version: int
    current_cell: CellRef | None
    alerts: list[AlertOut]
    movements: list[MovementOut]
    health_needs: str | None


class CaseNoteOut(Schema):
    id: UUID
    note_type: str
    sensitivity: str
    text: str
    occurred_at: datetime
    created_at: datetime
    author: str
    prison: str | None

    @staticmethod
    def resolve_id(note) -> UUID:
        return note.public_id

    @staticmethod
    def resolve_author(note) -> str:
        return note.author_label

    @staticmethod
    def resolve_prison(note) -> str | None:
        return _code(note.prison)


class CaseNoteIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"note_type": "GEN", "text": "Settled on the wing; ate lunch with others."}
            ]
        }
    )

    note_type: Literal[tuple(CaseNoteType.values)]
    text: Text(CASE_NOTE_MAX_LENGTH, min_length=1)
    occurred_at: AwareDatetime | None = None
    sensitivity: Literal[tuple(Sensitivity.values)] = Sensitivity.NORMAL.value

    @field_validator("occurred_at")
    @classmethod
    def not_ancient(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.year < EARLIEST_NOTE_YEAR:
            raise ValueError(f"The time of a case note must be after {EARLIEST_NOTE_YEAR}")
        return value


class CellMoveIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"cell": "A-1-003", "reason": "Nearer the office for observation"}]
        }
    )

    cell: Text(40, min_length=1)  # a cell path like "A-1-001" or a location's id
    reason: Text(200) = ""


class CellMoveOut(Schema):
    prison_number: str
    cell: CellRef
    started_at: datetime
    reason: str


class AlertIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "HA", "comment": "Found with a ligature"}]}
    )

    code: Text(20, min_length=1)
    comment: Text(ALERT_COMMENT_MAX_LENGTH) = ""


class TransferIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to_prison": "XSO", "reason": "Nearer home"}]}
    )

    to_prison: Text(5, min_length=2)
    reason: Text(200) = ""


class TransferOut(Schema):
    prison_number: str
    from_prison: str
    to_prison: str
    custody_status: str
