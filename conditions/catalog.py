"""Standard orderable tests and their codes, and how a test named in prose maps to them.

Codes are facts from the code systems: LOINC for laboratory panels, CPT for procedures
and imaging. Where no single code covers a test as a page words it (imaging of "the
spine" spans cervical, thoracic and lumbar codes), the entry carries no code.
"""

import re

from django.utils.text import slugify

from .models import OrderableTest

LOINC = OrderableTest.CodeSystem.LOINC.value
CPT = OrderableTest.CodeSystem.CPT.value

STANDARD_TESTS = [
    {
        "slug": "electrolytes-panel",
        "name": "Electrolytes panel",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "24326-1",
        "match": r"electrolyte",
    },
    {
        "slug": "thyroid-function",
        "name": "Thyroid function (TSH)",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "3016-3",
        "match": r"thyroid",
    },
    {
        "slug": "blood-chemistry-panel",
        "name": "Blood chemistry (comprehensive metabolic panel)",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "24323-8",
        "match": r"chemistry|metabolic panel",
    },
    {
        "slug": "ct-brain",
        "name": "CT scan of the brain",
        "kind": "imaging",
        "body_site": "brain",
        "code_system": CPT,
        "code": "70450",
        "match": r"\bct\b.*\b(brain|head)\b",
    },
    {
        "slug": "ct-spine",
        "name": "CT scan of the spine",
        "kind": "imaging",
        "body_site": "spine",
        "code_system": "",
        "code": "",
        "match": r"\bct\b.*\bspin",
    },
    {
        "slug": "mri-brain",
        "name": "MRI scan of the brain",
        "kind": "imaging",
        "body_site": "brain",
        "code_system": CPT,
        "code": "70551",
        "match": r"\bmri\b.*\b(brain|head)\b",
    },
    {
        "slug": "mri-spine",
        "name": "MRI scan of the spine",
        "kind": "imaging",
        "body_site": "spine",
        "code_system": "",
        "code": "",
        "match": r"\bmri\b.*\bspin",
    },
    {
        "slug": "emg",
        "name": "Electromyogram (EMG)",
        "kind": "neurophysiology",
        "body_site": "",
        "code_system": CPT,
        "code": "95860",
        "asks_side_and_limb": True,
        "match": r"electromyogra|\bemg\b",
    },
    {
        "slug": "nerve-conduction-studies",
        "name": "Nerve conduction studies",
        "kind": "neurophysiology",
        "body_site": "",
        "code_system": CPT,
        "code": "95907",
        "asks_side_and_limb": True,
        "match": r"nerve conduction",
    },
]

_IMAGING = re.compile(r"\b(ct|mri|x-ray|ultrasound|pet)\b", re.IGNORECASE)
_NEUROPHYSIOLOGY = re.compile(r"electromyogra|\bemg\b|nerve conduction|\beeg\b", re.IGNORECASE)
_BLOOD = re.compile(r"\bblood\b|\bserum\b|\blab", re.IGNORECASE)
_BODY_SITES = {"brain": r"\b(brain|head)\b", "spine": r"\bspin"}


def split_test_phrase(text):
    """Split one list item naming tests into the separate tests it names.

    "Blood tests to look for problems with electrolytes, thyroid gland function, and
    blood chemistry" names three blood tests; "CT scan of the spine or brain" names a
    CT of the spine and a CT of the brain.
    """
    text = " ".join(text.split()).rstrip(".")
    if _BLOOD.search(text) and not _IMAGING.search(text):
        match = re.search(r"\b(?:with|for|of|such as|including)\s+(.+)$", text, re.IGNORECASE)
        if match and ("," in match.group(1) or " and " in match.group(1)):
            parts = re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+", match.group(1))
            return [("blood", part.strip()) for part in parts if part.strip()]
        return [("blood", text)]
    if _IMAGING.search(text):
        match = re.match(r"(.+?\bof (?:the )?)(.+)$", text, re.IGNORECASE)
        if match and re.search(r"\s(?:or|and)\s", match.group(2)):
            head = match.group(1)
            sites = re.split(r",\s*(?:or\s+|and\s+)?|\s+or\s+|\s+and\s+", match.group(2))
            return [("imaging", f"{head}{site.strip()}") for site in sites if site.strip()]
        return [("imaging", text)]
    if _NEUROPHYSIOLOGY.search(text):
        return [("neurophysiology", text)]
    return [("other", text)]


def catalog_entry_for(kind, phrase):
    """The catalog entry (a dict) for a test named in prose: a standard one where it
    matches, else a new entry named after the phrase, without a code."""
    for entry in STANDARD_TESTS:
        if entry["kind"] == kind and re.search(entry["match"], phrase, re.IGNORECASE):
            return {key: value for key, value in entry.items() if key != "match"}
    name = phrase[:1].upper() + phrase[1:]
    body_site = next(
        (site for site, pattern in _BODY_SITES.items() if re.search(pattern, phrase, re.I)), ""
    )
    return {
        "slug": slugify(name)[:100],
        "name": name[:200],
        "kind": kind,
        "body_site": body_site,
        "code_system": "",
        "code": "",
        "asks_side_and_limb": False,
    }
