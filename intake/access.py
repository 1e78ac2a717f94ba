"""The one way staff code reaches a patient's records, so every read is audited."""

from django.shortcuts import get_object_or_404

from audit import trail

from .models import Patient, Visit


def patient_for(request, pk):
    """The patient with this id (404 if none), recorded as read by the request's user."""
    patient = get_object_or_404(Patient, pk=pk)
    trail.record(action="view", record=patient, patient_id=patient.pk, request=request)
    return patient


def visit_for(request, pk):
    """The visit with this id, with its patient and condition, recorded as read."""
    visit = get_object_or_404(Visit.objects.for_lists(), pk=pk)
    trail.record(action="view", record=visit, patient_id=visit.patient_id, request=request)
    return visit


def listed(request, records):
    """Record that a page listed these patients or visits (a search, a day list)."""
    records = list(records)
    if records:
        patient_ids = [getattr(record, "patient_id", record.pk) for record in records]
        trail.record_listing(record_type=type(records[0]), patient_ids=patient_ids, request=request)
    return records
