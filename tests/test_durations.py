"""Durations in plain words (intake.durations), as the provider's page shows them."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from intake import durations

VISIT_DAY = datetime.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (1, "1 day"),
        (13, "13 days"),
        (14, "2 weeks"),
        (23, "3 weeks and 2 days"),
        (62, "2 months"),
        (90, "2 months and 4 weeks"),
        (365, "1 year"),
        (800, "2 years and 2 months"),
    ],
)
def test_a_span_of_days_is_said_in_the_largest_units_that_fit(days, words):
    assert durations.span(VISIT_DAY - datetime.timedelta(days=days), VISIT_DAY) == words


def test_a_month_counts_from_the_same_day_of_the_month():
    assert durations.span(datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)) == "4 weeks"
    assert durations.span(datetime.date(2026, 1, 31), datetime.date(2026, 3, 31)) == "2 months"


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (VISIT_DAY - datetime.timedelta(weeks=3), "3 weeks before the visit"),
        (VISIT_DAY, "the day of the visit"),
        (VISIT_DAY + datetime.timedelta(days=2), "2 days after the visit"),
    ],
)
def test_a_date_is_said_as_how_long_before_the_visit(day, words):
    assert durations.before(day, reference=VISIT_DAY) == words


@pytest.mark.parametrize(
    ("amount", "unit", "words"),
    [
        ("90", "seconds", "1 minute 30 seconds"),
        ("1.5", "hours", "1 hour 30 minutes"),
        ("36", "hours", "1 day 12 hours"),
        ("120", "minutes", "2 hours"),
        ("5", "seconds", ""),
        ("2", "days", ""),
    ],
)
def test_a_duration_is_spelled_out_only_when_that_says_more(amount, unit, words):
    assert durations.spelled_out(Decimal(amount), unit) == words


def test_durations_are_said_in_the_active_language():
    with translation.override("es"):
        assert durations.before(VISIT_DAY - datetime.timedelta(days=23), reference=VISIT_DAY) == (
            "3 semanas y 2 días antes de la visita"
        )
        assert durations.before(VISIT_DAY, reference=VISIT_DAY) == "el día de la visita"
        assert durations.spelled_out(Decimal("1.5"), "hours") == "1 hora 30 minutos"
