"""Permission framework: every view and API operation declares what it needs; default deny.

Permissions are codes like ``people.view_prisoner`` declared in each app's ``permissions.py``.
Roles (accounts/roles.py) grant sets of them. A view without a declared permission is refused by
``DeclaredPermissionMiddleware`` and fails the URL-walking test.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest

PUBLIC = "public"  # sign-in pages, static assets, health check
KIOSK = "kiosk.self"  # a signed-in prisoner at a kiosk, their own data only
SIGNED_IN = "signed_in"  # any signed-in member of staff (e.g. choose prison)
API = "api"  # ninja operations: each declares its own permission (checked per operation)

REGISTRY: dict[str, str] = {}


@dataclass(frozen=True)
class Permission:
    code: str
    description: str

    def __str__(self) -> str:
        return self.code


def define(code: str, description: str) -> str:
    REGISTRY[code] = description
    return code


# What each API token scope allows. Tokens never carry health or sensitive permissions.
TOKEN_SCOPE_PERMISSIONS = {
    "estate:read": {"estate.view"},
    "people:read": {"people.view_prisoner", "people.search"},
    "people:write": {
        "people.add_case_note",
        "people.move_prisoner",
        "people.record_movement",
        "people.manage_alerts",
    },
    "sensors:write": {"monitoring.ingest"},
    # ACCT for integrations (e.g. monitoring asking for a review). Never acct.manage_case:
    # reviews, closure and decisions are made by named staff.
    "acct:read": {"acct.view_case"},
    "acct:write": {"acct.raise_concern", "acct.record_entry"},
}


def principal_permissions(principal) -> frozenset[str]:
    """Every permission a staff user's roles, a token's scopes or a kiosk session grant."""
    from saferprisons.accounts.models import ApiToken, KioskPrincipal

    if principal is None:
        return frozenset()
    if isinstance(principal, KioskPrincipal):
        return frozenset({KIOSK})
    if isinstance(principal, ApiToken):
        if not principal.is_usable():
            return frozenset()
        granted: set[str] = set()
        for scope in principal.scopes:
            granted |= TOKEN_SCOPE_PERMISSIONS.get(scope, set())
        return frozenset(granted)
    if not getattr(principal, "is_authenticated", False) or not principal.is_active:
        return frozenset()
    cached = getattr(principal, "_saferprisons_permissions", None)
    if cached is None:
        from saferprisons.accounts.roles import permissions_for_roles

        cached = permissions_for_roles(principal.role_codes())
        principal._saferprisons_permissions = cached
    return cached


def has_permission(principal, permission: str) -> bool:
    if permission == SIGNED_IN:
        return bool(getattr(principal, "is_authenticated", False))
    return permission in principal_permissions(principal)


def principal_prison_ids(principal) -> list[int]:
    """The prisons whose people this principal may see (staff assignments, token prisons)."""
    from saferprisons.accounts.models import KioskPrincipal

    if principal is None or isinstance(principal, KioskPrincipal):
        return []
    return principal.prison_ids()


def declare(permission: str):
    """Mark a view with the permission it needs; the check itself runs in ``requires``."""

    def mark(view):
        view.declared_permission = permission
        return view

    return mark


def requires(permission: str):
    """Staff view decorator: sign-in, then the permission, else a plain 403 page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not has_permission(request.user, permission):
                from saferprisons.core.views import forbidden

                return forbidden(request)
            return view(request, *args, **kwargs)

        wrapped.declared_permission = permission
        return wrapped

    return decorator


public = declare(PUBLIC)


def declare_urlpatterns(patterns, permission: str):
    """Mark every view under included URL patterns (the admin, the API) as declared."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            declare_urlpatterns(pattern.url_patterns, permission)
        elif getattr(pattern.callback, "declared_permission", None) is None:
            # Bound methods (the admin's views) keep attributes on their function.
            target = getattr(pattern.callback, "__func__", pattern.callback)
            target.declared_permission = permission
    return patterns
