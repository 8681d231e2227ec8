"""The caller's own identity, so a machine client can check its token before it needs it."""

from ninja import Router

from saferprisons.core.api_support import api_permission, responses
from saferprisons.core.permissions import SIGNED_IN, principal_permissions

from .models import ApiToken
from .schemas import WhoAmIOut

router = Router(tags=["accounts"])


@router.get("", response=responses(200, WhoAmIOut), url_name="me")
@api_permission(SIGNED_IN)
def who_am_i(request):
    principal = request.auth
    is_token = isinstance(principal, ApiToken)
    prisons = principal.prisons.all()
    if not is_token:
        prisons = prisons.filter(deactivated_at__isnull=True)
    return {
        "kind": "token" if is_token else "staff",
        "name": principal.name if is_token else principal.get_username(),
        "permissions": sorted(principal_permissions(principal)),
        "prisons": sorted(prisons.values_list("code", flat=True)),
        "scopes": sorted(principal.scopes) if is_token else None,
        "expires_at": principal.expires_at if is_token else None,
    }
