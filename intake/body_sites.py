"""Where on the body a symptom is felt: the sites a body-sites question offers, by region.

A site found on both sides of the body (an eyelid, a calf) is chosen by side, so the
provider knows which one twitches: its choices are "<site>-left" and "<site>-right", and
both chosen means both sides. A site in the middle (the neck, the back) is one choice.
"""

from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

SIDED, MIDDLE = True, False
SIDES = [
    ("left", pgettext_lazy("side of the body", "left")),
    ("right", pgettext_lazy("side of the body", "right")),
]

REGIONS = [
    (
        gettext_lazy("Head and face"),
        [
            ("eyelid", gettext_lazy("Eyelid"), SIDED),
            ("face", gettext_lazy("Face"), SIDED),
            ("lips-tongue", gettext_lazy("Lips or tongue"), MIDDLE),
            ("jaw", gettext_lazy("Jaw"), SIDED),
        ],
    ),
    (
        gettext_lazy("Neck and body"),
        [
            ("neck", gettext_lazy("Neck"), MIDDLE),
            ("shoulder", gettext_lazy("Shoulder"), SIDED),
            ("chest", gettext_lazy("Chest"), MIDDLE),
            ("back", gettext_lazy("Back"), MIDDLE),
            ("belly", gettext_lazy("Belly (abdomen)"), MIDDLE),
        ],
    ),
    (
        gettext_lazy("Arms and hands"),
        [
            ("upper-arm", gettext_lazy("Upper arm"), SIDED),
            ("forearm", gettext_lazy("Forearm"), SIDED),
            ("hand", gettext_lazy("Hand"), SIDED),
            ("thumb", gettext_lazy("Thumb"), SIDED),
            ("fingers", gettext_lazy("Fingers"), SIDED),
        ],
    ),
    (
        gettext_lazy("Legs and feet"),
        [
            ("thigh", gettext_lazy("Thigh"), SIDED),
            ("calf", gettext_lazy("Calf"), SIDED),
            ("foot", gettext_lazy("Foot"), SIDED),
            ("toes", gettext_lazy("Toes"), SIDED),
        ],
    ),
]


def _choices(site, label, sided):
    if not sided:
        return [(site, label)]
    return [(f"{site}-{side}", format_lazy("{} ({})", label, word)) for side, word in SIDES]


# The form's choices, grouped by region.
CHOICES = [
    (region, [choice for site in sites for choice in _choices(*site)]) for region, sites in REGIONS
]
SITE_LABELS = {site: label for _, sites in REGIONS for site, label, _ in sites}
# Every value an answer may hold, including a sided site saved without its side (answers
# given before sites had sides).
LABELS = {
    **SITE_LABELS,
    **{value: label for _, choices in CHOICES for value, label in choices},
}


def split(value):
    """(site, side) of a chosen value; the side is "" for a site in the middle."""
    site, _, side = value.rpartition("-")
    if side in dict(SIDES) and site in SITE_LABELS:
        return site, side
    return value, ""


def in_words(values):
    """The chosen sites as a list of names, a site chosen on both sides named once."""
    sides = {}
    for value in values:
        site, side = split(value)
        sides.setdefault(site, []).append(side)
    named = []
    for site, chosen in sides.items():
        label = SITE_LABELS.get(site, site)
        if set(chosen) == {"left", "right"}:
            named.append(gettext("%(site)s (both sides)") % {"site": label})
        elif chosen == [""]:
            named.append(str(label))
        else:
            named.append(f"{label} ({dict(SIDES)[chosen[0]]})")
    return named


def rows(options):
    """A region's checkbox options as rows, one per site: (site name, [(option, side)]),
    the side's name, or "" for a site in the middle; for the body-sites field's template."""
    by_site = {}
    for option in options:
        site, side = split(str(option["value"]))
        by_site.setdefault(site, []).append((option, dict(SIDES).get(side, "")))
    return [(SITE_LABELS.get(site, site), options) for site, options in by_site.items()]
