"""Load the MoJ alert code lists (hmpps-alerts-api, MIT) shipped in people/reference/."""

import csv
from datetime import UTC, date, datetime, time
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def _rows(name: str) -> list[dict]:
    with open(REFERENCE_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _deactivated(value: str):
    value = (value or "").strip()
    if not value:
        return None
    if value.lower() == "yes":
        return datetime(2000, 1, 1, tzinfo=UTC)
    day = date.fromisoformat(value[:10])
    return datetime.combine(day, time.min, tzinfo=UTC)


def seed_alert_codes(alert_type_model, alert_code_model) -> None:
    types = {}
    for order, row in enumerate(_rows("alert_types.tsv")):
        types[row["alert_type"]], _ = alert_type_model.objects.update_or_create(
            code=row["alert_type"],
            defaults={
                "description": row["description"],
                "sort_order": order,
                "deactivated_at": _deactivated(row["deactivated"]),
            },
        )
    for order, row in enumerate(_rows("alert_codes.tsv")):
        alert_code_model.objects.update_or_create(
            code=row["code"],
            defaults={
                "description": row["description"][:200],
                "sort_order": order,
                "alert_type": types[row["alert_type"]],
                "deactivated_at": _deactivated(row["deactivated_on"]),
            },
        )
