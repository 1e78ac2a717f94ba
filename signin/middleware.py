"""Two gates every signed-in request passes once its URL is known: the staff session's
time limits, then the second factor for the admin and the staff pages."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, resolve_url
from django.urls import reverse

from . import sessions
from .second_factor import has_authenticator, must_use_second_factor

STATUS_VIEW = "signin:session-status"


def _redirect_coming_back(request, to):
    """A redirect to `to` that returns to this page afterwards (for a GET)."""
    url = resolve_url(to)
    if request.method in ("GET", "HEAD"):
        url += "?" + urlencode({"next": request.get_full_path()})
    return redirect(url)


class StaffSessionMiddleware:
    """Ends a signed-in session after STAFF_SESSION_IDLE without activity, or after
    STAFF_SESSION_MAX_AGE in all: the person is signed out, SESSION_ENDED is audited,
    and they land on the sign-in page with the reason. Every other request of theirs is
    activity, except the page's own question of how long is left.

    Patient pages (/v/) and the health check are left alone: patient sessions have no
    user and rules of their own. Goes after MessageMiddleware, which carries the reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        # Decided before touching the session, which would make the health check vary
        # by cookie.
        if match.namespace == "previsit" or match.view_name == "healthz":
            return None
        if not request.user.is_authenticated:
            return None
        now = time.time()
        left, reason = sessions.seconds_left(request.session, now)
        if left <= 0:
            messages.warning(request, sessions.end_staff_session(request, reason))
            if match.view_name in (settings.LOGIN_URL, STATUS_VIEW):
                return None
            return _redirect_coming_back(request, settings.LOGIN_URL)
        if match.view_name != STATUS_VIEW:
            sessions.note_activity(request.session, now)
        return None


class SecondFactorMiddleware:
    """The admin and the staff pages ask a person who must use a second factor (see
    `must_use_second_factor`) for a code, or to set up an authenticator app first, and
    then return to where they were going. Signing in and out stays open.

    Goes after OTPMiddleware, which tells whether this session passed the second factor.
    """

    OPEN = {"admin:login", "admin:logout"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # By address, so that every page under /staff/ (the audit views too) and
        # /admin/ is covered, whichever app serves it.
        guarded = (reverse("admin:index"), reverse("intake:today"))
        if not request.path_info.startswith(guarded):
            return None
        if request.resolver_match.view_name in self.OPEN:
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified() or not must_use_second_factor(user):
            return None
        if has_authenticator(user):
            return _redirect_coming_back(request, "signin:verify")
        return _redirect_coming_back(request, "signin:enrol")
