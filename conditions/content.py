"""Condition content as a plain document: export, save, versions and publishing.

The document (a dict that serialises to JSON) is the one format content moves in:
`export_condition` writes it, the importer produces it from encyclopedia pages, every
save keeps it as a version, and restoring a version saves it again.
"""

from collections import Counter, defaultdict, deque

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation

from .models import (
    CONDITION_FIELDS,
    ORIGINAL_LANGUAGE,
    QUESTION_FIELDS,
    Condition,
    ConditionVersion,
    HistoryQuestion,
    OrderableTest,
    RedFlagRule,
    Section,
    SectionItem,
    translation_languages,
)

FORMAT = "clinic-condition/1"

SECTION_FIELDS = ["kind", "heading", "body"]
RED_FLAG_FIELDS = ["kind", "choice", "days", "message", "urgent", "confirmed"]
# Documents written before a field existed read as an editor's own rules did then.
RED_FLAG_DEFAULTS = {"days": None, "urgent": False, "confirmed": True}
TEST_FIELDS = [
    "slug",
    "name",
    "kind",
    "body_site",
    "code_system",
    "code",
    "description",
    "asks_side_and_limb",
    "needs_check",
]
TEST_FLAGS = {"asks_side_and_limb", "needs_check"}


def export_condition(condition):
    """The condition's whole content as a document.

    The texts are the English originals; each part with translations carries them under
    "translations" (language -> the same texts, and "made_from": the fingerprint of the
    English they follow). A part without "translations" is untranslated where it is new,
    and keeps the translations saved where it continues a saved part (see `save_condition`).
    """
    with translation.override(ORIGINAL_LANGUAGE):
        return _export(condition)


def _export(condition):
    sections = condition.sections.prefetch_related("items")
    return {
        "format": FORMAT,
        **{field: getattr(condition, field) for field in CONDITION_FIELDS},
        # An ISO date ("2026-03-12"), or None where the source page gave none.
        "reviewed_on": condition.reviewed_on.isoformat() if condition.reviewed_on else None,
        "alternative_names": condition.alternative_name_list,
        **_export_translations(condition, lists={"alternative_names"}),
        "sections": [
            {
                **{field: getattr(section, field) for field in SECTION_FIELDS},
                **_export_translations(section),
                "items": _export_items(section.item_tree()),
            }
            for section in sections
        ],
        "questions": [
            {
                **{field: getattr(question, field) for field in QUESTION_FIELDS},
                "choices": [label for _, label in question.choice_list],
                **_export_translations(question, lists={"choices"}),
            }
            for question in condition.questions.all()
        ],
        "red_flags": [
            {
                "question": rule.question.key,
                **{field: getattr(rule, field) for field in RED_FLAG_FIELDS},
                **_export_translations(rule),
                "suggests": _slugs(rule.suggests),
            }
            for rule in condition.red_flag_rules.select_related("question")
        ],
        "tests": [
            {field: getattr(test, field) for field in TEST_FIELDS}
            for test in condition.tests.order_by("kind", "name")
        ],
        "suggests": _slugs(condition.suggests),
    }


def _slugs(tests):
    return list(tests.order_by("kind", "name").values_list("slug", flat=True))


def _export_items(nodes):
    return [
        {
            "text": node.item.text,
            **_export_translations(node.item),
            "items": _export_items(node.children),
        }
        for node in nodes
    ]


def _export_translations(record, lists=()):
    """{"translations": {language: texts}} for the languages the record has any
    translation into or a mark for; nothing for an untranslated record, so that its
    document reads as it did before content was translated."""
    made_from = getattr(record, "translated_from", {})
    translations = {}
    for language in translation_languages():
        texts = {
            field: getattr(record, f"{field}_{language}") or ""
            for field in record.TRANSLATED_FIELDS
        }
        if not any(texts.values()) and not made_from.get(language):
            continue
        for field in lists:
            texts[field] = [line.strip() for line in texts[field].splitlines() if line.strip()]
        if made_from.get(language):
            texts["made_from"] = made_from[language]
        translations[language] = texts
    return {"translations": translations} if translations else {}


def _import_translations(record, doc, lists=(), kept_from=None):
    """Give the record the translations a document part carries.

    A part with no "translations" at all (an imported encyclopedia page, a version saved
    before its part was translated) keeps those of `kept_from`, the record it continues
    (the record itself where it is updated in place), with their mark: where the English
    changed, they read as out of date. A new part without translations is untranslated;
    an empty "translations" clears them.
    """
    if "translations" not in doc and kept_from is not None:
        if kept_from is not record:
            _copy_translations(kept_from, record)
        return
    translations = doc.get("translations", {})
    for language in translation_languages():
        texts = translations.get(language, {})
        for field in record.TRANSLATED_FIELDS:
            value = texts.get(field) or ""
            if field in lists:
                value = "\n".join(value)
            setattr(record, f"{field}_{language}", value)
    if hasattr(record, "translated_from"):
        record.translated_from = {
            language: texts["made_from"]
            for language, texts in translations.items()
            if texts.get("made_from")
        }


def _copy_translations(source, record):
    for language in translation_languages():
        for field in record.TRANSLATED_FIELDS:
            setattr(record, f"{field}_{language}", getattr(source, f"{field}_{language}"))
    if hasattr(record, "translated_from"):
        record.translated_from = dict(source.translated_from)


def _continued(parts, previous):
    """For each part of a document, given by its identities, the record among
    `previous` ((identities, record) pairs) it continues, or None.

    Identities come most telling first. Each record is taken at most once, in order:
    first by the parts with its first identity; those left by the parts left with its
    second; and so on.
    """
    found = [None] * len(parts)
    left = list(previous)
    for level in range(len(parts[0]) if parts else 0):
        available = defaultdict(deque)
        for identities, record in left:
            available[identities[level]].append(record)
        for at, identities in enumerate(parts):
            if found[at] is None and available[identities[level]]:
                found[at] = available[identities[level]].popleft()
        taken = {id(record) for record in found if record is not None}
        left = [(identities, record) for identities, record in left if id(record) not in taken]
    return found


def save_condition(document, *, condition=None, by=None, note="", publish=False):
    """Create or update the condition a document describes, and keep it as a version.

    The condition is `condition` if given, else the one with the document's slug; tests
    match by slug and questions by key, so saving the same document twice changes
    nothing and recorded answers keep pointing at their questions. A part of the document
    without translations (an imported page, an old version) keeps those of the part it
    continues, so re-imports and restores lose no translator's work. Saving what the
    condition already holds writes nothing, not even a version. Raises ValidationError,
    and writes nothing, if any part of the document is invalid.
    """
    check_document(document)
    with translation.override(ORIGINAL_LANGUAGE), transaction.atomic():
        # An import and a restore (or two restores) of one condition at once would both
        # replace its sections; the row lock makes the second wait for the first.
        if condition is None:
            condition = (
                Condition.objects.select_for_update().filter(slug=document["slug"]).first()
                or Condition()
            )
        else:
            condition = Condition.objects.select_for_update().get(pk=condition.pk)
        before = _saved_state(condition)
        for field in CONDITION_FIELDS:
            setattr(condition, field, document.get(field) or "")
        # full_clean turns the ISO date into a date, or labels it invalid.
        condition.reviewed_on = document.get("reviewed_on") or None
        condition.alternative_names = "\n".join(document.get("alternative_names", []))
        _import_translations(
            condition,
            document,
            lists={"alternative_names"},
            kept_from=condition if condition.pk else None,
        )
        if publish:
            condition.status = Condition.Status.PUBLISHED
        _validated_save(condition, "condition")

        # The sections and red flags are written anew; the old ones, kept in memory,
        # hand their translations to the parts that continue them.
        previous_sections = list(condition.sections.prefetch_related("items"))
        condition.sections.all().delete()
        _save_sections(condition, document.get("sections", []), previous_sections)

        previous_rules = list(condition.red_flag_rules.select_related("question"))
        # The old red flags go first: they hold on to the questions they refer to.
        condition.red_flag_rules.all().delete()
        _save_questions(condition, document.get("questions", []))
        tests = {test.slug: test for test in _save_tests(document.get("tests", []))}
        condition.tests.set(tests.values())
        _save_red_flags(condition, document.get("red_flags", []), tests, previous_rules)
        condition.suggests.set(_suggested(document.get("suggests", []), tests, "The condition"))
        unchanged = _saved_state(condition) == before
        if unchanged and not (publish and has_unpublished_changes(condition)):
            # Rewriting the same content would only renumber its rows: undo it all.
            transaction.set_rollback(True)
        else:
            version = record_version(condition, by=by, note=note)
            if publish:
                _publish_version(condition, version)
    return condition


def _saved_state(condition):
    if condition.pk is None:
        return None
    return condition.status, export_condition(condition)


def _save_sections(condition, section_docs, previous_sections):
    """Write the condition's sections from the document, after the old ones were deleted.

    A section continues the old section of its kind and heading, else the old one of
    its kind at the same rank among the sections of that kind (its heading reworded).
    """
    continued = _continued(
        [
            _section_identities(doc.get("kind") or "", doc.get("heading") or "", rank)
            for doc, rank in _ranked_by_kind(section_docs, lambda doc: doc.get("kind") or "")
        ],
        [
            (_section_identities(section.kind, section.heading, rank), section)
            for section, rank in _ranked_by_kind(previous_sections, lambda section: section.kind)
        ],
    )
    for position, (section_doc, previous) in enumerate(
        zip(section_docs, continued, strict=True), start=1
    ):
        section = Section(condition=condition, position=position)
        for field in SECTION_FIELDS:
            setattr(section, field, section_doc.get(field) or "")
        _import_translations(section, section_doc, kept_from=previous)
        _validated_save(section, f"section {position}", exclude=["condition"])
        _replace_items(
            section, section_doc.get("items", []), previous.item_tree() if previous else []
        )


def _ranked_by_kind(sections, kind_of):
    """(section, its rank among the sections of its kind), in order."""
    seen = Counter()
    ranked = []
    for section in sections:
        seen[kind_of(section)] += 1
        ranked.append((section, seen[kind_of(section)]))
    return ranked


def _section_identities(kind, heading, rank):
    return (kind, heading), (kind, rank)


def save_items(section, item_docs):
    """Replace a section's items with the nested item docs, one insert per level of
    nesting: a long imported page has thousands of items."""
    with translation.override(ORIGINAL_LANGUAGE):
        _replace_items(section, item_docs)


def _replace_items(section, item_docs, previous_tree=()):
    """Replace a section's items. Item docs without translations keep those of the
    item they continue in `previous_tree` (the old items as ItemNodes): the old item
    of the same text, else the one at the same place in the list."""
    section.items.all().delete()
    kept = _continued_items(item_docs, previous_tree)
    level = [(None, (), item_docs)]
    while level:
        items, children = [], []
        for parent, place, docs in level:
            for position, item_doc in enumerate(docs, start=1):
                item = SectionItem(
                    section=section, parent=parent, text=item_doc["text"], position=position
                )
                _import_translations(item, item_doc, kept_from=kept.get((*place, position)))
                _validated(item, f"item “{item_doc['text'][:40]}”", exclude=["section", "parent"])
                items.append(item)
                children.append((item, (*place, position), item_doc.get("items", [])))
        SectionItem.objects.bulk_create(items)
        level = [(item, place, docs) for item, place, docs in children if docs]


def _continued_items(item_docs, previous_tree):
    """{place of an item doc (its positions down the list): the old item it continues}."""
    places = list(_placed(item_docs, lambda doc: (doc["text"], doc.get("items", []))))
    continued = _continued(
        [(text, place) for place, text in places],
        [
            ((node.item.text, place), node.item)
            for place, node in _placed(previous_tree, lambda node: (node, node.children))
        ],
    )
    return {place: item for (place, _), item in zip(places, continued, strict=True) if item}


def _placed(nodes, read, place=()):
    """(place, what) for each of nested `nodes` and their children, where
    `read(node)` gives (what, children)."""
    for position, node in enumerate(nodes, start=1):
        what, children = read(node)
        yield (*place, position), what
        yield from _placed(children, read, (*place, position))


def _save_questions(condition, question_docs):
    existing = {question.key: question for question in condition.questions.all()}
    keys = []
    for position, question_doc in enumerate(question_docs, start=1):
        previous = existing.get(question_doc["key"])
        question = previous or HistoryQuestion(condition=condition)
        for field in QUESTION_FIELDS:
            default = None if field in {"min_age", "max_age"} else ""
            value = question_doc.get(field, default)
            setattr(question, field, default if value is None else value)
        question.required = bool(question_doc.get("required", True))
        question.applies_to = question_doc.get("applies_to") or HistoryQuestion.AppliesTo.EVERYONE
        question.choices = "\n".join(question_doc.get("choices", []))
        _import_translations(question, question_doc, lists={"choices"}, kept_from=previous)
        question.position = position
        _validated_save(question, f"question “{question_doc['key']}”", exclude=["condition"])
        keys.append(question.key)
    condition.questions.exclude(key__in=keys).delete()


def _rule_identity(question_key, rule):
    return (question_key, rule.kind, rule.choice, rule.days, rule.message, rule.urgent)


def _rule_identities(rule):
    """The rule as it stands, then its trigger alone (its message reworded)."""
    question_key = rule.question.key
    return _rule_identity(question_key, rule), (question_key, rule.kind, rule.choice, rule.days)


def _save_red_flags(condition, rule_docs, tests, previous_rules):
    """Write the condition's red flags from the document, after the old ones were deleted.

    A rule continues the old rule that was the same, else the one with the same trigger.
    """
    # A rule an editor confirmed stays confirmed when an import brings it back as it was.
    confirmed = {
        _rule_identity(rule.question.key, rule) for rule in previous_rules if rule.confirmed
    }
    questions = {question.key: question for question in condition.questions.all()}
    rules = []
    for position, rule_doc in enumerate(rule_docs, start=1):
        question = questions.get(rule_doc.get("question"))
        if question is None:
            raise ValidationError(
                f"Red flag “{rule_doc.get('message', '')}” refers to no question of the condition."
            )
        rule = RedFlagRule(condition=condition, question=question, position=position)
        for field in RED_FLAG_FIELDS:
            default = RED_FLAG_DEFAULTS.get(field, "")
            value = rule_doc.get(field, default)
            setattr(rule, field, default if value is None else value)
        rule.confirmed = rule.confirmed or _rule_identity(question.key, rule) in confirmed
        rules.append(rule)
    continued = _continued(
        [_rule_identities(rule) for rule in rules],
        [(_rule_identities(rule), rule) for rule in previous_rules],
    )
    for rule, rule_doc, previous in zip(rules, rule_docs, continued, strict=True):
        _import_translations(rule, rule_doc, kept_from=previous)
        _validated_save(rule, f"red flag “{rule.message}”", exclude=["condition", "question"])
        rule.suggests.set(
            _suggested(rule_doc.get("suggests", []), tests, f"Red flag “{rule.message}”")
        )


def _suggested(slugs, tests, label):
    """The tests named by `slugs`, each of which must be one of the condition's `tests`."""
    for slug in slugs:
        if slug not in tests:
            raise ValidationError(
                f"{label} suggests the test “{slug}”, which is not one of the condition's tests."
            )
    return [tests[slug] for slug in slugs]


def _save_tests(test_docs):
    """The catalog tests the document names, matched by slug.

    The catalog is shared by all conditions and kept in its own admin, so a test it
    already has is used as it stands: importing a page or restoring one condition's
    version must not rename or recode a test for every other condition. Tests it
    lacks are added from the document.
    """
    tests = []
    for test_doc in test_docs:
        test = OrderableTest.objects.filter(slug=test_doc["slug"]).first()
        if test is None:
            test = OrderableTest()
            for field in TEST_FIELDS:
                value = test_doc.get(field)
                setattr(test, field, bool(value) if field in TEST_FLAGS else value or "")
            _validated_save(test, f"test “{test_doc['slug']}”")
        tests.append(test)
    return tests


def _validated(instance, label, exclude=()):
    """Check the instance's fields, except those in `exclude` (relations to rows this
    save has just written, which need no query to prove they exist)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        messages = "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in error.message_dict.items()
        )
        raise ValidationError(f"Invalid {label}: {messages}") from error


def _validated_save(instance, label, exclude=()):
    _validated(instance, label, exclude)
    instance.save()


def check_document(document):
    """Raise ValidationError unless the document has the shape `save_condition` reads.

    The fields' values are checked by the models' validation as they are saved.
    """
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValidationError(f"Not a condition document: expected format “{FORMAT}”.")
    for key in ("title", "slug"):
        if not isinstance(document.get(key), str) or not document[key].strip():
            raise ValidationError(f"The condition document has no {key}.")
    for key in ("sections", "questions", "red_flags", "tests", "alternative_names"):
        if not isinstance(document.get(key, []), list):
            raise ValidationError(f"“{key}” must be a list.")
    if not all(isinstance(name, str) for name in document.get("alternative_names", [])):
        raise ValidationError("Every alternative name must be a text.")
    for section in document.get("sections", []):
        if not isinstance(section, dict) or not isinstance(section.get("items", []), list):
            raise ValidationError("Every section must be an object with a list of items.")
        _check_items(section.get("items", []))
    keys = set()
    for question in document.get("questions", []):
        if not isinstance(question, dict) or not isinstance(question.get("key"), str):
            raise ValidationError("Every question needs a key.")
        choices = question.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise ValidationError(
                f"The choices of question “{question['key']}” must be a list of texts."
            )
        if question["key"] in keys:
            raise ValidationError(f"Two questions have the key “{question['key']}”.")
        keys.add(question["key"])
    for rule in document.get("red_flags", []):
        if not isinstance(rule, dict):
            raise ValidationError("Every red flag must be an object.")
        _check_suggests(rule, f"red flag “{rule.get('message', '')}”")
    _check_suggests(document, "condition")
    for test in document.get("tests", []):
        if not isinstance(test, dict) or not isinstance(test.get("slug"), str):
            raise ValidationError("Every test needs a slug.")
    _check_translations([document, *document.get("red_flags", [])])
    _check_translations(document.get("sections", []))
    _check_translations(document.get("questions", []))
    if _has_nul(document):
        # PostgreSQL cannot store the NUL character in text.
        raise ValidationError("The document contains a NUL character.")


def _check_translations(parts):
    for part in parts:
        translations = part.get("translations", {})
        if not isinstance(translations, dict) or not all(
            isinstance(texts, dict) for texts in translations.values()
        ):
            raise ValidationError("Translations must be given per language as an object.")
        # Sections' items, and items' sub-points, carry their own.
        _check_translations(part.get("items", []))


def _check_suggests(part, label):
    suggests = part.get("suggests", [])
    if not isinstance(suggests, list) or not all(isinstance(slug, str) for slug in suggests):
        raise ValidationError(f"The tests the {label} suggests must be a list of test slugs.")


def _check_items(items):
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValidationError("Every list item needs a text.")
        if not isinstance(item.get("items", []), list):
            raise ValidationError("An item's sub-points must be a list.")
        _check_items(item.get("items", []))


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def record_version(condition, *, by=None, note=""):
    """Keep the condition's current content as its next version."""
    with transaction.atomic():
        # Two editors saving the same condition at once would both take the same next
        # number; the lock on the condition makes the second wait for the first.
        Condition.objects.select_for_update().only("pk").get(pk=condition.pk)
        last = condition.versions.aggregate(last=Max("number"))["last"] or 0
        return ConditionVersion.objects.create(
            condition=condition,
            number=last + 1,
            content=export_condition(condition),
            created_by=by,
            note=note[:200],
        )


def restore_version(version, *, by):
    """Bring a condition's content back to an earlier version, as a new version.

    The condition keeps its current address: links to it stay good, and the old slug
    may belong to another condition by now.
    """
    condition = version.condition
    return save_condition(
        {**version.content, "slug": condition.slug},
        condition=condition,
        by=by,
        note=f"Restored version {version.number}",
    )


def has_unpublished_changes(condition):
    """Whether the content as saved differs from the content as last published."""
    published = condition.published_version
    return published is None or published.content != export_condition(condition)


def _publish_version(condition, version):
    condition.status = Condition.Status.PUBLISHED
    condition.published_at = condition.published_at or timezone.now()
    condition.published_version = version
    condition.save(update_fields=["status", "published_at", "published_version", "updated_at"])


def publish(condition, *, by):
    """Make the saved content public, and the questionnaire of visits opened from now on.

    Does nothing if the condition is published and unchanged since. Returns whether it
    changed.
    """
    with transaction.atomic():
        # A double click on Publish: the second waits here, then finds it published.
        condition = (
            Condition.objects.select_for_update(of=("self",))
            .select_related("published_version")
            .get(pk=condition.pk)
        )
        if condition.is_published and not has_unpublished_changes(condition):
            return False
        _publish_version(condition, record_version(condition, by=by, note="Published"))
    return True


def unpublish(condition, *, by):
    """Take the public page down; does nothing if it is a draft. Returns whether it changed.

    The published version stays: visits opened before keep their questionnaire.
    """
    with transaction.atomic():
        condition = Condition.objects.select_for_update().get(pk=condition.pk)
        if not condition.is_published:
            return False
        condition.status = Condition.Status.DRAFT
        condition.save(update_fields=["status", "updated_at"])
        record_version(condition, by=by, note="Unpublished")
    return True
