"""The one function every read and change of patient data goes through to be audited."""

from .models import AuditEvent


def record(*, action, record, patient_id, request=None, actor=None, actor_label="", **detail):
    """Append an audit event for `record` (a model instance, or a model class for lists).

    The actor is the signed-in user of `request` unless given; a pre-visit link passes
    its own `actor_label`.
    """
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    is_instance = not isinstance(record, type)
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else "system"),
        action=action,
        record_type=record._meta.label_lower,
        record_id=record.pk if is_instance else None,
        patient_id=patient_id,
        remote_addr=request.META.get("REMOTE_ADDR") if request is not None else None,
        detail=detail,
    )


def record_listing(*, record_type, patient_ids, request):
    """One event per patient shown in a list (a search, a day's visits), in one query."""
    actor = request.user if request.user.is_authenticated else None
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_label=actor.get_username() if actor else "anonymous",
            action=AuditEvent.Action.LIST,
            record_type=record_type._meta.label_lower,
            patient_id=patient_id,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
        for patient_id in sorted(set(patient_ids))
    )
