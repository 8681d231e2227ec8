"""Assertions shared by the API tests."""

import json


def assert_error(response, status: int, code: str, fields: list[str] | None = None) -> dict:
    """The one error body: {"error": {"code", "message", "fields": [{"field", "message"}]}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert sorted(error) == ["code", "fields", "message"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    for item in error["fields"]:
        assert sorted(item) == ["field", "message"] and item["message"]
    if fields is not None:
        assert [item["field"] for item in error["fields"]] == fields
    return error


def post_json(client, url: str, data) -> object:
    return client.post(url, data=json.dumps(data), content_type="application/json")
