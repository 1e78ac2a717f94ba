"""Answer types (intake/answer_types.py): a 0 to 10 scale, body sites by side, and one
class per type behind the form, the saved answer, its display and triage."""

import pytest
from django.core.exceptions import ValidationError

from conditions.content import save_condition
from conditions.models import HistoryQuestion, RedFlagRule
from intake import answer_types
from intake.models import Answer, Visit

from .factories import VisitFactory, at_today
from .test_intake_form import inputs, intake_url

SCALE_QUESTION = {
    "key": "how-bad",
    "wording": "How much do the twitches bother you?",
    "help_text": "",
    "answer_type": "scale",
    "choices": [],
    "required": True,
    "applies_to": "everyone",
    "min_age": None,
    "max_age": None,
}


@pytest.fixture
def scale_visit(demo_document, visit):
    """The demo condition with a scale question that raises a flag at 9, and a visit."""
    document = {
        **demo_document,
        "questions": [*demo_document["questions"], SCALE_QUESTION],
        "red_flags": [
            *demo_document["red_flags"],
            {
                "question": "how-bad",
                "kind": "answer_includes",
                "choice": "9",
                "days": None,
                "message": "Twitches that bother the patient very much",
                "suggests": [],
            },
        ],
    }
    condition = save_condition(document, publish=True)
    return VisitFactory(patient=visit.patient, condition=condition, scheduled_at=at_today(11))


def test_every_answer_type_has_its_class():
    assert set(answer_types.REGISTRY) == set(HistoryQuestion.AnswerType.values)


def test_a_scale_question_is_eleven_buttons_under_its_wording(desk_client, scale_visit):
    html = desk_client.get(intake_url(scale_visit)).text

    assert len(inputs("radio", "q_how-bad", html)) == 11
    assert "<legend" in html.split('id="div_id_q_how-bad"')[1].split("</legend>")[0]
    assert "0 means none" in html and "10 means the worst you can imagine" in html


def test_a_scale_answer_is_kept_as_a_number_and_read_back(
    desk_client, scale_visit, intake_data, form_values
):
    response = desk_client.post(
        intake_url(scale_visit), intake_data(scale_visit, {"how-bad": "7"}, action="save")
    )

    assert response.status_code == 302
    answer = scale_visit.answers.get(question_key="how-bad")
    assert (answer.value_number, answer.value, answer.display) == (7, 7, "7 out of 10")
    assert form_values(desk_client.get(intake_url(scale_visit)).text)["q_how-bad"] == ["7"]
    scale_visit.refresh_from_db()
    assert scale_visit.red_flags == []


def test_a_scale_answer_raises_the_flag_its_rule_names(desk_client, scale_visit, intake_data):
    desk_client.post(intake_url(scale_visit), intake_data(scale_visit, {"how-bad": "9"}))

    scale_visit.refresh_from_db()
    assert scale_visit.status == Visit.Status.INTAKE_COMPLETE
    assert [flag["message"] for flag in scale_visit.red_flags] == [
        "Twitches that bother the patient very much"
    ]


@pytest.mark.parametrize("typed", ["11", "-1", "7.5", "seven"])
def test_a_point_off_the_scale_is_refused_and_the_rest_kept(
    desk_client, scale_visit, intake_data, form_values, typed
):
    data = intake_data(scale_visit, {"how-bad": typed, "same-place": "no"}, action="save")

    response = desk_client.post(intake_url(scale_visit), data)

    assert response.status_code == 200
    assert "Choose one of the answers shown." in response.text
    assert form_values(response.text)["q_same-place"] == ["no"]
    assert not scale_visit.answers.exists()


def test_a_scale_rule_must_name_a_point_on_the_scale(scale_visit):
    question = scale_visit.content_version.questions()[-1]
    rule = RedFlagRule(kind=RedFlagRule.Kind.ANSWER_INCLUDES, choice="eleven", message="x")

    with pytest.raises(ValidationError, match="not one of the question’s choices"):
        rule.check_fits(question)
    RedFlagRule(kind=RedFlagRule.Kind.ANSWER_INCLUDES, choice="10", message="x").check_fits(
        question
    )


def test_a_site_on_both_sides_is_chosen_by_side(desk_client, visit):
    html = desk_client.get(intake_url(visit)).text

    assert 'value="calf-left"' in html and 'value="calf-right"' in html
    assert 'value="neck"' in html and 'value="neck-left"' not in html
    # Each side's checkbox names its site for a screen reader.
    assert '<span class="visually-hidden">Calf, </span>Left' in html


def test_body_sites_are_kept_head_to_toe_and_shown_once_per_site(desk_client, visit, intake_data):
    sites = ["calf-right", "neck", "calf-left", "eyelid-right"]

    desk_client.post(intake_url(visit), intake_data(visit, {"muscles-affected": sites}))

    answer = visit.answers.get(question_key="muscles-affected")
    assert [choice["value"] for choice in answer.value_choices] == [
        "eyelid-right",
        "neck",
        "calf-left",
        "calf-right",
    ]
    assert answer.display == "Eyelid (right), Neck, Calf (both sides)"


def test_a_site_saved_before_sides_still_shows(visit):
    answer = Answer(
        visit=visit,
        answer_type=HistoryQuestion.AnswerType.BODY_SITES,
        value_choices=[{"value": "calf", "label": "Calf"}],
    )

    assert answer.display == "Calf"


def test_a_side_the_form_does_not_offer_is_refused(desk_client, visit, intake_data):
    data = intake_data(visit, {"muscles-affected": ["calf-middle"]}, action="save")

    response = desk_client.post(intake_url(visit), data)

    assert "Choose one of the answers shown." in response.text
    assert not visit.answers.exists()


def test_a_scale_answer_goes_to_fhir_as_an_integer_and_comes_back_checked():
    scale = answer_types.REGISTRY[HistoryQuestion.AnswerType.SCALE]
    answer = Answer(answer_type=HistoryQuestion.AnswerType.SCALE, value_number=7)

    assert (scale.fhir_type, scale.fhir_answers(answer)) == ("integer", [{"valueInteger": 7}])
    assert scale.form_data([{"valueInteger": 7}]) == {"": "7"}
    for wrong in ([{"valueInteger": True}], [{"valueInteger": "7"}], [{"valueString": "7"}]):
        with pytest.raises(ValueError, match="valueInteger"):
            scale.form_data(wrong)
