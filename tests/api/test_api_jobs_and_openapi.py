"""The worker status endpoint, and the committed OpenAPI document."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from saferprisons.core.management.commands.export_openapi import DEFAULT_OUTPUT, render_schema

from .helpers import assert_error


def test_worker_status(world, staff_client):
    response = staff_client(world["officer"]).get("/api/jobs/status")
    assert response.status_code == 200
    assert response.json() == {
        "alive": False,
        "last_beat_at": None,
        "queued": 0,
        "running": 0,
        "failed": 0,
        "overdue": 0,
    }
    assert_error(staff_client(world["auditor"]).get("/api/jobs/status"), 403, "forbidden")


def test_schema_is_served_without_authentication(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"] == {
        "title": "saferprisons API",
        "version": "1",
        "description": schema["info"]["description"],
    }
    assert sorted(schema["components"]["securitySchemes"]) == ["ApiTokenAuth", "StaffSessionAuth"]


def test_committed_openapi_document_is_current():
    # Fails when an endpoint or schema changed without `manage.py export_openapi`.
    call_command("export_openapi", "--check")
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == render_schema()


def test_export_writes_sorted_json_with_a_trailing_newline(tmp_path):
    output = tmp_path / "openapi.json"
    call_command("export_openapi", "--output", str(output))
    text = output.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    parsed = json.loads(text)
    assert text == json.dumps(parsed, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert "/api/prisoners/{prison_number}/case-notes" in parsed["paths"]
    case_note = parsed["components"]["schemas"]["CaseNoteIn"]["properties"]["text"]
    assert case_note["maxLength"] == 4000


def test_check_fails_clearly_when_the_document_differs(tmp_path):
    stale = tmp_path / "openapi.json"
    stale.write_text(render_schema().replace('"version": "1"', '"version": "0"'), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("export_openapi", "--check", "--output", str(stale))
    assert caught.value.returncode == 1
    assert str(caught.value) == (
        f"{stale} is out of date with the API. Run `python manage.py export_openapi` and "
        "commit the result."
    )
    with pytest.raises(CommandError, match="is missing"):
        call_command("export_openapi", "--check", "--output", str(tmp_path / "absent.json"))
