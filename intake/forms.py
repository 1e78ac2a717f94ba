"""Forms for the staff pages, and the intake questionnaire built from a condition."""

import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row
from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext, gettext_lazy

from conditions.models import Condition, OrderableTest

from . import answer_types, attachments, consent, triage
from .dates import typed_date_examples
from .models import Attestation, ClinicalNote, Patient, TestOrder, is_valid_record_number
from .patients import IDENTITY
from .roles import active_providers
from .visits import check_new_time
from .widgets import DateInput

# The years a day list or a new visit may be on: far enough for any real use, and clear
# of the ends of Python's datetimes once a day is turned into aware times.
FIRST_YEAR, LAST_YEAR = 1900, 2100
# The longest part of a clinical note, or addendum, a form takes.
NOTE_PART_LENGTH = 10000


def add_workflow_error(form, error):
    """A workflow's ValidationError on the form: beside the field it names, where the form
    has that field, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, texts in error.message_dict.items():
        form.add_error(name if name in form.fields else None, texts)


def reason_field(label, *, required_message=None, help_text=""):
    """A short reason for a change, kept with the record's history: required when
    `required_message` says what to ask for."""
    return forms.CharField(
        label=label,
        required=required_message is not None,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
        error_messages={
            "required": required_message or "",
            "max_length": "Keep the reason to 300 characters or fewer.",
        },
    )


class YesNoNotAsked(forms.RadioSelect):
    """Yes, No or Not asked, for a yes/no the patient may not have been asked yet."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=[("true", "Yes"), ("false", "No"), ("", "Not asked")])

    def format_value(self, value):
        return [{True: "true", False: "false", "true": "true", "false": "false"}.get(value, "")]


class PatientForm(forms.ModelForm):
    """A patient's details and contact preferences, as registration asks for them."""

    confirm_new_record = forms.BooleanField(
        required=False,
        label="This is a different person: register a new record",
        help_text="Tick only after checking the matching records listed above.",
    )

    class Meta:
        model = Patient
        fields = [
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
        widgets = {
            "date_of_birth": DateInput(),
            "email_allowed": YesNoNotAsked(),
            "sms_allowed": YesNoNotAsked(),
        }
        help_texts = {
            "email_allowed": "For example for the pre-visit questions.",
            "other_language": "Only when the language is “Other”.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.duplicates = []
        self.fields["preferred_language"].choices = [
            ("", "Not asked"),
            *Patient.Language.choices,
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("given_name", css_class="col-md-6"),
                Column("family_name", css_class="col-md-6"),
            ),
            Row(
                Column("date_of_birth", css_class="col-md-6"),
                Column("sex_at_birth", css_class="col-md-6"),
            ),
            Row(Column("email", css_class="col-md-6"), Column("phone", css_class="col-md-6")),
            Fieldset(
                "Contact preferences",
                Row(
                    Column("preferred_language", css_class="col-md-6"),
                    Column("other_language", css_class="col-md-6"),
                ),
                Row(
                    Column("email_allowed", css_class="col-md-6"),
                    Column("sms_allowed", css_class="col-md-6"),
                ),
            ),
            "confirm_new_record",
        )
        # Offered as a checkbox only beside a list of matching records: see clean().
        self.fields["confirm_new_record"].widget = forms.HiddenInput()

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not all(char.isdigit() or char in " +-()" for char in phone):
            raise forms.ValidationError("Use only digits, spaces and + - ( ) in a phone number.")
        if phone and not 6 <= sum(char.isdigit() for char in phone) <= 15:
            raise forms.ValidationError("Give a phone number with 6 to 15 digits.")
        return phone

    duplicate_message = (
        "A patient with the same name and date of birth is already registered. "
        "Open their record instead, or confirm that this is a different person."
    )

    def possible_duplicates(self, *, given_name, family_name, date_of_birth):
        return Patient.objects.possible_duplicates(
            given_name=given_name, family_name=family_name, date_of_birth=date_of_birth
        )

    def clean(self):
        cleaned = super().clean()
        names = [cleaned.get(field) for field in ("given_name", "family_name", "date_of_birth")]
        if all(names):
            self.duplicates = list(
                self.possible_duplicates(
                    given_name=names[0], family_name=names[1], date_of_birth=names[2]
                )
            )
        if self.duplicates:
            # Listed even once confirmed, so the matches stay in view while other fields
            # are corrected.
            self.fields["confirm_new_record"].widget = forms.CheckboxInput()
            if not cleaned.get("confirm_new_record"):
                raise forms.ValidationError(self.duplicate_message)
        return cleaned


class PatientDetailsForm(PatientForm):
    """Correcting a registered patient's details: a reason for a new name or date of
    birth, the stamp of the record as loaded (a stale save is refused), and the same
    duplicate warning as registration when the new name and date of birth match
    another patient."""

    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=300,
        help_text="Needed when the name or date of birth changes, for example "
        "“Misspelt at registration”.",
        error_messages={"max_length": "Keep the reason to 300 characters or fewer."},
    )
    edit_stamp = forms.CharField(widget=forms.HiddenInput())

    duplicate_message = (
        "With these changes the record matches another patient's name and date of birth. "
        "Check whether they are the same person (and merge the records if so), or confirm "
        "that this is a different person."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("edit_stamp", self.instance.edit_stamp)
        self.fields["confirm_new_record"].label = "This is a different person: save the changes"
        self.helper.layout.append(Field("reason"))
        self.helper.layout.append(Field("edit_stamp"))

    def possible_duplicates(self, *, given_name, family_name, date_of_birth):
        # Only a change of name or date of birth can make a new match.
        instance = self.instance
        same = (
            " ".join(given_name.split()).casefold() == instance.given_name.casefold()
            and " ".join(family_name.split()).casefold() == instance.family_name.casefold()
            and date_of_birth == instance.date_of_birth
        )
        if same:
            return Patient.objects.none()
        return (
            super()
            .possible_duplicates(
                given_name=given_name, family_name=family_name, date_of_birth=date_of_birth
            )
            .exclude(pk=instance.pk)
        )

    def clean(self):
        # Before the duplicate check, which may end clean() with its own message.
        cleaned = self.cleaned_data
        identity = [
            name
            for name in IDENTITY
            if name in cleaned and cleaned[name] != getattr(self.instance, name)
        ]
        if identity and not " ".join(cleaned.get("reason", "").split()):
            self.add_error("reason", "Give a reason for changing the name or date of birth.")
        return super().clean()


class MergeStartForm(forms.Form):
    """Which record to merge with (by record number, posted so that it never appears in
    a URL), and which of the two is kept."""

    record_number = forms.CharField(
        label="Record number of the other record",
        max_length=20,
        error_messages={"required": "Give the other record's record number."},
    )
    keep = forms.ChoiceField(
        label="Which record is kept?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose which record is kept.",
            "invalid_choice": "Choose one of the two records.",
        },
    )

    def __init__(self, *args, patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.patient = patient
        self.fields["keep"].choices = [
            ("this", f"This record ({patient.mrn}): the other record is merged into it"),
            ("other", "The other record: this record is merged into it"),
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_record_number(self):
        number = "".join(self.cleaned_data["record_number"].split())
        if not is_valid_record_number(number):
            raise forms.ValidationError(
                "Check the record number: it has 8 digits, and the last one checks the others."
            )
        if number == self.patient.mrn:
            raise forms.ValidationError(
                "This is this patient's own record number: give the other record's number."
            )
        other = Patient.objects.filter(mrn=number).select_related("merged_into").first()
        if other is None:
            raise forms.ValidationError("No patient has this record number.")
        if other.is_merged:
            raise forms.ValidationError(
                f"Record {number} was already merged into record {other.merged_into.mrn}: "
                "merge with that record instead."
            )
        return other

    def records(self):
        """(merged, survivor) as chosen."""
        other = self.cleaned_data["record_number"]
        if self.cleaned_data["keep"] == "this":
            return other, self.patient
        return self.patient, other


class MergeForm(forms.Form):
    """Confirming a merge: why, and the stamp of what the confirmation page showed."""

    reason = reason_field(
        "Reason for merging",
        required_message="Give a reason for merging these records.",
        help_text="For example “Registered twice: same person, same address and phone”.",
    )
    stamp = forms.CharField(widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class UndoMergeForm(forms.Form):
    reason = reason_field(
        "Reason for undoing the merge", required_message="Give a reason for undoing this merge."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Name, record number or date of birth",
        max_length=100,
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = f"Dates as {typed_date_examples()}."

    def clean_q(self):
        query = self.cleaned_data["q"]
        # Punctuation alone leaves no search term, and every patient would match.
        if not any(char.isalnum() for char in query):
            raise forms.ValidationError("Type part of a name, a record number or a date of birth.")
        return query


class DayForm(forms.Form):
    """Which day's visits the day list shows, whose, and in what order.

    Each choice that cannot be used falls back to its default (today, everyone's, by
    time) with a message; `choices()` gives what the list then shows.
    """

    class Sort(models.TextChoices):
        TIME = "time", "By time"
        RED_FLAGS = "flags", "Red flags first"
        UPDATED = "updated", "Newest information first"

    MINE, NO_PROVIDER = "mine", "none"

    day = forms.DateField(label="Day", required=False, widget=DateInput())
    provider = forms.ChoiceField(
        label="Provider",
        required=False,
        error_messages={"invalid_choice": "That provider is not on the list."},
    )
    sort = forms.ChoiceField(
        label="Order",
        required=False,
        choices=Sort.choices,
        error_messages={"invalid_choice": "That order is not on the list."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.providers = list(active_providers().order_by("last_name", "first_name", "pk"))
        self.user = user
        self.offers_mine = any(person.pk == user.pk for person in self.providers)
        mine = [(self.MINE, "My visits")] if self.offers_mine else []
        self.fields["provider"].choices = [
            ("", "All providers"),
            *mine,
            *(
                (str(person.pk), person.get_full_name() or person.username)
                for person in self.providers
            ),
            (self.NO_PROVIDER, "No provider yet"),
        ]

    def clean_day(self):
        day = self.cleaned_data["day"]
        # A day's bounds are worked out as datetimes, which end at year 9999.
        if day and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise forms.ValidationError(
                f"Choose a day between the years {FIRST_YEAR} and {LAST_YEAR}."
            )
        return day

    def choices(self):
        """(day, provider filter, sort): the valid choices, and defaults for the rest."""
        cleaned = {}
        if self.is_bound:
            self.is_valid()  # keeps the valid choices in cleaned_data, whatever the others
            cleaned = self.cleaned_data
        return (
            cleaned.get("day") or timezone.localdate(),
            cleaned.get("provider") or "",
            cleaned.get("sort") or self.Sort.TIME,
        )

    def filter(self, visits, provider):
        if provider == self.MINE:
            return visits.filter(provider=self.user)
        if provider == self.NO_PROVIDER:
            return visits.filter(provider__isnull=True)
        if provider:
            return visits.filter(provider_id=int(provider))
        return visits

    def heading(self, provider):
        """What the list is called: "Visits", "My visits", "Visits with Pat Provider"."""
        if provider == self.MINE:
            return "My visits"
        if provider == self.NO_PROVIDER:
            return "Visits with no provider yet"
        if provider:
            return f"Visits with {dict(self.fields['provider'].choices)[provider]}"
        return "Visits"


class ScheduledAtMixin:
    """A date field and a time field read together as `scheduled_at` (aware, in the
    clinic's time zone)."""

    year_message = "Check the year of the visit."

    def clean_scheduled_date(self):
        day = self.cleaned_data["scheduled_date"]
        # Far-off years overflow when the time is made aware and stored as UTC.
        if day.year > LAST_YEAR:
            raise forms.ValidationError(self.year_message)
        return day

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("scheduled_date"), cleaned.get("scheduled_time")
        if day and time:
            cleaned["scheduled_at"] = timezone.make_aware(datetime.datetime.combine(day, time))
        return cleaned


class RescheduleForm(ScheduledAtMixin, forms.Form):
    """A new date and time for a visit, and why it moves."""

    year_message = "Check the year of the new date."

    scheduled_date = forms.DateField(
        label="New date", widget=DateInput(), error_messages={"required": "Enter the new date."}
    )
    scheduled_time = forms.TimeField(
        label="New time",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "required": "Enter the new time.",
            "invalid": "Enter a time such as 14:30.",
        },
    )
    reason = reason_field(
        "Reason for moving the visit", required_message="Give a reason for moving the visit."
    )

    def __init__(self, *args, visit, **kwargs):
        local = timezone.localtime(visit.scheduled_at)
        kwargs.setdefault(
            "initial", {"scheduled_date": local.date(), "scheduled_time": local.time()}
        )
        super().__init__(*args, **kwargs)
        self.visit = visit

    def clean(self):
        cleaned = super().clean()
        if "scheduled_at" in cleaned:
            try:
                check_new_time(cleaned["scheduled_at"], visit=self.visit)
            except forms.ValidationError as error:
                self.add_error("scheduled_date", error)
        return cleaned


class DidNotAttendForm(forms.Form):
    reason = reason_field("Reason (needed before the visit's time)")


class CloseVisitForm(forms.Form):
    reason = reason_field("Reason for closing with orders open")


class VisitForm(ScheduledAtMixin, forms.Form):
    condition = forms.ModelChoiceField(queryset=Condition.objects.published(), empty_label=None)
    scheduled_date = forms.DateField(label="Date", widget=DateInput())
    scheduled_time = forms.TimeField(
        label="Time", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    provider = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, empty_label="Not yet assigned"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = active_providers().order_by("last_name", "first_name")
        self.fields["provider"].label_from_instance = lambda user: (
            user.get_full_name() or user.username
        )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        if "scheduled_at" in cleaned and cleaned["scheduled_date"] < yesterday:
            self.add_error("scheduled_date", "A new visit cannot be in the past.")
        return cleaned


class CancelVisitForm(forms.Form):
    reason = reason_field(
        "Reason for cancelling", required_message="Give a reason for cancelling the visit."
    )


class IntakeForm(forms.Form):
    """The history questions of a visit's condition that apply to its patient.

    Field names are "q_<question key>"; a duration is two fields, "…_amount" and
    "…_unit". `cleaned_answers` gives typed values: a date, (Decimal, unit), a bool,
    a set of body sites or choices, a string.
    """

    intake_version = forms.IntegerField(widget=forms.HiddenInput())

    def __init__(self, *args, visit, completing=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit
        self.questions = visit.questions()
        self.completing = completing
        self.born = visit.patient.date_of_birth
        self.question_fields = {}
        self.urgent_choices = triage.urgent_choices(visit.red_flag_rules())
        layout = []
        for question in self.questions:
            layout.append(self._add_question(question))
            if urgent := self.urgent_choices.get(question.key):
                # The patient's page warns as soon as one of these is ticked.
                self.fields[self.field_name(question.key)].widget.attrs["data-urgent"] = " ".join(
                    sorted(urgent)
                )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(*layout, Field("intake_version"))

    @staticmethod
    def field_name(question_key):
        return f"q_{question_key}"

    def ticks_urgent_sign(self):
        """Whether the answers as shown (typed, or saved) tick a choice that raises an
        urgent flag."""
        for key, urgent in self.urgent_choices.items():
            name = self.field_name(key)
            if name not in self.fields:
                continue
            if self.is_bound:
                shown = self.data.getlist(name)
            else:
                shown = self.initial.get(name)
                shown = shown if isinstance(shown, list) else [shown]
            if urgent & set(shown):
                return True
        return False

    def _add_question(self, question):
        name = self.field_name(question.key)
        required = question.required and self.completing
        common = {
            "label": question.wording,
            # Crispy shows help text as HTML; a question's help text is content, not markup.
            "help_text": escape(question.help_text),
            "required": required,
            "error_messages": {
                "required": gettext("Answer this question."),
                "invalid_choice": gettext("Choose one of the answers shown."),
            },
        }
        answer_type = answer_types.of(question)
        fields = answer_type.form_fields(question, name, common)
        self.fields.update(fields)
        self.question_fields[question.key] = list(fields)
        return answer_type.layout(question, name, required=required)

    def clean(self):
        cleaned = super().clean()
        self.cleaned_answers = {}
        today = timezone.localdate()
        for question in self.questions:
            fields = self.question_fields[question.key]
            if any(field in self.errors for field in fields):
                continue
            try:
                self.cleaned_answers[question.key] = answer_types.of(question).clean(
                    question, self.field_name(question.key), cleaned, born=self.born, today=today
                )
            except forms.ValidationError as error:
                self.add_error(None if hasattr(error, "error_dict") else fields[0], error)
        return cleaned

    @classmethod
    def with_saved_answers(cls, visit):
        """An unbound form showing the visit's saved answers and its current version."""
        initial = {"intake_version": visit.intake_version}
        for answer in visit.answers.all():
            name = cls.field_name(answer.question_key)
            initial.update(answer_types.of(answer).initial(answer, name))
        return cls(visit=visit, initial=initial)


class AttachmentForm(forms.Form):
    """One photo or clip, sent on its own so that a dropped connection loses only it."""

    file = forms.FileField(
        label=gettext_lazy("Photo or clip"),
        widget=forms.FileInput(attrs={"accept": "image/*,video/*"}),
        error_messages={
            "required": gettext_lazy("Choose a photo or clip to send."),
            "empty": gettext_lazy("This file is empty. Choose the photo or clip again."),
            "invalid": gettext_lazy("No file was sent. Choose the photo or clip again."),
        },
    )

    def __init__(self, *args, too_large=False, **kwargs):
        """`too_large`: the upload handler stopped reading the file at the size limit, so
        none arrived; the form says that, and not that none was chosen."""
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        if too_large:
            self.fields["file"].required = False

    def clean(self):
        if self.too_large:
            self.add_error("file", attachments.too_large_message())
        return super().clean()


class DateOfBirthForm(forms.Form):
    """Day, month and year as three boxes in one fieldset, as people know their birthday."""

    day = forms.IntegerField(
        label=gettext_lazy("Day"),
        min_value=1,
        max_value=31,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "bday-day", "size": 2, "maxlength": 2}
        ),
        error_messages={
            "required": gettext_lazy("Enter the day."),
            "invalid": gettext_lazy("Enter the day as a number."),
        },
    )
    month = forms.IntegerField(
        label=gettext_lazy("Month"),
        min_value=1,
        max_value=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "bday-month", "size": 2, "maxlength": 2}
        ),
        error_messages={
            "required": gettext_lazy("Enter the month."),
            "invalid": gettext_lazy("Enter the month as a number, for example 3 for March."),
        },
    )
    year = forms.IntegerField(
        label=gettext_lazy("Year"),
        min_value=1900,
        max_value=9999,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "bday-year", "size": 4, "maxlength": 4}
        ),
        error_messages={
            "required": gettext_lazy("Enter the year."),
            "invalid": gettext_lazy("Enter the year as 4 numbers, for example 1985."),
        },
    )

    def clean(self):
        cleaned = super().clean()
        parts = [cleaned.get(name) for name in ("day", "month", "year")]
        if None in parts:
            return cleaned
        try:
            born = datetime.date(parts[2], parts[1], parts[0])
        except ValueError:
            raise forms.ValidationError(gettext("Enter a real date of birth.")) from None
        if born > timezone.localdate():
            raise forms.ValidationError(gettext("Your date of birth must be in the past."))
        cleaned["date_of_birth"] = born
        return cleaned


class ReviewIntakeForm(forms.Form):
    """ "I have reviewed this intake": the version of the answers the page showed."""

    intake_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ClinicalNoteForm(forms.ModelForm):
    """The four parts of the clinical note, and the version of the note the page showed
    (0 when there was none yet)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = ClinicalNote
        fields = ClinicalNote.PARTS
        widgets = {part: forms.Textarea(attrs={"rows": 4}) for part in ClinicalNote.PARTS}
        help_texts = {
            "clinical_history": "What the patient tells you, beyond the intake answers.",
            "examination": "What you found on examination.",
            "assessment": "What you think is going on.",
            "plan": "Tests, treatment, advice and follow-up.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version if self.instance.pk else 0
        for part in ClinicalNote.PARTS:
            self.fields[part].widget.attrs["maxlength"] = NOTE_PART_LENGTH
            self.fields[part].validators.append(MaxLengthValidator(NOTE_PART_LENGTH))

    @property
    def parts(self):
        return {part: self.cleaned_data[part] for part in ClinicalNote.PARTS}


class NoteAddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=NOTE_PART_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Signed in your name when you add it; it cannot be changed afterwards.",
        error_messages={
            "required": "Write the addendum.",
            "max_length": f"Keep the addendum to {NOTE_PART_LENGTH} characters or fewer.",
        },
    )


class TestChoiceField(forms.MultipleChoiceField):
    """Test ids as a link or a tick box gives them; the form says what is wrong with each."""

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class ChooseTestsForm(forms.Form):
    """Which of the visit's catalog tests to order (`?test=<id>&test=<id>`)."""

    test = TestChoiceField(
        label="Tests to order",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one test to order."},
    )

    def __init__(self, *args, visit, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit = visit
        self.catalog = list(visit.orderable_tests())
        self.fields["test"].choices = [(str(test.pk), test.name) for test in self.catalog]

    def clean_test(self):
        """The chosen tests, in the catalog's order; each id must be a test of the catalog."""
        by_id = {str(test.pk): test for test in self.catalog}
        errors = []
        for value in self.cleaned_data["test"]:
            if value in by_id:
                continue
            test = OrderableTest.objects.filter(pk=value).first() if value.isdigit() else None
            if test is None:
                errors.append(f"There is no test number “{value[:20]}”.")
            else:
                errors.append(f"{test.name} is not in the test catalog for {self.visit.condition}.")
        if errors:
            raise forms.ValidationError(errors)
        chosen = set(self.cleaned_data["test"])
        return [test for test in self.catalog if str(test.pk) in chosen]


class OrderLineForm(forms.Form):
    """One test of an order form: whether to order it after all, how urgently, why, and
    the fields its test needs (the part of the spine for a spine scan, the side and limb
    for EMG and nerve conduction studies)."""

    include = forms.BooleanField(label="Order this test", required=False, initial=True)
    priority = forms.ChoiceField(choices=TestOrder.Priority, initial=TestOrder.Priority.ROUTINE)
    reason = forms.CharField(
        label="Clinical indication",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Keep the clinical indication to 1000 characters."},
    )
    notes = forms.CharField(
        label="Notes for the performing department",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "Keep the notes to 1000 characters."},
    )

    def __init__(self, *args, test, **kwargs):
        super().__init__(*args, **kwargs)
        self.test = test
        sites = TestOrder.SITES_FOR_TEST.get(test.body_site, set())
        if len(sites) > 1:
            self.fields["body_site"] = forms.ChoiceField(
                label="Part of the spine" if test.body_site == "spine" else "Body site",
                choices=[("", "Choose…")]
                + [(site.value, site.label) for site in TestOrder.BodySite if site in sites],
                required=False,
            )
        if test.asks_side_and_limb:
            self.fields["side"] = forms.ChoiceField(
                label="Side", choices=[("", "Choose…"), *TestOrder.Side.choices], required=False
            )
            self.fields["limb"] = forms.ChoiceField(
                label="Limb", choices=[("", "Choose…"), *TestOrder.Limb.choices], required=False
            )
        for field in self.fields.values():
            field.summary_label = f"{test.name}: {field.label}"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("include"):
            return cleaned
        if not (cleaned.get("reason") or "").strip() and "reason" not in self.errors:
            self.add_error("reason", "Give the clinical indication.")
        where = {name: cleaned.get(name, "") for name in ("body_site", "side", "limb")}
        for name, message in TestOrder(test=self.test, **where).site_errors().items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned

    @property
    def line(self):
        """The order to place, as orders.place_orders takes it; None if left out."""
        if not self.cleaned_data.get("include"):
            return None
        return {
            "test": self.test,
            "priority": self.cleaned_data["priority"],
            "reason": self.cleaned_data["reason"],
            "body_site": self.cleaned_data.get("body_site", ""),
            "side": self.cleaned_data.get("side", ""),
            "limb": self.cleaned_data.get("limb", ""),
            "notes": self.cleaned_data["notes"],
        }


class BaseOrderLineFormSet(forms.BaseFormSet):
    """One OrderLineForm per chosen test; at least one of them must be ordered."""

    def __init__(self, *args, tests, initial_reason="", **kwargs):
        self.tests = tests
        kwargs["initial"] = [{"reason": initial_reason} for _ in tests]
        super().__init__(*args, **kwargs)

    def total_form_count(self):
        return len(self.tests)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "test": self.tests[index]}

    def clean(self):
        if any(self.errors):
            return
        if not self.lines:
            raise forms.ValidationError("Tick at least one test to order.")

    @property
    def lines(self):
        return [form.line for form in self.forms if form.line is not None]

    def refuse(self, error):
        """Show why orders.place_orders placed none of the lines."""
        self.non_form_errors().extend(["No orders were placed.", *error.messages])


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=BaseOrderLineFormSet, extra=0, max_num=50, validate_max=True
)


class AttestationForm(forms.Form):
    """Who sends the patient's answers, the name they type, and their word that the
    answers are true: the last step before the answers are sent."""

    intake_version = forms.IntegerField(widget=forms.HiddenInput())
    respondent = forms.ChoiceField(
        label=gettext_lazy("Who is filling this in?"),
        choices=Attestation.Respondent.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose who is filling this in.")},
    )
    relation = forms.ChoiceField(
        label=gettext_lazy("How are you related to the patient?"),
        choices=Attestation.Relation.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    relation_other = forms.CharField(
        label=gettext_lazy("If other, say how"),
        max_length=100,
        required=False,
        error_messages={"max_length": gettext_lazy("Use 100 letters or fewer.")},
    )
    full_name = forms.CharField(
        label=gettext_lazy("Your full name"),
        max_length=200,
        error_messages={
            "required": gettext_lazy("Type your full name."),
            "max_length": gettext_lazy("Use 200 letters or fewer."),
        },
    )
    confirmed = forms.BooleanField(
        label=consent.CONFIRM_TEXT,
        error_messages={"required": gettext_lazy("Tick the box to confirm your answers.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed"].summary_label = gettext_lazy("Confirm")

    def clean(self):
        cleaned = super().clean()
        on_behalf = cleaned.get("respondent") == Attestation.Respondent.ON_BEHALF
        if not on_behalf:
            cleaned["relation"] = cleaned["relation_other"] = ""
        elif not cleaned.get("relation"):
            self.add_error("relation", gettext("Choose how you are related to the patient."))
        elif cleaned["relation"] != Attestation.Relation.OTHER:
            cleaned["relation_other"] = ""
        elif not cleaned.get("relation_other", "").strip():
            self.add_error("relation_other", gettext("Say how you are related to the patient."))
        return cleaned
