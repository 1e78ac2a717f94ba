"""Standard orderable tests and their codes, and how a test named in prose maps to them.

Codes are facts from the code systems: LOINC for laboratory tests and panels, CPT for
procedures and imaging; each entry names where its code was checked ("source"). Where no
single code covers a test as a page words it (imaging of "the spine" spans cervical,
thoracic and lumbar codes; an X-ray's code depends on the region and the views), the
entry carries no code and is marked for an editor to check, as is every test a page
names that the catalog does not know.
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
        "source": "LOINC 24326-1, Electrolytes 1998 panel - Serum or Plasma",
        "match": r"electrolyte",
    },
    {
        "slug": "thyroid-function",
        "name": "Thyroid function (TSH)",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "3016-3",
        "source": "LOINC 3016-3, Thyrotropin [Units/volume] in Serum or Plasma",
        "match": r"thyroid",
    },
    {
        "slug": "blood-chemistry-panel",
        "name": "Blood chemistry (comprehensive metabolic panel)",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "24323-8",
        "source": "LOINC 24323-8, Comprehensive metabolic 2000 panel - Serum or Plasma",
        "match": r"chemistry|metabolic panel",
    },
    {
        "slug": "blood-glucose",
        "name": "Blood glucose",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "2345-7",
        "source": "LOINC 2345-7, Glucose [Mass/volume] in Serum or Plasma (loinc.org/2345-7)",
        "match": r"glucose|blood sugar",
    },
    {
        "slug": "vitamin-b12",
        "name": "Vitamin B12",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "2132-9",
        "source": "LOINC 2132-9, Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma "
        "(loinc.org/2132-9)",
        "match": r"\bb ?12\b|cobalamin",
    },
    {
        "slug": "complete-blood-count",
        "name": "Complete blood count (CBC)",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "58410-2",
        "source": "LOINC 58410-2, CBC panel - Blood by Automated count (loinc.org/58410-2)",
        "match": r"complete blood count|\bcbc\b",
    },
    {
        "slug": "creatine-kinase",
        "name": "Creatine kinase (CK)",
        "kind": "blood",
        "body_site": "",
        "code_system": LOINC,
        "code": "2157-6",
        "source": "LOINC 2157-6, Creatine kinase [Enzymatic activity/volume] in Serum or "
        "Plasma (loinc.org/2157-6)",
        "match": r"creatine (?:phospho)?kinase|\bck\b|\bcpk\b",
    },
    {
        "slug": "ct-brain",
        "name": "CT scan of the brain",
        "kind": "imaging",
        "body_site": "brain",
        "code_system": CPT,
        "code": "70450",
        "source": "CPT (AMA) 70450, CT head or brain without contrast",
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
        "source": "CPT (AMA) 70551, MRI brain without contrast",
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
        "source": "CPT (AMA) 95860, needle EMG of one extremity",
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
        "source": "CPT (AMA) 95907, nerve conduction studies, 1-2 studies",
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
    matches, else a new entry named after the phrase, without a code. An entry without
    a code is marked for an editor to check."""
    for entry in STANDARD_TESTS:
        # A test named without saying its kind ("Vitamin B12 level") may be any standard one.
        if kind in (entry["kind"], "other") and re.search(entry["match"], phrase, re.I):
            found = {key: value for key, value in entry.items() if key not in ("match", "source")}
            return {**found, "needs_check": not found["code"]}
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
        "needs_check": True,
    }
