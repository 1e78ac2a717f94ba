"""Pre-visit links: issuing, sending, revoking, checking and reopening them.

A token is 256 random bits from `secrets`; only its SHA-256 hash is stored and it is
compared in constant time. An e-mailed link's token is made inside the background task
that sends it, so the plain token is never stored, not even in a task queue.
"""

import datetime
import hashlib
import hmac
import logging
import math
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit import trail
from audit.actors import client_address
from audit.models import AuditEvent

from . import consent, patient_language
from .answers import save_answers
from .models import AccessAttempt, Attestation, PreVisitLink, Visit

logger = logging.getLogger(__name__)
# What staff read when the mailer fails: plain words, never the mailer's own error.
SEND_FAILED = (
    "The e-mail could not be sent. Show a link to copy or read out, or try sending again later."
)


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(token):
    """The link's address, from the configured base URL, never from a request."""
    return settings.PREVISIT_BASE_URL + reverse("previsit:start", kwargs={"token": token})


def _new_token():
    return secrets.token_urlsafe(32)


def link_expiry(*, issued_at, visit_time):
    """When a link issued at `issued_at` stops working: PREVISIT_LINK_DAYS later, and
    never after the visit begins."""
    return min(issued_at + datetime.timedelta(days=settings.PREVISIT_LINK_DAYS), visit_time)


def _issue(*, visit, actor, channel):
    # Staff sending twice at once, or cancelling meanwhile: lock the visit, so only one
    # link stays active and the status checked is the status that holds.
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if not visit.intake_is_open:
        raise ValidationError(
            f"This visit is {visit.get_status_display().lower()}: no pre-visit link can be sent."
        )
    now = timezone.now()
    expires_at = link_expiry(issued_at=now, visit_time=visit.scheduled_at)
    if expires_at <= now:
        raise ValidationError("The visit time has passed: a pre-visit link would not work.")
    PreVisitLink.objects.filter(visit=visit, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor.user, revoke_reason="Replaced by a new link"
    )
    link = PreVisitLink.objects.create(
        visit=visit, channel=channel, created_by=actor.user, expires_at=expires_at
    )
    trail.record(
        action=AuditEvent.Action.SEND,
        record=link,
        patient_id=visit.patient_id,
        actor=actor,
        channel=channel,
    )
    return link


def send_previsit_link(*, visit, actor):
    """Issue a link and e-mail it to the patient in the background."""
    if not visit.patient.email:
        raise ValidationError("The patient has no e-mail address. Show a link to copy instead.")
    if not visit.patient.may_email:
        raise ValidationError(
            "The patient asked not to be contacted by e-mail. Show a link to copy instead."
        )
    with transaction.atomic():
        link = _issue(visit=visit, actor=actor, channel=PreVisitLink.Channel.EMAIL)
        transaction.on_commit(lambda: email_previsit_link.enqueue(link.pk))
    return link


def show_previsit_link(*, visit, actor):
    """Issue a link to show once on screen; returns (link, url)."""
    token = _new_token()
    with transaction.atomic():
        link = _issue(visit=visit, actor=actor, channel=PreVisitLink.Channel.SHOWN)
        link.token_hash = hash_token(token)
        link.sent_at = timezone.now()
        link.save(update_fields=["token_hash", "sent_at"])
    return link, link_url(token)


@task
def email_previsit_link(link_id):
    """Make the link's token and e-mail the link; record a failure for staff to see."""
    link = PreVisitLink.objects.select_related("visit__patient", "visit__condition").get(pk=link_id)
    if link.state != PreVisitLink.State.PENDING:
        return
    if not link.visit.patient.may_email:
        # The patient said no to e-mail (or the address went) after the link was queued.
        link.send_error = (
            "The patient asked not to be contacted by e-mail, so the link was not sent. "
            "Show a link to copy instead."
        )
        link.save(update_fields=["send_error"])
        return
    token = _new_token()
    link.token_hash = hash_token(token)
    link.save(update_fields=["token_hash"])
    context = {
        "visit": link.visit,
        "url": link_url(token),
        "expires_at": link.expires_at,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }
    with translation.override(patient_language.of_patient(link.visit.patient)):
        subject = gettext("Before your visit to %(clinic)s") % {"clinic": settings.CLINIC_NAME}
        message = render_to_string("intake/emails/previsit_link.txt", context)
    try:
        send_mail(
            subject=subject,
            message=message,
            from_email=None,
            recipient_list=[link.visit.patient.email],
        )
    except Exception as error:  # any mailer failure is shown to staff, not lost
        # Mail errors can quote the address: log only the link and the kind of error.
        logger.warning("Pre-visit link %s could not be sent: %s", link.pk, type(error).__name__)
        link.send_error = SEND_FAILED
        link.token_hash = None
        link.save(update_fields=["send_error", "token_hash"])
        return
    link.sent_at = timezone.now()
    link.save(update_fields=["sent_at"])


def revoke_link(*, link, actor, reason="Revoked by staff"):
    with transaction.atomic():
        link = PreVisitLink.objects.select_for_update().get(pk=link.pk)
        if link.revoked_at:
            return link
        link.revoked_at = timezone.now()
        link.revoked_by = actor.user
        link.revoke_reason = reason
        link.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        trail.record(
            action=AuditEvent.Action.REVOKE,
            record=link,
            patient_id=link.visit.patient_id,
            actor=actor,
        )
    return link


def reopen_link(*, link, actor):
    """Let the patient change their submitted answers again through the same link."""
    with transaction.atomic():
        link = PreVisitLink.objects.select_for_update().select_related("visit").get(pk=link.pk)
        if not link.submitted_at:
            raise ValidationError("The patient has not submitted their answers yet.")
        if not link.visit.intake_is_open:
            raise ValidationError(
                f"This visit is {link.visit.get_status_display().lower()}: "
                "the patient's answers cannot change."
            )
        if not link.can_be_reopened:
            raise ValidationError("This link no longer works: send a new one instead.")
        link.submitted_at = None
        link.save(update_fields=["submitted_at"])
        visit = Visit.objects.select_for_update().get(pk=link.visit_id)
        if visit.status == Visit.Status.INTAKE_COMPLETE:
            visit.move_to(Visit.Status.INTAKE_IN_PROGRESS)
            visit.save_by(actor, update_fields=["status", "updated_at"])
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=link,
            patient_id=visit.patient_id,
            actor=actor,
            reopened=True,
        )
    return link


def save_patient_answers(*, link, values, expected_version, actor):
    """The patient saving their answers through a link, to come back to or to send
    (submit_previsit_answers); `actor` is the patient acting through it
    (`Actor.through_link`)."""
    with transaction.atomic():
        link = lock_active_link(link)
        return save_answers(
            visit=link.visit, values=values, expected_version=expected_version, actor=actor
        )


def submit_previsit_answers(
    *, link, expected_version, respondent, full_name, relation="", relation_other="", actor
):
    """The patient sending their saved answers, once, with their word that they are true
    (an Attestation of who sends them, the name typed and the words agreed to, in the
    active language). The only way a link's answers are sent: none go without one.

    `expected_version` is the intake version the patient confirmed: answers changed
    since (by the clinic, or in another tab) raise IntakeConflict, so what is sent is
    what they saw."""
    with transaction.atomic():
        link = lock_active_link(link)
        visit = save_answers(
            visit=link.visit,
            values={},
            expected_version=expected_version,
            complete=True,
            actor=actor,
        )
        link.submitted_at = timezone.now()
        link.save(update_fields=["submitted_at"])
        text = consent.agreed_text()
        attestation = Attestation(
            link=link,
            respondent=respondent,
            relation=relation,
            relation_other=relation_other,
            full_name=full_name.strip(),
            attested_at=link.submitted_at,
            client_address=actor.address,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            text=text,
            text_hash=consent.text_hash(text),
        )
        attestation.full_clean()
        attestation.save()
        trail.record(
            action=AuditEvent.Action.CREATE,
            record=attestation,
            patient_id=visit.patient_id,
            actor=actor,
        )
    return visit


def lock_active_link(link):
    """The link, fresh and locked until the transaction ends; LinkNotUsable unless it is
    active. Everything the patient does through a link waits here for what they do in
    another tab (or with a double click) to finish.

    The lock is taken with a write, as the first statement: on SQLite a read first (FOR
    UPDATE is ignored there) lets both requests in, and the second then fails with
    "database is locked"."""
    PreVisitLink.objects.filter(pk=link.pk).update(submitted_at=F("submitted_at"))
    link = PreVisitLink.objects.select_related("visit").get(pk=link.pk)
    if link.state != PreVisitLink.State.ACTIVE:
        raise LinkNotUsable(link.state)
    return link


class LinkNotUsable(Exception):
    """The link was revoked, expired, locked or submitted meanwhile."""

    def __init__(self, state):
        super().__init__(state)
        self.state = state


def find_link(token):
    """The link for a token, or None; the hash is compared in constant time."""
    if not token or len(token) > 100:
        return None
    wanted = hash_token(token)
    link = (
        PreVisitLink.objects.select_related(
            "visit__patient", "visit__condition", "visit__content_version"
        )
        .filter(token_hash=wanted)
        .first()
    )
    if link is None or not hmac.compare_digest(link.token_hash, wanted):
        return None
    return link


def check_date_of_birth(*, link, date_of_birth, actor):
    """True if it matches the patient's; five wrong tries lock the link."""
    with transaction.atomic():
        link = (
            PreVisitLink.objects.select_for_update()
            .select_related("visit__patient")
            .get(pk=link.pk)
        )
        if link.locked_at:
            return False
        if date_of_birth == link.visit.patient.date_of_birth:
            link.verified_at = timezone.now()
            link.save(update_fields=["verified_at"])
            return True
        link.failed_attempts = F("failed_attempts") + 1
        link.save(update_fields=["failed_attempts"])
        link.refresh_from_db(fields=["failed_attempts"])
        if link.failed_attempts >= PreVisitLink.MAX_DOB_ATTEMPTS:
            link.locked_at = timezone.now()
            link.save(update_fields=["locked_at"])
            trail.record(
                action=AuditEvent.Action.UPDATE,
                record=link,
                patient_id=link.visit.patient_id,
                actor=actor,
                locked=True,
            )
        return False


def mark_opened(link):
    if link.opened_at is None:
        PreVisitLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )


def _client_key(request):
    address = client_address(request) or ""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()


def _window_start():
    minutes = settings.PREVISIT_FAILURE_WINDOW_MINUTES
    now = timezone.now()
    return now - datetime.timedelta(
        minutes=now.minute % minutes, seconds=now.second, microseconds=now.microsecond
    )


def too_many_failures(request):
    """Whether this client address has used up its failed tries for the current window."""
    attempt = AccessAttempt.objects.filter(
        client=_client_key(request), window_start=_window_start()
    ).first()
    return attempt is not None and attempt.failures >= settings.PREVISIT_MAX_FAILURES


def seconds_until_tries_reset():
    """How long until the current window ends and failed tries count from zero again."""
    window_end = _window_start() + datetime.timedelta(
        minutes=settings.PREVISIT_FAILURE_WINDOW_MINUTES
    )
    return max(math.ceil((window_end - timezone.now()).total_seconds()), 1)


def record_failure(request):
    """Count a bad token or date of birth from this client, in the shared database."""
    window_start = _window_start()
    attempt, created = AccessAttempt.objects.get_or_create(
        client=_client_key(request), window_start=window_start
    )
    AccessAttempt.objects.filter(pk=attempt.pk).update(failures=F("failures") + 1)
    if created:
        AccessAttempt.objects.filter(
            window_start__lt=window_start - datetime.timedelta(days=1)
        ).delete()
