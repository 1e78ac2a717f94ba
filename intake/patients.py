"""Registering patients."""

from django.db import transaction

from audit import trail
from audit.models import AuditEvent

from .models import Patient


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
