"""Password reset by e-mail: a link to choose a new password (or, for a new account, a
first one) sent at most PASSWORD_RESET_EMAILS_PER_HOUR times an hour to one account,
and the audit event of a completed reset.

The link is made when the e-mail goes out (a background task), from STAFF_BASE_URL,
never from the request's Host header. Asking for a reset says nothing about whether an
account has the address, and an e-mail held back by the limit looks the same.
"""

import contextlib
import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit import trail
from audit.models import AuditEvent

logger = logging.getLogger(__name__)


def request_password_reset(*, email, actor):
    """Someone asked for a reset for this e-mail address: send one to each active
    account that has it and signs in with a password, within each account's limit."""
    for user in PasswordResetForm().get_users(email):
        # Over the limit, nothing is sent: the page says the same either way.
        with contextlib.suppress(ValidationError):
            send_password_reset(user=user, actor=actor)


def emails_sent_recently(user):
    """How many reset e-mails went to this account in the last hour."""
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.SEND,
        record_type=user._meta.label_lower,
        record_id=user.pk,
        at__gte=timezone.now() - datetime.timedelta(hours=1),
    ).count()


def send_password_reset(*, user, actor):
    """E-mail `user` a link to choose a new password; the SEND audit event is also what
    the hourly limit counts. Raises ValidationError when it cannot or may not go."""
    if not user.is_active:
        raise ValidationError("The account is deactivated.", code="inactive")
    if not user.email:
        raise ValidationError("The account has no e-mail address.", code="no_email")
    with transaction.atomic():
        # Two requests for the same account race for its last e-mail of the hour.
        user = get_user_model()._default_manager.select_for_update().get(pk=user.pk)
        if emails_sent_recently(user) >= settings.PASSWORD_RESET_EMAILS_PER_HOUR:
            raise ValidationError(
                "A reset e-mail has been sent to this account "
                f"{settings.PASSWORD_RESET_EMAILS_PER_HOUR} times in the last hour. "
                "Try again later.",
                code="too_many",
            )
        trail.record(
            action=AuditEvent.Action.SEND, record=user, actor=actor, message="password reset"
        )
        transaction.on_commit(lambda: email_password_reset.enqueue(user.pk))


def reset_link(user):
    """A link that lets the account's owner choose a password, once, for
    PASSWORD_RESET_TIMEOUT seconds (Django's token: it stops working once the password
    changes or the person signs in)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.STAFF_BASE_URL + path


@task
def email_password_reset(user_id):
    """Make the reset link and e-mail it. A mailer failure is logged by account id and
    kind of error only (its message can quote the address)."""
    user = get_user_model()._default_manager.get(pk=user_id)
    new_account = not user.has_usable_password()
    context = {
        "user": user,
        "url": reset_link(user),
        "new_account": new_account,
        "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        "clinic_name": settings.CLINIC_NAME,
    }
    subject = "Your staff account" if new_account else "Reset your password"
    try:
        send_mail(
            subject=f"{subject} at {settings.CLINIC_NAME}",
            message=render_to_string("accounts/emails/password_reset.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    except Exception as error:  # the person asking sees the same page either way
        logger.warning(
            "Password reset e-mail to account %s could not be sent: %s",
            user.pk,
            type(error).__name__,
        )


def record_password_reset(*, user, actor):
    """A password chosen through a reset link. It lifts nothing else: a lockout stays
    until it ends, and the second factor is still asked for."""
    trail.record(action=AuditEvent.Action.PASSWORD_RESET, record=user, actor=actor)
