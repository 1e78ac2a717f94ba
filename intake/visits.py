"""Opening and cancelling visits, moving them on, and changing their provider."""

from django.core.exceptions import ValidationError
from django.db import transaction

from audit import trail
from audit.models import AuditEvent

from .models import Patient, Visit


def open_visit(*, patient, condition, scheduled_at, provider=None, actor):
    if not condition.is_published:
        raise ValidationError("Visits can only be opened for a published condition.")
    visit = Visit(
        patient=patient,
        condition=condition,
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


def close_visit(*, visit, actor):
    return _move(visit, Visit.Status.CLOSED, actor=actor)


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
