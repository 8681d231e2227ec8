"""Request id, security headers and default-deny for undeclared views."""

import secrets

from django.http import HttpResponseForbidden

from .context import client_ip_var, request_id_var


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else ""
        request.request_id = request_id or secrets.token_hex(8)
        id_token = request_id_var.set(request.request_id)
        ip_token = client_ip_var.set(request.META.get("REMOTE_ADDR", ""))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)
        response["X-Request-Id"] = request.request_id
        return response


class ContentSecurityPolicyMiddleware:
    """A strict CSP: our own scripts and styles only, with a per-request nonce for inline ones."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = (
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{request.csp_nonce}'; "
                "style-src 'self'; img-src 'self' data:; font-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                "base-uri 'none'; object-src 'none'"
            )
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class DeclaredPermissionMiddleware:
    """Default deny: a view that does not declare its permission is never run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "declared_permission", None) is None:
            return HttpResponseForbidden("This page has no declared permission.")
        return None
