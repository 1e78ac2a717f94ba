"""Where on the body a symptom is felt: the sites a body-sites question offers, by region.

A site found on both sides of the body (an eyelid, a calf) is chosen by side, so the
provider knows which one twitches: its choices are "<site>-left" and "<site>-right", and
both chosen means both sides. A site in the middle (the neck, the back) is one choice.
"""

SIDED, MIDDLE = True, False
SIDES = [("left", "left"), ("right", "right")]

REGIONS = [
    (
        "Head and face",
        [
            ("eyelid", "Eyelid", SIDED),
            ("face", "Face", SIDED),
            ("lips-tongue", "Lips or tongue", MIDDLE),
            ("jaw", "Jaw", SIDED),
        ],
    ),
    (
        "Neck and body",
        [
            ("neck", "Neck", MIDDLE),
            ("shoulder", "Shoulder", SIDED),
            ("chest", "Chest", MIDDLE),
            ("back", "Back", MIDDLE),
            ("belly", "Belly (abdomen)", MIDDLE),
        ],
    ),
    (
        "Arms and hands",
        [
            ("upper-arm", "Upper arm", SIDED),
            ("forearm", "Forearm", SIDED),
            ("hand", "Hand", SIDED),
            ("thumb", "Thumb", SIDED),
            ("fingers", "Fingers", SIDED),
        ],
    ),
    (
        "Legs and feet",
        [
            ("thigh", "Thigh", SIDED),
            ("calf", "Calf", SIDED),
            ("foot", "Foot", SIDED),
            ("toes", "Toes", SIDED),
        ],
    ),
]


def _choices(site, label, sided):
    if not sided:
        return [(site, label)]
    return [(f"{site}-{side}", f"{label} ({word})") for side, word in SIDES]


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
            named.append(f"{label} (both sides)")
        elif chosen == [""]:
            named.append(label)
        else:
            named.append(f"{label} ({chosen[0]})")
    return named


def rows(options):
    """A region's checkbox options as rows, one per site: (site name, [(option, side)]),
    the side "" for a site in the middle; for the body-sites field's template."""
    by_site = {}
    for option in options:
        site, side = split(str(option["value"]))
        by_site.setdefault(site, []).append((option, side))
    return [(SITE_LABELS.get(site, site), options) for site, options in by_site.items()]
