"""Condition content: the structured patient-education page that drives intake.

A condition's sections feed the public page; its history questions are the intake
questionnaire; its red-flag section lists the symptoms that raise flags; its tests
are the orderable catalog for visits of that condition.
"""

import datetime
import hashlib
from collections import defaultdict
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import translation
from django.utils.text import slugify

from audit.history import KeepsHistory, kept_versions

ORIGINAL_LANGUAGE = "en"


def translation_languages():
    """The languages content is translated into: every language but the original."""
    return [code for code, _ in settings.LANGUAGES if code != ORIGINAL_LANGUAGE]


def fingerprint(texts):
    """A short digest of the original texts a translation was made from."""
    return hashlib.sha256("\x1f".join(texts).encode()).hexdigest()[:16]


class TranslationStatus(models.TextChoices):
    MISSING = "missing", "Not translated"
    OUT_OF_DATE = "out_of_date", "Translation out of date"


class TranslatedContent(models.Model):
    """Content with translations (conditions/translation.py) that remembers, per
    language, which original text its translation was made from."""

    TRANSLATED_FIELDS = []

    translated_from = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="Per language, a fingerprint of the English text the translation follows.",
    )

    class Meta:
        abstract = True

    def original_texts(self):
        """The English texts the translations follow, as the content document holds them."""
        return [
            getattr(self, f"{field}_{ORIGINAL_LANGUAGE}") or "" for field in self.TRANSLATED_FIELDS
        ]

    def translated_texts(self, language):
        """The translations of `original_texts`, in the same order ("" where missing)."""
        return [getattr(self, f"{field}_{language}") or "" for field in self.TRANSLATED_FIELDS]

    def translation_status(self, language):
        """None if the translation into `language` is complete and follows the English
        as it stands; else why not (a TranslationStatus)."""
        return translation_status(
            self.original_texts(),
            self.translated_texts(language),
            self.translated_from.get(language),
        )

    def mark_translated(self, language):
        """Record that the translation into `language` follows the English as it stands."""
        self.translated_from = {
            **self.translated_from,
            language: fingerprint(self.original_texts()),
        }


def translation_problems(*, page, sections, questions, red_flag_rules, language):
    """(part, name, TranslationStatus) for each part of a condition's content whose
    translation into `language` is missing or out of date."""
    parts = [
        ("Page opening", page.title_en, page),
        *(("Section", section.heading_en, section) for section in sections),
        *(("Question", question.key, question) for question in questions),
        *(("Red flag", rule.message_en, rule) for rule in red_flag_rules),
    ]
    return [
        (part, name, TranslationStatus(status))
        for part, name, record in parts
        if (status := record.translation_status(language))
    ]


def translation_status(originals, translations, made_from):
    pairs = zip(originals, translations, strict=True)
    if any(text and not translated for text, translated in pairs):
        return TranslationStatus.MISSING
    if not any(originals):
        return None
    if made_from != fingerprint(originals):
        return TranslationStatus.OUT_OF_DATE
    return None


class ConditionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Condition.Status.PUBLISHED, published_version__isnull=False)


class Condition(TranslatedContent):
    TRANSLATED_FIELDS = ["title", "definition", "alternative_names"]

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    definition = models.TextField(
        blank=True, help_text="Opening paragraph. Simple formatting is allowed."
    )
    alternative_names = models.TextField(blank=True, help_text="One name per line.")
    icd10cm_code = models.CharField(
        "ICD-10-CM code",
        max_length=10,
        blank=True,
        help_text="The reason code printed on requisitions, e.g. R25.3.",
    )
    icd10cm_title = models.CharField(
        "ICD-10-CM title",
        max_length=200,
        blank=True,
        help_text="The code's title in ICD-10-CM, e.g. Fasciculation.",
    )
    snomed_code = models.CharField("SNOMED CT code", max_length=20, blank=True)
    reviewed_on = models.DateField(
        null=True, blank=True, help_text="When the source page's content was last reviewed."
    )
    reviewed_by = models.CharField(
        max_length=300, blank=True, help_text="Who reviewed it, as the source page names them."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    tests = models.ManyToManyField(
        "OrderableTest",
        blank=True,
        related_name="conditions",
        help_text="Tests that may be ordered for visits of this condition.",
    )
    suggests = models.ManyToManyField(
        "OrderableTest",
        blank=True,
        related_name="+",
        verbose_name="suggested tests",
        help_text="Tests the provider's page suggests for every visit of this condition "
        "(from its orderable tests).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Editors change the rows above (the draft); what the public page and new visits
    # use is this snapshot, taken when an editor last published.
    published_version = models.ForeignKey(
        "ConditionVersion",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The content as last published.",
    )

    objects = ConditionQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("conditions:detail", kwargs={"slug": self.slug})

    def red_flag_warning(self):
        """What editors are told while no warning sign of this condition would reach staff
        as an editor meant it: none at all, or some still as the importer guessed them."""
        rules = list(self.red_flag_rules.values_list("confirmed", flat=True))
        if not rules:
            return "This condition has no red-flag rules: no answer will raise a flag."
        unconfirmed = rules.count(False)
        if unconfirmed:
            return (
                f"{unconfirmed} red-flag rule(s) came from an imported page and are not "
                "confirmed yet: check each one, then tick “Confirmed”."
            )
        return ""

    def original_texts(self):
        names = getattr(self, f"alternative_names_{ORIGINAL_LANGUAGE}") or ""
        return [*super().original_texts()[:2], "\n".join(_lines(names))]

    def translated_texts(self, language):
        names = getattr(self, f"alternative_names_{language}") or ""
        return [*super().translated_texts(language)[:2], "\n".join(_lines(names))]

    def translation_problems(self, language):
        """(part, name, TranslationStatus) for each part of the content as saved whose
        translation into `language` is missing or out of date."""
        return translation_problems(
            page=self,
            sections=self.sections.prefetch_related("items"),
            questions=self.questions.all(),
            red_flag_rules=self.red_flag_rules.all(),
            language=language,
        )

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def alternative_name_list(self):
        return _lines(self.alternative_names)


def _lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


class Section(TranslatedContent):
    # Its list items are translated with it: one mark for the heading, text and list.
    TRANSLATED_FIELDS = ["heading", "body"]

    class Kind(models.TextChoices):
        CONSIDERATIONS = "considerations", "Considerations"
        CAUSES = "causes", "Causes"
        NERVOUS_SYSTEM_CAUSES = "nervous_system_causes", "Nervous system conditions that cause it"
        RED_FLAGS = "red_flags", "Red-flag symptoms"
        HOME_CARE = "home_care", "Home care"
        WHEN_TO_CALL = "when_to_call", "When to call the provider"
        WHAT_TO_EXPECT = "what_to_expect", "What to expect at the visit"
        OTHER = "other", "Other"

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="sections")
    kind = models.CharField(max_length=30, choices=Kind, default=Kind.OTHER)
    heading = models.CharField(max_length=200)
    body = models.TextField(
        blank=True,
        help_text="Text before the list. Simple formatting (paragraphs, lists, links, bold) "
        "is allowed.",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.heading

    def item_tree(self):
        """The section's items as nested ItemNodes, built from one query (or a prefetch)."""
        children = defaultdict(list)
        for item in self.items.all():
            children[item.parent_id].append(item)

        def nodes(parent_id):
            return [ItemNode(item, nodes(item.pk)) for item in children[parent_id]]

        return nodes(None)

    def listed_items(self):
        """Its items in reading order (a version's section carries them unsaved)."""
        if hasattr(self, "version_items"):
            return self.version_items
        if self.pk is None:
            return []
        return [item for node in self.item_tree() for item in node.flattened()]

    def original_texts(self):
        return [*super().original_texts(), *(item.text_en or "" for item in self.listed_items())]

    def translated_texts(self, language):
        items = [getattr(item, f"text_{language}") or "" for item in self.listed_items()]
        return [*super().translated_texts(language), *items]


class ItemNode(NamedTuple):
    item: "SectionItem"
    children: list

    def flattened(self):
        """Its item and every sub-point under it, in reading order."""
        return [self.item, *(item for child in self.children for item in child.flattened())]


class SectionItem(models.Model):
    """One list item of a section; an item with a parent is a sub-point of it.

    Its translations are marked up to date or not with its section's."""

    TRANSLATED_FIELDS = ["text"]

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        help_text="Leave empty for a top-level item.",
    )
    text = models.TextField(help_text="Simple formatting (links, bold) is allowed.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text[:80]

    def clean(self):
        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": "An item cannot be its own sub-point."})
            if self.parent.section_id != self.section_id:
                raise ValidationError({"parent": "A sub-point must belong to the same section."})


class HistoryQuestion(TranslatedContent):
    TRANSLATED_FIELDS = ["wording", "help_text", "choices"]

    class AnswerType(models.TextChoices):
        DATE = "date", "Date"
        DURATION = "duration", "Duration"
        FREQUENCY = "frequency", "Frequency"
        YES_NO = "yes_no", "Yes or no"
        SCALE = "scale", "Scale of 0 to 10"
        SINGLE_CHOICE = "single_choice", "Single choice"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        BODY_SITES = "body_sites", "Body sites"
        FREE_TEXT = "free_text", "Free text"

    class AppliesTo(models.TextChoices):
        EVERYONE = "everyone", "Everyone"
        FEMALE = "female", "Patients whose sex at birth is female"
        MALE = "male", "Patients whose sex at birth is male"

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(
        max_length=60,
        help_text="Stable identifier within the condition; recorded answers refer to it.",
    )
    wording = models.CharField(max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    answer_type = models.CharField(max_length=20, choices=AnswerType)
    choices = models.TextField(
        blank=True, help_text="For single and multiple choice: one choice per line."
    )
    required = models.BooleanField(default=True)
    applies_to = models.CharField(
        max_length=10,
        choices=AppliesTo,
        default=AppliesTo.EVERYONE,
        help_text="Who is asked this question.",
    )
    min_age = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Ask only patients at least this old (years)."
    )
    max_age = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Ask only patients at most this old (years)."
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["condition", "key"], name="unique_question_key_per_condition"
            ),
            models.CheckConstraint(
                condition=models.Q(min_age__isnull=True)
                | models.Q(max_age__isnull=True)
                | models.Q(min_age__lte=models.F("max_age")),
                name="question_min_age_not_above_max_age",
            ),
        ]

    def __str__(self):
        return self.wording

    def original_texts(self):
        return [self.wording_en or "", self.help_text_en or "", *_lines(self.choices_en or "")]

    def translated_texts(self, language):
        wording, help_text, _ = super().translated_texts(language)
        choices = _lines(getattr(self, f"choices_{language}") or "")
        english = _lines(self.choices_en or "")
        # A choice list of another length is no translation of this one.
        choices = choices if len(choices) == len(english) else [""] * len(english)
        return [wording, help_text, *choices]

    @property
    def choice_list(self):
        """The choices as (value, label) pairs in the active language. The value is a slug
        of the English label, whatever language the label is in: one translated line per
        English line, in the same order (English where the translation does not match)."""
        english = _lines(self.choices_en or "")
        labels = _lines(self.choices or "")
        if len(labels) != len(english):
            labels = english
        return [(slugify(value), label) for value, label in zip(english, labels, strict=True)]

    @property
    def english_choice_list(self):
        """The choices as (value, label) pairs in English, as staff read them."""
        with translation.override(ORIGINAL_LANGUAGE):
            return self.choice_list

    @property
    def kind_of_answer(self):
        """Its answer type (intake/answer_types.py): how it is asked, kept and triaged."""
        from intake import answer_types  # the intake app builds on conditions

        return answer_types.of(self)

    def clean(self):
        # An unknown answer type is the answer type field's own error.
        known_type = self.answer_type in self.AnswerType.values
        has_choices = known_type and self.kind_of_answer.has_choices
        if has_choices and len(self.choice_list) < 2:
            raise ValidationError({"choices": "A choice question needs at least two choices."})
        if not has_choices and self.choice_list:
            raise ValidationError({"choices": "Only choice questions have choices."})
        values = [value for value, _ in self.choice_list]
        if len(values) != len(set(values)):
            raise ValidationError({"choices": "Each choice must be different."})
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValidationError({"max_age": "The maximum age must not be below the minimum."})
        # A red flag whose choice or date has gone would never fire again, silently.
        for rule in self.red_flag_rules.all() if self.pk and known_type else []:
            try:
                rule.check_fits(self)
            except ValidationError as error:
                raise ValidationError(
                    f"The red flag “{rule.message}” depends on this question: "
                    f"{' '.join(error.messages)} Change or delete the red flag first."
                ) from error

    def applies_to_patient(self, *, sex_at_birth, age):
        """Whether this question is asked of a patient of this sex at birth and age."""
        if self.applies_to != self.AppliesTo.EVERYONE and sex_at_birth != self.applies_to:
            return False
        if age is not None:
            if self.min_age is not None and age < self.min_age:
                return False
            if self.max_age is not None and age > self.max_age:
                return False
        return True


class RedFlagRule(TranslatedContent):
    """When an answer to one of the condition's questions should raise a red flag."""

    TRANSLATED_FIELDS = ["message"]

    class Kind(models.TextChoices):
        ANSWER_INCLUDES = "answer_includes", "The answer is or includes a choice"
        LONGER_THAN = "longer_than", "The date answered is more than a number of days ago"

    condition = models.ForeignKey(
        Condition, on_delete=models.CASCADE, related_name="red_flag_rules"
    )
    # Deleting a question must not silently drop its red flags; deleting the whole
    # condition takes both.
    question = models.ForeignKey(
        HistoryQuestion, on_delete=models.RESTRICT, related_name="red_flag_rules"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    choice = models.CharField(
        max_length=300,
        blank=True,
        help_text="For “includes a choice”: the choice as written in the question "
        "(for yes/no questions: Yes or No).",
    )
    days = models.PositiveIntegerField(
        null=True, blank=True, help_text="For “more than a number of days ago”."
    )
    message = models.CharField(
        max_length=200, help_text="What clinicians see, e.g. “Reports weakness”."
    )
    suggests = models.ManyToManyField(
        "OrderableTest",
        blank=True,
        related_name="+",
        verbose_name="suggested tests",
        help_text="Tests the provider's page suggests when this flag is raised "
        "(from the condition's orderable tests).",
    )
    urgent = models.BooleanField(
        default=False,
        help_text="The patient is told at once to call the emergency number or the clinic, "
        "and staff see the flag at the top of Today.",
    )
    confirmed = models.BooleanField(
        default=True,
        help_text="An editor has checked this rule. Rules read from an imported page start "
        "unconfirmed.",
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="answer_includes", days__isnull=True) & ~models.Q(choice="")
                | models.Q(kind="longer_than", days__isnull=False, choice=""),
                name="red_flag_rule_fields_match_kind",
            ),
        ]

    def __str__(self):
        return self.message

    @property
    def choice_value(self):
        return slugify(self.choice)

    def clean(self):
        if self.question_id is None:
            return
        if self.condition_id and self.question.condition_id != self.condition_id:
            raise ValidationError({"question": "Choose a question of this condition."})
        self.check_fits(self.question)

    def check_fits(self, question):
        """Raise ValidationError unless this rule can fire on the question as it stands."""
        if self.kind == self.Kind.LONGER_THAN:
            if not question.kind_of_answer.tests_days:
                raise ValidationError({"question": "“More than … days ago” needs a date question."})
            if self.days is None:
                raise ValidationError({"days": "Give the number of days."})
            if self.choice:
                raise ValidationError({"choice": "Leave the choice empty for a days rule."})
        elif self.kind == self.Kind.ANSWER_INCLUDES:
            if self.days is not None:
                raise ValidationError({"days": "Leave the days empty for a choice rule."})
            allowed = {value for value, _ in question.kind_of_answer.rule_choices(question)}
            if self.choice_value not in allowed:
                raise ValidationError(
                    {
                        "choice": f"“{self.choice}” is not one of the question’s choices; "
                        "write the choice exactly as the question does."
                    }
                )


class OrderableTest(KeepsHistory, models.Model):
    """A test in the catalog shared across conditions; every version of it is kept."""

    class Kind(models.TextChoices):
        BLOOD = "blood", "Blood test"
        IMAGING = "imaging", "Imaging"
        NEUROPHYSIOLOGY = "neurophysiology", "Neurophysiology"
        OTHER = "other", "Other"

    class BodySite(models.TextChoices):
        BRAIN = "brain", "Brain"
        SPINE = "spine", "Spine"

    class CodeSystem(models.TextChoices):
        LOINC = "http://loinc.org", "LOINC"
        CPT = "http://www.ama-assn.org/go/cpt", "CPT"

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind)
    body_site = models.CharField(max_length=10, choices=BodySite, blank=True)
    code_system = models.CharField(max_length=40, choices=CodeSystem, blank=True)
    code = models.CharField(max_length=20, blank=True)
    description = models.TextField(blank=True)
    asks_side_and_limb = models.BooleanField(
        "asks for side and limb",
        default=False,
        help_text="Orders must say which side (left, right or both) and which limb (arm or "
        "leg), as for EMG and nerve conduction studies.",
    )
    needs_check = models.BooleanField(
        "needs an editor's check",
        default=False,
        help_text="Added by an import without a code from the standard catalog: check the "
        "name, add the code if there is one, then untick.",
    )

    history = kept_versions()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code="") | ~models.Q(code_system=""),
                name="test_code_has_system",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.code and not self.code_system:
            raise ValidationError({"code_system": "Say which code system the code is from."})


class ConditionVersion(models.Model):
    """A snapshot of a condition's whole content, kept on every save and import.

    The snapshot is the export format, so restoring a version is importing it.
    """

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["condition", "number"], name="unique_version_number_per_condition"
            )
        ]

    def __str__(self):
        return f"{self.condition} v{self.number}"

    # The snapshot read back as unsaved model instances, so that the pages and the intake
    # built for the live rows work on a published revision unchanged, from one row.

    def page(self):
        """The condition's opening fields as an unsaved Condition."""
        reviewed_on = self.content.get("reviewed_on")
        return Condition(
            **{
                field: self.content.get(field) or ""
                for field in CONDITION_FIELDS
                if field not in TEXT_FIELDS
            },
            **_translated(self.content, Condition, lists={"alternative_names"}),
            reviewed_on=datetime.date.fromisoformat(reviewed_on) if reviewed_on else None,
        )

    def sections(self):
        """(Section, its ItemNodes) for each section, in order."""
        sections = []
        for at, doc in enumerate(self.content.get("sections", []), start=1):
            section = Section(kind=doc["kind"], position=at, **_translated(doc, Section))
            nodes = _item_nodes(doc.get("items", []))
            section.version_items = [item for node in nodes for item in node.flattened()]
            sections.append((section, nodes))
        return sections

    def questions(self):
        return [
            HistoryQuestion(
                **{field: doc.get(field) for field in QUESTION_FIELDS if field not in TEXT_FIELDS},
                **_translated(doc, HistoryQuestion, lists={"choices"}),
                position=at,
            )
            for at, doc in enumerate(self.content.get("questions", []), start=1)
        ]

    def red_flag_rules(self):
        """The rules with their questions; each knows the slugs of the tests it suggests."""
        questions = {question.key: question for question in self.questions()}
        rules = []
        for at, doc in enumerate(self.content.get("red_flags", []), start=1):
            rule = RedFlagRule(
                question=questions[doc["question"]],
                kind=doc["kind"],
                choice=doc.get("choice") or "",
                days=doc.get("days"),
                urgent=doc.get("urgent", False),
                confirmed=doc.get("confirmed", True),
                position=at,
                **_translated(doc, RedFlagRule),
            )
            rule.suggested_slugs = doc.get("suggests", [])
            rules.append(rule)
        return rules

    def translation_problems(self, language):
        """(part, name, TranslationStatus) for each part of this content whose translation
        into `language` is missing or out of date."""
        return translation_problems(
            page=self.page(),
            sections=[section for section, _ in self.sections()],
            questions=self.questions(),
            red_flag_rules=self.red_flag_rules(),
            language=language,
        )

    def languages(self):
        """The languages this content reads in whole: English, and each language it is
        completely translated into, every translation following the English as it stands."""
        return [
            ORIGINAL_LANGUAGE,
            *(
                language
                for language in translation_languages()
                if not self.translation_problems(language)
            ),
        ]


def _translated(doc, model, lists=()):
    """Keyword arguments giving an unsaved `model` the document part's texts in every
    language, and what each translation was made from."""
    translations = doc.get("translations", {})

    def text(value, field):
        if field in lists:
            return "\n".join(value or [])
        return value or ""

    kwargs = {
        f"{field}_{ORIGINAL_LANGUAGE}": text(doc.get(field), field)
        for field in model.TRANSLATED_FIELDS
    }
    for language in translation_languages():
        translated = translations.get(language, {})
        for field in model.TRANSLATED_FIELDS:
            kwargs[f"{field}_{language}"] = text(translated.get(field), field)
    if model is not SectionItem:
        kwargs["translated_from"] = {
            language: translated.get("made_from") for language, translated in translations.items()
        }
    return kwargs


CONDITION_FIELDS = [
    "title",
    "slug",
    "definition",
    "icd10cm_code",
    "icd10cm_title",
    "snomed_code",
    "reviewed_by",
]
# The texts translated (conditions/translation.py), which the document carries per language.
TEXT_FIELDS = {"title", "definition", "alternative_names", "wording", "help_text", "choices"}
QUESTION_FIELDS = [
    "key",
    "wording",
    "help_text",
    "answer_type",
    "required",
    "applies_to",
    "min_age",
    "max_age",
]


def _item_nodes(item_docs):
    return [
        ItemNode(SectionItem(**_translated(doc, SectionItem)), _item_nodes(doc.get("items", [])))
        for doc in item_docs
    ]
