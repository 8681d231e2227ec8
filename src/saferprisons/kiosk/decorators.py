from functools import wraps

from django.shortcuts import redirect

from saferprisons.core.permissions import KIOSK


def kiosk_required(view):
    """A signed-in prisoner at a kiosk; everyone else goes to the kiosk sign-in page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.kiosk_principal is None:
            return redirect("kiosk:sign-in")
        return view(request, *args, **kwargs)

    wrapped.declared_permission = KIOSK
    return wrapped
