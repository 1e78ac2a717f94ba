"""The corpus of encyclopedia pages in tests/pages/, one per layout the importer reads,
each imported and compared, item by item, with the structure written beside it."""

import json
import re
from html import unescape
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from conditions.content import export_condition
from conditions.models import Condition

PAGES = Path(__file__).resolve().parent / "pages"
CORPUS = sorted(path for path in PAGES.glob("*.txt") if path.with_suffix(".expected.json").exists())


def structure(document):
    """What a reader of the page sees in a condition document, in the expected files' form."""
    return {
        "title": document["title"],
        "definition": _paragraphs(document["definition"]),
        "alternative_names": document["alternative_names"],
        "sections": [
            {
                "kind": section["kind"],
                "heading": section["heading"],
                "body": _paragraphs(section["body"]),
                "items": _items(section["items"]),
            }
            for section in document["sections"]
        ],
        "questions": [
            {
                "group": question["help_text"],
                "wording": question["wording"],
                "answer_type": question["answer_type"],
            }
            for question in document["questions"]
        ],
        "tests": sorted(test["name"] for test in document["tests"]),
        "reviewed_on": document["reviewed_on"],
        "reviewed_by": document["reviewed_by"],
    }


def _paragraphs(html):
    return [unescape(text) for text in re.findall(r"<p>(.*?)</p>", html)]


def _items(items):
    """Items as their text, or {"text": ..., "items": [...]} where they have sub-points."""
    return [
        {"text": item["text"], "items": _items(item["items"])} if item["items"] else item["text"]
        for item in items
    ]


def flatten(value, path=""):
    """Every leaf with its path ("sections[2].items[0]"), so a difference names its item."""
    if isinstance(value, dict):
        pairs = {}
        for key, part in value.items():
            pairs.update(flatten(part, f"{path}.{key}" if path else key))
        return pairs
    if isinstance(value, list):
        pairs = {f"{path}.count": len(value)}
        for index, part in enumerate(value):
            pairs.update(flatten(part, f"{path}[{index}]"))
        return pairs
    return {path: value}


def expected(page):
    return json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))


def test_the_corpus_covers_a_dozen_pages():
    assert len(CORPUS) >= 12


@pytest.mark.parametrize("page", CORPUS, ids=[page.stem for page in CORPUS])
def test_page_imports_exactly_as_expected(db, page):
    call_command("import_condition", str(page), stdout=StringIO())
    condition = Condition.objects.get()
    assert flatten(structure(export_condition(condition))) == flatten(expected(page))


def repeated_page(size):
    """A page of about `size` bytes: a corpus page with its sections repeated."""
    text = (PAGES / "muscle-aches.txt").read_text(encoding="utf-8")
    head, rest = text.split("Causes Return to top", 1)
    body, footer = rest.split("Review Date", 1)
    body = "Causes Return to top" + body
    repeats = max(1, (size - len(head) - len(footer)) // len(body.encode()))
    return head + body * repeats + "Review Date" + footer


def test_a_page_of_almost_a_megabyte_imports(db, tmp_path):
    page = tmp_path / "muscle-aches.txt"
    page.write_text(repeated_page(1000 * 1000), encoding="utf-8")
    assert 990_000 < page.stat().st_size <= 1000 * 1000
    call_command("import_condition", str(page), stdout=StringIO())
    condition = Condition.objects.get()
    assert condition.sections.filter(kind="causes").count() > 500
    assert condition.questions.count() > 1500
