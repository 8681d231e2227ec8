"""Shared pieces of the JSON API: who is calling, the one error body, and declared permissions.

Every 4xx the API sends has the same body::

    {"error": {"code": "not_found", "message": "...",
               "fields": [{"field": "...", "message": "..."}]}}

Callers authenticate either with a staff session (CSRF-checked, like the pages) or with an API
token (``Authorization: Bearer sp_<prefix>_<secret>``). A prisoner's kiosk session never
authenticates to the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Annotated

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.utils.functional import SimpleLazyObject
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import PageNumberPagination
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf
from pydantic import AfterValidator, StringConstraints

from .errors import DomainError, PermissionDenied
from .permissions import REGISTRY, SIGNED_IN, has_permission

# --- The error body ----------------------------------------------------------------------------

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_failed",
    429: "too_many_requests",
}


class ErrorField(Schema):
    field: str
    message: str


class ErrorDetail(Schema):
    code: str
    message: str
    fields: list[ErrorField] = []


class ErrorBody(Schema):
    error: ErrorDetail


def error_body(code: str, message: str, fields: list[dict] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def error_response(status: int, code: str, message: str, fields: list[dict] | None = None):
    return JsonResponse(error_body(code, message, fields), status=status)


def _field_name(loc) -> str:
    # ninja puts the source first ("body", "query", "path"); the client wants the field's path.
    parts = [str(part) for part in loc]
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
        # A body schema is nested under the handler's parameter name ("payload"): name the
        # field inside it, or "body" when the body as a whole is wrong (missing, not an object).
        if parts[0] == "payload":
            parts = parts[1:] or ["body"]
    return ".".join(parts)


def _validation_fields(errors: list[dict]) -> list[dict]:
    fields = []
    for error in errors:
        message = str(error.get("msg", "Invalid value"))
        # pydantic prefixes messages from our own validators with "Value error, ".
        message = message.removeprefix("Value error, ")
        fields.append({"field": _field_name(error.get("loc", ())), "message": message})
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    """Every refusal the API makes answers in the one error shape."""

    def domain_error(request, exc: DomainError):
        fields = [{"field": exc.field, "message": exc.message}] if exc.field else []
        return api.create_response(
            request, error_body(exc.code, exc.message, fields), status=exc.status_code
        )

    def validation_error(request, exc: ValidationError):
        fields = _validation_fields(exc.errors)
        message = "The request has errors: " + "; ".join(
            f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields[:5]
        )
        return api.create_response(
            request, error_body("validation_failed", message, fields), status=422
        )

    def authentication_error(request, exc: AuthenticationError):
        response = api.create_response(
            request,
            error_body(
                "unauthenticated",
                "Sign in as a member of staff, or send a valid API token "
                "(Authorization: Bearer sp_...)",
            ),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="saferprisons"'
        return response

    def http_error(request, exc: HttpError):
        message = str(exc)
        code = STATUS_CODES.get(exc.status_code, "error")
        if exc.status_code == 400 and message.startswith("Cannot parse request body"):
            code, message = "malformed_json", "The request body is not valid JSON"
        return api.create_response(request, error_body(code, message), status=exc.status_code)

    def not_found(request, exc: Http404):
        return api.create_response(request, error_body("not_found", "Not found"), status=404)

    def too_large(request, exc: RequestDataTooBig):
        return api.create_response(
            request, error_body("too_large", "The request body is too large"), status=413
        )

    def suspicious(request, exc: SuspiciousOperation):
        return api.create_response(
            request, error_body("bad_request", "The request was refused"), status=400
        )

    def forbidden(request, exc: DjangoPermissionDenied):
        return api.create_response(
            request, error_body("forbidden", "You do not have permission to do this"), status=403
        )

    api.add_exception_handler(DomainError, domain_error)
    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(AuthenticationError, authentication_error)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(DjangoPermissionDenied, forbidden)
    api.add_exception_handler(RequestDataTooBig, too_large)
    api.add_exception_handler(SuspiciousOperation, suspicious)


def json_method_not_allowed(view: Callable) -> Callable:
    """Wrap a ninja path view so a wrong HTTP method also answers in the error shape."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error_response(
                405, "method_not_allowed", f"Use one of these methods: {allowed}"
            )
            response["Allow"] = allowed
        return response

    return wrapped


class SaferPrisonsAPI(NinjaAPI):
    """NinjaAPI whose every URL answers a wrong method with the JSON error body."""

    def get_openapi_operation_id(self, operation) -> str:
        # Short, stable ids ("add_case_note"); the declared-permission test checks they are unique.
        return operation.view_func.__name__

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            pattern.callback = json_method_not_allowed(pattern.callback)
        return urls


# --- Who is calling ----------------------------------------------------------------------------


TOKEN_SHAPE = re.compile(r"^sp_[A-Za-z0-9]{1,12}_[A-Za-z0-9_-]{1,100}$")


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer sp_<prefix>_<secret>``: a usable (unrevoked, unexpired) token."""

    def authenticate(self, request: HttpRequest, token: str):
        from saferprisons.accounts.selectors import token_from_header

        token = token.strip()
        # Anything not shaped like a token is refused before it reaches the database.
        if not TOKEN_SHAPE.match(token):
            return None
        return token_from_header(token)


class StaffSessionAuth(APIKeyCookie):
    """A signed-in member of staff, through the same session cookie (and CSRF check) as the pages.

    A kiosk session never authenticates: a prisoner at a kiosk has no User, and a browser that
    carries a kiosk session is refused even if a staff user signed in on it too.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest):
        from saferprisons.kiosk.middleware import SESSION_PRISONER_KEY

        if getattr(request, "kiosk_principal", None) is not None:
            return None
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_PRISONER_KEY) is not None:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        # The CSRF check only matters when the session is what authenticates the request, so an
        # anonymous or token-only caller is told "unauthenticated" (401), never "CSRF" (403).
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(
                "CSRF check failed: send the X-CSRFToken header with session requests",
                code="csrf_failed",
            )
        if isinstance(user, SimpleLazyObject):
            user = user._wrapped
        return user

    def authenticate(self, request: HttpRequest, key: str | None):  # pragma: no cover - unused
        return None


# --- Declared permissions -----------------------------------------------------------------------


def require(request: HttpRequest, permission: str) -> None:
    """403 in the error shape unless the caller holds ``permission``."""
    principal = getattr(request, "auth", None)
    if permission == SIGNED_IN:
        # Any authenticated API caller: a staff user or a usable token (the auth classes
        # have already refused everything else).
        allowed = principal is not None
    else:
        allowed = has_permission(principal, permission)
    if not allowed:
        raise PermissionDenied(f"You need the {permission} permission to do this")


def api_permission(permission: str):
    """Declare (and check) the permission an API operation needs.

    The permission is kept on the function as ``declared_permission`` so a test can walk every
    operation and fail on any that has none.
    """
    if permission != SIGNED_IN and permission not in REGISTRY:
        raise ValueError(f"Unknown permission {permission!r}: define it in the app's permissions")

    def decorator(func):
        @wraps(func)
        def wrapped(request, *args, **kwargs):
            require(request, permission)
            return func(request, *args, **kwargs)

        wrapped.declared_permission = permission
        return wrapped

    return decorator


# --- Input and pagination -----------------------------------------------------------------------


def _unstorable(ch: str) -> bool:
    code = ord(ch)
    return (
        code == 0  # PostgreSQL refuses NUL in text
        or 0xD800 <= code <= 0xDFFF  # a lone surrogate cannot be encoded as UTF-8
        or 0xFDD0 <= code <= 0xFDEF  # Unicode noncharacters: never for interchange
        or (code & 0xFFFE) == 0xFFFE
    )


def _plain_text(value: str) -> str:
    # Refused here as a 422 rather than left for the database to turn into a 500.
    if any(_unstorable(ch) for ch in value):
        raise ValueError("Text must not contain NUL, unpaired surrogates or noncharacters")
    return value


def Text(max_length: int, *, min_length: int = 0):  # noqa: N802 - reads as a type
    """A string with length limits (so over-long input is a 422) and no unstorable characters."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_plain_text),
    ]


MAX_PAGE = 100_000
MAX_PAGE_SIZE = 200


class Pagination(PageNumberPagination):
    """``?page=N&page_size=M``; answers ``{"items": [...], "count": total}``."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)

    def __init__(self, **kwargs) -> None:
        super().__init__(page_size=settings.API_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE, **kwargs)


def responses(ok_status: int, ok_schema, *, errors=(400, 401, 403, 404, 422)) -> dict:
    """An operation's response map: its success body, and the error body for each 4xx."""
    return {ok_status: ok_schema, **dict.fromkeys(errors, ErrorBody)}


WRITE_ERRORS = (400, 401, 403, 404, 409, 422)
