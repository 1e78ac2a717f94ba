"""Saving a visit's intake answers, by staff or by the patient, and re-working its flags."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from modeltranslation.utils import get_language
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from audit import trail
from audit.models import AuditEvent

from . import answer_types, triage
from .models import ORIGINAL_LANGUAGE, Answer, Visit


class IntakeConflict(ValidationError):
    """Someone else saved the intake after the form was loaded."""


def save_answers(
    *,
    visit,
    values,
    expected_version,
    complete=False,
    actor,
):
    """Save typed answers (question key -> value) for a visit's questions, as staff or
    (when `actor` is a pre-visit link) as the patient.

    `expected_version` is the intake version the form was loaded with: when another save
    came in between, nothing is written and IntakeConflict is raised, so two people
    never silently overwrite each other. With `complete`, every required question
    must be answered and the intake is marked complete.
    """
    source = Answer.Source.PATIENT if actor.is_patient else Answer.Source.STAFF
    with transaction.atomic():
        # Two staff members (or staff and the patient) saving the same intake race here.
        # Claiming the next version is the first statement, a compare-and-swap: the second
        # saver's UPDATE waits for the first to commit, then matches no row and conflicts.
        # (Reading the row first, even FOR UPDATE, deadlocks two writers on SQLite, where
        # one of them then fails with "database is locked" instead of a conflict.)
        claimed = Visit.objects.filter(pk=visit.pk, intake_version=expected_version).update(
            intake_version=F("intake_version") + 1
        )
        if not claimed:
            raise IntakeConflict(
                "Someone else saved this intake while you were working on it. "
                "Your answers have not been saved yet."
            )
        visit = Visit.objects.select_related("patient", "content_version").get(pk=visit.pk)
        if not visit.intake_is_open:
            raise ValidationError(
                f"This visit is {visit.get_status_display().lower()}: its intake cannot change."
            )
        questions = visit.questions()
        existing = {answer.question_key: answer for answer in visit.answers.all()}
        changed = []
        for position, question in enumerate(questions, start=1):
            if question.key not in values:
                continue
            value = values[question.key]
            answer = existing.get(question.key)
            if answer is None:
                if _is_empty(value):
                    continue
                answer = Answer(visit=visit, question_key=question.key)
            elif _typed_fields(question, value) == _current_fields(answer):
                continue
            _fill(answer, question, value, position=position, source=source, by=actor.user)
            existing[question.key] = answer
            changed.append(question.key)
        _write([existing[key] for key in changed], actor=actor)

        if complete:
            missing = [
                question.wording
                for question in questions
                if question.required
                and (question.key not in existing or existing[question.key].is_blank)
            ]
            if missing:
                raise ValidationError(
                    "Answer every required question before marking the intake complete: "
                    + "; ".join(missing)
                )
        if complete:
            visit.move_to(Visit.Status.INTAKE_COMPLETE)
        elif not (source == Answer.Source.PATIENT and visit.status == Visit.Status.INTAKE_COMPLETE):
            # A patient's draft save never reopens an intake that staff marked complete.
            visit.move_to(Visit.Status.INTAKE_IN_PROGRESS)
        # Flags are for staff: in English, whatever language the patient answered in.
        with translation.override(ORIGINAL_LANGUAGE):
            visit.red_flags = triage.red_flags(
                rules=visit.red_flag_rules(),
                answers=existing.values(),
                visit_date=timezone.localtime(visit.scheduled_at).date(),
            )
        visit.save_by(actor, update_fields=["status", "red_flags", "updated_at"])
        trail.record(
            action=AuditEvent.Action.SUBMIT if complete else AuditEvent.Action.UPDATE,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
            answers_changed=changed,
        )
    return visit


# The columns an answer's save can change.
WRITTEN_FIELDS = [
    *Answer.VALUE_FIELDS,
    "wording",
    "asked_language",
    "answer_type",
    "position",
    "source",
    "answered_by",
    "answered_at",
    "patient_answer",
    "corrected_by",
    "corrected_at",
]


def _write(answers, *, actor):
    """Insert the new answers and update the changed ones, each with its version (who
    changed it), in a query or two per kind however many answers there are."""
    versions = {
        "default_user": actor.user,
        "custom_historical_attrs": {"history_actor": actor.label},
    }
    new = [answer for answer in answers if answer.pk is None]
    changed = [answer for answer in answers if answer.pk is not None]
    if new:
        bulk_create_with_history(new, Answer, **versions)
    if changed:
        bulk_update_with_history(changed, Answer, fields=WRITTEN_FIELDS, **versions)


@dataclass
class Difference:
    """An answer as given on a form beside the one saved, as they read."""

    wording: str
    given: str
    saved: str


def differences(visit, values):
    """The answers in `values` (question key -> typed value) that differ from the visit's
    saved answers, as Differences in the order of the questions."""
    saved = {answer.question_key: answer for answer in visit.answers.all()}
    found = []
    for question in visit.questions():
        if question.key not in values:
            continue
        given = Answer(answer_type=question.answer_type)
        for field, field_value in _typed_fields(question, values[question.key]).items():
            setattr(given, field, field_value)
        answer = saved.get(question.key) or Answer(answer_type=question.answer_type)
        if _current_fields(given) != _current_fields(answer):
            found.append(Difference(question.wording, given.display, answer.display))
    return found


def _is_empty(value):
    return value is None or value == "" or value == set() or value == ()


def _typed_fields(question, value):
    """The Answer columns that hold `value` for this question's answer type."""
    fields = {field: Answer._meta.get_field(field).get_default() for field in Answer.VALUE_FIELDS}
    if _is_empty(value):
        return fields
    fields.update(answer_types.of(question).to_columns(question, value))
    return fields


def _current_fields(answer):
    return {field: getattr(answer, field) for field in Answer.VALUE_FIELDS}


def _fill(answer, question, value, *, position, source, by):
    if (
        answer.pk
        and source == Answer.Source.STAFF
        and (answer.source == Answer.Source.PATIENT or answer.patient_answer)
    ):
        # A staff correction of the patient's own answer: keep what the patient said.
        answer.patient_answer = answer.patient_answer or answer.display or "(no answer)"
        answer.corrected_by = by
        answer.corrected_at = timezone.now()
    elif source == Answer.Source.PATIENT:
        # The patient answering again (through a reopened link) replaces any staff
        # correction: the answer shown is the patient's own once more.
        answer.patient_answer = ""
        answer.corrected_by = None
        answer.corrected_at = None
    for field, field_value in _typed_fields(question, value).items():
        setattr(answer, field, field_value)
    # The question as it was put: in the active language (the patient's, on their pages).
    answer.wording = question.wording
    answer.asked_language = get_language()
    answer.answer_type = question.answer_type
    answer.position = position
    answer.source = source
    answer.answered_by = by
    answer.answered_at = timezone.now()
