"""Patients, visits, answers to the history questions, test orders, and pre-visit links."""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import get_language_info, gettext_lazy, pgettext_lazy
from modeltranslation.utils import get_language

from audit import append_only
from audit.history import KeepsHistory, kept_versions
from conditions.models import (
    ORIGINAL_LANGUAGE,
    Condition,
    ConditionVersion,
    HistoryQuestion,
    OrderableTest,
)

from . import answer_types
from .dates import parse_typed_date


class RecordNumberCounter(models.Model):
    """The last medical record number handed out; numbers are never reused."""

    last = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"Last record number issued: {self.last}"

    @classmethod
    def next_number(cls):
        (number,) = cls.reserve(1)
        return number

    @classmethod
    def reserve(cls, count):
        """`count` new record numbers in a row (an iterator), for registering in bulk."""
        with transaction.atomic():
            counter, _ = cls.objects.select_for_update().get_or_create(pk=1)
            counter.last = F("last") + count
            counter.save(update_fields=["last"])
            counter.refresh_from_db(fields=["last"])
        return map(_with_check_digit, range(counter.last - count + 1, counter.last + 1))


def _with_check_digit(number):
    """Seven digits and a Luhn check digit, so a mistyped record number is caught."""
    digits = f"{number:07d}"
    total = 0
    for i, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return f"{digits}{(10 - total % 10) % 10}"


def is_valid_record_number(value):
    return value.isdigit() and len(value) == 8 and _with_check_digit(int(value[:7])) == value


class PatientQuerySet(models.QuerySet):
    def current(self):
        """Records in use: not merged into another record."""
        return self.filter(merged_into__isnull=True)

    def matching(self, query):
        """Current patients whose record number, date of birth or names match a search,
        or who have a merged record that matches."""
        query = " ".join(query.split())
        if not query:
            return self.none()
        if query.isdigit():
            condition = Q(mrn__startswith=query)
        elif date_of_birth := parse_typed_date(query):
            condition = Q(date_of_birth=date_of_birth)
        else:
            terms = query.replace(",", " ").split()
            if not terms:
                return self.none()
            condition = Q()
            for term in terms:
                # On PostgreSQL the trigram indexes on UPPER(name) serve these (migration
                # 0011); the lookups must stay icontains to match them.
                condition &= Q(given_name__icontains=term) | Q(family_name__icontains=term)
        # The current records that match, and the ones a matching merged record went into
        # (a merged record's own name or number finds the record it was merged into):
        # two index searches, kept apart so that neither reads every patient, and
        # disjoint, so that UNION ALL needs no de-duplication. A union can still be
        # ordered, sliced and counted, not filtered or prefetched.
        current = self.current().order_by()
        merged_into = self.model.objects.filter(condition, merged_into__isnull=False)
        through_merged = current.exclude(condition).filter(pk__in=merged_into.values("merged_into"))
        return (
            current.filter(condition)
            .union(through_merged, all=True)
            .order_by(*self.model._meta.ordering, "pk")
        )

    def possible_duplicates(self, *, given_name, family_name, date_of_birth):
        return self.current().filter(
            given_name__iexact=given_name.strip(),
            family_name__iexact=family_name.strip(),
            date_of_birth=date_of_birth,
        )


class Patient(KeepsHistory, models.Model):
    class SexAtBirth(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        INTERSEX = "intersex", "Intersex"
        UNKNOWN = "unknown", "Not known"

    class Language(models.TextChoices):
        """The languages the clinic most often meets, by ISO 639 code (as FHIR's
        Patient.communication takes them), and "other" with its name given."""

        ENGLISH = "en", "English"
        SPANISH = "es", "Spanish"
        CHINESE = "zh", "Chinese"
        VIETNAMESE = "vi", "Vietnamese"
        TAGALOG = "tl", "Tagalog"
        ARABIC = "ar", "Arabic"
        FRENCH = "fr", "French"
        KOREAN = "ko", "Korean"
        RUSSIAN = "ru", "Russian"
        PORTUGUESE = "pt", "Portuguese"
        SIGN_LANGUAGE = "ase", "American Sign Language"
        OTHER = "other", "Other"

    mrn = models.CharField("medical record number", max_length=8, unique=True, editable=False)
    given_name = models.CharField("first name", max_length=100)
    family_name = models.CharField("last name", max_length=100)
    date_of_birth = models.DateField()
    sex_at_birth = models.CharField(max_length=10, choices=SexAtBirth)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    # Contact preferences: blank or None where the patient was not asked.
    preferred_language = models.CharField(max_length=10, choices=Language, blank=True)
    other_language = models.CharField(
        "other language", max_length=60, blank=True, help_text="When the language is “Other”."
    )
    email_allowed = models.BooleanField("e-mail may be used", null=True, blank=True)
    sms_allowed = models.BooleanField("text messages may be used", null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_records",
        help_text="The record this one was merged into (see PatientMerge); never deleted.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()
    history = kept_versions()

    class Meta:
        ordering = ["family_name", "given_name", "date_of_birth"]
        # Searches by part of a name use trigram indexes, on PostgreSQL (migration 0011).
        indexes = [
            models.Index(fields=["family_name", "given_name"]),
            models.Index(fields=["date_of_birth"], name="patient_birth_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(mrn=""), name="patient_has_record_number"),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("pk")),
                name="patient_not_merged_into_itself",
            ),
        ]
        permissions = [
            ("merge_patient", "Can merge two records of the same person"),
            ("unmerge_patient", "Can undo a merge of two records"),
        ]

    def __str__(self):
        return f"{self.full_name} ({self.mrn})"

    def save(self, *args, **kwargs):
        if not self.mrn:
            self.mrn = RecordNumberCounter.next_number()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("intake:patient-detail", kwargs={"pk": self.pk})

    @property
    def full_name(self):
        return f"{self.given_name} {self.family_name}"

    @property
    def edit_stamp(self):
        """Changes whenever the record is saved: a page loaded with another stamp is stale."""
        return self.updated_at.isoformat()

    @property
    def is_merged(self):
        return self.merged_into_id is not None

    @property
    def language_display(self):
        if self.preferred_language == self.Language.OTHER and self.other_language:
            return self.other_language
        return self.get_preferred_language_display()

    @property
    def may_email(self):
        """Whether e-mail may be sent: the patient has an address and did not say no."""
        return bool(self.email) and self.email_allowed is not False

    def age_on(self, day):
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def clean(self):
        errors = {}
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            errors["date_of_birth"] = "The date of birth cannot be in the future."
        elif self.date_of_birth and self.date_of_birth.year < 1900:
            errors["date_of_birth"] = "Check the year of birth."
        self.other_language = " ".join(self.other_language.split())
        if self.preferred_language == self.Language.OTHER and not self.other_language:
            errors["other_language"] = "Say which language the patient prefers."
        elif self.preferred_language != self.Language.OTHER:
            self.other_language = ""
        if self.email_allowed and not self.email:
            errors["email_allowed"] = "Give an e-mail address, or say that e-mail may not be used."
        if self.sms_allowed and not self.phone:
            errors["sms_allowed"] = (
                "Give a phone number, or say that text messages may not be used."
            )
        if errors:
            raise ValidationError(errors)


class PatientMerge(models.Model):
    """Two records of the same person made one: `merged` now points at `survivor`, and
    its visits (with their answers, orders and pre-visit links) moved there.

    Exactly what moved is kept, so that undoing the merge puts back those visits and no
    others: visits opened on the survivor since stay with it. Workflows in intake.merges.
    """

    merged = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_away")
    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_in")
    reason = models.TextField()
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    moved_visits = models.ManyToManyField("Visit", blank=True, related_name="+")
    repointed = models.ManyToManyField(
        Patient,
        blank=True,
        related_name="+",
        help_text="Records merged earlier into the merged record, pointed on to the survivor.",
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    undo_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = "merge of records"
        verbose_name_plural = "merges of records"
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged=F("survivor")), name="merge_joins_two_records"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="merge_has_reason"),
            models.CheckConstraint(
                condition=Q(undone_at__isnull=True, undo_reason="")
                | (Q(undone_at__isnull=False) & ~Q(undo_reason="")),
                name="undone_merge_has_reason",
            ),
            # A record is merged away at most once at a time, however two people race.
            models.UniqueConstraint(
                fields=["merged"],
                condition=Q(undone_at__isnull=True),
                name="one_active_merge_per_record",
            ),
        ]

    def __str__(self):
        return f"Record {self.merged_id} merged into record {self.survivor_id}"

    @property
    def is_undone(self):
        return self.undone_at is not None


class StatusWorkflow:
    """A `status` that changes only along TRANSITIONS (each status -> those it may become)."""

    def can_move_to(self, status):
        return status in self.TRANSITIONS[self.status]

    def move_to(self, status):
        """Change the status, refusing any change the workflow does not allow."""
        if not self.can_move_to(status):
            raise ValidationError(
                f"{self.WORKFLOW_SUBJECT} that is {self.get_status_display().lower()} cannot "
                f"become {self.Status(status).label.lower()}."
            )
        self.status = status


class VisitQuerySet(models.QuerySet):
    def on_day(self, day):
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return self.filter(scheduled_at__gte=start, scheduled_at__lt=start + datetime.timedelta(1))

    def for_lists(self):
        return self.select_related("patient", "condition", "provider")

    def awaiting_previsit_reminder(self):
        """Visits whose patient is to get a reminder, annotated with when
        (`reminder_due_at`, PREVISIT_REMINDER_HOURS before the visit): open for intake,
        still ahead, with no reminder yet, and with an e-mailed link that went out before
        that time, still works then and was not sent back. Whether the patient may be
        e-mailed is not asked here: a reminder that cannot go is recorded with the reason."""
        unanswered_link = PreVisitLink.objects.filter(
            visit=models.OuterRef("pk"),
            channel=PreVisitLink.Channel.EMAIL,
            sent_at__lte=models.OuterRef("reminder_due_at"),
            expires_at__gt=models.OuterRef("reminder_due_at"),
            send_error="",
            submitted_at=None,
            locked_at=None,
            revoked_at=None,
        ).filter(expires_at__gt=timezone.now())  # and now, should the command run late
        return self.annotate(
            reminder_due_at=models.ExpressionWrapper(
                F("scheduled_at") - datetime.timedelta(hours=settings.PREVISIT_REMINDER_HOURS),
                output_field=models.DateTimeField(),
            )
        ).filter(
            models.Exists(unanswered_link),
            status__in=Visit.INTAKE_OPEN,
            scheduled_at__gt=timezone.now(),
            previsit_reminder=None,
        )

    @staticmethod
    def _has_urgent_flags():
        # Urgent flags are kept first, so the first one tells; a Case keeps visits
        # without flags False rather than NULL, which sorts differently per database.
        return models.Case(
            models.When(red_flags__0__urgent=True, then=models.Value(True)),
            default=models.Value(False),
        )

    def with_urgent_flags(self):
        return self.alias(has_urgent_flags=self._has_urgent_flags()).filter(has_urgent_flags=True)

    def for_day_list(self):
        """With what the day list sorts and shows by: `is_over` (closed, cancelled or not
        attended), `has_urgent_flags`, `has_red_flags`, and `patient_answered` (through a
        pre-visit link)."""
        return self.annotate(
            is_over=Q(status__in=Visit.FINISHED),
            has_urgent_flags=self._has_urgent_flags(),
            has_red_flags=~Q(red_flags=[]),
            patient_answered=models.Exists(
                Answer.objects.filter(visit=models.OuterRef("pk")).filter(
                    Q(source=Answer.Source.PATIENT) | ~Q(patient_answer="")
                )
            ),
        )


class Visit(KeepsHistory, StatusWorkflow, models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CHECKED_IN = "checked_in", "Checked in"
        INTAKE_IN_PROGRESS = "intake_in_progress", "Intake in progress"
        INTAKE_COMPLETE = "intake_complete", "Intake complete"
        SEEN = "seen", "Seen"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"
        DID_NOT_ATTEND = "did_not_attend", "Did not attend"

    # Which status may follow which; every change of status goes through Visit.move_to.
    #
    # Arrival is its own fact (checked_in_at), kept whatever the intake does next: a
    # visit with no intake yet becomes "checked in" when its patient arrives; one whose
    # intake was started or completed before the patient came (the pre-visit link)
    # keeps that status, and the day list shows the arrival time beside it. Intake
    # saved after arrival moves the status on as before, and the arrival stays.
    TRANSITIONS = {
        Status.SCHEDULED: {
            Status.CHECKED_IN,
            Status.INTAKE_IN_PROGRESS,
            Status.INTAKE_COMPLETE,
            Status.SEEN,
            Status.CANCELLED,
            Status.DID_NOT_ATTEND,
        },
        Status.CHECKED_IN: {
            Status.INTAKE_IN_PROGRESS,
            Status.INTAKE_COMPLETE,
            Status.SEEN,
            Status.CANCELLED,
        },
        Status.INTAKE_IN_PROGRESS: {
            Status.INTAKE_COMPLETE,
            Status.SEEN,
            Status.CANCELLED,
            Status.DID_NOT_ATTEND,
        },
        Status.INTAKE_COMPLETE: {
            Status.INTAKE_IN_PROGRESS,
            Status.SEEN,
            Status.CANCELLED,
            Status.DID_NOT_ATTEND,
        },
        Status.SEEN: {Status.CLOSED},
        Status.CLOSED: set(),
        Status.CANCELLED: set(),
        # A patient marked as not attending who turns up late after all is checked in,
        # and the visit takes back the status it had (intake.visits.check_in).
        Status.DID_NOT_ATTEND: {
            Status.CHECKED_IN,
            Status.INTAKE_IN_PROGRESS,
            Status.INTAKE_COMPLETE,
        },
    }
    WORKFLOW_SUBJECT = "A visit"
    INTAKE_OPEN = {
        Status.SCHEDULED,
        Status.CHECKED_IN,
        Status.INTAKE_IN_PROGRESS,
        Status.INTAKE_COMPLETE,
    }
    # Visits whose patient may still arrive (unless already checked in): these can be
    # checked in, moved to another time, or marked as not attended.
    BEFORE_THE_PATIENT_IS_SEEN = {
        Status.SCHEDULED,
        Status.INTAKE_IN_PROGRESS,
        Status.INTAKE_COMPLETE,
    }
    # Nothing more happens on these: no orders, no change of provider, no new time.
    FINISHED = {Status.CLOSED, Status.CANCELLED, Status.DID_NOT_ATTEND}

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="visits")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="visits")
    content_version = models.ForeignKey(
        ConditionVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
        help_text="The condition's content as published when the visit was opened: its "
        "questions and red flags are this visit's, whatever is published later.",
    )
    scheduled_at = models.DateTimeField(db_index=True)
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits_as_provider",
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.SCHEDULED)
    cancel_reason = models.CharField(max_length=300, blank=True)
    checked_in_at = models.DateTimeField("arrived at", null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="checked in by",
    )
    did_not_attend_reason = models.CharField(
        "reason for marking as not attended", max_length=300, blank=True
    )
    close_reason = models.CharField(
        "reason for closing with orders open", max_length=300, blank=True
    )
    red_flags = models.JSONField(
        default=list, blank=True, help_text="Flags raised by the answers, with their reasons."
    )
    intake_version = models.PositiveIntegerField(
        default=0, help_text="Goes up with every intake save, so concurrent saves conflict."
    )
    intake_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="intake reviewed by",
    )
    intake_reviewed_at = models.DateTimeField("intake reviewed at", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()
    history = kept_versions()

    class Meta:
        ordering = ["scheduled_at", "id"]
        permissions = [
            ("close_visit", "Can close a visit"),
            ("review_visit", "Can mark a visit's intake as reviewed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="cancelled_visit_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="checked_in") | Q(checked_in_at__isnull=False),
                name="checked_in_visit_has_arrival_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="did_not_attend") | Q(checked_in_at__isnull=True),
                name="absent_visit_has_no_arrival_time",
            ),
            models.CheckConstraint(
                condition=Q(intake_reviewed_by__isnull=True, intake_reviewed_at__isnull=True)
                | Q(intake_reviewed_by__isnull=False, intake_reviewed_at__isnull=False),
                name="reviewed_intake_has_reviewer_and_time",
            ),
        ]

    def __str__(self):
        return f"{self.condition} visit on {timezone.localtime(self.scheduled_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("intake:visit-detail", kwargs={"pk": self.pk})

    @property
    def intake_is_open(self):
        return self.status in self.INTAKE_OPEN

    @property
    def edit_stamp(self):
        """Changes whenever the visit is saved: a page loaded with another stamp is stale."""
        return self.updated_at.isoformat()

    @property
    def accepts_orders(self):
        return self.status not in self.FINISHED

    @property
    def is_finished(self):
        return self.status in self.FINISHED

    @property
    def awaits_arrival(self):
        """Whether the patient is still expected: not checked in, seen or finished."""
        return self.status in self.BEFORE_THE_PATIENT_IS_SEEN and self.checked_in_at is None

    @property
    def is_today(self):
        return timezone.localtime(self.scheduled_at).date() == timezone.localdate()

    @property
    def can_check_in(self):
        """Whether the patient can be checked in now (on the visit's own day)."""
        return self.is_today and (self.awaits_arrival or self.did_not_attend)

    @property
    def is_due(self):
        """Whether the visit's time has come."""
        return self.scheduled_at <= timezone.now()

    @property
    def did_not_attend(self):
        return self.status == self.Status.DID_NOT_ATTEND

    @property
    def can_close(self):
        return self.status == self.Status.SEEN

    def move_to(self, status):
        """As StatusWorkflow.move_to, but staying in the same status is no change."""
        if status != self.status:
            super().move_to(status)

    @property
    def urgent_flags(self):
        return [flag for flag in self.red_flags if flag.get("urgent")]

    def attestations(self):
        """The patient's word on each sending of their answers through a link, newest first."""
        return Attestation.objects.filter(link__visit=self)

    def questions(self):
        """The questions of the visit's content version that apply to its patient."""
        if self.content_version is None:
            return []
        age = self.patient.age_on(timezone.localtime(self.scheduled_at).date())
        return [
            question
            for question in self.content_version.questions()
            if question.applies_to_patient(sex_at_birth=self.patient.sex_at_birth, age=age)
        ]

    def content_question(self, key):
        """The question with this key in the visit's content version, reading in the active
        language (None if it has gone). Each language's questions are read once per visit."""
        language = get_language()
        if language not in self._content_questions:
            questions = self.content_version.questions() if self.content_version else []
            self._content_questions[language] = {question.key: question for question in questions}
        return self._content_questions[language].get(key)

    @cached_property
    def _content_questions(self):
        return {}

    def red_flag_rules(self):
        """The red-flag rules of the visit's content version."""
        return self.content_version.red_flag_rules() if self.content_version else []

    def orderable_tests(self):
        """The catalog tests of the visit's content version, by kind and name."""
        if self.content_version is None:
            return OrderableTest.objects.none()
        slugs = [test["slug"] for test in self.content_version.content.get("tests", [])]
        return OrderableTest.objects.filter(slug__in=slugs).order_by("kind", "name")


class Answer(KeepsHistory, models.Model):
    """One answer to one history question for one visit, typed by the question's answer type.

    The wording, type and choices are kept as they were when the question was asked; the
    question is the one with this key in the visit's content version.
    """

    class Source(models.TextChoices):
        STAFF = "staff", "Staff"
        PATIENT = "patient", "Patient"

    class DurationUnit(models.TextChoices):
        SECONDS = "seconds", pgettext_lazy("unit of a duration", "seconds")
        MINUTES = "minutes", pgettext_lazy("unit of a duration", "minutes")
        HOURS = "hours", pgettext_lazy("unit of a duration", "hours")
        DAYS = "days", pgettext_lazy("unit of a duration", "days")

        def span(self, amount):
            """`amount` of this unit as a timedelta."""
            return datetime.timedelta(**{self.value: float(amount)})

    # The columns an answer's typed value is spread over (only its type's are filled).
    VALUE_FIELDS = [
        "value_date",
        "value_number",
        "value_unit",
        "value_bool",
        "value_text",
        "value_choices",
    ]

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="answers")
    question_key = models.SlugField(max_length=60)
    wording = models.CharField("question as asked", max_length=300)
    asked_language = models.CharField(
        max_length=10,
        choices=settings.LANGUAGES,
        default=ORIGINAL_LANGUAGE,
        help_text="The language the question was asked in (its wording is in it). The value "
        "is the same in every language: choices are kept by their English codes.",
    )
    answer_type = models.CharField(max_length=20, choices=HistoryQuestion.AnswerType)
    position = models.PositiveIntegerField(default=0)

    value_date = models.DateField(null=True, blank=True)
    value_number = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    value_unit = models.CharField(max_length=10, choices=DurationUnit, blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    value_text = models.TextField(blank=True)
    value_choices = models.JSONField(
        default=list, blank=True, help_text="Chosen values and their labels as shown."
    )

    source = models.CharField(max_length=10, choices=Source)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)
    patient_answer = models.TextField(
        blank=True, help_text="What the patient answered, kept when staff correct it."
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)

    history = kept_versions()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "question_key"], name="one_answer_per_question_per_visit"
            ),
            models.CheckConstraint(
                condition=~Q(answer_type=HistoryQuestion.AnswerType.DURATION)
                | Q(value_number__isnull=True)
                | ~Q(value_unit=""),
                name="duration_number_has_unit",
            ),
        ]

    def __str__(self):
        return f"{self.wording}: {self.display}"

    @property
    def value(self):
        """The answer as a Python value of its type (a date, (amount, unit), bool, set...)."""
        return answer_types.of(self).value(self)

    @property
    def display(self):
        return answer_types.of(self).display(self)

    @property
    def asked_in_translation(self):
        return self.asked_language != ORIGINAL_LANGUAGE

    @property
    def asked_language_name(self):
        """The language asked in, named in English for staff ("Spanish")."""
        return translation.get_language_info(self.asked_language)["name"]

    @property
    def wording_as_read(self):
        """The question as the patient reads it now, in the active language (the wording
        as asked, if the question is no longer known)."""
        question = self.visit.content_question(self.question_key)
        return question.wording if question else self.wording

    @property
    def wording_in_english(self):
        """The question as staff read it: in English, even when it was asked in another
        language (then the wording as asked, if the question is no longer known)."""
        if not self.asked_in_translation:
            return self.wording
        with translation.override(ORIGINAL_LANGUAGE):
            question = self.visit.content_question(self.question_key)
        return question.wording if question else self.wording

    @property
    def display_as_asked(self):
        """The answer as the patient reads it: its choices in the active language."""
        question = self.visit.content_question(self.question_key)
        kind = answer_types.of(self)
        return kind.display_as_asked(self, question) if question else self.display

    @property
    def history_label(self):
        return f"Answer to “{self.wording_in_english}”"

    @property
    def is_blank(self):
        return self.value in (None, "", set())


class TestOrderQuerySet(models.QuerySet):
    def with_visit(self):
        """With the catalog test, the visit (its condition and content) and the people who ordered,
        resulted and reviewed, as a record of the order needs them."""
        return self.select_related(
            "test",
            "visit__condition",
            "visit__content_version",
            "ordered_by",
            "resulted_by",
            "reviewed_by",
        )

    def awaiting_review(self, provider):
        """Resulted orders on visits this provider sees, or that this provider placed."""
        return self.filter(status=TestOrder.Status.RESULTED).filter(
            Q(visit__provider=provider) | Q(ordered_by=provider)
        )


class TestOrder(KeepsHistory, StatusWorkflow, models.Model):
    """A test ordered for a visit, its result and its review.

    The test's name and code are copied at ordering time, so later catalog edits do not
    change what was ordered. Every change of status goes through TestOrder.move_to,
    called only by the workflow functions in intake.orders.
    """

    class Status(models.TextChoices):
        ORDERED = "ordered", "Ordered"
        SCHEDULED = "scheduled", "Scheduled"
        RESULTED = "resulted", "Resulted"
        REVIEWED = "reviewed", "Reviewed"
        CANCELLED = "cancelled", "Cancelled"

    class Priority(models.TextChoices):
        ROUTINE = "routine", "Routine"
        URGENT = "urgent", "Urgent"
        STAT = "stat", "STAT (immediately)"

    class BodySite(models.TextChoices):
        BRAIN = "brain", "Brain"
        CERVICAL_SPINE = "cervical-spine", "Cervical spine (neck)"
        THORACIC_SPINE = "thoracic-spine", "Thoracic spine (upper back)"
        LUMBAR_SPINE = "lumbar-spine", "Lumbar spine (lower back)"
        WHOLE_SPINE = "whole-spine", "Whole spine"

    class Side(models.TextChoices):
        LEFT = "left", "Left"
        RIGHT = "right", "Right"
        BOTH = "both", "Both sides"

    class Limb(models.TextChoices):
        ARM = "arm", "Arm"
        LEG = "leg", "Leg"

    TRANSITIONS = {
        Status.ORDERED: {Status.SCHEDULED, Status.RESULTED, Status.CANCELLED},
        Status.SCHEDULED: {Status.RESULTED, Status.CANCELLED},
        Status.RESULTED: {Status.REVIEWED},
        Status.REVIEWED: set(),
        Status.CANCELLED: set(),
    }
    AWAITING_RESULT = {Status.ORDERED, Status.SCHEDULED}
    HAS_RESULT = {Status.RESULTED, Status.REVIEWED}
    WORKFLOW_SUBJECT = "An order"
    # The body sites an order may name, by the catalog test's body site.
    SITES_FOR_TEST = {
        "brain": {BodySite.BRAIN},
        "spine": {
            BodySite.CERVICAL_SPINE,
            BodySite.THORACIC_SPINE,
            BodySite.LUMBAR_SPINE,
            BodySite.WHOLE_SPINE,
        },
    }

    __test__ = False  # not a pytest test class, despite its name

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="test_orders")
    test = models.ForeignKey(OrderableTest, on_delete=models.PROTECT, related_name="orders")
    test_name = models.CharField("test as ordered", max_length=200)
    test_code_system = models.CharField(max_length=40, blank=True)
    test_code = models.CharField(max_length=20, blank=True)
    priority = models.CharField(max_length=10, choices=Priority, default=Priority.ROUTINE)
    reason = models.TextField("clinical indication")
    body_site = models.CharField("region", max_length=20, choices=BodySite, blank=True)
    side = models.CharField(max_length=10, choices=Side, blank=True)
    limb = models.CharField(max_length=10, choices=Limb, blank=True)
    notes = models.TextField("notes for the performing department", blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.ORDERED)

    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_placed"
    )
    ordered_at = models.DateTimeField(default=timezone.now)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    result_text = models.TextField(blank=True)
    result_value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    result_unit = models.CharField(max_length=30, blank=True)
    abnormal = models.BooleanField(null=True, blank=True)
    performed_on = models.DateField(null=True, blank=True)
    resulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resulted_at = models.DateTimeField(null=True, blank=True)
    result_from = models.CharField(
        "result sent by",
        max_length=100,
        blank=True,
        help_text="The outside performer whose system sent the result (HL7 v2).",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TestOrderQuerySet.as_manager()
    history = kept_versions()

    class Meta:
        ordering = ["-ordered_at", "-id"]
        indexes = [
            models.Index(fields=["status", "ordered_at"]),
            models.Index(fields=["-ordered_at", "-id"], name="testorder_newest_first_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="order_has_reason"),
            models.CheckConstraint(
                condition=~Q(status="cancelled")
                | (~Q(cancel_reason="") & Q(cancelled_at__isnull=False)),
                name="cancelled_order_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resulted", "reviewed"])
                | (
                    Q(resulted_at__isnull=False)
                    & (Q(resulted_by__isnull=False) | ~Q(result_from=""))
                ),
                name="resulted_order_has_result_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="reviewed")
                | (Q(reviewed_at__isnull=False) & Q(reviewed_by__isnull=False)),
                name="reviewed_order_has_reviewer",
            ),
            models.CheckConstraint(
                condition=Q(result_value__isnull=True) | ~Q(result_unit=""),
                name="order_result_value_has_unit",
            ),
            models.CheckConstraint(
                condition=Q(side="", limb="") | (~Q(side="") & ~Q(limb="")),
                name="order_side_and_limb_together",
            ),
            models.CheckConstraint(
                condition=Q(resulted_at__isnull=True) | Q(resulted_at__gte=F("ordered_at")),
                name="order_result_not_before_order",
            ),
        ]

    def __str__(self):
        return f"{self.test_name} ({self.get_status_display().lower()})"

    @property
    def history_label(self):
        return f"Order: {self.test_name}"

    def get_test_code_system_label(self):
        return (
            OrderableTest.CodeSystem(self.test_code_system).label if self.test_code_system else ""
        )

    @property
    def placer_number(self):
        """The number outside performers know the order by (ORC-2 in HL7 v2)."""
        return str(self.pk)

    @property
    def awaits_result(self):
        return self.status in self.AWAITING_RESULT

    @property
    def has_result(self):
        return self.status in self.HAS_RESULT

    @property
    def result_value_display(self):
        """The result value with its unit, without trailing zeros: "3.1 mmol/L"."""
        if self.result_value is None:
            return ""
        return f"{self.result_value.normalize():f} {self.result_unit}"

    @property
    def test_and_site(self):
        """The test as ordered, with where it is done: "Electromyogram (EMG) (Left leg)"."""
        return f"{self.test_name} ({self.site_display})" if self.site_display else self.test_name

    @property
    def site_display(self):
        """Where the test is done, as the pages print it: "Cervical spine (neck)",
        "Left arm", "Both legs"; blank for a test not done on a site."""
        if self.body_site:
            return self.get_body_site_display()
        if self.side == self.Side.BOTH:
            return f"Both {self.limb}s"
        if self.side:
            return f"{self.get_side_display()} {self.limb}"
        return ""

    def clean(self):
        errors = {}
        # The order is checked against the catalog as it was placed: the catalog may
        # change later, and that must not stop a result being recorded.
        if self.test_id and self._state.adding:
            errors |= self.site_errors()
        today = timezone.localdate()
        ordered_on = timezone.localdate(self.ordered_at) if self.ordered_at else None
        if self.performed_on and self.performed_on > today:
            errors["performed_on"] = "The date performed cannot be in the future."
        elif self.performed_on and ordered_on and self.performed_on < ordered_on:
            errors["performed_on"] = (
                "The date performed cannot be before the test was ordered "
                f"({ordered_on:%-d %B %Y})."
            )
        if self.resulted_at and self.resulted_at > timezone.now():
            errors["resulted_at"] = "A result cannot be recorded in the future."
        elif self.resulted_at and self.ordered_at and self.resulted_at < self.ordered_at:
            errors["resulted_at"] = "A result cannot be recorded before the test was ordered."
        if errors:
            raise ValidationError(errors)

    def site_errors(self):
        """The region, side and limb the catalog test asks for; a test with one possible
        region (the brain) takes it without being told."""
        test, errors = self.test, {}
        allowed = self.SITES_FOR_TEST.get(test.body_site, set())
        if not self.body_site and len(allowed) == 1:
            (self.body_site,) = allowed
        if self.body_site and self.body_site not in allowed:
            errors["body_site"] = f"{test.name} is not done on this site."
        elif test.body_site == "spine" and not self.body_site:
            errors["body_site"] = "Say which part of the spine to scan."
        if test.asks_side_and_limb:
            if not self.side:
                errors["side"] = "Say which side: left, right or both."
            if not self.limb:
                errors["limb"] = "Say which limb: arm or leg."
        else:
            if self.side:
                errors["side"] = f"{test.name} is not done on one side; leave the side empty."
            if self.limb:
                errors["limb"] = f"{test.name} is not done on a limb; leave the limb empty."
        return errors


class OrderAddendum(models.Model):
    """A note added to an order after its review, which is otherwise final."""

    order = models.ForeignKey(TestOrder, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name_plural = "order addenda"
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="addendum_has_text")]

    def __str__(self):
        return f"Addendum to {self.order} by {self.added_by}"


class ClinicalNote(models.Model):
    """The provider's note of a visit: history, examination, assessment and plan.

    Saved as a draft as often as wanted, then signed; once signed the database itself
    refuses to change or delete it (SIGNED), and anything more is a NoteAddendum.
    `version` goes up with every save, so a save from a page loaded before another is
    refused. Workflows in intake.notes.
    """

    PARTS = ["clinical_history", "examination", "assessment", "plan"]

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="clinical_note")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    clinical_history = models.TextField("history", blank=True)
    examination = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)

    SIGNED = append_only.Guard(
        name="signed_clinical_note",
        table="intake_clinicalnote",
        message="A signed clinical note cannot change",
        locked="OLD.signed_at IS NOT NULL",
    )

    class Meta:
        permissions = [("sign_clinicalnote", "Can sign a clinical note")]
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_by__isnull=True, signed_at__isnull=True)
                | Q(signed_by__isnull=False, signed_at__isnull=False),
                name="signed_note_has_signer_and_time",
            ),
        ]

    def __str__(self):
        return f"Clinical note on {self.visit}"

    @property
    def is_signed(self):
        return self.signed_at is not None

    @property
    def is_empty(self):
        return not any(getattr(self, part).strip() for part in self.PARTS)


class NoteAddendum(models.Model):
    """Text added to a signed clinical note, signed as it is saved; never changed after
    (the database refuses, ADDED)."""

    note = models.ForeignKey(ClinicalNote, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)

    ADDED = append_only.Guard(
        name="note_addendum",
        table="intake_noteaddendum",
        message="An addendum cannot change",
    )

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name_plural = "note addenda"
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="note_addendum_has_text")]

    def __str__(self):
        return f"Addendum to {self.note} by {self.signed_by}"


class PreVisitLink(models.Model):
    """A link that lets a patient answer one visit's questions before it, with no account.

    Only a SHA-256 hash of the token is stored; the token itself exists only in the
    e-mail (or on the screen of the staff member who showed it) and in the patient's
    address bar.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SHOWN = "shown", "Shown to staff to copy"

    class State(models.TextChoices):
        PENDING = "pending", "Being sent"
        ACTIVE = "active", "Active"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        LOCKED = "locked", "Locked after wrong dates of birth"
        FAILED = "failed", "Could not be sent"
        CLOSED = "closed", "Closed with the visit"

    class Progress(models.TextChoices):
        """How far the patient got with the link, as the day list says it."""

        BEING_SENT = "being_sent", "Being sent"
        SENT = "sent", "Sent"
        OPENED = "opened", "Opened"
        STARTED = "started", "Started"
        SENT_BACK = "sent_back", "Sent back"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Could not be sent"
        REVOKED = "revoked", "Revoked"
        LOCKED = "locked", "Locked"
        CLOSED = "closed", "Closed with the visit"

    MAX_DOB_ATTEMPTS = 5

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="previsit_links")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    channel = models.CharField(max_length=10, choices=Channel)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    send_error = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="revoked_link_has_reason",
            ),
        ]

    def __str__(self):
        return f"Pre-visit link {self.pk} ({self.get_state_display().lower()})"

    @property
    def state(self):
        if self.revoked_at:
            return self.State.REVOKED
        if self.locked_at:
            return self.State.LOCKED
        if self.submitted_at:
            return self.State.SUBMITTED
        if self.send_error:
            return self.State.FAILED
        if not self.visit.intake_is_open:
            # Cancelled, or already seen: there is nothing left for the patient to answer.
            return self.State.CLOSED
        if self.expires_at <= timezone.now():
            return self.State.EXPIRED
        if not self.token_hash:
            return self.State.PENDING
        return self.State.ACTIVE

    def get_state_display(self):
        return self.State(self.state).label

    def progress(self, *, patient_answered):
        """The link's Progress; `patient_answered`: whether the patient has saved answers
        through a link of this visit (a draft counts)."""
        match self.state:
            case self.State.SUBMITTED:
                return self.Progress.SENT_BACK
            case self.State.ACTIVE if patient_answered:
                return self.Progress.STARTED
            case self.State.ACTIVE if self.opened_at:
                return self.Progress.OPENED
            case self.State.ACTIVE:
                return self.Progress.SENT
            case self.State.PENDING:
                return self.Progress.BEING_SENT
            case state:
                return self.Progress(state)

    @property
    def can_be_reopened(self):
        """Whether staff can let the patient change their submitted answers again."""
        return (
            self.state == self.State.SUBMITTED
            and self.visit.intake_is_open
            and self.expires_at > timezone.now()
        )

    @property
    def actor_label(self):
        """Who the audit trail says acted, when the patient acts through this link."""
        return f"pre-visit link {self.pk}"

    @property
    def attempts_left(self):
        return max(self.MAX_DOB_ATTEMPTS - self.failed_attempts, 0)


class PreVisitReminder(models.Model):
    """The one reminder a visit's patient is e-mailed about an unfinished pre-visit link,
    PREVISIT_REMINDER_HOURS before the visit, or why it was not sent.

    At most one per visit, whatever happens to it later (a new link, a new time): the row
    is made before the e-mail goes, so a second worker finds it and sends nothing.
    """

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="previsit_reminder")
    link = models.ForeignKey(PreVisitLink, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    not_sent_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(not_sent_reason=""),
                name="sent_reminder_has_no_reason_against",
            ),
        ]

    def __str__(self):
        return f"Pre-visit reminder {self.pk} for visit {self.visit_id}"


class Attestation(models.Model):
    """The patient's (or their helper's) word that the answers they sent are true: who
    sent them, the name they typed, when, from where, in which language, and the exact
    text they agreed to. One per sending through a link: a ForeignKey, not a OneToOne,
    because staff can reopen a sent link and the patient then sends (and attests) again.
    Written by intake.links.submit_previsit_answers; the database refuses to change or
    delete it (SIGNED)."""

    class Respondent(models.TextChoices):
        PATIENT = "patient", gettext_lazy("I am the patient")
        ON_BEHALF = "on_behalf", gettext_lazy("I am answering for the patient")

    class Relation(models.TextChoices):
        PARENT = "parent", gettext_lazy("Parent")
        PARTNER = "partner", gettext_lazy("Husband, wife or partner")
        CHILD = "child", gettext_lazy("Son or daughter")
        FAMILY = "family", gettext_lazy("Other family member")
        CARER = "carer", gettext_lazy("Carer")
        OTHER = "other", gettext_lazy("Other")

    link = models.ForeignKey(PreVisitLink, on_delete=models.PROTECT, related_name="attestations")
    respondent = models.CharField(max_length=10, choices=Respondent)
    relation = models.CharField(max_length=10, choices=Relation, blank=True)
    relation_other = models.CharField("relation (other)", max_length=100, blank=True)
    full_name = models.CharField("typed name", max_length=200)
    attested_at = models.DateTimeField(default=timezone.now)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    language = models.CharField(max_length=10)
    text = models.TextField(help_text="The statement and check box as the person read them.")
    text_hash = models.CharField(max_length=64, help_text="SHA-256 of the text: its version.")

    SIGNED = append_only.Guard(
        name="attestation",
        table="intake_attestation",
        message="An attestation cannot change",
    )

    class Meta:
        ordering = ["-attested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(respondent="patient", relation="", relation_other="")
                | Q(respondent="on_behalf") & ~Q(relation=""),
                name="attestation_relation_only_on_behalf",
            ),
            models.CheckConstraint(
                condition=Q(relation="other") | Q(relation_other=""),
                name="attestation_other_relation_only_for_other",
            ),
            models.CheckConstraint(
                condition=~Q(full_name="") & ~Q(text="") & ~Q(language=""),
                name="attestation_has_name_text_and_language",
            ),
        ]

    def __str__(self):
        return f"Attestation {self.pk} for {self.link}"

    @property
    def sender(self):
        """Who sent the answers, as staff read it: "the patient", "the patient's carer"."""
        if self.respondent == self.Respondent.PATIENT:
            return "the patient"
        if self.relation == self.Relation.OTHER:
            return f"someone for the patient ({self.relation_other})"
        return f"the patient's {self.get_relation_display().lower()}"

    @property
    def language_name(self):
        return get_language_info(self.language)["name"]


class AccessAttempt(models.Model):
    """Failed pre-visit link requests per client address and time window.

    Kept in the database so that the limit holds across all of the app's processes.
    """

    client = models.CharField(max_length=64, help_text="A hash of the client address.")
    window_start = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "window_start"], name="one_row_per_window")
        ]

    def __str__(self):
        return f"{self.failures} failures from {self.client[:8]} since {self.window_start}"


def attachment_storage():
    return storages["attachments"]


def _attachment_file_name(attachment, filename):
    # Random, never the patient's own file name, which can name them or their condition.
    return f"{secrets.token_hex(16)}{attachment.extension}"


class AttachmentQuerySet(models.QuerySet):
    def kept(self):
        """The files the patient has not removed."""
        return self.filter(removed_at__isnull=True)


class Attachment(models.Model):
    """A photo or short clip a patient sent with their pre-visit link, for the provider
    to see at the visit. Its type is the one its content shows, never the name's or the
    browser's; a photo is stored re-encoded without its metadata (intake/attachments.py).

    A patient can remove one before sending their answers; it is kept, marked removed.
    """

    class Kind(models.TextChoices):
        PHOTO = "photo", "Photo"
        VIDEO = "video", "Clip"

    EXTENSIONS = {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/webp": ".webp",
        "video/mp4": ".mp4",
        "video/quicktime": ".mov",
        "video/webm": ".webm",
    }

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="attachments")
    link = models.ForeignKey(
        PreVisitLink, on_delete=models.PROTECT, related_name="attachments", null=True, blank=True
    )
    kind = models.CharField(max_length=10, choices=Kind)
    content_type = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField()
    duration = models.DurationField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    sha1 = models.CharField(max_length=40)
    # For staff only: never in an address, a log line or a file name on disk.
    original_name = models.CharField(max_length=255, blank=True)
    file = models.FileField(storage=attachment_storage, upload_to=_attachment_file_name)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by_label = models.CharField(max_length=100)
    removed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="video", duration__isnull=False) | Q(kind="photo"),
                name="attachment_clip_has_duration",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk} of visit {self.visit_id}"

    def get_absolute_url(self):
        return reverse("intake:attachment-file", kwargs={"pk": self.pk})

    @property
    def is_removed(self):
        return self.removed_at is not None

    @property
    def extension(self):
        return self.EXTENSIONS.get(self.content_type, "")

    @property
    def download_name(self):
        """A name for the browser that says what it is and nothing about the patient."""
        return f"{self.kind}-{self.pk}{self.extension}"
