"""Signing in and out on the audit trail (failed sign-ins and lockouts are audited where
axes counts them, in accounts.lockout)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from audit import trail
from audit.actors import Actor, client_address
from audit.models import AuditEvent


@receiver(user_logged_in, dispatch_uid="accounts.record_sign_in")
def record_sign_in(sender, request, user, **kwargs):
    """A password accepted (the second factor, where one is needed, is audited apart)."""
    trail.record(
        action=AuditEvent.Action.SIGN_IN,
        record=user,
        actor=Actor.for_user(user, address=client_address(request)),
    )


@receiver(user_logged_out, dispatch_uid="accounts.record_sign_out")
def record_sign_out(sender, request, user, **kwargs):
    """The person signed out. A session the app ended (signin.sessions: idle, or too
    long) sets `session_end_reason` and is audited there as SESSION_ENDED."""
    if user is None or getattr(request, "session_end_reason", None):
        return
    trail.record(
        action=AuditEvent.Action.SIGN_OUT,
        record=user,
        actor=Actor.for_user(user, address=client_address(request)),
    )
