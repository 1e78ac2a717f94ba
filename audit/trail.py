"""The functions every read and change of patient data goes through to be audited."""

from . import chain
from .models import AuditEvent, chain_head


def record(*, action, record=None, record_type="", patient_id=None, actor, **detail):
    """Append an audit event: `actor` did `action` to `record` (a model instance, or a
    model class when no single record is meant), or to what `record_type` names (a
    page). `detail` holds field names, counts or ids, never patient data."""
    is_instance = record is not None and not isinstance(record, type)
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        record_type=record._meta.label_lower if record is not None else record_type[:50],
        record_id=record.pk if is_instance else None,
        patient_id=patient_id,
        remote_addr=actor.address,
        detail=detail,
    )


def record_listing(*, record_type, patient_ids, actor):
    """One event per patient shown in a list (a search, a day's visits), in one query."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor.user,
            actor_label=actor.label,
            action=AuditEvent.Action.LIST,
            record_type=record_type._meta.label_lower,
            patient_id=patient_id,
            remote_addr=actor.address,
        )
        for patient_id in sorted(set(patient_ids))
    )


def record_search_page(*, record_type, ids_by_patient, actor, **detail):
    """One event per patient for one page of search results, naming the records of theirs
    it returned, in one query: a search page across patients stays on each one's trail."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor.user,
            actor_label=actor.label,
            action=AuditEvent.Action.LIST,
            record_type=record_type._meta.label_lower,
            patient_id=patient_id,
            remote_addr=actor.address,
            detail={**detail, "ids": sorted(ids)},
        )
        for patient_id, ids in sorted(ids_by_patient.items())
    )


class BulkAppend:
    """Chaining events made as table rows for a bulk load (intake.demo_data), which
    inserts them itself in id order, after every event already in the trail.

    Made inside the loading transaction: appends stay serialised until it ends, so no
    other event can come between the trail's head read here and the rows inserted.
    """

    def __init__(self, using):
        self.head = chain_head(using)

    def link(self, event):
        """Set `event`'s (a mapping of the hashed fields) prev_hash and hash; it is the
        next event of the chain."""
        event["prev_hash"] = self.head
        event["hash"] = self.head = chain.event_hash(event)
        return event
