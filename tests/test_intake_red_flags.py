"""Red flags: the condition's rules applied to a visit's answers, each with its reason."""

import datetime
import re

import pytest
from django.utils import timezone

from conditions.content import publish
from conditions.models import RedFlagRule

from .factories import VisitFactory, at_today

LONG_TERM = "Twitching for more than a few days (long-term)"
PERSISTENT = "Twitching all the time (persistent)"


def take_intake(client, visit, data):
    response = client.post(f"/staff/visits/{visit.pk}/intake/", data)
    assert response.status_code == 302, response.context["form"].errors
    visit.refresh_from_db()
    return visit


def days_ago(days):
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def test_calm_answers_raise_no_flag(desk_client, visit, intake_data):
    take_intake(desk_client, visit, intake_data(visit))

    assert visit.red_flags == []
    page = desk_client.get(f"/staff/visits/{visit.pk}/").text
    assert re.search(r'Red flags</h2>\s*<span class="text-secondary">None</span>', page)


@pytest.mark.parametrize(
    ("symptom", "label", "message"),
    [
        (
            "loss-of-feeling-or-a-change-in-how-things-feel",
            "Loss of feeling, or a change in how things feel",
            "Reports loss of or change in sensation",
        ),
        (
            "muscles-getting-smaller-wasting",
            "Muscles getting smaller (wasting)",
            "Reports muscle wasting",
        ),
        ("weakness", "Weakness", "Reports weakness"),
    ],
)
def test_each_nervous_system_symptom_raises_a_flag_saying_why(
    desk_client, visit, intake_data, symptom, label, message
):
    take_intake(desk_client, visit, intake_data(visit, {"other-symptoms": [symptom]}))

    assert visit.red_flags == [
        {
            "message": message,
            "reason": f"Answered “{label}” to “Do you have any of these other symptoms?”",
            "urgent": False,
        }
    ]


def test_twitching_noticed_more_than_three_days_before_the_visit_is_long_term(
    desk_client, visit, intake_data
):
    take_intake(desk_client, visit, intake_data(visit, {"first-noticed": days_ago(4)}))

    [flag] = visit.red_flags
    assert flag["message"] == LONG_TERM
    assert flag["reason"].endswith(": 4 days before the visit, more than 3 days")
    noticed = timezone.localdate() - datetime.timedelta(days=4)
    assert flag["reason"].startswith(
        f"Answered {noticed:%-d %b %Y} to “When did you first notice the twitching?”"
    )


def test_twitching_noticed_three_days_before_the_visit_is_not_yet_long_term(
    desk_client, visit, intake_data
):
    take_intake(desk_client, visit, intake_data(visit, {"first-noticed": days_ago(3)}))

    assert visit.red_flags == []


def test_days_are_counted_to_the_day_of_the_visit_not_to_today(desk_client, condition, intake_data):
    visit = VisitFactory(condition=condition, scheduled_at=at_today(9, days=5))

    take_intake(desk_client, visit, intake_data(visit, {"first-noticed": days_ago(0)}))

    assert [flag["message"] for flag in visit.red_flags] == [LONG_TERM]


def test_twitching_all_the_time_is_persistent(desk_client, visit, intake_data):
    take_intake(desk_client, visit, intake_data(visit, {"how-often": "all-the-time"}))

    assert visit.red_flags == [
        {
            "message": PERSISTENT,
            "reason": "Answered “All the time” to “How often do you have twitching?”",
            "urgent": False,
        }
    ]


def test_every_flag_that_applies_is_raised_in_the_rules_order(desk_client, visit, intake_data):
    data = intake_data(
        visit,
        {
            "other-symptoms": ["weakness", "muscles-getting-smaller-wasting"],
            "first-noticed": days_ago(30),
            "how-often": "all-the-time",
        },
    )

    take_intake(desk_client, visit, data)

    assert [flag["message"] for flag in visit.red_flags] == [
        "Reports muscle wasting",
        "Reports weakness",
        LONG_TERM,
        PERSISTENT,
    ]


def test_flags_appear_with_their_reasons_on_the_visit_page_and_on_today(
    desk_client, visit, intake_data
):
    take_intake(desk_client, visit, intake_data(visit, {"how-often": "all-the-time"}))

    page = desk_client.get(f"/staff/visits/{visit.pk}/").text
    today = desk_client.get("/staff/").text

    assert PERSISTENT in page
    assert "Answered “All the time” to “How often do you have twitching?”" in page
    assert PERSISTENT in today
    assert re.search(r'<tr class="[^"]*\bvisit-flagged\b', today)


def test_a_flag_goes_when_the_answer_that_raised_it_changes(desk_client, visit, intake_data):
    take_intake(desk_client, visit, intake_data(visit, {"how-often": "all-the-time"}))

    take_intake(desk_client, visit, intake_data(visit, {"how-often": "about-once-a-day"}))

    assert visit.red_flags == []


def test_a_visit_keeps_its_rules_after_a_later_publish_and_the_next_visit_gets_the_new(
    desk_client, visit, intake_data, condition, editor
):
    data = intake_data(visit, {"first-noticed": days_ago(5)}, action="save")
    take_intake(desk_client, visit, data)
    assert [flag["message"] for flag in visit.red_flags] == [LONG_TERM]

    condition.red_flag_rules.filter(kind=RedFlagRule.Kind.LONGER_THAN).update(days=7)
    publish(condition, by=editor)
    take_intake(desk_client, visit, {**data, "intake_version": visit.intake_version})

    assert [flag["message"] for flag in visit.red_flags] == [LONG_TERM]
    later = VisitFactory(condition=condition, patient=visit.patient, scheduled_at=at_today(11))
    take_intake(desk_client, later, intake_data(later, {"first-noticed": days_ago(5)}))
    assert later.red_flags == []


def test_a_new_rule_on_a_yes_no_answer_raises_its_flag(
    desk_client, visit, intake_data, condition, editor
):
    RedFlagRule.objects.create(
        condition=condition,
        question=condition.questions.get(key="same-place"),
        kind=RedFlagRule.Kind.ANSWER_INCLUDES,
        choice="No",
        message="Twitching moves around",
        position=10,
    )
    publish(condition, by=editor)
    visit = VisitFactory(condition=condition, patient=visit.patient, scheduled_at=at_today(11))

    take_intake(desk_client, visit, intake_data(visit, {"same-place": "no"}))

    assert visit.red_flags == [
        {
            "message": "Twitching moves around",
            "reason": "Answered “No” to “Is the twitching always in the same place?”",
            "urgent": False,
        }
    ]


def test_a_draft_raises_flags_from_what_is_answered_so_far(desk_client, visit, intake_data):
    data = intake_data(
        visit,
        {"how-often": None, "first-noticed": "", "other-symptoms": ["weakness"]},
        action="save",
    )

    take_intake(desk_client, visit, data)

    assert [flag["message"] for flag in visit.red_flags] == ["Reports weakness"]
