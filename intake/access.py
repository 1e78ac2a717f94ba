"""The one way code reaches a patient's records: it checks the role and audits the read.

Staff views, the admin and the patient pages all come here. A refused read raises
`AccessDenied`, which the 403 handler (audit.views.permission_denied) records with the
patient it was about.
"""

import datetime

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone

from audit import trail
from audit.models import AuditEvent

from .models import Attachment, Patient, PatientMerge, TestOrder, Visit


class AccessDenied(PermissionDenied):
    """A role that may not read (or change) this record."""

    def __init__(self, *, record, patient_id):
        super().__init__("Your role does not give access to this record.")
        self.record = record
        self.patient_id = patient_id


def read(actor, record, *, patient_id, permissions, audited=True):
    """`record`, once `actor` holds one of `permissions`; the read is audited unless
    `audited` is False (the rest of a file whose first part was recorded as read)."""
    if not any(actor.has_perm(permission) for permission in permissions):
        raise AccessDenied(record=record, patient_id=patient_id)
    if not audited:
        return record
    trail.record(action=AuditEvent.Action.VIEW, record=record, patient_id=patient_id, actor=actor)
    return record


def patient_for(actor, pk, *, permission="intake.view_patient"):
    """The patient with this id (404 if none), recorded as read."""
    patient = get_object_or_404(Patient.objects.select_related("merged_into"), pk=pk)
    return read(actor, patient, patient_id=patient.pk, permissions=[permission])


def visit_for(actor, pk, *, permission="intake.view_visit"):
    """The visit with this id, with its patient, condition and provider, recorded as read."""
    visit = get_object_or_404(Visit.objects.for_lists(), pk=pk)
    return read(actor, visit, patient_id=visit.patient_id, permissions=[permission])


def order_for(actor, pk, *, permission="intake.view_testorder"):
    """The test order with this id, with its visit, recorded as read."""
    order = get_object_or_404(TestOrder.objects.with_visit(), pk=pk)
    return read(actor, order, patient_id=order.visit.patient_id, permissions=[permission])


def merge_for(actor, pk, *, permission="intake.unmerge_patient"):
    """A merge of two records (404 if none), recorded as read on both patients' trails."""
    merge = get_object_or_404(
        PatientMerge.objects.select_related("merged", "survivor", "merged_by", "undone_by"),
        pk=pk,
    )
    read(actor, merge, patient_id=merge.merged_id, permissions=[permission])
    trail.record(
        action=AuditEvent.Action.VIEW, record=merge, patient_id=merge.survivor_id, actor=actor
    )
    return merge


def visit_through_link(actor, link):
    """The visit a patient's own pre-visit link opens: the link is the permission."""
    visit = link.visit
    trail.record(
        action=AuditEvent.Action.VIEW, record=visit, patient_id=visit.patient_id, actor=actor
    )
    return visit


def patient_id_of(record):
    """The patient a Patient, Visit, TestOrder or Attachment belongs to."""
    match record:
        case Patient():
            return record.pk
        case Visit():
            return record.patient_id
        case TestOrder() | Attachment():
            return record.visit.patient_id
    raise TypeError(f"{type(record).__name__} does not belong to a patient.")


def may_search(actor, model, *, permission):
    """Refuse a search of `model` records (AccessDenied) to a role without `permission`."""
    if not actor.has_perm(permission):
        raise AccessDenied(record=model, patient_id=None)


def listed(actor, records, **detail):
    """Record that a page listed these patients, visits or orders (a search, a day list,
    a page of API search results; `detail` says which): one audit event for the list,
    naming every record and patient it showed."""
    records = list(records)
    if records:
        trail.record_listing(
            record_type=type(records[0]),
            record_ids=[record.pk for record in records],
            patient_ids=[patient_id_of(record) for record in records],
            actor=actor,
            **detail,
        )
    return records


def attachment_for(actor, pk, *, later_part=False, permission="intake.view_visit"):
    """A photo or clip a patient sent (404 if none), with its visit, recorded as read.

    A video player fetches a clip in parts (HTTP ranges) as it plays and seeks. So that
    one viewing is one event, a `later_part` request is recorded only when this person
    has no viewing of the file recorded in the last VIEWING; and so that no part is read
    unrecorded, one is recorded whenever they have none."""
    attachment = get_object_or_404(Attachment.objects.select_related("visit"), pk=pk)
    return read(
        actor,
        attachment,
        patient_id=attachment.visit.patient_id,
        permissions=[permission],
        audited=not (later_part and _viewing_recorded(actor, attachment)),
    )


VIEWING = datetime.timedelta(minutes=10)


def _viewing_recorded(actor, attachment):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW,
        record_type=attachment._meta.label_lower,
        record_id=attachment.pk,
        actor=actor.user,
        actor_label=actor.label,
        at__gte=timezone.now() - VIEWING,
    ).exists()
