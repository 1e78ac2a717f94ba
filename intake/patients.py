"""Registering patients."""

from django.db import transaction

from audit import trail

from .models import Patient


def register_patient(*, by, request=None, **fields):
    """Create a patient record with a new medical record number.

    Callers check `Patient.objects.possible_duplicates` first and ask staff to confirm.
    """
    patient = Patient(created_by=by, **fields)
    patient.full_clean(exclude=["mrn"])
    with transaction.atomic():
        patient.save()
        trail.record(
            action="create", record=patient, patient_id=patient.pk, request=request, actor=by
        )
    return patient
