"""API shapes for the caller's own identity."""

from datetime import datetime
from typing import Literal

from ninja import Schema


class WhoAmIOut(Schema):
    """Who the API thinks is calling, what they may do and in which prisons."""

    kind: Literal["staff", "token"]
    name: str
    permissions: list[str]
    prisons: list[str]
    scopes: list[str] | None
    expires_at: datetime | None
