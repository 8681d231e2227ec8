from django.urls import path

from . import views

app_name = "kiosk"
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("language/<str:code>/", views.language, name="language"),
]
