"""How long a staff session lasts: STAFF_SESSION_IDLE without a request from the person,
STAFF_SESSION_MAX_AGE in any case. Patient (pre-visit) sessions have no user and keep
their own rules.

The session holds two Unix times: when the person signed in, and their last request.
Background requests (the page asking how long is left) do not count as activity.
"""

import time

from django.conf import settings
from django.contrib.auth import logout

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent

STARTED = "staff_session_started"
LAST_ACTIVITY = "staff_session_last_activity"

IDLE = "idle"
TOO_LONG = "too long"


def start_staff_session(sender, request, user, **kwargs):
    """On sign-in (a `user_logged_in` receiver): the clock starts."""
    now = time.time()
    request.session[STARTED] = now
    request.session[LAST_ACTIVITY] = now


def note_activity(session, now):
    session[LAST_ACTIVITY] = now


def seconds_left(session, now):
    """(seconds until the session ends, which limit ends it: IDLE or TOO_LONG)."""
    # A session from before these limits existed starts its clock now.
    started = session.setdefault(STARTED, now)
    last_activity = session.setdefault(LAST_ACTIVITY, now)
    idle_left = settings.STAFF_SESSION_IDLE.total_seconds() - (now - last_activity)
    absolute_left = settings.STAFF_SESSION_MAX_AGE.total_seconds() - (now - started)
    if absolute_left <= idle_left:
        return absolute_left, TOO_LONG
    return idle_left, IDLE


def end_staff_session(request, reason):
    """Sign the person out, record why, and return the message for the sign-in page."""
    actor = Actor.of_request(request)
    limit = settings.STAFF_SESSION_IDLE if reason == IDLE else settings.STAFF_SESSION_MAX_AGE
    trail.record(
        action=AuditEvent.Action.SESSION_ENDED,
        record=request.user,
        actor=actor,
        reason=reason,
        limit_seconds=int(limit.total_seconds()),
    )
    # A `user_logged_out` receiver can tell this from a person's own sign-out.
    request.session_end_reason = reason
    logout(request)
    if reason == IDLE:
        return (
            f"You were signed out after {describe(limit)} of inactivity. Sign in again to continue."
        )
    return (
        f"You were signed out because you had been signed in for {describe(limit)}. "
        "Sign in again to continue."
    )


def describe(duration):
    """'15 minutes', '12 hours', '8 seconds'."""
    seconds = int(duration.total_seconds())
    for size, unit in ((3600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
