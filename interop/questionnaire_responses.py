"""Receiving a QuestionnaireResponse from an outside client (a kiosk, a patient app): its
answers are checked by the same intake form as anyone's answers, and saved by the same
workflow (intake.answers.save_answers), with its conflict rule and red flags.

A response holds the whole intake as the client has it: a question it leaves out is
saved as unanswered, as on the form.
"""

from django.http import QueryDict

from intake import answer_types
from intake.answers import save_answers
from intake.forms import IntakeForm

from . import resources

# The intake form's fields for one question: the question's own, or a duration's parts.
FIELD_SUFFIXES = ["", "_amount", "_unit"]
STATUSES = {"in-progress": False, "completed": True}  # status -> whether it completes


class ResponseRejected(Exception):
    """The response cannot be saved: `issues` is a list of (linkId or None, message)."""

    def __init__(self, issues):
        super().__init__("; ".join(message for _, message in issues))
        self.issues = issues


def encounter_id(document):
    """The visit a response is for, from its `encounter` reference."""
    if not isinstance(document, dict) or document.get("resourceType") != "QuestionnaireResponse":
        raise ResponseRejected([(None, "Send a QuestionnaireResponse resource.")])
    reference = (document.get("encounter") or {}).get("reference", "")
    kind, _, pk = str(reference).partition("/")
    if kind != "Encounter" or not pk.isdigit():
        raise ResponseRejected([(None, "Give the visit as encounter: Encounter/<id>.")])
    return int(pk)


def _check_header(document, visit):
    issues = []
    if visit.content_version is None:
        issues.append((None, "This visit has no questionnaire."))
    elif document.get("questionnaire") != resources.questionnaire_canonical(visit.content_version):
        issues.append(
            (
                None,
                "The questionnaire is not this visit's: answer "
                f"{resources.questionnaire_canonical(visit.content_version)}.",
            )
        )
    subject = (document.get("subject") or {}).get("reference")
    if subject is not None and subject != f"Patient/{visit.patient_id}":
        issues.append((None, "The subject is not this visit's patient."))
    if document.get("status") not in STATUSES:
        issues.append((None, "The status must be in-progress or completed."))
    if issues:
        raise ResponseRejected(issues)


def _form_data(document, questions, expected_version):
    """The response's answers as the intake form's fields, or the items' problems."""
    data = QueryDict(mutable=True)
    data["intake_version"] = str(expected_version)
    issues, seen = [], set()
    items = document.get("item", [])
    if not isinstance(items, list):
        raise ResponseRejected([(None, "item must be a list.")])
    for item in items:
        key = item.get("linkId") if isinstance(item, dict) else None
        if key not in questions:
            issues.append((key, f"“{key}” is not a question of this visit's questionnaire."))
            continue
        if key in seen:
            issues.append((key, "This question is answered twice."))
            continue
        seen.add(key)
        if item.get("item"):
            issues.append((key, "This question has no sub-questions."))
            continue
        answers = item.get("answer", [])
        if not answers:
            continue
        try:
            fields = answer_types.of(questions[key]).form_data(answers)
        except (ValueError, AttributeError, TypeError) as error:
            message = str(error) if isinstance(error, ValueError) else "Malformed answer."
            issues.append((key, message))
            continue
        for suffix, value in fields.items():
            name = IntakeForm.field_name(key) + suffix
            data.setlist(name, value if isinstance(value, list) else [value])
    if issues:
        raise ResponseRejected(issues)
    return data


def _form_issues(form, questions):
    issues = []
    for name, errors in form.errors.items():
        key = next(
            (
                key
                for key in questions
                if name in {IntakeForm.field_name(key) + suffix for suffix in FIELD_SUFFIXES}
            ),
            None,
        )
        issues += [(key, error) for error in errors]
    return issues


def receive_questionnaire_response(*, visit, document, expected_version, actor):
    """Save the answers of `document` to `visit`'s intake; the visit as saved.

    ResponseRejected names each item that does not fit the questions; save_answers
    raises IntakeConflict when the intake changed after `expected_version`.
    """
    _check_header(document, visit)
    questions = {question.key: question for question in visit.questions()}
    complete = STATUSES[document["status"]]
    data = _form_data(document, questions, expected_version)
    form = IntakeForm(data, visit=visit, completing=complete)
    if not form.is_valid():
        raise ResponseRejected(_form_issues(form, questions))
    return save_answers(
        visit=visit,
        values=form.cleaned_answers,
        expected_version=expected_version,
        complete=complete,
        actor=actor,
    )
