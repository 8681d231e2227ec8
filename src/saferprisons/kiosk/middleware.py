"""Kiosk sessions: a prisoner signed in with a PIN, kept apart from staff sign-in.

The kiosk is an untrusted terminal. A kiosk session carries only the prisoner's id and the time
of the last request; after KIOSK_IDLE_TIMEOUT_SECONDS without a request it is ended, and the
terminal goes back to English for the next person.
"""

from django.conf import settings

from saferprisons.core import clock

SESSION_PRISONER_KEY = "kiosk_prisoner_id"
SESSION_LAST_SEEN_KEY = "kiosk_last_seen"
# Fonts, images and static files are not activity: they must neither keep a session alive nor
# write the session on every request.
NOT_ACTIVITY_PREFIXES = ("/assets/", "/static/")


class KioskSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.kiosk_principal = None
        if request.path.startswith(NOT_ACTIVITY_PREFIXES):
            return self.get_response(request)
        prisoner_id = request.session.get(SESSION_PRISONER_KEY)
        if prisoner_id is not None:
            now = clock.now().timestamp()
            last_seen = request.session.get(SESSION_LAST_SEEN_KEY, 0)
            if now - last_seen > settings.KIOSK_IDLE_TIMEOUT_SECONDS:
                request.session.flush()
                request.kiosk_timed_out = True
            else:
                from saferprisons.accounts.selectors import kiosk_principal_for

                request.kiosk_principal = kiosk_principal_for(prisoner_id)
                if request.kiosk_principal is None:
                    request.session.flush()
                else:
                    request.session[SESSION_LAST_SEEN_KEY] = now
        response = self.get_response(request)
        if getattr(request, "kiosk_timed_out", False):
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")
        return response
