"""Warning signs read from a page's "call" lists: one question, a red flag per sign,
urgent for emergencies, unconfirmed until an editor checks them."""

import pytest
from django.urls import reverse

from conditions.content import save_condition
from conditions.importer import parse_page
from conditions.models import RedFlagRule

from .test_condition_admin import change_url, form_data, prefix_where

PAGE = """Overview

Dizziness is a feeling of being off balance.

Causes

Common causes include:

- Standing up too fast
- Not drinking enough

Home Care

Call your doctor before you stop a medicine:

- Sit down when you feel dizzy
- Get up slowly

When to Contact a Medical Professional

Go to the emergency room or call 911 if you have:

- Chest pain
- Trouble speaking, or a drooping face

Call your provider if:

- The dizziness comes back often
- You have ringing in the ears.
- You have chest pain
"""


@pytest.fixture
def document():
    return parse_page(PAGE, title="Dizziness")


def test_call_lists_become_the_first_question_with_one_choice_per_sign(document):
    question = document["questions"][0]
    assert question["key"] == "warning-signs"
    assert question["wording"] == "Do you have any of these now?"
    assert question["answer_type"] == "multiple_choice"
    # "You have chest pain" from the provider list is the emergency sign already listed.
    assert question["choices"] == [
        "Chest pain",
        "Trouble speaking, or a drooping face",
        "The dizziness comes back often",
        "Ringing in the ears",
        "None of these",
    ]


def test_emergency_signs_are_urgent_flags_and_none_is_confirmed(document):
    rules = [rule for rule in document["red_flags"] if rule["question"] == "warning-signs"]
    assert [(rule["choice"], rule["urgent"]) for rule in rules] == [
        ("Chest pain", True),
        ("Trouble speaking, or a drooping face", True),
        ("The dizziness comes back often", False),
        ("Ringing in the ears", False),
    ]
    assert rules[0]["message"] == "Warning sign now: Chest pain"
    assert not any(rule["confirmed"] for rule in rules)


def test_lists_that_are_not_call_lists_give_no_signs(document):
    # The home-care list's lead-in mentions the doctor, but it is no list of signs.
    assert "Get up slowly" not in document["questions"][0]["choices"]
    assert "Standing up too fast" not in document["questions"][0]["choices"]


def test_a_page_without_call_lists_gets_no_warning_signs_question():
    document = parse_page(PAGE.split("When to Contact")[0], title="Dizziness")
    assert all(question["key"] != "warning-signs" for question in document["questions"])


def test_a_page_question_keyed_warning_signs_keeps_its_key():
    page = (
        PAGE
        + "\nWhat to Expect at Your Office Visit\n\nYour provider may ask:\n\n- Warning signs?\n"
    )
    questions = parse_page(page, title="Dizziness")["questions"]
    assert [question["key"] for question in questions] == ["warning-signs-2", "warning-signs"]


@pytest.fixture
def imported(db, document):
    return save_condition(document)


def test_saved_rules_keep_urgency_and_stay_unconfirmed(imported):
    rules = imported.red_flag_rules.filter(question__key="warning-signs")
    assert list(rules.values_list("choice", "urgent", "confirmed")) == [
        ("Chest pain", True, False),
        ("Trouble speaking, or a drooping face", True, False),
        ("The dizziness comes back often", False, False),
        ("Ringing in the ears", False, False),
    ]


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_editor_is_warned_of_unconfirmed_rules_until_each_is_confirmed(editor_client, imported):
    page = editor_client.get(change_url(imported))
    assert "4 red-flag rule(s) came from an imported page" in page.text

    data = form_data(page)
    for choice in RedFlagRule.objects.values_list("choice", flat=True):
        data[f"{prefix_where(data, 'choice', choice)}-confirmed"] = ["on"]
    response = editor_client.post(change_url(imported), data)
    assert response.status_code == 302

    assert not RedFlagRule.objects.filter(confirmed=False).exists()
    assert 'id="red-flag-warning"' not in editor_client.get(change_url(imported)).text


def test_a_condition_without_rules_warns_the_editor(editor_client, db):
    document = parse_page(PAGE.split("When to Contact")[0], title="Dizziness")
    condition = save_condition(document)
    page = editor_client.get(change_url(condition)).text
    assert "has no red-flag rules: no answer will raise a flag" in page


def test_publishing_says_the_rules_are_unconfirmed(editor_client, imported):
    response = editor_client.post(
        reverse("admin:conditions_condition_publish", args=[imported.pk]), follow=True
    )
    assert "“Dizziness” is published." in response.text
    assert "“Dizziness”: 4 red-flag rule(s) came from an imported page" in response.text


def test_publishing_from_the_list_says_so_too(editor_client, imported):
    response = editor_client.post(
        reverse("admin:conditions_condition_changelist"),
        {"action": "publish_selected", "_selected_action": [imported.pk]},
        follow=True,
    )
    assert "are not confirmed yet" in response.text


def test_the_demo_condition_written_by_editors_shows_no_warning(editor_client, condition):
    assert 'id="red-flag-warning"' not in editor_client.get(change_url(condition)).text


def test_importing_the_page_again_keeps_the_editors_confirmations(imported, document):
    RedFlagRule.objects.filter(choice="Chest pain").update(confirmed=True)

    save_condition(parse_page(PAGE, title="Dizziness"))

    assert list(RedFlagRule.objects.filter(confirmed=True).values_list("choice", flat=True)) == [
        "Chest pain"
    ]
