"""Durations in plain words: how long ago a date answered was, and how long a duration
answered comes to ("90 seconds" is "1 minute 30 seconds").

The arithmetic of time spans lives here, so the provider's page, and any page after it,
says "3 weeks before the visit" the same way.
"""

import calendar
from decimal import Decimal

from django.utils.translation import gettext, ngettext_lazy

# Seconds in each unit a duration answer may be given in, largest first.
UNIT_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
COUNTS = {
    "second": ngettext_lazy("%(count)d second", "%(count)d seconds", "count"),
    "minute": ngettext_lazy("%(count)d minute", "%(count)d minutes", "count"),
    "hour": ngettext_lazy("%(count)d hour", "%(count)d hours", "count"),
    "day": ngettext_lazy("%(count)d day", "%(count)d days", "count"),
    "week": ngettext_lazy("%(count)d week", "%(count)d weeks", "count"),
    "month": ngettext_lazy("%(count)d month", "%(count)d months", "count"),
    "year": ngettext_lazy("%(count)d year", "%(count)d years", "count"),
}


def _count(number, unit):
    return COUNTS[unit] % {"count": number}


def _and(larger, smaller):
    """Two spans in words, the smaller left out when it is nothing."""
    if not smaller:
        return larger
    return gettext("%(larger)s and %(smaller)s") % {"larger": larger, "smaller": smaller}


def months_between(earlier, later):
    """Whole calendar months from `earlier` to `later` (31 January to 28 February is 0)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (later.day < earlier.day)


def _months_after(day, months):
    """The same day of the month `months` later (or that month's last day)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def span(earlier, later):
    """The time from one date to a later one, in words: "5 days", "3 weeks and 2 days",
    "2 months and 4 weeks", "2 years and 1 month"."""
    days = days_between(earlier, later)
    if days < 0:
        raise ValueError("The first date must not be after the second.")
    if days < 14:
        return _count(days, "day")
    months = months_between(earlier, later)
    if months < 2:
        weeks, rest = divmod(days, 7)
        return _and(_count(weeks, "week"), rest and _count(rest, "day"))
    if months < 12:
        weeks = days_between(_months_after(earlier, months), later) // 7
        return _and(_count(months, "month"), weeks and _count(weeks, "week"))
    years, rest = divmod(months, 12)
    return _and(_count(years, "year"), rest and _count(rest, "month"))


def before(day, *, reference):
    """How long before the visit on `reference` (a date) `day` was, in words: "3 weeks
    before the visit", "the day of the visit", or "after the visit" for a later date."""
    if day == reference:
        return gettext("the day of the visit")
    if day > reference:
        return gettext("%(span)s after the visit") % {"span": span(reference, day)}
    return gettext("%(span)s before the visit") % {"span": span(day, reference)}


def spelled_out(amount, unit):
    """A duration broken into its two largest whole units: (90, "seconds") is
    "1 minute 30 seconds", (1.5, "hours") "1 hour 30 minutes"; or "" when that says
    nothing more than the amount and unit themselves (5 seconds)."""
    total = Decimal(amount) * UNIT_SECONDS[unit]
    parts = []
    for name, seconds in UNIT_SECONDS.items():
        whole = int(total // seconds)
        if whole:
            parts.append((whole, name))
            total -= whole * seconds
    parts = parts[:2]
    if not parts or (len(parts) == 1 and parts[0][1] == unit and total == 0):
        return ""
    return " ".join(_count(whole, name.removesuffix("s")) for whole, name in parts)


def days_between(earlier, later):
    """Whole days from one date to another (negative if `later` is earlier)."""
    return (later - earlier).days
