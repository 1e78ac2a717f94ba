"""A visit through its day: opening, checking in, moving to another time, marking as
not attended, cancelling, seeing and closing it, and changing its provider."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from audit import trail
from audit.models import AuditEvent

from . import links, triage
from .models import Patient, PreVisitLink, TestOrder, Visit


def open_visit(*, patient, condition, scheduled_at, provider=None, actor):
    if not condition.is_published:
        raise ValidationError("Visits can only be opened for a published condition.")
    visit = Visit(
        patient=patient,
        condition=condition,
        content_version=condition.published_version,
        scheduled_at=scheduled_at,
        provider=provider,
        created_by=actor.user,
    )
    visit.full_clean()
    with transaction.atomic():
        # A visit opened while the record is being merged: the patient's row lock orders
        # them, so the visit is either moved by the merge or refused here.
        if Patient.objects.select_for_update().get(pk=patient.pk).is_merged:
            raise ValidationError(
                "This record was merged into another record: open the visit there."
            )
        visit.save_by(actor)
        trail.record(
            action=AuditEvent.Action.CREATE, record=visit, patient_id=patient.pk, actor=actor
        )
    return visit


def cancel_visit(*, visit, reason, actor):
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("Give a reason for cancelling the visit.")
    with transaction.atomic():
        # Staff cancelling while someone else records the intake: the row lock orders them.
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.status == Visit.Status.CANCELLED:
            # move_to accepts a move to the same status; a second cancel must not
            # replace the reason that was recorded.
            raise ValidationError("This visit is already cancelled.")
        visit.move_to(Visit.Status.CANCELLED)
        visit.cancel_reason = reason[:300]
        visit.save_by(
            actor,
            reason=visit.cancel_reason,
            update_fields=["status", "cancel_reason", "updated_at"],
        )
        trail.record(
            action=AuditEvent.Action.CANCEL,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
        )
    return visit


def _move(visit, status, *, actor):
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        visit.move_to(status)
        visit.save_by(actor, update_fields=["status", "updated_at"])
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
            status=status,
        )
    return visit


def mark_seen(*, visit, actor):
    return _move(visit, Visit.Status.SEEN, actor=actor)


def _reason(text):
    return " ".join(text.split())[:300]


def _at(moment):
    return date_format(timezone.localtime(moment), "H:i")


def _on(moment):
    return date_format(timezone.localtime(moment), "l j F")


def check_in(*, visit, actor):
    """Record that the patient has arrived: now, and who checked them in.

    A visit with no intake yet becomes "checked in"; one whose intake was started or
    completed before the patient came keeps that status, beside the arrival time. A
    visit marked as not attended takes back the status it had before.
    """
    with transaction.atomic():
        # Two desks pressing "Check in" for the same patient, or one checking in while
        # another marks the visit as not attended: the row lock orders them, and the
        # second finds the visit as the first left it.
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.checked_in_at is not None:
            raise ValidationError(
                f"{visit.patient.full_name} was already checked in at {_at(visit.checked_in_at)}."
            )
        if not (visit.awaits_arrival or visit.did_not_attend):
            raise ValidationError(
                f"This visit is {visit.get_status_display().lower()}: "
                "the patient cannot be checked in."
            )
        if not visit.is_today:
            raise ValidationError(
                f"This visit is on {_on(visit.scheduled_at)}: a patient is checked in on the "
                "day of their visit. Move the visit to today first if they came on another day."
            )
        change_reason = ""
        if visit.did_not_attend:
            change_reason = "Arrived after being marked as not attended"
            visit.move_to(_status_before_absence(visit))
            visit.did_not_attend_reason = ""
        elif visit.status == Visit.Status.SCHEDULED:
            visit.move_to(Visit.Status.CHECKED_IN)
        visit.checked_in_at = timezone.now()
        visit.checked_in_by = actor.user
        visit.save_by(
            actor,
            reason=change_reason,
            update_fields=[
                "status",
                "checked_in_at",
                "checked_in_by",
                "did_not_attend_reason",
                "updated_at",
            ],
        )
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
            status=visit.status,
            checked_in=True,
        )
    return visit


def _status_before_absence(visit):
    """What a visit marked as not attended becomes when its patient arrives after all:
    its intake status from before, as its versions keep it, or else checked in."""
    before = (
        visit.history.exclude(status=Visit.Status.DID_NOT_ATTEND)
        .order_by("-history_date", "-history_id")
        .values_list("status", flat=True)
        .first()
    )
    if before in Visit.TRANSITIONS[Visit.Status.DID_NOT_ATTEND]:
        return before
    return Visit.Status.CHECKED_IN


def mark_did_not_attend(*, visit, actor, reason=""):
    """Record that the patient did not come. Before the visit's time this needs a reason
    (the patient called, say); once the time has passed, it may be given or not."""
    reason = _reason(reason)
    with transaction.atomic():
        # The desk marking a no-show while the patient is being checked in at another
        # desk: the row lock orders them, and an arrival wins.
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.did_not_attend:
            raise ValidationError("This visit is already marked as not attended.")
        if visit.checked_in_at is not None:
            raise ValidationError(
                f"{visit.patient.full_name} checked in at {_at(visit.checked_in_at)}: "
                "the visit cannot be marked as not attended."
            )
        if visit.status not in Visit.BEFORE_THE_PATIENT_IS_SEEN:
            raise ValidationError(
                f"This visit is {visit.get_status_display().lower()}: it cannot be marked "
                "as not attended."
            )
        visit.move_to(Visit.Status.DID_NOT_ATTEND)
        if timezone.localtime(visit.scheduled_at).date() > timezone.localdate():
            raise ValidationError(
                f"This visit is on {_on(visit.scheduled_at)}. If the patient will not come, "
                "cancel the visit instead."
            )
        if not visit.is_due and not reason:
            raise ValidationError(
                {
                    "reason": f"The visit is not due until {_at(visit.scheduled_at)}: give a "
                    "reason to mark it as not attended now."
                }
            )
        visit.did_not_attend_reason = reason
        visit.save_by(
            actor,
            reason=reason,
            update_fields=["status", "did_not_attend_reason", "updated_at"],
        )
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
            status=visit.status,
        )
    return visit


def check_new_time(scheduled_at, *, visit):
    """Refuse a new time for `visit` that has passed, or that is the time it has."""
    if scheduled_at < timezone.now().replace(second=0, microsecond=0):
        raise ValidationError("Choose a time that has not passed.")
    if scheduled_at == visit.scheduled_at:
        raise ValidationError("The visit is at that time already.")


def reschedule_visit(*, visit, scheduled_at, reason, actor):
    """Move a visit the patient has not yet come to to another time, for a reason.

    An unfinished pre-visit link follows the new time (it works until the new time at
    the latest, and no longer than a link issued when it was); a link whose answers were
    sent back stays as it was. Red flags that depend on the visit's date are worked out
    again.
    """
    reason = _reason(reason)
    if not reason:
        raise ValidationError({"reason": "Give a reason for moving the visit."})
    with transaction.atomic():
        # Two people moving the same visit, or one moving it while the patient is checked
        # in: the visit's row lock orders them; the links are locked after it, as every
        # link workflow does, before the first audit event.
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.checked_in_at is not None:
            raise ValidationError(
                f"{visit.patient.full_name} checked in at {_at(visit.checked_in_at)}: "
                "the visit can no longer move. Cancel it with a reason and open a new one."
            )
        if visit.status not in Visit.BEFORE_THE_PATIENT_IS_SEEN:
            raise ValidationError(
                f"This visit is {visit.get_status_display().lower()}: it cannot move to "
                "another time."
            )
        check_new_time(scheduled_at, visit=visit)
        visit.scheduled_at = scheduled_at
        fields = ["scheduled_at", "updated_at"]
        answers = list(visit.answers.all())
        if answers:
            visit.red_flags = triage.red_flags(
                rules=visit.red_flag_rules(),
                answers=answers,
                visit_date=timezone.localtime(scheduled_at).date(),
            )
            fields.append("red_flags")
        visit.save_by(actor, reason=reason, update_fields=fields)
        moved_links = list(
            PreVisitLink.objects.select_for_update().filter(
                visit=visit, revoked_at=None, submitted_at=None, locked_at=None
            )
        )
        for link in moved_links:
            link.expires_at = links.link_expiry(issued_at=link.created_at, visit_time=scheduled_at)
            link.save(update_fields=["expires_at"])
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
            fields=["scheduled_at"],
        )
        for link in moved_links:
            trail.record(
                action=AuditEvent.Action.UPDATE,
                record=link,
                patient_id=visit.patient_id,
                actor=actor,
                fields=["expires_at"],
            )
    return visit


def open_orders(visit):
    """The visit's test orders that are neither reviewed nor cancelled."""
    return list(
        visit.test_orders.exclude(
            status__in=[TestOrder.Status.REVIEWED, TestOrder.Status.CANCELLED]
        ).order_by("ordered_at", "id")
    )


def close_visit(*, visit, actor, reason=""):
    """Close a seen visit once each of its orders is reviewed or cancelled, or, with
    orders still open, for a reason that is recorded and shown."""
    if not actor.has_perm("intake.close_visit"):
        raise PermissionDenied("Only providers close visits.")
    reason = _reason(reason)
    with transaction.atomic():
        # A provider closing while another orders a test: place_order takes this row
        # lock too, so no order lands on the visit after its orders were checked here.
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if visit.status == Visit.Status.CLOSED:
            raise ValidationError("This visit is already closed.")
        visit.move_to(Visit.Status.CLOSED)
        still_open = open_orders(visit)
        if still_open and not reason:
            listed = "; ".join(
                f"{order.test_and_site} ({order.get_status_display().lower()})"
                for order in still_open
            )
            raise ValidationError(
                {
                    "reason": f"Not every test order is reviewed or cancelled: {listed}. "
                    "Review or cancel them first, or give a reason for closing the visit "
                    "with them open."
                }
            )
        visit.close_reason = reason if still_open else ""
        visit.save_by(
            actor,
            reason=visit.close_reason,
            update_fields=["status", "close_reason", "updated_at"],
        )
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
            status=visit.status,
            open_orders=[order.pk for order in still_open],
        )
    return visit


def assign_provider(*, visit, provider, actor, expected_provider_id):
    """Make `provider` the visit's provider, if it still has the one the caller saw.

    `expected_provider_id` is the provider the page showed when it was loaded: if
    someone else changed it since, nothing is written, so a stale page never puts back
    the provider another person had just chosen.
    """
    with transaction.atomic():
        # Two people changing the provider from two open pages: the row lock orders them,
        # and the second finds a provider it did not see.
        current = Visit.objects.select_for_update().get(pk=visit.pk)
        if current.status in Visit.FINISHED:
            raise ValidationError(
                f"This visit is {current.get_status_display().lower()}: "
                "its provider can no longer change."
            )
        if current.provider_id != expected_provider_id:
            raise ValidationError(
                "Someone else changed this visit's provider while you had it open. "
                "Nothing was saved."
            )
        current.provider = provider
        current.save_by(actor, update_fields=["provider", "updated_at"])
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=current,
            patient_id=current.patient_id,
            actor=actor,
            fields=["provider"],
        )
    return current
