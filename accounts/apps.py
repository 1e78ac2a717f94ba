"""Staff accounts: lockout after failed sign-ins, password reset, and the account admin."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        from . import signals  # noqa: F401 - connects the sign-in audit receivers
