"""Opening and cancelling visits."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import trail

from .models import Visit


def open_visit(*, patient, condition, scheduled_at, provider=None, by, request=None):
    if not condition.is_published:
        raise ValidationError("Visits can only be opened for a published condition.")
    visit = Visit(
        patient=patient,
        condition=condition,
        scheduled_at=scheduled_at,
        provider=provider,
        created_by=by,
    )
    visit.full_clean()
    with transaction.atomic():
        visit.save()
        trail.record(
            action="create", record=visit, patient_id=patient.pk, request=request, actor=by
        )
    return visit


def cancel_visit(*, visit, reason, by, request=None):
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
        visit.save(update_fields=["status", "cancel_reason", "updated_at"])
        trail.record(
            action="cancel", record=visit, patient_id=visit.patient_id, request=request, actor=by
        )
    return visit


def _move(visit, status, *, by, request, **detail):
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        visit.move_to(status)
        visit.save(update_fields=["status", "updated_at"])
        trail.record(
            action="update",
            record=visit,
            patient_id=visit.patient_id,
            request=request,
            actor=by,
            status=status,
            **detail,
        )
    return visit


def mark_seen(*, visit, by, request=None):
    return _move(visit, Visit.Status.SEEN, by=by, request=request)


def close_visit(*, visit, by, request=None):
    return _move(visit, Visit.Status.CLOSED, by=by, request=request)


def assign_provider(*, visit, provider, by, request=None):
    with transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(provider=provider, updated_at=timezone.now())
        trail.record(
            action="update",
            record=visit,
            patient_id=visit.patient_id,
            request=request,
            actor=by,
            fields=["provider"],
        )
