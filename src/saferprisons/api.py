"""The JSON API under /api/: each app's router assembled into one NinjaAPI (OpenAPI 3).

Callers authenticate with an API token (``Authorization: Bearer sp_...``) or a staff session
(with the CSRF header on writes). Every operation declares its permission with
``core.api_support.api_permission``; every 4xx answers in one error shape.
"""

from saferprisons.accounts.api import router as accounts_router
from saferprisons.acct.api import router as acct_router
from saferprisons.audit.api import router as audit_router
from saferprisons.core.api_support import (
    ApiTokenAuth,
    SaferPrisonsAPI,
    StaffSessionAuth,
    install_error_handlers,
)
from saferprisons.estate.api import router as estate_router
from saferprisons.jobs.api import router as jobs_router
from saferprisons.monitoring.api import router as monitoring_router
from saferprisons.people.api import router as people_router

api = SaferPrisonsAPI(
    title="saferprisons API",
    version="1",
    description=(
        "Prisons, locations and people in the caller's prisons, their ACCT (self-harm and "
        "suicide prevention) cases, and the audit trail. "
        "Every error (4xx) answers "
        '{"error": {"code": ..., "message": ..., "fields": [{"field": ..., "message": ...}]}}.'
    ),
    urls_namespace="api",
    # The token first: a machine client never needs (or gets) the session's CSRF check.
    auth=[ApiTokenAuth(), StaffSessionAuth()],
    # The Swagger page loads scripts from a CDN, which the Content Security Policy refuses;
    # the schema itself is served at /api/openapi.json and committed as docs/openapi.json.
    docs_url=None,
)
install_error_handlers(api)

api.add_router("/me", accounts_router)
api.add_router("/prisons", estate_router)
api.add_router("/prisoners", people_router)
api.add_router("/acct", acct_router)
api.add_router("/audit", audit_router)
api.add_router("/jobs", jobs_router)
api.add_router("/monitoring", monitoring_router)
