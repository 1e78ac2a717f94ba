"""Warning signs: the "go to the emergency room" and "call your provider if" lists of a
condition document, turned into one question and a red-flag rule per sign.

The patient is asked "Do you have any of these now?" with each sign as a choice; a sign
from an emergency list raises an urgent flag. The rules are the importer's reading of
the page, so they start unconfirmed: an editor checks them before they are trusted.
"""

import re
from html import unescape

from django.utils.html import strip_tags
from django.utils.text import Truncator, slugify

QUESTION_KEY = "warning-signs"
WORDING = "Do you have any of these now?"
HELP_TEXT = "Tick each one you have now, or “None of these”."
NONE_OF_THESE = "None of these"
# A choice is also a red flag's choice, which holds at most this many characters.
CHOICE_LENGTH = 300

_EMERGENCY = re.compile(
    r"\bemergency\b|\b911\b|\b999\b|\b112\b|\bambulance\b|\bgo to (?:a|the) hospital\b",
    re.IGNORECASE,
)
_CALL_PROVIDER = re.compile(
    r"\b(?:call|contact|see|phone|tell)\b.*\b(?:provider|doctor|health ?care|clinic|nurse)\b"
    r".*\b(?:if|when|right away)\b",
    re.IGNORECASE,
)

_YOU = re.compile(r"^you (?:have |are having |feel |notice |get )?", re.IGNORECASE)


def add_warning_signs(document):
    """Put the warning-signs question first among the document's questions, with its
    unconfirmed rules, when the page lists any sign to call about; else leave it as is."""
    signs = {}  # choice value -> (label, urgent); an emergency sign stays urgent
    for section in document["sections"]:
        urgency = _urgency(section)
        if urgency is None:
            continue
        for item in section["items"]:
            label = _label(item["text"])
            value = slugify(label)
            if not value or value.startswith("none"):
                continue
            if value in signs:
                label, urgent = signs[value]
                signs[value] = (label, urgent or urgency)
            else:
                signs[value] = (label, urgency)
    if not signs:
        return document
    key = _free_key({question["key"] for question in document["questions"]})
    question = {
        "key": key,
        "wording": WORDING,
        "help_text": HELP_TEXT,
        "answer_type": "multiple_choice",
        "choices": [label for label, _ in signs.values()] + [NONE_OF_THESE],
        "required": True,
        "applies_to": "everyone",
        "min_age": None,
        "max_age": None,
    }
    document["questions"].insert(0, question)
    document["red_flags"] = [
        {
            "question": key,
            "kind": "answer_includes",
            "choice": label,
            "days": None,
            "message": Truncator(f"Warning sign now: {label}").chars(200),
            "urgent": urgent,
            "confirmed": False,
        }
        for label, urgent in signs.values()
    ] + document["red_flags"]
    return document


def _urgency(section):
    """True for an emergency list, False for a call-your-provider list, None otherwise.

    The list is read by its heading and the sentence just before it: a paragraph
    elsewhere in the section that mentions the provider does not make its list one.
    """
    paragraphs = [strip_tags(text) for text in re.findall(r"<p>(.*?)</p>", section["body"], re.S)]
    lead_in = section["heading"]
    if paragraphs and paragraphs[-1].rstrip().endswith(":"):
        lead_in += " " + paragraphs[-1]
    if _EMERGENCY.search(lead_in):
        return True
    if section["kind"] == "when_to_call" or _CALL_PROVIDER.search(lead_in):
        return False
    return None


def _label(text):
    """The sign as a choice: "You have chest pain." reads "Chest pain" after the question."""
    label = " ".join(unescape(strip_tags(text)).split()).rstrip(" ,;.")
    label = _YOU.sub("", label)
    return Truncator(label[:1].upper() + label[1:]).chars(CHOICE_LENGTH)


def _free_key(keys):
    key, n = QUESTION_KEY, 1
    while key in keys:
        n += 1
        key = f"{QUESTION_KEY}-{n}"
    return key
