"""Answer types: how each type of answer is kept in an Answer's columns, read back, shown,
put in words, and what a red-flag rule tests in it; one class per type, registered by its
key, as Django's model fields each know their own storage and display.

Answers, their display and triage ask the answer's type instead of branching on it.
"""

from django.core.exceptions import ValidationError
from django.utils.formats import date_format

from conditions.models import HistoryQuestion

from . import body_sites
from .durations import before, spelled_out

Types = HistoryQuestion.AnswerType
REGISTRY = {}


def register(cls):
    REGISTRY[cls.key] = cls()
    return cls


def of(answer_or_question):
    """The answer type of an answer or a question."""
    return REGISTRY[answer_or_question.answer_type]


class AnswerType:
    key = None
    column = None  # the Answer column that holds a value of this type

    def to_columns(self, question, value):
        """{column: value} for a value given (never empty) to this question."""
        return {self.column: value}

    def value(self, answer):
        """The answer as a Python value of its type."""
        return getattr(answer, self.column)

    def display(self, answer):
        value = self.value(answer)
        return "" if value is None else str(value)

    def chosen(self, answer):
        """The choice values an "answer includes" red-flag rule tests."""
        value = self.value(answer)
        return value if isinstance(value, set) else {value}

    def in_words(self, answer, *, visit_date):
        """What the answer comes to, in words, where that says more than the answer."""
        return ""


@register
class DateAnswer(AnswerType):
    key = Types.DATE
    column = "value_date"

    def display(self, answer):
        return date_format(answer.value_date) if answer.value_date else ""

    def in_words(self, answer, *, visit_date):
        return before(answer.value_date, reference=visit_date) if answer.value_date else ""


@register
class DurationAnswer(AnswerType):
    key = Types.DURATION

    def to_columns(self, question, value):
        amount, unit = value
        return {"value_number": amount, "value_unit": unit}

    def value(self, answer):
        if answer.value_number is None:
            return None
        return (answer.value_number, answer.value_unit)

    def display(self, answer):
        if answer.value_number is None:
            return ""
        return f"{answer.value_number.normalize():f} {answer.get_value_unit_display()}"

    def in_words(self, answer, *, visit_date):
        if not answer.value_number:
            return ""
        return spelled_out(answer.value_number, answer.value_unit)


@register
class YesNoAnswer(AnswerType):
    key = Types.YES_NO
    column = "value_bool"

    def to_columns(self, question, value):
        return {"value_bool": bool(value)}

    def display(self, answer):
        return {True: "Yes", False: "No"}.get(answer.value_bool, "")

    def chosen(self, answer):
        return {"yes" if answer.value_bool else "no"}


@register
class FreeTextAnswer(AnswerType):
    key = Types.FREE_TEXT
    column = "value_text"


class ChoicesAnswer(AnswerType):
    """Chosen values kept with their labels as the patient saw them."""

    column = "value_choices"

    def to_columns(self, question, value):
        labels = dict(question.choice_list)
        chosen = [value] if isinstance(value, str) else value
        if set(chosen) - labels.keys():
            raise ValidationError(f"“{question.wording}”: not one of the choices.")
        # Keep the question's order, and the labels as the patient saw them.
        return {
            "value_choices": [
                {"value": key, "label": label} for key, label in labels.items() if key in chosen
            ]
        }

    def value(self, answer):
        return {choice["value"] for choice in answer.value_choices}

    def display(self, answer):
        return ", ".join(choice["label"] for choice in answer.value_choices)


@register
class MultipleChoiceAnswer(ChoicesAnswer):
    key = Types.MULTIPLE_CHOICE


@register
class SingleChoiceAnswer(ChoicesAnswer):
    key = Types.SINGLE_CHOICE

    def value(self, answer):
        return answer.value_choices[0]["value"] if answer.value_choices else None


@register
class FrequencyAnswer(SingleChoiceAnswer):
    key = Types.FREQUENCY


@register
class BodySitesAnswer(ChoicesAnswer):
    key = Types.BODY_SITES

    def to_columns(self, question, value):
        return {
            "value_choices": [
                {"value": site, "label": body_sites.LABELS[site]} for site in sorted(value)
            ]
        }
