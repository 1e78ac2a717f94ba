"""The functions every read and change of patient data goes through to be audited."""

from django.db import router, transaction

from . import chain
from .models import AuditEvent, ListedPatient, chain_head


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


def record_listing(*, record_type, record_ids, patient_ids, actor, **detail):
    """One event for a list of records shown (a search, a day's visits, a page of API
    search results): the records' ids and their patients' ids in its detail, each patient
    indexed (ListedPatient) so that the trail of any one of them finds it."""
    patient_ids = sorted({patient_id for patient_id in patient_ids if patient_id is not None})
    using = router.db_for_write(AuditEvent)
    with transaction.atomic(using=using, savepoint=False):
        event = record(
            action=AuditEvent.Action.LIST,
            record=record_type,
            actor=actor,
            record_ids=sorted(set(record_ids)),
            patient_ids=patient_ids,
            **detail,
        )
        ListedPatient.objects.using(using).bulk_create(
            ListedPatient(event=event, patient_id=patient_id) for patient_id in patient_ids
        )
    return event


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
