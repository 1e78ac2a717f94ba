"""The one reminder e-mailed before a visit whose pre-visit link has not been answered.

`manage.py send_previsit_reminders`, run every few minutes by a timer, enqueues a task per
visit whose reminder is due; the task checks everything again under the visit's lock and
records the reminder (sent, or why not) before it sends, so it goes once at most.

The plain token of the patient's link is never stored, and a new link would stop the one
the patient may be using, so the reminder cannot carry a link: it points to the e-mail
the link came in, and to the clinic's phone for a new one.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent

from . import patient_language
from .models import PreVisitLink, PreVisitReminder, Visit

logger = logging.getLogger(__name__)

ACTOR = Actor.system("pre-visit reminders")
# What staff read when a reminder did not go: plain words, never the mailer's own error.
NO_EMAIL_ADDRESS = "The patient has no e-mail address."
EMAIL_NOT_ALLOWED = "The patient asked not to be contacted by e-mail."
SEND_FAILED = "The e-mail could not be sent. Call the patient if their answers are needed."


def reason_not_to_email(patient):
    """Why the patient may not be e-mailed a reminder, in words for staff, or ""."""
    if not patient.email:
        return NO_EMAIL_ADDRESS
    if not patient.may_email:
        return EMAIL_NOT_ALLOWED
    return ""


def reminder_for_staff(visit):
    """The visit's reminder as staff see it: the one recorded, or an unsaved one saying when
    it is due (and, in `not_sent_reason`, why it will not go); None when none is to come."""
    reminder = PreVisitReminder.objects.filter(visit=visit).first()
    if reminder is not None:
        return reminder
    awaiting = Visit.objects.awaiting_previsit_reminder().filter(pk=visit.pk).first()
    if awaiting is None:
        return None
    return PreVisitReminder(
        visit=visit,
        due_at=awaiting.reminder_due_at,
        not_sent_reason=reason_not_to_email(visit.patient),
    )


def enqueue_due_reminders():
    """Enqueue a reminder task for each visit whose reminder is due; returns how many."""
    due = Visit.objects.awaiting_previsit_reminder().filter(reminder_due_at__lte=timezone.now())
    visit_ids = list(due.values_list("pk", flat=True))
    for visit_id in visit_ids:
        email_previsit_reminder.enqueue(visit_id)
    return len(visit_ids)


@task
def email_previsit_reminder(visit_id):
    """Record the visit's reminder, if it is still due, and e-mail it; record a failure for
    staff to see (it is not tried again)."""
    with transaction.atomic():
        # Two workers with the same visit (the command ran twice before the queue was
        # worked), or staff cancelling or moving the visit meanwhile: the visit's lock
        # orders them, and whoever comes second finds the reminder recorded or not due.
        visit = Visit.objects.select_for_update().select_related("patient").get(pk=visit_id)
        due = (
            Visit.objects.awaiting_previsit_reminder()
            .filter(pk=visit.pk, reminder_due_at__lte=timezone.now())
            .first()
        )
        if due is None:
            return
        link = visit.previsit_links.get(channel=PreVisitLink.Channel.EMAIL, revoked_at=None)
        reminder = PreVisitReminder.objects.create(
            visit=visit,
            link=link,
            due_at=due.reminder_due_at,
            not_sent_reason=reason_not_to_email(visit.patient),
        )
        if reminder.not_sent_reason:
            trail.record(
                action=AuditEvent.Action.SEND,
                record=reminder,
                patient_id=visit.patient_id,
                actor=ACTOR,
                reminder="not sent",
            )
            return
    context = {
        "given_name": visit.patient.given_name,
        "visit_time": visit.scheduled_at,
        "link_sent_at": link.sent_at,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }
    with translation.override(patient_language.of_patient(visit.patient)):
        subject = gettext("A reminder before your visit to %(clinic)s") % {
            "clinic": settings.CLINIC_NAME
        }
        message = render_to_string("intake/emails/previsit_reminder.txt", context)
    try:
        send_mail(
            subject=subject,
            message=message,
            from_email=None,
            recipient_list=[visit.patient.email],
        )
    except Exception as error:  # any mailer failure is shown to staff, not lost
        # Mail errors can quote the address: log only the reminder and the kind of error.
        logger.warning(
            "Pre-visit reminder %s could not be sent: %s", reminder.pk, type(error).__name__
        )
        reminder.not_sent_reason = SEND_FAILED
        reminder.save(update_fields=["not_sent_reason"])
        outcome = "failed"
    else:
        reminder.sent_at = timezone.now()
        reminder.save(update_fields=["sent_at"])
        outcome = "sent"
    trail.record(
        action=AuditEvent.Action.SEND,
        record=reminder,
        patient_id=visit.patient_id,
        actor=ACTOR,
        reminder=outcome,
    )
