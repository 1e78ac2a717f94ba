"""Tests a page names: the standard catalog's codes where it knows them, and entries
without a code, marked for an editor, where it does not."""

import pytest
from django.urls import reverse

from conditions.catalog import STANDARD_TESTS
from conditions.content import save_condition
from conditions.importer import parse_page
from conditions.models import OrderableTest

PAGE = """Overview

Numbness is a loss of feeling in a part of the body.

Causes

- Pressure on a nerve
- Diabetes

Home Care

- Take care not to burn or cut an area you cannot feel.

What to Expect at Your Office Visit

Tests that may be done include:

- Blood tests for glucose, vitamin B12 and creatine kinase
- Complete blood count (CBC)
- MRI of the head
- X-ray of the neck
- Tilt table test
"""


@pytest.fixture
def tests():
    return {test["name"]: test for test in parse_page(PAGE, title="Numbness")["tests"]}


@pytest.mark.parametrize(
    "name, code",
    [
        ("Blood glucose", "2345-7"),
        ("Vitamin B12", "2132-9"),
        ("Creatine kinase (CK)", "2157-6"),
        ("Complete blood count (CBC)", "58410-2"),
    ],
)
def test_common_blood_tests_get_their_loinc_codes(tests, name, code):
    assert tests[name]["code_system"] == "http://loinc.org"
    assert tests[name]["code"] == code
    assert not tests[name]["needs_check"]


def test_an_mri_of_the_head_is_the_brain_mri_with_its_cpt_code(tests):
    mri = tests["MRI scan of the brain"]
    assert (mri["code_system"], mri["code"]) == ("http://www.ama-assn.org/go/cpt", "70551")


@pytest.mark.parametrize("name", ["X-ray of the neck", "Tilt table test"])
def test_tests_without_a_sure_code_are_kept_without_one_and_marked(tests, name):
    assert (tests[name]["code_system"], tests[name]["code"]) == ("", "")
    assert tests[name]["needs_check"]


def test_every_standard_code_names_its_source():
    for entry in STANDARD_TESTS:
        if entry["code"]:
            assert entry["source"].split()[0] in ("LOINC", "CPT"), entry["slug"]
            assert entry["code"] in entry["source"], entry["slug"]


def test_a_test_named_without_its_kind_still_finds_its_code():
    page = PAGE.replace("- Blood tests for glucose, vitamin B12 and creatine kinase", "- CK level")
    names = [test["name"] for test in parse_page(page, title="Numbness")["tests"]]
    assert "Creatine kinase (CK)" in names


def test_marked_tests_are_listed_for_editors_to_check(client, editor, db):
    save_condition(parse_page(PAGE, title="Numbness"))
    assert set(OrderableTest.objects.filter(needs_check=True).values_list("name", flat=True)) == {
        "X-ray of the neck",
        "Tilt table test",
    }
    client.force_login(editor)
    listing = client.get(
        reverse("admin:conditions_orderabletest_changelist"), {"needs_check__exact": "1"}
    )
    assert listing.status_code == 200
    assert "Tilt table test" in listing.text
    assert "Vitamin B12" not in listing.text
