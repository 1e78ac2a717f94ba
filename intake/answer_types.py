"""Answer types: how each type of answer is kept in an Answer's columns, read back, shown,
put in words, and what a red-flag rule tests in it; one class per type, registered by its
key, as Django's model fields each know their own storage and display.

Answers, their display, triage and the FHIR API ask the answer's type instead of branching
on it.
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


UCUM = "http://unitsofmeasure.org"


class AnswerType:
    key = None
    column = None  # the Answer column that holds a value of this type
    fhir_type = None  # the FHIR Questionnaire item type a question of this type is
    fhir_value = None  # the QuestionnaireResponse answer's value[x] for a plain value
    repeats = False  # whether the answer may hold several values

    def fhir_options(self, question):
        """The question's answer options as FHIR `answerOption`s."""
        return []

    def fhir_answers(self, answer):
        """The answer as FHIR QuestionnaireResponse `answer`s ([] when blank)."""
        value = self.value(answer)
        return [] if value in (None, "") else [{self.fhir_value: value}]

    def form_data(self, fhir_answers):
        """FHIR `answer`s given to a question of this type, as the intake form's fields
        ({suffix of the field name: value}) would receive them typed in, so the form
        checks them as it checks anyone's. ValueError if they are not of this type."""
        return {"": self._single(fhir_answers, self.fhir_value)}

    @staticmethod
    def _single(fhir_answers, key):
        if len(fhir_answers) != 1:
            raise ValueError("Give one answer.")
        (answer,) = fhir_answers
        if set(answer) != {key}:
            raise ValueError(f"Answer with {key}.")
        return answer[key]

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
    fhir_type = "date"

    fhir_value = "valueDate"

    def fhir_answers(self, answer):
        return [{"valueDate": answer.value_date.isoformat()}] if answer.value_date else []

    def display(self, answer):
        return date_format(answer.value_date) if answer.value_date else ""

    def in_words(self, answer, *, visit_date):
        return before(answer.value_date, reference=visit_date) if answer.value_date else ""


@register
class DurationAnswer(AnswerType):
    key = Types.DURATION
    fhir_type = "quantity"
    # The units the form offers, as UCUM codes.
    UCUM_UNITS = {"seconds": "s", "minutes": "min", "hours": "h", "days": "d"}

    def fhir_answers(self, answer):
        if answer.value_number is None:
            return []
        return [
            {
                "valueQuantity": {
                    "value": float(answer.value_number),
                    "unit": answer.value_unit,
                    "system": UCUM,
                    "code": self.UCUM_UNITS[answer.value_unit],
                }
            }
        ]

    def form_data(self, fhir_answers):
        quantity = self._single(fhir_answers, "valueQuantity")
        units = {code: unit for unit, code in self.UCUM_UNITS.items()}
        if not isinstance(quantity, dict) or quantity.get("code") not in units:
            raise ValueError(f"Give the unit as a UCUM code: {', '.join(units)}.")
        return {"_amount": str(quantity.get("value", "")), "_unit": units[quantity["code"]]}

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
    fhir_type = "boolean"
    fhir_value = "valueBoolean"

    def form_data(self, fhir_answers):
        value = self._single(fhir_answers, self.fhir_value)
        if not isinstance(value, bool):
            raise ValueError("Answer with valueBoolean true or false.")
        return {"": "yes" if value else "no"}

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
    fhir_type = "text"
    fhir_value = "valueString"


class ChoicesAnswer(AnswerType):
    """Chosen values kept with their labels as the patient saw them."""

    column = "value_choices"
    fhir_type = "choice"

    def fhir_options(self, question):
        return [
            {"valueCoding": {"code": value, "display": label}}
            for value, label in question.choice_list
        ]

    def fhir_answers(self, answer):
        return [
            {"valueCoding": {"code": choice["value"], "display": choice["label"]}}
            for choice in answer.value_choices
        ]

    def form_data(self, fhir_answers):
        if not self.repeats and len(fhir_answers) > 1:
            raise ValueError("Give one answer.")
        codes = []
        for answer in fhir_answers:
            coding = answer.get("valueCoding") if set(answer) == {"valueCoding"} else None
            if not isinstance(coding, dict) or not isinstance(coding.get("code"), str):
                raise ValueError("Answer with valueCoding and one of the options' codes.")
            codes.append(coding["code"])
        return {"": codes if self.repeats else codes[0]}

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
    repeats = True


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
    repeats = True

    def fhir_options(self, question):
        return [
            {"valueCoding": {"code": value, "display": label}}
            for value, label in body_sites.LABELS.items()
        ]

    def to_columns(self, question, value):
        return {
            "value_choices": [
                {"value": site, "label": body_sites.LABELS[site]} for site in sorted(value)
            ]
        }
