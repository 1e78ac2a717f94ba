"""Registering patients and correcting their details."""

from django.core.exceptions import ValidationError
from django.db import transaction

from audit import trail
from audit.models import AuditEvent

from .models import Patient

# The details staff may correct on the record's page (the record number never changes).
DETAILS = [
    "given_name",
    "family_name",
    "date_of_birth",
    "sex_at_birth",
    "email",
    "phone",
    "preferred_language",
    "other_language",
    "email_allowed",
    "sms_allowed",
]
# Who the record is: a change to these needs a reason, kept with the version.
IDENTITY = {"given_name", "family_name", "date_of_birth"}
# Kept as they are by a correction, so not validated again.
NOT_DETAILS = [field.name for field in Patient._meta.fields if field.name not in DETAILS]


class StaleEdit(ValidationError):
    """Someone else changed the record after the form was loaded."""


def register_patient(*, actor, **fields):
    """Create a patient record with a new medical record number.

    Callers check `Patient.objects.possible_duplicates` first and ask staff to confirm.
    """
    patient = Patient(created_by=actor.user, **fields)
    patient.full_clean(exclude=["mrn"])
    with transaction.atomic():
        patient.save_by(actor)
        trail.record(
            action=AuditEvent.Action.CREATE, record=patient, patient_id=patient.pk, actor=actor
        )
    return patient


def update_patient(*, patient, changes, reason="", expected_stamp, actor):
    """Correct a patient's details: `changes` maps names in DETAILS to new values.

    Returns the record and the names of the fields that changed (none: nothing is
    written). A new name or date of birth needs a `reason`. `expected_stamp` is the
    record's `edit_stamp` when the form was loaded: if someone saved the record since,
    StaleEdit is raised and nothing is written. The kept version says who, when and
    why; the audit event names the fields changed, never their values.
    """
    unknown = set(changes) - set(DETAILS)
    if unknown:
        raise ValueError(f"Not a detail staff correct: {', '.join(sorted(unknown))}")
    reason = " ".join(reason.split())
    with transaction.atomic():
        # Two people correcting the same record from two open pages: the row lock orders
        # them, and the second finds a stamp it did not load.
        current = Patient.objects.select_for_update().get(pk=patient.pk)
        if current.is_merged:
            raise ValidationError(
                "This record was merged into another one: correct the record it was merged "
                "into instead."
            )
        if current.edit_stamp != expected_stamp:
            raise StaleEdit(
                "Someone else changed this patient's details while you were editing them. "
                "Your changes have not been saved yet."
            )
        before = {name: getattr(current, name) for name in DETAILS}
        for name, value in changes.items():
            setattr(current, name, value)
        # full_clean tidies some values (the other language), so compare after it.
        current.full_clean(exclude=NOT_DETAILS)
        changed = [name for name in DETAILS if getattr(current, name) != before[name]]
        if not changed:
            return current, []
        if IDENTITY & set(changed) and not reason:
            raise ValidationError(
                {"reason": "Give a reason for changing the name or date of birth."}
            )
        current.save_by(actor, reason=reason, update_fields=[*changed, "updated_at"])
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=current,
            patient_id=current.pk,
            actor=actor,
            fields=changed,
        )
    return current, changed
