"""Property-based fuzzing of the whole API with schemathesis: no input may produce a 5xx.

The schema comes from the running API; requests go in-process to Django's WSGI handler, in the
test's own database transaction, authenticated with a token holding every scope (and, for the
audit trail, which no token may read, an auditor's session).
"""

import copy

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from schemathesis.checks import not_a_server_error

from saferprisons.accounts.permissions import TOKEN_SCOPES
from saferprisons.api import api

# Known identifiers, so generated requests reach real records as well as missing ones.
KNOWN_VALUES = {
    "prison_number": ["A1234BC", "A2345BC", "B3456CD"],
    "code": ["XNA", "XSO"],
}


def _schema_with_examples() -> dict:
    raw = copy.deepcopy(api.get_openapi_schema(path_prefix="/api/"))
    for item in raw["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in KNOWN_VALUES:
                    parameter["examples"] = {
                        value: {"value": value} for value in KNOWN_VALUES[parameter["name"]]
                    }
    return raw


schema = schemathesis.openapi.from_dict(_schema_with_examples())
APP = WSGIHandler()


@pytest.fixture
def in_process_requests():
    """Keep the test's connection (and its transaction) open across WSGI requests, as Django's
    test client does: by default every request closes "old" connections when it starts and ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(world, make_token):
    _, secret = make_token(sorted(TOKEN_SCOPES), [world["north"], world["south"]])
    auditor = Client()
    auditor.force_login(world["auditor"])
    return {
        "token": {"Authorization": f"Bearer {secret}"},
        "auditor": {"sessionid": auditor.cookies["sessionid"].value},
    }


@schema.parametrize()
@hypothesis.settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_never_answers_with_a_server_error(case, credentials, in_process_requests):
    if case.path.startswith("/api/audit/"):
        response = case.call(app=APP, cookies=credentials["auditor"])
    else:
        response = case.call(app=APP, headers=credentials["token"])
    case.validate_response(response, checks=[not_a_server_error])
