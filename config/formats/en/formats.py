"""English pages use the clinic's date and time formats from settings (DATE_FORMAT,
DATE_INPUT_FORMATS, ...). Django lets a locale's formats win over those settings; this
module is found before Django's own English one and hands the settings back, read when
asked, so that a changed setting takes effect."""

from django.conf import settings

CLINIC_FORMATS = {
    "DATE_FORMAT",
    "SHORT_DATE_FORMAT",
    "TIME_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "DATE_INPUT_FORMATS",
}


def __getattr__(name):
    # Any other format (number separators, the first day of the week) is Django's.
    if name in CLINIC_FORMATS:
        return getattr(settings, name)
    raise AttributeError(name)
