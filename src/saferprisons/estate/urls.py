from django.urls import path

from . import views

app_name = "estate"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("<str:code>/", views.prison, name="prison"),
    path("<str:code>/wings/<str:wing>/", views.wing, name="wing"),
]
