"""Dates typed as text, in the clinic's convention (settings.DATE_INPUT_FORMATS): reading
them, and the examples that tell people how to type them."""

import datetime

from django.utils.formats import get_format
from django.utils.translation import gettext

# An example whose day cannot be taken for a month.
EXAMPLE = datetime.date(2001, 3, 31)


def parse_typed_date(text):
    """The date `text` stands for in one of the accepted forms, or None."""
    for pattern in get_format("DATE_INPUT_FORMATS"):
        try:
            return datetime.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def typed_date_examples():
    """The accepted forms, as examples: "2001-03-31, 31/03/2001 or 31 Mar 2001"."""
    examples = list(dict.fromkeys(EXAMPLE.strftime(f) for f in get_format("DATE_INPUT_FORMATS")))
    if len(examples) == 1:
        return examples[0]
    return gettext("%(some)s or %(last)s") % {
        "some": ", ".join(examples[:-1]),
        "last": examples[-1],
    }
