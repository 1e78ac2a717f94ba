"""Answer types: one class per type of answer, registered by its key, as Django's model
fields each know their own form field and storage.

A type says how its question is asked (form fields and layout), how what was typed is
checked and turned into a value, how the value is kept in an Answer's columns, read
back, shown and put in words, and what a red-flag rule can test in it. The intake form,
saving answers, triage, the provider's page, the condition editor and the FHIR API ask
the type instead of branching on it, so a new type is one class here.
"""

from decimal import Decimal

from crispy_forms.layout import Column, Field, LayoutObject, Row
from crispy_forms.utils import TEMPLATE_PACK
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy

from conditions.models import HistoryQuestion

from . import body_sites
from .dates import typed_date_examples
from .durations import before, spelled_out
from .widgets import DateInput

Types = HistoryQuestion.AnswerType
REGISTRY = {}
UCUM = "http://unitsofmeasure.org"


def register(cls):
    REGISTRY[cls.key] = cls()
    return cls


def of(answer_or_question):
    """The answer type of an answer or a question."""
    return REGISTRY[answer_or_question.answer_type]


class QuestionFieldset(LayoutObject):
    """A question answered in more than one field (a duration), under its wording.

    crispy's Fieldset renders its legend as a template; a question's wording is content,
    so it is shown here as plain text.
    """

    template = "intake/includes/question_fieldset.html"

    def __init__(self, question, *fields, name, required):
        self.question = question
        self.help_id = f"help_{name}"
        self.required = required
        self.fields = list(fields)

    def render(self, form, context, template_pack=TEMPLATE_PACK, **kwargs):
        return render_to_string(
            self.template,
            {
                "question": self.question,
                "required": self.required,
                "help_id": self.help_id,
                "fields": self.get_rendered_fields(form, context, template_pack, **kwargs),
            },
        )


class AnswerType:
    key = None
    column = None  # the Answer column that holds a value of this type
    # Whether an editor lists the question's choices, one per line.
    has_choices = False
    # Whether a "more than … days ago" red-flag rule can test it.
    tests_days = False
    fhir_type = None  # the FHIR Questionnaire item type a question of this type is
    fhir_value = None  # the QuestionnaireResponse answer's value[x] for a plain value
    repeats = False  # whether the answer may hold several values

    # Asking

    def form_fields(self, question, name, common):
        """{field name: form field} that ask the question; `common` holds the label, help
        text, whether it is required and the error messages."""
        return {name: self.form_field(question, common)}

    def form_field(self, question, common):
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, **common)

    def layout(self, question, name, *, required):
        return Field(name)

    def clean(self, question, name, cleaned_data, *, born, today):
        """The answer typed into the form as a value of this type, None if left empty;
        raises ValidationError (by field name where it is about one field)."""
        return cleaned_data.get(name)

    def initial(self, answer, name):
        """{field name: initial value} showing a saved answer in the form."""
        return {name: self.value(answer)}

    # Keeping

    def to_columns(self, question, value):
        """{column: value} for a value given (never empty) to this question."""
        return {self.column: value}

    def value(self, answer):
        """The answer as a Python value of its type."""
        return getattr(answer, self.column)

    # Showing

    def display(self, answer):
        value = self.value(answer)
        return "" if value is None else str(value)

    def display_as_asked(self, answer, question):
        """The answer as the patient reads it, `question` reading in the active language."""
        return self.display(answer)

    def in_words(self, answer, *, visit_date):
        """What the answer comes to, in words, where that says more than the answer."""
        return ""

    # Triage

    def rule_choices(self, question):
        """(value, label) pairs an "answer includes" red-flag rule can test."""
        return []

    def chosen(self, answer):
        """The choice values an "answer includes" red-flag rule tests."""
        value = self.value(answer)
        return value if isinstance(value, set) else {value}

    # FHIR

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


@register
class DateAnswer(AnswerType):
    key = Types.DATE
    column = "value_date"
    tests_days = True
    fhir_type = "date"
    fhir_value = "valueDate"

    def form_field(self, question, common):
        field = forms.DateField(widget=DateInput(), **common)
        field.error_messages["invalid"] = gettext(
            "Enter a real date, for example %(examples)s."
        ) % {"examples": typed_date_examples()}
        return field

    def clean(self, question, name, cleaned_data, *, born, today):
        value = cleaned_data.get(name)
        if value and value > today:
            raise ValidationError(gettext("This date is in the future."))
        if value and value < born:
            raise ValidationError(gettext("This date is before the date of birth."))
        return value

    def display(self, answer):
        return date_format(answer.value_date) if answer.value_date else ""

    def in_words(self, answer, *, visit_date):
        return before(answer.value_date, reference=visit_date) if answer.value_date else ""

    def fhir_answers(self, answer):
        return [{"valueDate": answer.value_date.isoformat()}] if answer.value_date else []


@register
class DurationAnswer(AnswerType):
    """A number and a unit, in two fields under the question's wording."""

    key = Types.DURATION
    fhir_type = "quantity"
    # The units the form offers, as UCUM codes.
    UCUM_UNITS = {"seconds": "s", "minutes": "min", "hours": "h", "days": "d"}

    @staticmethod
    def _units():
        return apps.get_model("intake", "Answer").DurationUnit

    def form_fields(self, question, name, common):
        required = common["required"]
        amount = forms.DecimalField(
            label=gettext("Number"),
            min_value=Decimal("0.01"),
            max_value=Decimal("99999"),
            decimal_places=2,
            required=required,
            error_messages={
                "required": gettext("Give a number."),
                "invalid": gettext("Give a number."),
            },
        )
        unit = forms.ChoiceField(
            label=gettext("Unit"),
            choices=[("", gettext("Choose a unit")), *self._units().choices],
            required=required,
            error_messages={
                "required": gettext("Choose a unit."),
                "invalid_choice": gettext("Choose one of the units shown."),
            },
        )
        # The error summary names the question, not "Number".
        amount.summary_label = unit.summary_label = question.wording
        return {f"{name}_amount": amount, f"{name}_unit": unit}

    def layout(self, question, name, *, required):
        return QuestionFieldset(
            question,
            Row(
                Column(Field(f"{name}_amount", min="0.01", step="any"), css_class="col-5 col-md-3"),
                Column(f"{name}_unit", css_class="col-7 col-md-4"),
            ),
            name=name,
            required=required,
        )

    def clean(self, question, name, cleaned_data, *, born, today):
        amount, unit = cleaned_data.get(f"{name}_amount"), cleaned_data.get(f"{name}_unit")
        if amount is None and not unit:
            return None
        if amount is None or not unit:
            missing = f"{name}_amount" if amount is None else f"{name}_unit"
            raise ValidationError({missing: gettext("Give both a number and a unit.")})
        if self._units()(unit).span(amount) > today - born:
            raise ValidationError(
                {
                    f"{name}_amount": gettext(
                        "This is longer than the time since the date of birth. "
                        "Check the number and the unit."
                    )
                }
            )
        return (amount, unit)

    def initial(self, answer, name):
        amount = answer.value_number
        return {
            # 5.00 is shown as 5, 2.50 as 2.5.
            f"{name}_amount": f"{amount.normalize():f}" if amount is not None else None,
            f"{name}_unit": answer.value_unit,
        }

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


@register
class YesNoAnswer(AnswerType):
    key = Types.YES_NO
    column = "value_bool"
    fhir_type = "boolean"
    fhir_value = "valueBoolean"
    CHOICES = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]

    def form_field(self, question, common):
        return forms.ChoiceField(choices=self.CHOICES, widget=forms.RadioSelect, **common)

    def clean(self, question, name, cleaned_data, *, born, today):
        return {"yes": True, "no": False}.get(cleaned_data.get(name))

    def initial(self, answer, name):
        return {name: {True: "yes", False: "no"}.get(answer.value_bool)}

    def to_columns(self, question, value):
        return {"value_bool": bool(value)}

    def display(self, answer):
        return {True: gettext("Yes"), False: gettext("No")}.get(answer.value_bool, "")

    def rule_choices(self, question):
        return self.CHOICES

    def chosen(self, answer):
        return {"yes" if answer.value_bool else "no"}

    def form_data(self, fhir_answers):
        value = self._single(fhir_answers, self.fhir_value)
        if not isinstance(value, bool):
            raise ValueError("Answer with valueBoolean true or false.")
        return {"": "yes" if value else "no"}


@register
class ScaleAnswer(AnswerType):
    """A whole number from 0 (none) to 10 (the worst), chosen on a row of buttons."""

    key = Types.SCALE
    column = "value_number"
    fhir_type = "integer"
    fhir_value = "valueInteger"
    POINTS = [str(point) for point in range(11)]

    def form_field(self, question, common):
        return forms.ChoiceField(
            choices=[(point, point) for point in self.POINTS], widget=forms.RadioSelect, **common
        )

    def layout(self, question, name, *, required):
        return Field(name, template="intake/includes/scale_field.html")

    def clean(self, question, name, cleaned_data, *, born, today):
        point = cleaned_data.get(name)
        return int(point) if point else None

    def to_columns(self, question, value):
        return {"value_number": int(value)}

    def initial(self, answer, name):
        value = self.value(answer)
        return {name: None if value is None else str(value)}

    def value(self, answer):
        return None if answer.value_number is None else int(answer.value_number)

    def display(self, answer):
        value = self.value(answer)
        return "" if value is None else gettext("%(point)d out of 10") % {"point": value}

    def rule_choices(self, question):
        return [(point, point) for point in self.POINTS]

    def chosen(self, answer):
        value = self.value(answer)
        return {str(value)}

    def form_data(self, fhir_answers):
        value = self._single(fhir_answers, self.fhir_value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("Answer with valueInteger from 0 to 10.")
        return {"": str(value)}


@register
class FreeTextAnswer(AnswerType):
    key = Types.FREE_TEXT
    column = "value_text"
    fhir_type = "text"
    fhir_value = "valueString"

    def clean(self, question, name, cleaned_data, *, born, today):
        return (cleaned_data.get(name) or "").strip()


class ChoicesAnswer(AnswerType):
    """Chosen values kept with their English labels, whatever language they were asked in."""

    column = "value_choices"
    has_choices = True
    fhir_type = "choice"

    def form_field(self, question, common):
        return forms.ChoiceField(choices=question.choice_list, widget=forms.RadioSelect, **common)

    def to_columns(self, question, value):
        labels = dict(question.english_choice_list)
        chosen = [value] if isinstance(value, str) else value
        if set(chosen) - labels.keys():
            raise ValidationError(f"“{question.wording}”: not one of the choices.")
        # Keep the question's order, and the labels as staff read them.
        return {
            "value_choices": [
                {"value": key, "label": label} for key, label in labels.items() if key in chosen
            ]
        }

    def value(self, answer):
        return {choice["value"] for choice in answer.value_choices}

    def display(self, answer):
        return ", ".join(choice["label"] for choice in answer.value_choices)

    def display_as_asked(self, answer, question):
        labels = dict(question.choice_list)
        return ", ".join(
            labels.get(choice["value"], choice["label"]) for choice in answer.value_choices
        )

    def rule_choices(self, question):
        return question.choice_list

    def fhir_options(self, question):
        return [
            # A body site's label is a translatable text; the API speaks English.
            {"valueCoding": {"code": value, "display": str(label)}}
            for value, label in self.rule_choices(question)
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


@register
class SingleChoiceAnswer(ChoicesAnswer):
    key = Types.SINGLE_CHOICE

    def value(self, answer):
        return answer.value_choices[0]["value"] if answer.value_choices else None


@register
class FrequencyAnswer(SingleChoiceAnswer):
    key = Types.FREQUENCY


@register
class MultipleChoiceAnswer(ChoicesAnswer):
    key = Types.MULTIPLE_CHOICE
    repeats = True

    def form_field(self, question, common):
        return forms.MultipleChoiceField(
            choices=self.offered(question), widget=forms.CheckboxSelectMultiple, **common
        )

    def offered(self, question):
        return question.choice_list

    def clean(self, question, name, cleaned_data, *, born, today):
        value = set(cleaned_data.get(name) or [])
        if len(value) > 1 and any(choice.startswith("none") for choice in value):
            raise ValidationError(
                gettext("“None of these” cannot be chosen together with other answers.")
            )
        return value

    def initial(self, answer, name):
        return {name: sorted(self.value(answer))}


@register
class BodySitesAnswer(MultipleChoiceAnswer):
    key = Types.BODY_SITES
    has_choices = False

    def offered(self, question):
        return body_sites.CHOICES

    def layout(self, question, name, *, required):
        return Field(name, template="intake/includes/body_sites_field.html")

    def to_columns(self, question, value):
        # From head to toe, as the form lists them. The site is the answer, shown to each
        # reader in their own language; the label kept is the English one.
        with translation.override("en"):
            return {
                "value_choices": [
                    {"value": site, "label": str(label)}
                    for site, label in self.rule_choices(question)
                    if site in value
                ]
            }

    def display(self, answer):
        return ", ".join(body_sites.in_words(choice["value"] for choice in answer.value_choices))

    def display_as_asked(self, answer, question):
        # The sites are ours, not the question's: named in the active language already.
        return self.display(answer)

    def rule_choices(self, question):
        return [choice for _, choices in body_sites.CHOICES for choice in choices]
