"""The clinic's date convention for typed dates: what is read, and the examples shown."""

import datetime

import pytest
from django.test import override_settings

from intake.dates import parse_typed_date, typed_date_examples

MARCH_31 = datetime.date(2001, 3, 31)
APRIL_3 = datetime.date(2001, 4, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2001-03-31", MARCH_31),
        ("31/03/2001", MARCH_31),
        ("03/04/2001", APRIL_3),
        ("31 Mar 2001", MARCH_31),
        (" 31/03/2001 ", MARCH_31),
        ("03/31/2001", None),
        ("31/02/2001", None),
        ("31.03.2001", None),
        ("Vargas", None),
    ],
)
def test_dates_are_read_as_iso_in_the_clinics_order_or_as_shown(text, expected):
    assert parse_typed_date(text) == expected


@override_settings(DATE_INPUT_FORMATS=["%Y-%m-%d", "%m/%d/%Y", "%d %b %Y"])
@pytest.mark.parametrize(
    ("text", "expected"), [("03/31/2001", MARCH_31), ("03/04/2001", datetime.date(2001, 3, 4))]
)
def test_a_clinic_that_writes_the_month_first_has_its_dates_read_that_way(text, expected):
    assert parse_typed_date(text) == expected
    assert parse_typed_date("31/03/2001") is None


def test_the_examples_follow_the_setting():
    assert typed_date_examples() == "2001-03-31, 31/03/2001 or 31 Mar 2001"
    with override_settings(DATE_INPUT_FORMATS=["%m/%d/%Y"]):
        # ISO is always read too (Django adds it to a locale's formats).
        assert typed_date_examples() == "03/31/2001 or 2001-03-31"
