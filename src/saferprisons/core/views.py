"""Home, choose prison, system status, GOV.UK assets and error pages."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django.views.static import serve

from .permissions import SIGNED_IN, has_permission, public, requires
from .prison_context import choose_prison as remember_prison
from .prison_context import current_prison, prisons_for


@requires(SIGNED_IN)
def home(request):
    """Send each role to where its work starts."""
    user = request.user
    if has_permission(user, "people.search"):
        if current_prison(request) is None:
            return redirect("core:choose-prison")
        return redirect("estate:prison", current_prison(request).code)
    if has_permission(user, "estate.view_aggregates"):
        return redirect("estate:overview")
    if has_permission(user, "audit.view_events"):
        return redirect("audit:events")
    return redirect("core:status")


@requires(SIGNED_IN)
@require_http_methods(["GET", "POST"])
def choose_prison(request):
    prisons = list(prisons_for(request.user))
    errors = []
    if request.method == "POST":
        chosen = next((p for p in prisons if p.code == request.POST.get("prison")), None)
        if chosen is not None:
            remember_prison(request, chosen)
            return redirect("core:home")
        errors = [{"text": "Choose the prison you are working in", "href": "#prison"}]
    return render(
        request,
        "core/choose_prison.html",
        {"title": "Choose prison", "prisons": prisons, "errors": errors},
        status=400 if errors else 200,
    )


@requires("jobs.view_status")
def status(request):
    return render(request, "core/status.html", {"title": "System status"})


@requires("accounts.administer")
def policy_settings(request):
    from .policy import POLICY_SETTINGS

    return render(
        request,
        "core/policy_settings.html",
        {"title": "Policy settings", "policy_settings": POLICY_SETTINGS},
    )


@public
def health(request):
    return HttpResponse("ok", content_type="text/plain")


@public
def govuk_asset(request, path: str):
    """Fonts and images that GOV.UK Frontend's stylesheet asks for under /assets/."""
    return serve(request, path, document_root=settings.GOVUK_ASSETS_DIR)


def forbidden(request, exception=None):
    return render(
        request,
        "core/error.html",
        {
            "title": "You do not have access to this page",
            "message": "Ask your line manager if you need this access.",
        },
        status=403,
    )


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        from .api_support import error_body

        return JsonResponse(error_body("not_found", "No such endpoint"), status=404)
    return render(
        request,
        "core/error.html",
        {
            "title": "Page not found",
            "message": "Check the address, or search for the person again.",
        },
        status=404,
    )


def server_error(request):
    return render(
        request,
        "core/error.html",
        {"title": "Sorry, there is a problem with the service", "message": "Try again later."},
        status=500,
    )
