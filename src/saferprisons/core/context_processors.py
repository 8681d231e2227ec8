"""What every page's layout needs: who is signed in, their prison, navigation, worker status."""

from django.conf import settings
from django.middleware.csrf import get_token

from .permissions import has_permission
from .prison_context import current_prison


def layout(request) -> dict:
    user = getattr(request, "user", None)
    context = {
        "request": request,
        "csrf_token": get_token(request),
        "csp_nonce": getattr(request, "csp_nonce", ""),
        "demo_mode": getattr(settings, "DEMO_MODE", False),
        "user": user,
        "can": lambda permission: has_permission(user, permission),
        "current_prison": None,
        "worker": None,
    }
    if user is not None and user.is_authenticated:
        context["current_prison"] = current_prison(request)
        if has_permission(user, "jobs.view_status"):
            context["worker"] = _worker_status()
    return context


def _worker_status():
    from saferprisons.jobs.selectors import worker_status

    return worker_status()
