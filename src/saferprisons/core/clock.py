"""The one clock. Code reads time here so tests can freeze it (time-machine patches it too)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

LONDON = ZoneInfo("Europe/London")


def now() -> datetime:
    """Aware UTC now."""
    return timezone.now()


def local(moment: datetime) -> datetime:
    """Show a stored UTC time in Europe/London."""
    return moment.astimezone(LONDON)


def today_london():
    return local(now()).date()
