"""Every API operation declares (and checks) its permission; a role x endpoint matrix."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from ninja import NinjaAPI

from saferprisons.api import api
from saferprisons.core.api_support import ApiTokenAuth, StaffSessionAuth, api_permission
from saferprisons.core.permissions import REGISTRY, SIGNED_IN

EXPECTED_OPERATIONS = {
    ("GET", "/me"): SIGNED_IN,
    ("GET", "/prisons"): "estate.view",
    ("GET", "/prisons/{code}/locations"): "estate.view",
    ("GET", "/prisoners"): "people.search",
    ("GET", "/prisoners/{prison_number}"): "people.view_prisoner",
    ("GET", "/prisoners/{prison_number}/case-notes"): "people.view_prisoner",
    ("POST", "/prisoners/{prison_number}/case-notes"): "people.add_case_note",
    ("POST", "/prisoners/{prison_number}/cell-moves"): "people.move_prisoner",
    ("POST", "/prisoners/{prison_number}/alerts"): "people.manage_alerts",
    ("POST", "/prisoners/{prison_number}/alerts/{alert_id}/end"): "people.manage_alerts",
    ("POST", "/prisoners/{prison_number}/transfers"): "people.record_movement",
    ("GET", "/audit/events"): "audit.view_events",
    ("GET", "/jobs/status"): "jobs.view_status",
    ("POST", "/monitoring/readings"): "monitoring.ingest",
    ("GET", "/monitoring/prisons/{code}/alerts"): "monitoring.view_alerts",
    ("POST", "/monitoring/alerts/{alert_id}/acknowledge"): "monitoring.respond",
    ("POST", "/monitoring/alerts/{alert_id}/reset"): "monitoring.respond",
    ("POST", "/monitoring/alerts/{alert_id}/resolve"): "monitoring.respond",
    ("GET", "/monitoring/prisons/{code}/enrolments"): "monitoring.manage_enrolment",
    ("POST", "/monitoring/people/{prison_number}/enrolments"): "monitoring.manage_enrolment",
    ("POST", "/monitoring/enrolments/{enrolment_id}/end"): "monitoring.manage_enrolment",
    ("GET", "/monitoring/prisons/{code}/rules"): "monitoring.configure_rules",
    ("PUT", "/monitoring/prisons/{code}/rules/{kind}"): "monitoring.configure_rules",
    ("DELETE", "/monitoring/prisons/{code}/rules/{kind}"): "monitoring.configure_rules",
    ("PUT", "/monitoring/prisons/{code}/units/{unit}/rules/{kind}"): "monitoring.configure_rules",
    ("DELETE", "/monitoring/prisons/{code}/units/{unit}/rules/{kind}"): (
        "monitoring.configure_rules"
    ),
    ("GET", "/monitoring/prisons/{code}/escalation"): "monitoring.configure_rules",
    ("GET", "/monitoring/prisons/{code}/gateways"): "monitoring.manage_devices",
    ("GET", "/monitoring/prisons/{code}/devices"): "monitoring.manage_devices",
    ("POST", "/monitoring/prisons/{code}/devices"): "monitoring.manage_devices",
    ("POST", "/monitoring/devices/{device_id}/remove"): "monitoring.manage_devices",
    ("POST", "/monitoring/devices/{device_id}/firmware"): "monitoring.manage_devices",
    ("GET", "/acct/people/{prison_number}"): "acct.view_case",
    ("GET", "/acct/people/{prison_number}/timeline"): "acct.view_case",
    ("POST", "/acct/people/{prison_number}/concerns"): "acct.raise_concern",
    ("POST", "/acct/people/{prison_number}/iap"): "acct.record_entry",
    ("POST", "/acct/people/{prison_number}/assessments"): "acct.record_entry",
    ("POST", "/acct/people/{prison_number}/reviews"): "acct.manage_case",
    ("POST", "/acct/people/{prison_number}/post-closure-review"): "acct.manage_case",
    ("POST", "/acct/people/{prison_number}/reopen"): "acct.manage_case",
    ("POST", "/acct/people/{prison_number}/caremap/{item_id}"): "acct.manage_case",
    ("POST", "/acct/people/{prison_number}/entries"): "acct.record_entry",
    ("POST", "/acct/people/{prison_number}/entries/{entry_id}/correction"): "acct.record_entry",
    ("POST", "/acct/people/{prison_number}/review-demands"): "acct.record_entry",
    ("POST", "/acct/people/{prison_number}/safer-cell-decisions"): "acct.manage_case",
    ("GET", "/acct/prisons/{code}/board"): "acct.view_case",
    ("GET", "/acct/prisons/{code}/tasks"): "acct.view_case",
    ("POST", "/acct/prisons/{code}/tasks/{task_id}/complete"): "acct.manage_case",
    ("GET", "/acct/estate/overdue"): "estate.view_aggregates",
}


def operations(ninja_api: NinjaAPI):
    """(method, path, operation) for every operation of every router in the API."""
    for bound in ninja_api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    yield method, (bound.prefix + path).rstrip("/") or "/", operation


def undeclared(ninja_api: NinjaAPI) -> list[str]:
    return [
        f"{method} {path}"
        for method, path, operation in operations(ninja_api)
        if getattr(operation.view_func, "declared_permission", None) is None
    ]


def test_every_operation_declares_a_known_permission():
    found = {(m, p): op.view_func.declared_permission for m, p, op in operations(api)}
    assert found == EXPECTED_OPERATIONS
    assert undeclared(api) == []
    for permission in found.values():
        assert permission == SIGNED_IN or permission in REGISTRY


def test_every_operation_requires_a_token_or_a_staff_session():
    for method, path, operation in operations(api):
        kinds = [type(callback) for callback in operation.auth_callbacks]
        assert kinds == [ApiTokenAuth, StaffSessionAuth], f"{method} {path}"


def test_operation_ids_are_unique():
    schema = api.get_openapi_schema(path_prefix="/api/")
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == len(EXPECTED_OPERATIONS)


def test_the_walk_catches_an_undeclared_operation():
    throwaway = NinjaAPI(urls_namespace="throwaway-api")

    @throwaway.get("/declared")
    @api_permission("people.search")
    def declared(request):
        return {}

    @throwaway.get("/forgotten")
    def forgotten(request):
        return {}

    assert undeclared(throwaway) == ["GET /forgotten"]


def test_unknown_permission_cannot_be_declared():
    with pytest.raises(ValueError, match="Unknown permission 'people.fly'"):
        api_permission("people.fly")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_the_project_serves_the_api_under_api_with_every_url_declared():
    routes = {
        route: view
        for route, view in _walk(get_resolver().url_patterns)
        if route.startswith("api/")
    }
    assert sorted(routes) == [
        "api/",
        "api/acct/estate/overdue",
        "api/acct/people/<prison_number>",
        "api/acct/people/<prison_number>/assessments",
        "api/acct/people/<prison_number>/caremap/<item_id>",
        "api/acct/people/<prison_number>/concerns",
        "api/acct/people/<prison_number>/entries",
        "api/acct/people/<prison_number>/entries/<entry_id>/correction",
        "api/acct/people/<prison_number>/iap",
        "api/acct/people/<prison_number>/post-closure-review",
        "api/acct/people/<prison_number>/reopen",
        "api/acct/people/<prison_number>/review-demands",
        "api/acct/people/<prison_number>/reviews",
        "api/acct/people/<prison_number>/safer-cell-decisions",
        "api/acct/people/<prison_number>/timeline",
        "api/acct/prisons/<code>/board",
        "api/acct/prisons/<code>/tasks",
        "api/acct/prisons/<code>/tasks/<task_id>/complete",
        "api/audit/events",
        "api/jobs/status",
        "api/me",
        "api/monitoring/alerts/<alert_id>/acknowledge",
        "api/monitoring/alerts/<alert_id>/reset",
        "api/monitoring/alerts/<alert_id>/resolve",
        "api/monitoring/devices/<device_id>/firmware",
        "api/monitoring/devices/<device_id>/remove",
        "api/monitoring/enrolments/<enrolment_id>/end",
        "api/monitoring/people/<prison_number>/enrolments",
        "api/monitoring/prisons/<code>/alerts",
        "api/monitoring/prisons/<code>/devices",
        "api/monitoring/prisons/<code>/enrolments",
        "api/monitoring/prisons/<code>/escalation",
        "api/monitoring/prisons/<code>/gateways",
        "api/monitoring/prisons/<code>/rules",
        "api/monitoring/prisons/<code>/rules/<kind>",
        "api/monitoring/prisons/<code>/units/<unit>/rules/<kind>",
        "api/monitoring/readings",
        "api/openapi.json",
        "api/prisoners",
        "api/prisoners/<prison_number>",
        "api/prisoners/<prison_number>/alerts",
        "api/prisoners/<prison_number>/alerts/<alert_id>/end",
        "api/prisoners/<prison_number>/case-notes",
        "api/prisoners/<prison_number>/cell-moves",
        "api/prisoners/<prison_number>/transfers",
        "api/prisons",
        "api/prisons/<code>/locations",
    ]
    assert [r for r, view in routes.items() if not getattr(view, "declared_permission", None)] == []


# Role x endpoint: what each role gets from each read endpoint (all of them work in XNA).
MATRIX_ENDPOINTS = [
    "/api/me",
    "/api/prisons",
    "/api/prisons/XNA/locations",
    "/api/prisoners?q=bright",
    "/api/prisoners/A1234BC",
    "/api/prisoners/A1234BC/case-notes",
    "/api/audit/events",
    "/api/jobs/status",
    "/api/acct/prisons/XNA/board",
    "/api/acct/estate/overdue",
    "/api/monitoring/prisons/XNA/alerts",
    "/api/monitoring/prisons/XNA/enrolments",
    "/api/monitoring/prisons/XNA/rules",
    "/api/monitoring/prisons/XNA/escalation",
    "/api/monitoring/prisons/XNA/devices",
]
MATRIX = {
    "WING_OFFICER": [200, 200, 200, 200, 200, 200, 403, 200, 200, 403, 200, 403, 403, 403, 403],
    "HEALTHCARE": [200, 200, 200, 200, 200, 200, 403, 200, 200, 403, 200, 403, 403, 403, 403],
    "CUSTODIAL_MANAGER": [
        200,
        200,
        200,
        200,
        200,
        200,
        403,
        200,
        200,
        403,
        200,
        200,
        200,
        200,
        403,
    ],
    "SECURITY": [200, 200, 200, 200, 200, 200, 403, 200, 200, 403, 200, 403, 403, 403, 403],
    "DUTY_GOVERNOR": [200, 200, 200, 200, 200, 200, 403, 200, 200, 200, 200, 200, 200, 200, 403],
    "PSYCHOLOGIST": [200, 200, 200, 200, 200, 200, 403, 200, 200, 403, 200, 403, 403, 403, 403],
    "HQ_ANALYST": [200, 403, 403, 403, 403, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403],
    "AUDITOR": [200, 403, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 403],
    "SYSTEM_ADMIN": [200, 200, 200, 403, 403, 403, 403, 200, 403, 403, 403, 403, 403, 403, 200],
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_role_endpoint_matrix(role, world, staff_client):
    from .conftest import make_user

    client = staff_client(make_user(f"matrix.{role.lower()}", [role], [world["north"]]))
    statuses = [client.get(url).status_code for url in MATRIX_ENDPOINTS]
    assert statuses == MATRIX[role]


def test_no_role_and_no_prison_sees_nothing(world, staff_client):
    from .conftest import make_user

    client = staff_client(make_user("nobody", [], []))
    statuses = [client.get(url).status_code for url in MATRIX_ENDPOINTS]
    assert statuses == [200] + [403] * 14
