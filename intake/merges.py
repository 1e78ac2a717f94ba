"""Merging two records of the same person, and undoing a merge.

Merging moves every visit of the merged record (with its answers, orders and pre-visit
links, which belong to the visit) to the surviving record, and leaves the merged record
in place as a pointer to the survivor: never deleted, no longer found by searches or
duplicate checks (its record number finds the survivor). A PatientMerge keeps exactly
which visits moved, so undoing the merge moves back those and only those.

Records merged earlier into the merged record are pointed on to the survivor, so that a
pointer always leads straight to a record in use; undoing the merge points them back.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from audit import trail
from audit.models import AuditEvent

from .models import Patient, PatientMerge, Visit


class MergeConflict(ValidationError):
    """One of the records changed after the confirmation page was shown."""


def merge_stamp(*, merged, survivor, visit_ids, earlier_ids):
    """What the confirmation page showed, in one value: both records as they were, the
    visits that would move and the records merged earlier into the merged one. Any
    change to them changes the stamp."""
    shown = [
        merged.pk,
        merged.edit_stamp,
        survivor.pk,
        survivor.edit_stamp,
        sorted(visit_ids),
        sorted(earlier_ids),
    ]
    return hashlib.sha256("|".join(map(str, shown)).encode()).hexdigest()


def visits_to_move(patient):
    """The visits a merge of `patient` would move, each with its orders, pre-visit links
    and the number of its answers.

    Queries: the visits with their condition, provider and answer count; their orders;
    their links: three, however many there are.
    """
    return (
        patient.visits.select_related("condition", "provider")
        .annotate(answer_count=Count("answers"))
        .prefetch_related("test_orders", "previsit_links")
        .order_by("-scheduled_at", "-id")
    )


def check_mergeable(*, merged, survivor):
    """Refuse a merge that cannot be: one record, or a record already merged."""
    if merged.pk == survivor.pk:
        raise ValidationError("A record cannot be merged with itself. Choose another record.")
    if merged.is_merged:
        raise ValidationError(
            f"Record {merged.mrn} was already merged into another record: "
            "it has nothing left to merge."
        )
    if survivor.is_merged:
        raise ValidationError(
            f"Record {survivor.mrn} was merged into another record: merge into the record "
            "it was merged into instead."
        )


def _lock(condition):
    """Lock the patients' rows that meet `condition` in one statement, in id order, so
    that two merges (or a merge and an undo) that share a record lock in the same order
    and never wait on each other."""
    patients = Patient.objects.select_for_update().filter(condition).order_by("pk")
    return {patient.pk: patient for patient in patients}


def merge_patients(*, merged, survivor, reason, expected_stamp, actor):
    """Merge `merged` into `survivor`, as confirmed on a page that showed `expected_stamp`.

    Refused with MergeConflict, and nothing written, when either record or the visits
    that would move changed after that page was shown.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Give a reason for merging these records."})
    check_mergeable(merged=merged, survivor=survivor)
    with transaction.atomic():
        # Two people merging, correcting or opening visits on these records at once: the
        # rows are locked (both patients in id order, then the visits) before anything is
        # read for the checks, and before the first audit event, which holds the audit
        # chain's lock to the end of the transaction.
        # Records merged earlier into `merged` are pointed on, so they are locked too.
        locked = _lock(Q(pk__in=[merged.pk, survivor.pk]) | Q(merged_into=merged.pk))
        merged, survivor = locked[merged.pk], locked[survivor.pk]
        check_mergeable(merged=merged, survivor=survivor)
        earlier_ids = list(Patient.objects.filter(merged_into=merged).values_list("pk", flat=True))
        visits = list(Visit.objects.select_for_update().filter(patient=merged).order_by("pk"))
        stamp = merge_stamp(
            merged=merged,
            survivor=survivor,
            visit_ids=[visit.pk for visit in visits],
            earlier_ids=earlier_ids,
        )
        # (A record merged into `merged` while this waited for the locks is not locked:
        # it changes the stamp, and the merge is refused.)
        if stamp != expected_stamp or not set(earlier_ids) <= locked.keys():
            raise MergeConflict(
                "One of these records changed after this page was shown: their details, "
                "or the visits that would move. Nothing was merged. Check them again below."
            )
        moved_reason = f"Moved from record {merged.mrn} to {survivor.mrn} in a merge: {reason}"
        for visit in visits:
            visit.patient = survivor
            visit.save_by(actor, reason=moved_reason, update_fields=["patient", "updated_at"])
        merged.merged_into = survivor
        merged.save_by(actor, reason=reason, update_fields=["merged_into", "updated_at"])
        # A version on the kept record too, so its history says what joined it and why.
        survivor.save_by(
            actor,
            reason=f"Record {merged.mrn} was merged into this record: {reason}",
            update_fields=["updated_at"],
        )
        earlier = [locked[pk] for pk in sorted(earlier_ids)]
        for record in earlier:
            record.merged_into = survivor
            record.save_by(
                actor,
                reason=f"Record {merged.mrn}, which it was merged into, was merged into "
                f"{survivor.mrn}: {reason}",
                update_fields=["merged_into", "updated_at"],
            )
        merge = PatientMerge.objects.create(
            merged=merged, survivor=survivor, reason=reason, merged_by=actor.user
        )
        merge.moved_visits.set(visits)
        merge.repointed.set(earlier)
        moved = sorted(visit.pk for visit in visits)
        trail.record(
            action=AuditEvent.Action.MERGE,
            record=merged,
            patient_id=merged.pk,
            actor=actor,
            merge=merge.pk,
            merged_into=survivor.pk,
            visits=moved,
        )
        trail.record(
            action=AuditEvent.Action.MERGE,
            record=survivor,
            patient_id=survivor.pk,
            actor=actor,
            merge=merge.pk,
            merged_from=merged.pk,
            visits=moved,
        )
    return merge


def undo_merge(*, merge, reason, actor):
    """Put a merge back: the visits it moved return to the merged record, whose pointer
    is cleared. Visits opened on the survivor since the merge stay with the survivor."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Give a reason for undoing this merge."})
    with transaction.atomic():
        # An undo racing another undo, a merge or an edit of these records: lock the
        # records involved in id order (as merge_patients does), then the merge.
        repointed_ids = list(merge.repointed.values_list("pk", flat=True))
        locked = _lock(Q(pk__in=[merge.merged_id, merge.survivor_id, *repointed_ids]))
        merge = PatientMerge.objects.select_for_update().get(pk=merge.pk)
        merged, survivor = locked[merge.merged_id], locked[merge.survivor_id]
        if merge.is_undone:
            raise ValidationError("This merge was already undone.")
        if merged.merged_into_id != survivor.pk or survivor.is_merged:
            raise ValidationError(
                f"Record {survivor.mrn} was itself merged into another record after this "
                "merge: undo that later merge first."
            )
        visits = list(
            Visit.objects.select_for_update()
            .filter(pk__in=merge.moved_visits.values("pk"))
            .order_by("pk")
        )
        elsewhere = [visit for visit in visits if visit.patient_id != survivor.pk]
        if elsewhere:
            raise ValidationError(
                "Some of the visits this merge moved are no longer on the record they were "
                "moved to, so the merge cannot be undone exactly. Nothing was changed."
            )
        back_reason = f"Merge undone, back to record {merged.mrn}: {reason}"
        for visit in visits:
            visit.patient = merged
            visit.save_by(actor, reason=back_reason, update_fields=["patient", "updated_at"])
        merged.merged_into = None
        merged.save_by(
            actor, reason=f"Merge undone: {reason}", update_fields=["merged_into", "updated_at"]
        )
        survivor.save_by(
            actor,
            reason=f"The merge of record {merged.mrn} into this record was undone: {reason}",
            update_fields=["updated_at"],
        )
        for record_id in repointed_ids:
            record = locked[record_id]
            if record.merged_into_id == survivor.pk:
                record.merged_into = merged
                record.save_by(
                    actor,
                    reason=f"Merge of {merged.mrn} into {survivor.mrn} undone: {reason}",
                    update_fields=["merged_into", "updated_at"],
                )
        merge.undone_at = timezone.now()
        merge.undone_by = actor.user
        merge.undo_reason = reason
        merge.save(update_fields=["undone_at", "undone_by", "undo_reason"])
        moved_back = [visit.pk for visit in visits]
        for patient in (merged, survivor):
            trail.record(
                action=AuditEvent.Action.UNMERGE,
                record=patient,
                patient_id=patient.pk,
                actor=actor,
                merge=merge.pk,
                visits=moved_back,
            )
    return merge


def merges_of(patient):
    """The merges a record's page shows: into it, and (for a merged record) away from it."""
    return (
        PatientMerge.objects.filter(Q(survivor=patient) | Q(merged=patient))
        .select_related("merged", "survivor", "merged_by", "undone_by")
        .order_by("-merged_at", "-id")
    )
