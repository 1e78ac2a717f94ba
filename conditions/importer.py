"""Reads an encyclopedia-style plain-text condition page into a condition document.

Such pages come scraped from patient-education sites: a heading per section, lead-in
sentences ending in a colon before lists, bullets that nest by indentation, and some
bullets lost in the scrape. Site chrome (site name, breadcrumb, share buttons) is
dropped. The result is the document that `content.save_condition` saves.
"""

import re
from dataclasses import dataclass
from datetime import datetime
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
    # Sections of citations and links to elsewhere: chrome, dropped with their content.
    ("skip", r"references|related (?:topics|information|articles)|learn more|more information"),
]
_HEADING_PATTERNS = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in HEADINGS]

_BULLET = re.compile(r"(?P<indent>[ ]*)(?:[•◦▪▫‣∙·*+\-–—]|\d{1,2}[.)])[ ]+(?P<text>\S.*)")
# A bullet alone on its line ("•"), its item on the next line.
_LONE_BULLET = re.compile(r"[ ]*(?:[•◦▪*\-–—]|\d{1,2}[.)])")
# A bullet stuck to the end of the line before its item: "...from bed rest -".
_STUCK_BULLET = re.compile(r"[ ][•*\-–—]")
# Navigation after a heading on the same line: "Causes Return to top".
_NAVIGATION = re.compile(r"\b(?:return|back|go) to top\b[ ]*[|^↑]?$", re.IGNORECASE)
_SHARE_WORDS = (
    r"(?:e-?mail|twitter|facebook|google\+|linkedin|pinterest|print|share|whatsapp|reddit|x)"
)
# Share buttons run together ("EmailTwitterFacebook") or are set apart ("Share | Email").
# Breadcrumb parts start with a letter, so "Lasting > 10 minutes" is no breadcrumb.
_BREADCRUMB_PART = r"[^\W\d_]\S*(?:[ ]\S+){0,3}"
_BREADCRUMB = re.compile(rf"(?:{_BREADCRUMB_PART}[ ]*(?:>|»|›)[ ]*)+(?P<last>{_BREADCRUMB_PART})")
CHROME = [
    re.compile(rf"(?:{_SHARE_WORDS}[\s|·•,/:]*){{2,}}", re.IGNORECASE),
    _BREADCRUMB,
    # Menus and footers: three or more short parts set apart by bars.
    re.compile(r"[^|]{1,40}(?:\|[^|]{1,40}){2,}"),
    re.compile(
        r"(?:browse the encyclopedia|a\.d\.a\.m\.|skip to (?:main )?content|print this page"
        r"|share this page|e-?mail this page|copyright|©|\(c\) \d{4}|all rights reserved"
        r"|disclaimer|the information provided herein|this information is not"
        r"|is accredited by|learn how we develop|image:|illustration:|figure:|photo:"
        r"|enlarge image|view image).*",
        re.IGNORECASE,
    ),
    # Single menu entries of the sites these pages come from.
    re.compile(
        r"home|menu|search|conditions|health|health (?:library|topics|a-z)"
        r"|(?:medical )?encyclopedia|symptoms|find a (?:doctor|provider)|locations"
        r"|patients (?:&|and) visitors|about us|contact us|español|print|share|e-?mail",
        re.IGNORECASE,
    ),
]
# A menu of the page's own sections: "Learn about:" and then the headings.
_MENU = re.compile(r"(?:learn about|on this page|in this article|jump to)\b.*", re.IGNORECASE)
_REVIEW_DATE = re.compile(
    r"(?:review date|date reviewed|last reviewed|reviewed on)[ ]*:?[ ]*(?P<date>.*?)"
    r"(?:[ ]+(?P<rest>(?:updated|reviewed) by\b.*))?",
    re.IGNORECASE,
)
_REVIEWER = re.compile(
    r"(?:also )?(?:updated|reviewed) by[ ]*:?[ ]*(?P<name>.+?)\.?", re.IGNORECASE
)
_DATE_FORMATS = [
    "%m/%d/%Y",
    "%d %B %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%Y-%m-%d",
    "%d %b %Y",
    "%b %d, %Y",
]
# A sentence of prose rather than a list item that lost its bullet.
_PROSE_WORDS = 8


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
    if "\x00" in text:
        raise NotAConditionPage(f"{path.name} is not a text file.")
    # Only the first letter is raised: "ALS-symptoms" keeps its capitals.
    name = " ".join(path.stem.replace("-", " ").replace("_", " ").split())
    return parse_page(text, title=title, default_title=name[:1].upper() + name[1:])


def parse_page(text, *, title=None, default_title=None):
    """The condition document for one page of text.

    The title is `title` if given, else the page's own, else `default_title`.
    """
    lines, review = _lines(text)
    blocks = _blocks(lines)
    start = next(
        (
            i
            for i, block in enumerate(blocks)
            if _heading_kind(block) not in (None, "other", "skip")
        ),
        None,
    )
    if start is None:
        raise NotAConditionPage(
            "This does not look like a condition page: no section headings such as "
            "“Definition”, “Causes” or “Home Care” were found."
        )
    document = {
        "format": FORMAT,
        "title": "",
        "slug": "",
        "definition": "",
        "icd10cm_code": "",
        "icd10cm_title": "",
        "snomed_code": "",
        "reviewed_on": review.get("on"),
        "reviewed_by": review.get("by", ""),
        "alternative_names": [],
        "sections": [],
        "questions": [],
        "red_flags": [],
        "tests": [],
    }
    _Reader(document).read(blocks[start:])
    title = title or _page_title(blocks[:start], document["definition"]) or default_title
    if not title or not slugify(title):
        raise NotAConditionPage("The condition needs a title.")
    document["title"], document["slug"] = title, slugify(title)
    # An unknown heading with nothing under it is leftover chrome, not a section.
    document["sections"] = [
        section
        for section in document["sections"]
        if section["kind"] != "other" or section["body"] or section["items"]
    ]
    document["red_flags"] = _red_flag_rules(document)
    _check_is_condition_page(document)
    add_warning_signs(document)
    return document


def _page_title(blocks, definition):
    """The page's own title: the last heading-like line before the first section whose
    words the definition uses ("Leg cramps" for "A leg cramp is..."), so a site's name
    ("Coordinated Health") is not taken for it."""
    used = {word[:5] for word in re.findall(r"\w{4,}", definition.lower())}
    for block in reversed(blocks):
        if block.kind == "paragraph" and _looks_like_heading(block.text):
            words = {word[:5] for word in re.findall(r"\w{4,}", block.text.lower())}
            if words & used:
                return _heading_text(block.text)
    return None


# What makes a condition page: a definition and at least this many of the sections
# every encyclopedia symptom page has.
CORE_SECTIONS = {
    "causes": "Causes",
    "home_care": "Home care",
    "when_to_call": "When to contact a provider",
    "what_to_expect": "What to expect at the visit",
}
MIN_CORE_SECTIONS = 2


def _check_is_condition_page(document):
    found = [
        CORE_SECTIONS[kind]
        for kind in CORE_SECTIONS
        if any(section["kind"] == kind for section in document["sections"])
    ]
    if document["definition"] and len(found) >= MIN_CORE_SECTIONS:
        return
    raise NotAConditionPage(
        "This does not look like a condition page: an encyclopedia page has a definition and "
        f"at least {MIN_CORE_SECTIONS} of the sections {', '.join(CORE_SECTIONS.values())}. "
        f"Found: {'a definition' if document['definition'] else 'no definition'}"
        f"{''.join(', ' + name for name in found) or ' and none of those sections'}."
    )


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


def items_to_outline(nodes, depth=0, *, field="text"):
    """The outline text for a section's item tree (ItemNodes), as `outline_to_items` reads it
    (of the items' `field`: "text_es" for their Spanish)."""
    return "\n".join(
        line
        for node in nodes
        for line in [
            f"{'  ' * depth}- {getattr(node.item, field) or ''}".rstrip(),
            items_to_outline(node.children, depth + 1, field=field),
        ]
        if line
    )


def _tidy(text):
    """Text joined from several lines, its link breaks mended: "A torn muscle ( strain )"."""
    text = re.sub(r"([(\[])[ ]+", r"\1", text)
    return re.sub(r"[ ]+([)\],.;:])", r"\1", text)


def _review_metadata(text, review):
    """Take the review date or reviewer from a footer line into `review`; whether it was one."""
    match = _REVIEW_DATE.fullmatch(text)
    if match:
        for date_format in _DATE_FORMATS:
            try:
                review.setdefault(
                    "on", datetime.strptime(match["date"], date_format).date().isoformat()
                )
                break
            except ValueError:
                continue
        if match["rest"]:
            _review_metadata(match["rest"], review)
        return True
    match = _REVIEWER.fullmatch(text)
    if match:
        review.setdefault("by", match["name"])
        return True
    return False


def _lines(text):
    """The page's lines of content, and its review date and reviewer (`on`, `by`)."""
    text = text.replace("\t", "    ").replace("\u00a0", " ")
    lines = []
    review = {}
    blank = True
    menu = None  # the headings of a "Learn about" menu while reading it
    bullet_next = None  # the indent of a bullet whose item is on the next line
    previous = None
    for raw in text.splitlines():
        raw = raw.rstrip()
        navigation = _NAVIGATION.search(raw)
        if navigation:
            raw = raw[: navigation.start()].rstrip(" |^↑·-")
        stripped = " ".join(raw.split())
        if not stripped:
            blank = True
            continue
        if _LONE_BULLET.fullmatch(raw):
            bullet_next = len(raw) - len(raw.lstrip(" "))
            continue
        if _MENU.fullmatch(stripped):
            menu = set()
            continue
        match = _BULLET.fullmatch(raw)
        if menu is not None:
            heading = _known_heading(match["text"] if match else stripped)
            if heading and heading not in menu:
                menu.add(heading)
                continue
            menu = None
        short = len(stripped) <= 200
        if short and _review_metadata(stripped, review):
            continue
        chrome = short and not match and any(p.fullmatch(stripped) for p in CHROME)
        # An image's caption, repeated as text under it.
        if chrome or (stripped == previous and short and not match):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        stuck = len(stripped) > 2 and _STUCK_BULLET.fullmatch(stripped[-2:])
        if stuck:
            stripped = stripped[:-2]
            raw = raw[:-2]
            match = _BULLET.fullmatch(raw)
        if match and _known_heading(match["text"]):
            # A heading written as a list item.
            line = Line(indent=0, text=_tidy_spaces(match["text"]), blank_before=True)
        elif match:
            line = Line(
                indent=indent,
                text=_tidy_spaces(match["text"]),
                bullet=True,
                text_column=match.start("text"),
            )
        elif bullet_next is not None:
            line = Line(indent=bullet_next, text=stripped, bullet=True, text_column=bullet_next + 2)
        else:
            line = Line(indent=indent, text=stripped, text_column=indent)
        line.blank_before = line.blank_before or blank
        lines.append(line)
        previous = stripped
        blank = False
        bullet_next = None
        if stuck:
            bullet_next = lines[-1].indent if lines[-1].bullet else 0
    return lines, review


def _tidy_spaces(text):
    return " ".join(text.split())


def _blocks(lines):
    """Group lines into paragraphs and (nested) lists."""
    blocks = []
    i = 0
    while i < len(lines):
        if not lines[i].bullet and _lost_first_bullet(lines, i):
            following = lines[i + 1]
            lines[i].bullet = True
            lines[i].indent, lines[i].text_column = following.indent, following.text_column
        if lines[i].bullet:
            j = i + 1
            while j < len(lines) and _continues_list(lines, i, j):
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
        while j < len(lines) and _continues_paragraph(lines[j - 1], lines[j]):
            j += 1
        text = _tidy(" ".join(line.text for line in lines[i:j]))
        blocks.append(Block("paragraph", text=text))
        i = j
    return blocks


def _continues_paragraph(previous, line):
    """Whether a line carries on the paragraph above: a sentence wrapped onto it, not a
    heading, sentence or item of its own (pages without blank lines put each on a line)."""
    if line.blank_before or line.bullet or _known_heading(previous.text):
        return False
    if line.text[:1].islower() or line.text[:1] in ")]":
        return True
    if _known_heading(line.text) or _looks_like_heading(previous.text):
        return False
    return not re.search(r"[.!?:;\"”)]$", previous.text)


def _wraps_onto(previous_text, text):
    """Whether `text` is the rest of an item broken over lines (at an inline link)."""
    return bool(
        text[:1].islower()
        or text[:1] in ")],;."
        or re.search(
            r"[(\[,/]$|\b(?:and|or|of|the|a|an|to|from|with|such as|for|in)$", previous_text
        )
    )


def _item_like(line):
    return not (
        line.text.endswith(":")
        or _known_heading(line.text)
        or (len(line.text.split()) >= _PROSE_WORDS and re.search(r"[.!?]$", line.text))
    )


def _lost_first_bullet(lines, i):
    """Whether a line between a lead-in and a list is the list's first item, its bullet lost."""
    if i == 0 or i + 1 >= len(lines) or not lines[i + 1].bullet or lines[i].indent > 0:
        return False
    return lines[i - 1].text.endswith(":") and not lines[i - 1].bullet and _item_like(lines[i])


def _continues_list(lines, first, j):
    line = lines[j]
    if line.bullet or line.indent > 0 or _lost_bullet(lines, j):
        return True
    # The last item, its bullet lost: set out as the items above it are.
    previous = lines[j - 1]
    spaced_as_list = line.blank_before == (previous.blank_before and j - 1 > first)
    return spaced_as_list and _item_like(line) and not _looks_like_prose_after(lines, j)


def _looks_like_prose_after(lines, j):
    """A line under a list followed by more of the same text is a paragraph, not an item."""
    following = lines[j + 1] if j + 1 < len(lines) else None
    return (
        following is not None
        and not following.blank_before
        and not following.bullet
        and not _known_heading(following.text)
    )


def _lost_bullet(lines, j):
    """Whether an unindented line between two bullets is an item whose bullet was lost.

    It is not if it reads as a lead-in (ends in a colon) or a known heading, nor if it
    looks like a heading and blank lines set it apart from bullets that have none
    between them.
    """
    line = lines[j]
    following = lines[j + 1] if j + 1 < len(lines) else None
    if line.bullet or line.indent > 0 or following is None or not following.bullet:
        return False
    if line.text.endswith(":") or _known_heading(line.text):
        return False
    if not line.blank_before and _wraps_onto(lines[j - 1].text, line.text):
        return False
    set_apart = line.blank_before and following.blank_before and not lines[j - 1].blank_before
    return not (set_apart and _looks_like_heading(line.text))


def _item_tree(lines):
    """Nest list lines by indentation; bulletless lines become items where their text
    lines up with an item's text, or continue the item above when its text runs on."""
    roots = []
    stack = []  # frames: (bullet_indent, text_column, node, text parts)
    for line in lines:
        if (
            not line.bullet
            and not line.blank_before
            and stack
            and _wraps_onto(stack[-1][3][-1], line.text)
        ):
            stack[-1][3].append(line.text)
            continue
        if line.bullet:
            bullet_indent = line.indent
            while stack and stack[-1][0] >= bullet_indent:
                stack.pop()
        elif not line.blank_before and stack:
            # An item whose bullet was lost, beside the one above.
            bullet_indent, column = stack[-1][0], stack[-1][1]
            stack.pop()
            line = Line(indent=bullet_indent, text=line.text, text_column=column)
        else:
            bullet_indent = line.indent
            while stack and stack[-1][1] > line.indent:
                stack.pop()
            if stack and stack[-1][1] == line.indent:
                bullet_indent = stack.pop()[0]
        node = {"text": line.text, "items": []}
        (stack[-1][2]["items"] if stack else roots).append(node)
        stack.append((bullet_indent, line.text_column, node, [line.text]))
        node["parts"] = stack[-1][3]
    _join_parts(roots)
    return roots


def _join_parts(nodes):
    for node in nodes:
        node["text"] = _tidy(" ".join(node.pop("parts")))
        _join_parts(node["items"])


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
    """The kind of section a block heads, "other" for an unknown heading, or None.

    A known heading may end in a colon ("Home Care:"); an unknown one may not, as
    lead-in sentences do.
    """
    if block.kind != "paragraph":
        return None
    if block.text.endswith(":"):
        text = block.text[:-1]
        return _known_heading(text) if _looks_like_heading(text) else None
    if not _looks_like_heading(block.text):
        return None
    return _known_heading(block.text) or "other"


def _known_heading(text):
    """The kind of a known heading, or None."""
    text = text.replace("’", "'").rstrip(":")
    if len(text) > 80:
        return None
    for kind, pattern in _HEADING_PATTERNS:
        if pattern.fullmatch(text):
            return kind
    return None


def _heading_text(text):
    """A heading as shown: without its colon, and in sentence case if it was in capitals."""
    text = text.rstrip(":").strip()
    if text.isupper():
        text = text[:1] + text[1:].lower()
    return text


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
        self.asking = False  # under a lead-in to history questions ("Questions may include:")
        self.group = ""  # the label grouping the questions that follow ("Location:")
        self.definition = []  # paragraphs, joined once at the end
        self.keys = set()  # the questions' keys
        self.repeats = {}  # how many times each key was asked

    def read(self, blocks):
        for block in blocks:
            kind = _heading_kind(block)
            if kind == "other" and self._special_is_empty():
                # Short lines such as "Charley horse, Leg cramp" read like headings; under
                # "Also known as" or "Definition" the first one is the content.
                kind = None
            if kind is not None and block.text.endswith(":") and self._in(kind):
                kind = None  # "Call your provider if:" under "When to contact": a lead-in
            if kind is not None:
                self._flush_lead_in()
                self.asking, self.group = False, ""
            if kind in ("definition", "alternative_names"):
                self.special, self.section = kind, None
            elif kind is not None:
                self.special = None
                self._new_section(kind, _heading_text(block.text))
            elif self.section is not None and self.section["kind"] == "skip":
                continue
            elif block.kind == "paragraph":
                self._paragraph(block.text)
            else:
                self._list(block.items)
        self._flush_lead_in()
        self.document["definition"] = "".join(self.definition)
        for section in self.document["sections"]:
            section["body"] = "".join(section["body"])
        self.document["sections"] = [
            section for section in self.document["sections"] if section["kind"] != "skip"
        ]

    def _in(self, kind):
        return self.section is not None and self.section["kind"] == kind

    def _special_is_empty(self):
        if self.special == "definition":
            return not self.definition
        return self.special is not None and not self.document[self.special]

    def _new_section(self, kind, heading):
        self.section = {"kind": kind, "heading": heading, "body": [], "items": []}
        self.document["sections"].append(self.section)

    def _paragraph(self, text):
        if self.asking and text.endswith("?"):
            self.lead_in = None
            self._add_question(self._question(text))  # a question whose bullet was lost
            return
        if self.asking and text.endswith(":") and len(text.split()) <= 4:
            self.group, self.lead_in = text[:-1], None  # a label grouping questions
            return
        self._flush_lead_in()
        if self.special == "definition":
            self.definition.append(f"<p>{escape(text)}</p>")
        elif self.special == "alternative_names":
            separator = ";" if ";" in text else ","
            self.document["alternative_names"] += [
                name.strip() for name in text.split(separator) if name.strip()
            ]
        elif text.endswith(":"):
            # "Your provider will examine you. Questions may include:": the last
            # sentence leads in to the list, those before it are text.
            *before, text = re.split(r"(?<=[.!?])[ ]+(?=[A-Z])", text)
            if before:
                self.asking = False
                self._body(" ".join(before))
            self.lead_in = text
            self.asking = _lead_in_role(text) == "questions"
            self.group = ""
        else:
            self.asking = False
            self._body(text)

    def _body(self, text):
        if self.section is None:
            self._new_section("other", "More information")
        self.section["body"].append(f"<p>{escape(text)}</p>")

    def _flush_lead_in(self):
        """Keep a lead-in whose list the scrape lost, where it stood on the page."""
        lead_in, self.lead_in = self.lead_in, None
        if lead_in is None or self.asking:
            return
        if self.section is not None and self.section["items"]:
            role = _lead_in_role(lead_in)
            kind = self.section["kind"] if role in (None, "tests") else role
            self._new_section(kind, _heading_from_lead_in(lead_in))
        self._body(lead_in)

    def _list(self, items):
        lead_in, self.lead_in = self.lead_in, None
        role = _lead_in_role(lead_in) if lead_in else None
        if self.asking:
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
            self.section["body"].append(f"<p>{escape(lead_in)}</p>")
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
        key = question["key"]
        while question["key"] in self.keys:
            # Counted per key, so a page asking one question many times stays linear.
            self.repeats[key] = self.repeats.get(key, 1) + 1
            question["key"] = f"{key[:56]}-{self.repeats[key]}"
        self.keys.add(question["key"])
        question["help_text"] = self.group
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
