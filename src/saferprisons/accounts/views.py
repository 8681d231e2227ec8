from django.contrib.auth import login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core.errors import ValidationFailed
from saferprisons.core.permissions import SIGNED_IN, public, requires

from .services import sign_in_staff


@public
@require_http_methods(["GET", "POST"])
def sign_in(request):
    errors = []
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        password = request.POST.get("password", "")[:200]
        if not username or not password:
            errors = [{"text": "Enter your username and password", "href": "#username"}]
        else:
            try:
                user = sign_in_staff(request=request, username=username, password=password)
            except ValidationFailed as error:
                errors = [{"text": error.message, "href": "#username"}]
            else:
                login(request, user)
                next_url = request.POST.get("next", "")
                if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
                    next_url = "/"
                return redirect(next_url or "/")
    return render(
        request,
        "accounts/sign_in.html",
        {
            "title": "Sign in",
            "errors": errors,
            "username": username,
            "next": request.GET.get("next", request.POST.get("next", "")),
        },
        status=400 if errors else 200,
    )


@requires(SIGNED_IN)
@require_http_methods(["GET", "POST"])
def sign_out(request):
    if request.method == "GET":
        return render(request, "accounts/sign_out.html", {"title": "Sign out"})
    record(
        actor=request.user,
        action=Action.SIGN_OUT,
        object_type="user",
        object_id=request.user.public_id,
    )
    logout(request)
    return redirect("accounts:sign-in")
