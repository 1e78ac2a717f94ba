"""Forms of the compliance pages: which events to show, and finding a patient's record."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from intake.models import Patient

from .models import AuditEvent


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        full_name = user.get_full_name()
        return f"{full_name} ({user.get_username()})" if full_name else user.get_username()


class EventFilterForm(forms.Form):
    """Which events to show or export. Read from the query string: it holds ids, actions
    and times, never a record number (see RecordNumberForm)."""

    patient = forms.ModelChoiceField(
        queryset=Patient.objects.only("pk", "mrn"), required=False, widget=forms.HiddenInput()
    )
    user = UserChoiceField(
        queryset=get_user_model().objects.order_by("username"),
        required=False,
        label="Done by",
        empty_label="Anyone",
    )
    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEvent.Action.choices], required=False
    )
    start = forms.DateTimeField(label="From", required=False, widget=DateTimeInput())
    end = forms.DateTimeField(
        label="Until", required=False, widget=DateTimeInput(), help_text="Not included."
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", "Choose a time after the start.")
        return cleaned

    def events(self):
        """The events chosen, with who acted and the patient's record number."""
        record_number = Patient.objects.filter(pk=OuterRef("patient_id")).values("mrn")
        events = AuditEvent.objects.select_related("actor").annotate(
            patient_mrn=Subquery(record_number[:1])
        )
        data = self.cleaned_data
        if data["patient"]:
            events = events.about_patient(data["patient"].pk)
        if data["user"]:
            events = events.done_by(data["user"])
        if data["action"]:
            events = events.filter(action=data["action"])
        return events.between(data["start"], data["end"]).order_by("-pk")

    @property
    def patient_id(self):
        patient = self.cleaned_data.get("patient")
        return patient.pk if patient else None

    def described(self):
        """The filters, as the audit event of reading the trail records them: ids and
        times (the patient goes in the event's own patient_id)."""
        data = self.cleaned_data
        described = {
            "by_user": data["user"].pk if data["user"] else None,
            "of_action": data["action"],
            "from": data["start"].isoformat() if data["start"] else None,
            "until": data["end"].isoformat() if data["end"] else None,
        }
        return {name: value for name, value in described.items() if value}


class RecordNumberForm(forms.Form):
    """Find a patient's trail by record number. Posted, so that the number never
    appears in a URL or an access log; the page then filters by the patient's id."""

    record_number = forms.CharField(label="Record number", max_length=8)

    def clean_record_number(self):
        number = self.cleaned_data["record_number"].strip()
        patient = Patient.objects.filter(mrn=number).only("pk").first()
        if patient is None:
            raise forms.ValidationError("No patient has this record number.")
        return patient
