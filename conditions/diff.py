"""What changed between two versions of a condition's content, part by part, as people
read it: the opening fields, sections with their items, questions, red flags and tests,
each added, removed or changed, with the changed words marked."""

import difflib
import re
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join

from .models import Section

SECTION_KINDS = dict(Section.Kind.choices)


@dataclass
class Change:
    part: str  # "Section", "Question"...
    name: str  # which one: its heading, key, message...
    status: str  # "added", "removed" or "changed"
    before: str  # HTML: the old text with removed words in <del>
    after: str  # HTML: the new text with added words in <ins>


def content_changes(old, new):
    """The Changes from document `old` to document `new`, in the document's order."""
    changes = []
    for part, describe in PARTS:
        before, after = describe(old), describe(new)
        for name in [*before, *(name for name in after if name not in before)]:
            old_text, new_text = before.get(name), after.get(name)
            if old_text == new_text:
                continue
            status = "added" if old_text is None else "removed" if new_text is None else "changed"
            marked_old, marked_new = _mark_words(old_text or "", new_text or "")
            changes.append(Change(part, name, status, marked_old, marked_new))
    return changes


def _opening(document):
    return {
        "Title": document.get("title", ""),
        "Address (slug)": document.get("slug", ""),
        "Definition": document.get("definition", ""),
        "Also called": "; ".join(document.get("alternative_names", [])),
        "ICD-10-CM": f"{document.get('icd10cm_code', '')} {document.get('icd10cm_title', '')}",
        "SNOMED CT": document.get("snomed_code", ""),
        "Suggested for every visit": ", ".join(document.get("suggests", [])),
    }


def _sections(document):
    return {
        section["heading"]: "\n".join(
            [
                f"Kind: {SECTION_KINDS.get(section['kind'], section['kind'])}",
                section.get("body", ""),
                *_item_lines(section["items"]),
            ]
        ).strip()
        for section in document.get("sections", [])
    }


def _item_lines(items, depth=0):
    lines = []
    for item in items:
        lines.append("  " * depth + "- " + item["text"])
        lines += _item_lines(item.get("items", []), depth + 1)
    return lines


def _questions(document):
    described = {}
    for question in document.get("questions", []):
        asked_of = question.get("applies_to", "everyone")
        ages = [question.get("min_age"), question.get("max_age")]
        lines = [
            question["wording"],
            f"Answer: {question['answer_type']}, "
            f"{'required' if question.get('required', True) else 'optional'}, asked of {asked_of}"
            + (f", ages {ages[0] or 0}–{ages[1] or 'any'}" if any(ages) else ""),
            *(f"• {choice}" for choice in question.get("choices", [])),
            question.get("help_text", ""),
        ]
        described[question["key"]] = "\n".join(line for line in lines if line)
    return described


def _red_flags(document):
    described = {}
    for rule in document.get("red_flags", []):
        when = (
            f"answer to “{rule['question']}” includes “{rule.get('choice')}”"
            if rule["kind"] == "answer_includes"
            else f"“{rule['question']}” more than {rule.get('days')} days ago"
        )
        suggests = ", ".join(rule.get("suggests", []))
        described[rule["message"]] = f"When the {when}" + (
            f"\nSuggests: {suggests}" if suggests else ""
        )
    return described


def _tests(document):
    return {
        test["slug"]: f"{test['name']} ({test['kind']})"
        + (f", code {test['code']}" if test.get("code") else "")
        for test in document.get("tests", [])
    }


def _translations(document):
    """Each translated part's texts in each language, named by the part and language."""
    # Named by their own words (a question by its key), so that an English change alone
    # does not show its translation as removed and added.
    parts = [
        ("page", "title", document),
        *(("section", "heading", section) for section in document.get("sections", [])),
        *(("question", "key", question) for question in document.get("questions", [])),
        *(("red flag", "message", rule) for rule in document.get("red_flags", [])),
    ]
    described = {}
    for part, named_by, doc in parts:
        for language, texts in doc.get("translations", {}).items():
            name = texts.get(named_by) or doc.get(named_by, "")
            # In a fixed order: PostgreSQL's jsonb keeps a version's keys in an order of its own.
            lines = [
                "\n".join(texts[field]) if isinstance(texts[field], list) else texts[field]
                for field in sorted(texts)
                if field != "made_from"
            ]
            lines += _translated_item_lines(doc.get("items", []), language)
            described[f"[{language}] {part} “{name}”"] = "\n".join(line for line in lines if line)
    return described


def _translated_item_lines(items, language, depth=0):
    lines = []
    for item in items:
        text = item.get("translations", {}).get(language, {}).get("text", "")
        lines.append("  " * depth + "- " + text)
        lines += _translated_item_lines(item.get("items", []), language, depth + 1)
    return lines


PARTS = [
    ("Page", _opening),
    ("Section", _sections),
    ("Question", _questions),
    ("Red flag", _red_flags),
    ("Orderable test", _tests),
    ("Translation", _translations),
]


def _mark_words(old, new):
    """Both texts as HTML, with what is only in `old` in <del> and only in `new` in <ins>:
    whole lines where lines came or went, words within a line that changed."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    marked_old, marked_new = [], []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        olds, news = old_lines[old_from:old_to], new_lines[new_from:new_to]
        if op == "equal":
            marked_old += [format_html("{}", line) for line in olds]
            marked_new += [format_html("{}", line) for line in news]
        elif op == "replace" and len(olds) == len(news):
            for old_line, new_line in zip(olds, news, strict=True):
                old_marked, new_marked = _mark_line_words(old_line, new_line)
                marked_old.append(old_marked)
                marked_new.append(new_marked)
        else:
            marked_old += [format_html("<del>{}</del>", line) for line in olds]
            marked_new += [format_html("<ins>{}</ins>", line) for line in news]
    return _joined(marked_old, "\n"), _joined(marked_new, "\n")


def _mark_line_words(old, new):
    old_words, new_words = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    marked_old, marked_new = [], []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for op, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        old_part = "".join(old_words[old_from:old_to])
        new_part = "".join(new_words[new_from:new_to])
        if op == "equal":
            marked_old.append(format_html("{}", old_part))
            marked_new.append(format_html("{}", new_part))
            continue
        if old_part:
            marked_old.append(format_html("<del>{}</del>", old_part))
        if new_part:
            marked_new.append(format_html("<ins>{}</ins>", new_part))
    return _joined(marked_old), _joined(marked_new)


def _joined(pieces, separator=""):
    return format_html_join(separator, "{}", ((piece,) for piece in pieces))
