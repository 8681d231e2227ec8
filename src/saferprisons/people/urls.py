from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("", views.search, name="search"),
    path("<str:prison_number>/", views.profile, name="profile"),
    path("<str:prison_number>/case-notes/new/", views.add_case_note, name="add-case-note"),
    path("<str:prison_number>/move/", views.move_cell, name="move-cell"),
    path(
        "<str:prison_number>/cell-sharing-risk/",
        views.record_cell_sharing_risk,
        name="cell-sharing-risk",
    ),
    path("<str:prison_number>/alerts/new/", views.add_alert, name="add-alert"),
    path("<str:prison_number>/alerts/<uuid:alert_id>/end/", views.end_alert, name="end-alert"),
]
