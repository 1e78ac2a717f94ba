"""The second factor: who must use one, enrolling an authenticator app, verifying a code
(from the app or a recovery code), new recovery codes, and resetting a lost device.

Devices are django-otp's: a `TOTPDevice` for the app, a `StaticDevice` holding the
single-use recovery codes. django-otp refuses a code at or before the last time step
used (replay) and throttles wrong codes (1, 2, 4, 8… seconds between tries).
"""

import re
from base64 import b32encode

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit import trail
from audit.models import AuditEvent

APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
RECOVERY_CODE_COUNT = 10
TOTP_CODE = re.compile(r"\d{6}")

WRONG_CODE = "That code is not right. Enter the code your app shows now."
WRONG_RECOVERY_CODE = "That recovery code is not right, or it has been used already."


def must_use_second_factor(user):
    """Superusers, and members of the roles named in SECOND_FACTOR_ROLES."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name__in=settings.SECOND_FACTOR_ROLES).exists()


def has_authenticator(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def start_enrolment(*, user):
    """The user's unconfirmed authenticator: made on first call, the same one after, so
    that the QR code stays put while the person finds their phone."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)
    return device


def qr_code_data_uri(device):
    """The authenticator's set-up address as a QR code, an SVG data: URI for an <img>."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def secret_for_typing(device):
    """The key as an app asks for it when typed in: base32, in groups of four."""
    key = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def confirm_enrolment(*, request, device, code, actor):
    """Confirm the authenticator with its first code and sign the session in with it.

    Returns the new recovery codes, to be shown once. Raises ValidationError for a
    wrong or throttled code.
    """
    with transaction.atomic():
        # Two tabs confirming at once: the lock lets the second see the first's work,
        # and the code's time step is used up by whichever verifies it first.
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=actor.user)
        if device.confirmed:
            refusal = "This app is already set up. Sign in with its code."
        else:
            refusal = _check_code(device=device, code=code, actor=actor, stage="enrol")
        if refusal is None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # Anything set up before and left unconfirmed is not this person's app.
            TOTPDevice.objects.filter(user=actor.user, confirmed=False).delete()
            codes = _replace_recovery_codes(actor.user)
            trail.record(action=AuditEvent.Action.ENROL, record=device, actor=actor, kind="totp")
    # Raised after the commit, which keeps the throttle's count and the audit event.
    if refusal:
        raise ValidationError(refusal)
    _sign_session_in(request, device)
    return codes


def verify_second_factor(*, request, code, actor):
    """Check a code from the authenticator app (six digits) or a recovery code, and
    mark the session as having passed the second factor. Returns the device used.

    Raises ValidationError for a wrong, used, replayed or throttled code; each refusal
    is an audit event.
    """
    code = re.sub(r"[\s-]", "", code).lower()
    is_app_code = TOTP_CODE.fullmatch(code) is not None
    model = TOTPDevice if is_app_code else StaticDevice
    with transaction.atomic():
        # The same code sent twice at once (a replay, or a double submit): the lock
        # makes the second wait and then find the code's time step, or the recovery
        # code, used up.
        device = (
            model.objects.select_for_update()
            .filter(user=actor.user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            _refuse(actor=actor, record=None, reason="no device", stage="verify")
            refusal = WRONG_CODE if is_app_code else WRONG_RECOVERY_CODE
        else:
            refusal = _check_code(device=device, code=code, actor=actor, stage="verify")
        if refusal is None:
            trail.record(
                action=AuditEvent.Action.SECOND_FACTOR,
                record=device,
                actor=actor,
                method="totp" if is_app_code else "recovery code",
            )
    # Raised after the commit, which keeps the throttle's count and the audit event.
    if refusal:
        raise ValidationError(refusal)
    _sign_session_in(request, device)
    return device


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def make_recovery_codes(*, actor):
    """New recovery codes for the acting user; the old ones stop working."""
    with transaction.atomic():
        codes = _replace_recovery_codes(actor.user)
        device = StaticDevice.objects.get(user=actor.user)
        trail.record(
            action=AuditEvent.Action.ENROL, record=device, actor=actor, kind="recovery codes"
        )
    return codes


def reset_second_factor(*, user, actor):
    """Remove a person's authenticator and recovery codes (a lost or replaced phone).
    They set up a new app the next time they sign in. Only a superuser may reset a
    superuser's."""
    if user.is_superuser and not (actor.user and actor.user.is_superuser):
        raise ValidationError(f"Only a superuser can reset {user.get_username()}'s second factor.")
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=user,
            actor=actor,
            second_factor="reset",
        )
    return removed


def _check_code(*, device, code, actor, stage):
    """None if the device accepts the code; else the message for the person, after
    recording the refusal."""
    allowed, details = device.verify_is_allowed()
    if not allowed:
        wait_until = timezone.localtime(details["locked_until"])
        _refuse(actor=actor, record=device, reason="throttled", stage=stage)
        return (
            f"Too many wrong codes. Wait until {wait_until:%H:%M:%S}, "
            "then try again with a new code."
        )
    if not device.verify_token(code):
        _refuse(actor=actor, record=device, reason="wrong code", stage=stage)
        return WRONG_CODE if isinstance(device, TOTPDevice) else WRONG_RECOVERY_CODE
    return None


def _refuse(*, actor, record, reason, stage):
    trail.record(
        action=AuditEvent.Action.SECOND_FACTOR_FAILED,
        record=record,
        record_type="" if record else "second factor",
        actor=actor,
        reason=reason,
        stage=stage,
    )


def _replace_recovery_codes(user):
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _sign_session_in(request, device):
    # Passing the second factor raises what the session may do: a new session key, as
    # Django's own login gives, so a key seen before this point is worth nothing.
    request.session.cycle_key()
    otp_login(request, device)
