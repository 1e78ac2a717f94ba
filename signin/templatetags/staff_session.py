"""`{% session_timeout_dialog %}`: the idle warning, on every page a signed-in person sees."""

import math
import time

from django import template
from django.conf import settings

from signin import sessions

register = template.Library()


@register.inclusion_tag("signin/includes/session_timeout.html", takes_context=True)
def session_timeout_dialog(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    left, reason = sessions.seconds_left(request.session, time.time())
    return {
        "show": True,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "seconds_left": max(math.ceil(left), 0),
        "ends_because": reason,
        "warning_seconds": int(settings.STAFF_SESSION_WARNING.total_seconds()),
        "idle": sessions.describe(settings.STAFF_SESSION_IDLE),
        "max_age": sessions.describe(settings.STAFF_SESSION_MAX_AGE),
    }
