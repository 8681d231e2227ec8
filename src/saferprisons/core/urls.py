from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("choose-prison/", views.choose_prison, name="choose-prison"),
    path("status/", views.status, name="status"),
    path("policy-settings/", views.policy_settings, name="policy-settings"),
    path("healthz", views.health, name="health"),
    path("assets/<path:path>", views.govuk_asset, name="govuk-asset"),
]
