"""Every URL declares its permission; an undeclared view is refused (default deny)."""

from django.urls import URLPattern, URLResolver, get_resolver

from saferprisons.core.middleware import DeclaredPermissionMiddleware


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_every_url_declares_a_permission():
    undeclared = [
        route
        for route, view in walk(get_resolver().url_patterns)
        if getattr(view, "declared_permission", None) is None
    ]
    routes = list(walk(get_resolver().url_patterns))
    assert len(routes) > 20  # the walk really found the site
    assert undeclared == []


def test_undeclared_view_is_refused(rf):
    def sneaky(request):
        raise AssertionError("must not run")

    middleware = DeclaredPermissionMiddleware(lambda request: None)
    response = middleware.process_view(rf.get("/x"), sneaky, (), {})
    assert response.status_code == 403


def test_security_headers_on_every_page(client, db):
    response = client.get("/sign-in/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response["X-Request-Id"]) == 16


def test_unknown_api_path_answers_json_404(client, db):
    response = client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No such endpoint", "fields": []}
    }
