"""The prisoner kiosk: PIN sign-in, home, sign-out, English and Welsh.

The kiosk is an untrusted terminal; every page shows only the signed-in person's own data,
read through request.kiosk_principal (never an id from the URL or the form).
"""

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from saferprisons.accounts.services import sign_in_kiosk
from saferprisons.audit.constants import Action
from saferprisons.audit.services import record
from saferprisons.core.errors import ValidationFailed
from saferprisons.core.permissions import public
from saferprisons.people.selectors import current_allocations

from .decorators import kiosk_required
from .middleware import SESSION_LAST_SEEN_KEY, SESSION_PRISONER_KEY

LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


def _kiosk_render(request, template, context, status=200):
    context = {
        "kiosk_principal": request.kiosk_principal,
        "idle_timeout": settings.KIOSK_IDLE_TIMEOUT_SECONDS,
        **context,
    }
    return render(request, template, context, status=status)


@public
@require_http_methods(["GET", "POST"])
def sign_in(request):
    errors = []
    number = ""
    if request.method == "POST":
        number = request.POST.get("prison_number", "").strip().upper()[:7]
        pin = request.POST.get("pin", "")[:8]
        if not number or not pin:
            errors = [{"text": _("Enter your prison number and PIN"), "href": "#prison_number"}]
        else:
            try:
                principal = sign_in_kiosk(prison_number=number, pin=pin)
            except ValidationFailed:
                errors = [
                    {"text": _("Enter a correct prison number and PIN"), "href": "#prison_number"}
                ]
            else:
                language = translation.get_language()
                request.session.cycle_key()
                request.session[SESSION_PRISONER_KEY] = principal.prisoner.pk
                from saferprisons.core import clock

                request.session[SESSION_LAST_SEEN_KEY] = clock.now().timestamp()
                response = redirect("kiosk:home")
                response.set_cookie(LANGUAGE_COOKIE, language, samesite="Lax", httponly=True)
                return response
    timed_out = getattr(request, "kiosk_timed_out", False) or request.GET.get("timeout") == "1"
    return _kiosk_render(
        request,
        "kiosk/sign_in.html",
        {
            "title": _("Sign in to the kiosk"),
            "errors": errors,
            "prison_number": number,
            "timed_out": timed_out,
        },
        status=400 if errors else 200,
    )


@kiosk_required
def home(request):
    prisoner = request.kiosk_principal.prisoner
    allocation = current_allocations([prisoner]).get(prisoner.pk)
    record(
        actor=request.kiosk_principal,
        action=Action.VIEW,
        object_type="prisoner",
        object_id=prisoner.public_id,
        prison_code=prisoner.prison.code,
        details={"via": "kiosk"},
    )
    return _kiosk_render(
        request,
        "kiosk/home.html",
        {
            "title": _("Your kiosk"),
            "prisoner": prisoner,
            "cell": allocation.cell if allocation else None,
        },
    )


@public
@require_http_methods(["GET", "POST"])
def sign_out(request):
    if request.kiosk_principal is not None:
        record(
            actor=request.kiosk_principal,
            action=Action.SIGN_OUT,
            object_type="kiosk_session",
            object_id=request.kiosk_principal.prisoner.public_id,
        )
    request.session.flush()
    response = redirect("kiosk:sign-in")
    # A shared terminal: the next person starts in English and chooses their language.
    response.delete_cookie(LANGUAGE_COOKIE, samesite="Lax")
    return response


@public
def language(request, code: str):
    code = code if code in {"en", "cy"} else "en"
    target = "kiosk:home" if request.kiosk_principal else "kiosk:sign-in"
    response = redirect(target)
    response.set_cookie(LANGUAGE_COOKIE, code, samesite="Lax", httponly=True)
    return response
