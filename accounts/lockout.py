"""Lockout after failed sign-ins, on django-axes: a user name is locked after
AXES_FAILURE_LIMIT failures from any addresses, an address after
SIGNIN_ADDRESS_FAILURE_LIMIT failures on any user names, each until AXES_COOLOFF_TIME
after the failures that locked it, or until a clinic administrator lifts it.

Failed sign-ins and lockouts are audited here, where axes counts them, since only here
is it known whether a try was refused by a lockout already in force or started one.
The audit trail never holds the password, nor a user name that matches no account.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit import trail
from audit.actors import Actor, client_address
from audit.models import AuditEvent

# What each of AXES_LOCKOUT_PARAMETERS is called on the audit trail and in the admin.
PARAMETER_NAMES = {"username": "user name", "ip_address": "address"}


def failure_limits():
    """Each lockout parameter with the number of failures that locks it."""
    limits = {
        "username": settings.AXES_FAILURE_LIMIT,
        "ip_address": settings.SIGNIN_ADDRESS_FAILURE_LIMIT,
    }
    return [(parameter, limits[parameter]) for parameter in settings.AXES_LOCKOUT_PARAMETERS]


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler with a limit of its own for each lockout parameter, which
    audits failed sign-ins and lockouts."""

    def recent_failures(self, request, credentials=None):
        """{parameter: failures within the cool-off} for this request's user name and address."""
        return {
            parameter: attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for (parameter, _), attempts in zip(
                failure_limits(), self.get_user_attempts(request, credentials), strict=True
            )
        }

    def locked_parameters(self, request, credentials=None):
        failures = self.recent_failures(request, credentials)
        return [parameter for parameter, limit in failure_limits() if failures[parameter] >= limit]

    def get_failures(self, request, credentials=None):
        """axes compares this one count with AXES_FAILURE_LIMIT, both to refuse a try and
        to lock after a failure: the user name's failures, or the limit itself once
        either the user name or the address has reached its own limit."""
        failures = self.recent_failures(request, credentials)
        if any(failures[parameter] >= limit for parameter, limit in failure_limits()):
            return settings.AXES_FAILURE_LIMIT
        return failures["username"]

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        # axes' backend marks a try it refused because a lockout was already in force;
        # such a try is not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off).
        refused = getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:  # axes counted nothing either: there is no client to name
            return
        user = _account_named(get_client_username(request, credentials))
        trail.record(
            action=AuditEvent.Action.SIGN_IN_FAILED,
            record=user or get_user_model(),
            actor=Actor(label="anonymous", address=client_address(request)),
            reason=_failure_reason(user, refused=refused),
        )
        if request.axes_locked_out and not refused:
            trail.record(
                action=AuditEvent.Action.LOCKED_OUT,
                record=user or get_user_model(),
                actor=Actor(label="anonymous", address=client_address(request)),
                locked=[
                    PARAMETER_NAMES[parameter]
                    for parameter in self.locked_parameters(request, credentials)
                ],
            )


def _account_named(username):
    """The account with this user name, if there is one."""
    if not username:
        return None
    User = get_user_model()
    return User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()


def _failure_reason(user, *, refused):
    if refused:
        return "locked out"
    if user is None:
        return "unknown user name"
    if not user.is_active:
        return "inactive account"
    return "wrong password"


def lockout_ends(request, credentials=None):
    """When the lockout on this request's user name or address lifts by itself: for each
    one locked, when the oldest of the failures that keep it at its limit expires."""
    cool_off = get_cool_off(request)
    ends = []
    for (_, limit), attempts in zip(
        failure_limits(), LockoutHandler().get_user_attempts(request, credentials), strict=True
    ):
        counted = 0
        for failures, attempt_time in attempts.order_by("-attempt_time").values_list(
            "failures_since_start", "attempt_time"
        ):
            counted += failures
            if counted >= limit:
                ends.append(attempt_time + cool_off)
                break
    return max(ends, default=timezone.now() + cool_off)


def lift_lockouts(*, attempts, actor):
    """Forget these failed sign-ins (axes AccessAttempt rows), so the user names and
    addresses they locked can sign in again; one UNLOCK event for each."""
    with transaction.atomic():
        for attempt in attempts:
            trail.record(
                action=AuditEvent.Action.UNLOCK,
                record=attempt,
                actor=actor,
                user_id=getattr(_account_named(attempt.username), "pk", None),
                address=attempt.ip_address,
                failures=attempt.failures_since_start,
            )
            attempt.delete()
