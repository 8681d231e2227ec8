from django.contrib import admin
from django.urls import include, path

from saferprisons.accounts.admin import admin_site_permission
from saferprisons.accounts.permissions import ADMINISTER
from saferprisons.api import api
from saferprisons.core import views as core_views
from saferprisons.core.permissions import API, declare_urlpatterns

admin.site.site_header = "saferprisons administration"
admin.site.has_permission = admin_site_permission

urlpatterns = [
    path("", include("saferprisons.core.urls")),
    path("", include("saferprisons.accounts.urls")),
    path("people/", include("saferprisons.people.urls")),
    path("estate/", include("saferprisons.estate.urls")),
    path("audit/", include("saferprisons.audit.urls")),
    path("kiosk/", include("saferprisons.kiosk.urls")),
    path("acct/", include("saferprisons.acct.urls")),
    path("monitoring/", include("saferprisons.monitoring.urls")),
    path("django-admin/", admin.site.urls),
]
declare_urlpatterns(urlpatterns[-1:], ADMINISTER)

# The JSON API (routers assembled in saferprisons/api.py); every operation declares its own
# permission, and the URL patterns themselves are marked as API so the middleware lets ninja decide.
urlpatterns.append(path("api/", api.urls))
declare_urlpatterns(urlpatterns[-1:], API)

handler403 = core_views.forbidden
handler404 = core_views.not_found
handler500 = core_views.server_error
