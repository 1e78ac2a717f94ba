"""Reads an encyclopedia-style plain-text condition page into a condition document.

Such pages come scraped from patient-education sites: a heading per section, lead-in
sentences ending in a colon before lists, bullets that nest by indentation, and some
bullets lost in the scrape. Site chrome (site name, breadcrumb, share buttons) is
dropped. The result is the document that `content.save_condition` saves.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.html import escape
from django.utils.text import Truncator, slugify

from .catalog import catalog_entry_for, split_test_phrase
from .content import FORMAT
from .question_types import answer_type_for
from .warning_signs import add_warning_signs

# "Twitches that do not last more than a few days" are benign; longer is long-term.
LONG_TERM_DAYS = 3


class NotAConditionPage(ValueError):
    """The text is not an encyclopedia-style condition page."""


# Known headings, matched against a whole line, mapped to where their content goes.
HEADINGS = [
    ("definition", r"definition|overview|description|what is it\??"),
    ("alternative_names", r"alternative names?|other names?|also (?:known as|called)"),
    ("considerations", r"considerations|information|things to consider"),
    ("causes", r"(?:common |possible |other )?causes"),
    ("home_care", r"home care|self[- ]care(?: at home)?|care at home|home treatment"),
    (
        "when_to_call",
        r"(?:call|contact|see) your (?:health ?care provider|doctor|provider)(?: if| when)?"
        r"|when to (?:call|contact|see) (?:a|the|your) .+",
    ),
    ("what_to_expect", r"what to expect .+"),
]

_BULLET = re.compile(r"(?P<indent>[ ]*)(?:[•◦▪▫‣∙·*+\-–—]|\d{1,2}[.)])[ ]+(?P<text>\S.*)")
_SHARE_WORDS = (
    r"(?:e-?mail|twitter|facebook|google\+|linkedin|pinterest|print|share|whatsapp|reddit|x)"
)
# Share buttons run together ("EmailTwitterFacebook") or are set apart ("Share | Email").
# Breadcrumb parts start with a letter, so "Lasting > 10 minutes" is no breadcrumb.
_BREADCRUMB_PART = r"[^\W\d_]\S*(?:[ ]\S+){0,3}"
CHROME = [
    re.compile(rf"(?:{_SHARE_WORDS}[\s|·•,/:]*){{2,}}", re.IGNORECASE),
    re.compile(rf"(?:{_BREADCRUMB_PART}[ ]*(?:>|»|›)[ ]*)+{_BREADCRUMB_PART}"),
    re.compile(
        r"(?:review date|updated by|reviewed by|last reviewed|browse the encyclopedia"
        r"|a\.d\.a\.m\.|back to top|skip to (?:main )?content|print this page"
        r"|share this page|copyright|©).*",
        re.IGNORECASE,
    ),
]


@dataclass
class Line:
    indent: int
    text: str
    bullet: bool = False
    text_column: int = 0
    blank_before: bool = False


@dataclass
class Block:
    kind: str  # "paragraph" or "list"
    text: str = ""
    items: list = None


def document_from_path(path, *, title=None):
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotAConditionPage(f"{path.name} is not a UTF-8 text file.") from error
    if not title:
        # Only the first letter is raised: "ALS-symptoms" keeps its capitals.
        title = " ".join(path.stem.replace("-", " ").replace("_", " ").split())
        title = title[:1].upper() + title[1:]
    return parse_page(text, title=title)


def parse_page(text, *, title):
    """The condition document for one page of text."""
    if not title or not slugify(title):
        raise NotAConditionPage("The condition needs a title.")
    blocks = _blocks(_lines(text))
    start = next(
        (i for i, block in enumerate(blocks) if _heading_kind(block) not in (None, "other")),
        None,
    )
    if start is None:
        raise NotAConditionPage(
            "No section headings such as “Definition”, “Causes” or “Home Care” were found: "
            "this does not look like a condition page."
        )
    document = {
        "format": FORMAT,
        "title": title,
        "slug": slugify(title),
        "definition": "",
        "icd10cm_code": "",
        "icd10cm_title": "",
        "snomed_code": "",
        "alternative_names": [],
        "sections": [],
        "questions": [],
        "red_flags": [],
        "tests": [],
    }
    _Reader(document).read(blocks[start:])
    # An unknown heading with nothing under it is leftover chrome, not a section.
    document["sections"] = [
        section
        for section in document["sections"]
        if section["kind"] != "other" or section["body"] or section["items"]
    ]
    document["red_flags"] = _red_flag_rules(document)
    add_warning_signs(document)
    if not document["sections"] and not document["definition"]:
        raise NotAConditionPage("The page has headings but no content under them.")
    return document


_OUTLINE_MARKER = re.compile(r"(?:[-*•◦▪–]\s*|\d{1,2}[.)]\s+)")


def outline_to_items(text):
    """Nested items from an editor's outline: "- item" lines, two more spaces per level.

    Unlike a scraped page, every line of an outline is an item of its own, with or
    without its dash: an editor who leaves one out still means a new item.
    """
    roots = []
    stack = []  # (indent, node) of the items the next line may nest under
    for raw in text.replace("\t", "  ").splitlines():
        indent = len(raw) - len(raw.lstrip())
        item_text = " ".join(_OUTLINE_MARKER.sub("", raw.strip(), count=1).split())
        if not item_text:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        node = {"text": item_text, "items": []}
        (stack[-1][1]["items"] if stack else roots).append(node)
        stack.append((indent, node))
    return roots


def items_to_outline(nodes, depth=0):
    """The outline text for a section's item tree (ItemNodes), as `outline_to_items` reads it."""
    return "\n".join(
        line
        for node in nodes
        for line in [
            f"{'  ' * depth}- {node.item.text}",
            items_to_outline(node.children, depth + 1),
        ]
        if line
    )


def _lines(text):
    text = text.replace("\t", "    ").replace("\u00a0", " ")
    lines = []
    blank = True
    for raw in text.splitlines():
        stripped = " ".join(raw.split())
        raw = raw.rstrip()
        match = _BULLET.fullmatch(raw)
        chrome = not match and any(pattern.fullmatch(stripped) for pattern in CHROME)
        if not stripped or chrome:
            blank = blank or not stripped
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if match:
            line = Line(
                indent=indent,
                text=" ".join(match["text"].split()),
                bullet=True,
                text_column=match.start("text"),
            )
        else:
            line = Line(indent=indent, text=stripped, text_column=indent)
        line.blank_before = blank
        lines.append(line)
        blank = False
    return lines


def _blocks(lines):
    """Group lines into paragraphs and (nested) lists."""
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].bullet:
            j = i + 1
            while j < len(lines) and _continues_list(lines, j):
                if _lost_bullet(lines, j):
                    following = lines[j + 1]
                    lines[j] = Line(
                        indent=following.indent,
                        text=lines[j].text,
                        bullet=True,
                        text_column=following.text_column,
                        blank_before=lines[j].blank_before,
                    )
                j += 1
            blocks.append(Block("list", items=_item_tree(lines[i:j])))
            i = j
            continue
        j = i + 1
        while j < len(lines) and not lines[j].blank_before and not lines[j].bullet:
            j += 1
        blocks.append(Block("paragraph", text=" ".join(line.text for line in lines[i:j])))
        i = j
    return blocks


def _continues_list(lines, j):
    line = lines[j]
    return line.bullet or line.indent > 0 or _lost_bullet(lines, j)


def _lost_bullet(lines, j):
    """Whether an unindented line between two bullets is an item whose bullet was lost.

    It is not if it reads as a lead-in (ends in a colon) or a known heading, nor if it
    looks like a heading and blank lines set it apart from the bullets around it.
    """
    line = lines[j]
    following = lines[j + 1] if j + 1 < len(lines) else None
    if line.bullet or line.indent > 0 or following is None or not following.bullet:
        return False
    if line.text.endswith(":") or _known_heading(line.text):
        return False
    set_apart = line.blank_before and following.blank_before
    return not (set_apart and _looks_like_heading(line.text))


def _item_tree(lines):
    """Nest list lines by indentation; bulletless lines become items where their text
    lines up with an item's text, or continue the item above when no blank line
    separates them."""
    roots = []
    stack = []  # frames: (bullet_indent, text_column, node)
    for line in lines:
        if not line.bullet and not line.blank_before and stack:
            stack[-1][2]["text"] += " " + line.text
            continue
        if line.bullet:
            bullet_indent = line.indent
            while stack and stack[-1][0] >= bullet_indent:
                stack.pop()
        else:
            bullet_indent = line.indent
            while stack and stack[-1][1] > line.indent:
                stack.pop()
            if stack and stack[-1][1] == line.indent:
                bullet_indent = stack.pop()[0]
        node = {"text": line.text, "items": []}
        (stack[-1][2]["items"] if stack else roots).append(node)
        stack.append((bullet_indent, line.text_column, node))
    return roots


def _looks_like_heading(text):
    words = text.split()
    return (
        len(words) <= 10
        and len(text) <= 80
        and text[:1].isupper()
        and not re.search(r"[.:;,?!]$", text)
        and ";" not in text
    )


def _heading_kind(block):
    """The kind of section a block heads, "other" for an unknown heading, or None."""
    if block.kind != "paragraph" or not _looks_like_heading(block.text):
        return None
    return _known_heading(block.text) or "other"


def _known_heading(text):
    """The kind of a known heading, or None."""
    for kind, pattern in HEADINGS:
        if re.fullmatch(pattern, text.replace("’", "'"), re.IGNORECASE):
            return kind
    return None


def _lead_in_role(text):
    """What the list after a lead-in sentence holds."""
    text = text.lower()
    if re.search(r"\bask (?:your|the|a) (?:doctor|provider|health)", text):
        return None  # questions for the patient to ask, not ones the patient answers
    if "question" in text or re.search(r"\bask(?:s|ed)?\b", text):
        return "questions"
    if (
        re.search(r"\btests?\b", text) and not re.search(r"\b(?:results?|shows?)\b", text)
    ) or re.search(r"\b(exams?|examinations?)\b.*\b(include|are)\b", text):
        return "tests"
    if re.search(
        r"\b(symptoms|signs)\b.*\b(disorder|disease|problem|serious)\b|warning signs", text
    ):
        return "red_flags"
    if re.search(r"\b(conditions|disorders|diseases|problems)\b.*\bcause", text):
        return "nervous_system_causes" if re.search(r"nerv|brain|spin", text) else "causes"
    return None


def _red_flag_rules(document):
    """Rules that turn answers into flags: a red-flag symptom reported, and, where the page
    says to call about long-term or persistent symptoms, onset long ago or constant."""
    rules = []
    red_flags = {
        item["text"]
        for section in document["sections"]
        if section["kind"] == "red_flags"
        for item in section["items"]
    }
    for question in document["questions"]:
        for choice in question["choices"]:
            if choice in red_flags:
                rules.append(
                    {
                        "question": question["key"],
                        "kind": "answer_includes",
                        "choice": choice,
                        "days": None,
                        "message": Truncator(f"Reports {choice[:1].lower()}{choice[1:]}").chars(
                            200
                        ),
                    }
                )
    call_text = " ".join(
        section["body"] for section in document["sections"] if section["kind"] == "when_to_call"
    ).lower()
    if re.search(r"long-term|long term|persistent|does not go away|keeps", call_text):
        for question in document["questions"]:
            if question["answer_type"] == "date":
                rules.append(
                    {
                        "question": question["key"],
                        "kind": "longer_than",
                        "choice": "",
                        "days": LONG_TERM_DAYS,
                        "message": f"Going on for more than {LONG_TERM_DAYS} days (long-term)",
                    }
                )
            elif question["answer_type"] == "frequency":
                rules.append(
                    {
                        "question": question["key"],
                        "kind": "answer_includes",
                        "choice": question["choices"][0],
                        "days": None,
                        "message": "Constant (persistent)",
                    }
                )
    return rules


def _heading_from_lead_in(text):
    text = text.rstrip(":").strip()
    return re.sub(r"\s+(?:may |can |often )?(?:include|are|is)$", "", text)


class _Reader:
    def __init__(self, document):
        self.document = document
        self.section = None
        self.special = None  # "definition" or "alternative_names" while under those headings
        self.lead_in = None

    def read(self, blocks):
        for block in blocks:
            kind = _heading_kind(block)
            if kind == "other" and self._special_is_empty():
                # Short lines such as "Charley horse, Leg cramp" read like headings; under
                # "Also known as" or "Definition" the first one is the content.
                kind = None
            if kind in ("definition", "alternative_names"):
                self.special, self.section, self.lead_in = kind, None, None
            elif kind is not None:
                self.special, self.lead_in = None, None
                self._new_section(kind, block.text)
            elif block.kind == "paragraph":
                self._paragraph(block.text)
            else:
                self._list(block.items)

    def _special_is_empty(self):
        return self.special is not None and not self.document[self.special]

    def _new_section(self, kind, heading):
        self.section = {"kind": kind, "heading": heading, "body": "", "items": []}
        self.document["sections"].append(self.section)

    def _paragraph(self, text):
        if self.special == "definition":
            self.document["definition"] += f"<p>{escape(text)}</p>"
        elif self.special == "alternative_names":
            separator = ";" if ";" in text else ","
            self.document["alternative_names"] += [
                name.strip() for name in text.split(separator) if name.strip()
            ]
        elif text.endswith(":"):
            self.lead_in = text
        else:
            if self.section is None:
                self._new_section("other", "More information")
            self.section["body"] += f"<p>{escape(text)}</p>"

    def _list(self, items):
        lead_in, self.lead_in = self.lead_in, None
        role = _lead_in_role(lead_in) if lead_in else None
        if role == "questions":
            for item in items:
                self._add_question(self._question(item["text"]))
            return
        if role == "tests":
            self._tests(items)
            return
        if self.section is None:
            self._new_section("other", "More information")
        if self.section["items"] or (role and role != self.section["kind"]):
            heading = _heading_from_lead_in(lead_in) if lead_in else self.section["heading"]
            self._new_section(role or self.section["kind"], heading)
        elif lead_in:
            self.section["body"] += f"<p>{escape(lead_in)}</p>"
        self.section["items"] = items

    def _tests(self, items):
        known = {test["slug"] for test in self.document["tests"]}
        for item in items:
            for kind, phrase in split_test_phrase(item["text"]):
                entry = catalog_entry_for(kind, phrase)
                if entry["slug"] not in known:
                    known.add(entry["slug"])
                    self.document["tests"].append(entry)

    def _add_question(self, question):
        """Add the question, its key made unique among the condition's questions."""
        keys = {other["key"] for other in self.document["questions"]}
        key, n = question["key"], 1
        while question["key"] in keys:
            n += 1
            question["key"] = f"{key[:56]}-{n}"
        self.document["questions"].append(question)

    def _question(self, wording):
        text = wording.lower()
        question = {
            "key": slugify(wording)[:60].strip("-"),
            "wording": wording,
            "help_text": "",
            "answer_type": "free_text",
            "choices": [],
            "required": True,
            "applies_to": "everyone",
            "min_age": None,
            "max_age": None,
        }
        question["answer_type"], question["choices"] = answer_type_for(
            wording, red_flags=self._red_flags()
        )
        if "pregnan" in text:
            question.update(applies_to="female", min_age=12, max_age=55)
        return question

    def _red_flags(self):
        return [
            item["text"]
            for section in self.document["sections"]
            if section["kind"] == "red_flags"
            for item in section["items"]
        ]
