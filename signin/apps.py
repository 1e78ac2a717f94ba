"""Staff sign-in beyond the password: the second factor, and how long a session lasts."""

from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "signin"
    verbose_name = "Sign-in"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .sessions import start_staff_session

        user_logged_in.connect(start_staff_session, dispatch_uid="signin.start_staff_session")
