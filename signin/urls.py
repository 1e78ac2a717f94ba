"""The second-factor pages and the session's keep-alive, under /accounts/."""

from django.urls import path

from . import views

app_name = "signin"

urlpatterns = [
    path("two-factor/", views.verify, name="verify"),
    path("two-factor/set-up/", views.enrol, name="enrol"),
    path("two-factor/recovery-codes/", views.recovery_codes, name="recovery-codes"),
    path("session/", views.session_status, name="session-status"),
    path("session/stay/", views.session_stay, name="session-stay"),
]
