"""The second-factor pages (set up an authenticator app, enter a code, recovery codes)
and the session's status and keep-alive, which the idle warning calls."""

import math
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from . import second_factor, sessions
from .forms import AppCodeForm, CodeForm


def _next_url(request):
    """Where the person was going, if it is on this site; else their usual start page."""
    url = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url("admin:index" if request.user.is_staff else "intake:today")


def _with_next(view_name, request):
    return f"{resolve_url(view_name)}?{urlencode({'next': _next_url(request)})}"


@never_cache
@login_required
def verify(request):
    """Queries: the person's groups and devices, then the one device the code is for."""
    user = request.user
    if user.is_verified() or not second_factor.must_use_second_factor(user):
        return redirect(_next_url(request))
    if not second_factor.has_authenticator(user):
        return redirect(_with_next("signin:enrol", request))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        try:
            device = second_factor.verify_second_factor(
                request=request, code=form.cleaned_data["code"], actor=request.actor
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            if isinstance(device, StaticDevice):
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} of them are left. "
                    "Make new ones from “Recovery codes” when you have your phone.",
                )
            return redirect(_next_url(request))
    return render(request, "signin/verify.html", {"form": form, "next": _next_url(request)})


@never_cache
@login_required
def enrol(request):
    """Set up an authenticator app: a QR code and the key as text, then the first code.

    A GET keeps one unconfirmed device for the person, so the QR code stays the same
    across reloads and wrong first codes are throttled like any other.
    """
    user = request.user
    if not second_factor.must_use_second_factor(user):
        raise Http404("Your role does not use a second factor.")
    if second_factor.has_authenticator(user):
        # A new app needs the old one (or a recovery code) first, or a password alone
        # could replace it; a lost phone is reset by a clinic administrator.
        if not user.is_verified():
            return redirect(_with_next("signin:verify", request))
        return redirect("signin:recovery-codes")
    device = second_factor.start_enrolment(user=user)
    form = AppCodeForm(request.POST or None)
    if form.is_valid():
        try:
            codes = second_factor.confirm_enrolment(
                request=request,
                device=device,
                code=form.cleaned_data["code"].replace(" ", ""),
                actor=request.actor,
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            return render(
                request,
                "signin/recovery_codes.html",
                {"codes": codes, "just_enrolled": True, "next": _next_url(request)},
            )
    return render(
        request,
        "signin/enrol.html",
        {
            "form": form,
            "qr_code": second_factor.qr_code_data_uri(device),
            "secret": second_factor.secret_for_typing(device),
            "next": _next_url(request),
        },
    )


@never_cache
@login_required
def recovery_codes(request):
    """How many recovery codes are left; a POST makes a new set, shown once."""
    if not second_factor.must_use_second_factor(request.user):
        raise Http404("Your role does not use a second factor.")
    if not request.user.is_verified():
        return redirect(_with_next("signin:verify", request))
    codes = None
    if request.method == "POST":
        codes = second_factor.make_recovery_codes(actor=request.actor)
    return render(
        request,
        "signin/recovery_codes.html",
        {
            "codes": codes,
            "left": second_factor.recovery_codes_left(request.user),
            "next": _next_url(request),
        },
    )


def _session_status(request):
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False})
    left, reason = sessions.seconds_left(request.session, time.time())
    return JsonResponse(
        {
            "signed_in": True,
            # Rounded up: 0 only once the session has ended.
            "seconds_left": max(math.ceil(left), 0),
            "ends_because": reason,
            "warning_seconds": int(settings.STAFF_SESSION_WARNING.total_seconds()),
        }
    )


@never_cache
@require_GET
def session_status(request):
    """How long the session has left. StaffSessionMiddleware does not count this request
    as activity, so a page asking in the background never keeps a session open."""
    return _session_status(request)


@never_cache
@require_POST
def session_stay(request):
    """“Stay signed in”: like any request from the person, this one is activity."""
    return _session_status(request)
