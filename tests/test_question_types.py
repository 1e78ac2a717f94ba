"""The importer reads each question's answer type from its own words."""

import pytest

from conditions.question_types import FREQUENCY_SCALE, SIDES, answer_type_for

RED_FLAGS = ["Weakness", "Loss of feeling"]


@pytest.mark.parametrize(
    "wording, answer_type, choices",
    [
        ("When did you first notice the twitching?", "date", []),
        ("How long does each episode last?", "duration", []),
        ("How often do you get them?", "frequency", FREQUENCY_SCALE),
        ("Is it on one side of the body or both?", "single_choice", SIDES),
        ("Is the numbness on the left or right?", "single_choice", SIDES),
        ("Did it start suddenly or slowly?", "single_choice", ["Suddenly", "Slowly"]),
        ("Is the pain sharp or dull?", "single_choice", ["Sharp", "Dull"]),
        (
            "Is it constant, or does it come and go?",
            "single_choice",
            ["Constant", "Come and go"],
        ),
        ("How bad is the pain?", "scale", []),
        ("How much does it hurt?", "scale", []),
        ("How severe is the dizziness?", "scale", []),
        ("Does anything make it better or worse?", "free_text", []),
        ("What makes the cramps worse?", "free_text", []),
        ("Does rest help?", "free_text", []),
        ("Has it gotten worse?", "yes_no", []),
        ("Is it worse in the morning?", "yes_no", []),
        ("Is it on the left hand, the right hand or both?", "single_choice", SIDES),
        ("Which muscles are affected?", "body_sites", []),
        ("Where do you feel it?", "body_sites", []),
        ("Do you have any other symptoms?", "multiple_choice", [*RED_FLAGS, "None of these"]),
        ("Do the cramps wake you at night?", "yes_no", []),
        ("Is it always in the same location?", "yes_no", []),
        ("Are you pregnant, or could you be?", "yes_no", []),
        ("Have you had a recent injury?", "yes_no", []),
        ("What medicines do you take?", "free_text", []),
        ("Is there anything else you want to tell us about it or your family?", "free_text", []),
    ],
)
def test_answer_type_from_the_questions_words(wording, answer_type, choices):
    found_type, found_choices = answer_type_for(wording, red_flags=RED_FLAGS)
    assert found_type == answer_type
    if choices is not None:
        assert found_choices == choices


def test_an_imported_page_asks_its_questions_in_their_types():
    from conditions.importer import parse_page

    page = (
        "Overview\n\nNumbness is a loss of feeling.\n\n"
        "Causes\n\n- Pressure on a nerve\n\n"
        "What to Expect at Your Office Visit\n\nYour provider may ask:\n\n"
        "- Is it on one side of the body or both?\n"
        "- How bad is it?\n"
        "- Does anything make it better or worse?\n"
        "- Do you have diabetes?\n"
    )
    questions = parse_page(page, title="Numbness")["questions"]
    assert [(q["answer_type"], q["choices"][:1]) for q in questions] == [
        ("single_choice", ["Left side"]),
        ("scale", []),
        ("free_text", []),
        ("yes_no", []),
    ]
