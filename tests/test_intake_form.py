"""Recording a visit's intake on the staff intake form."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from audit.actors import Actor
from conditions.content import publish, save_condition
from conditions.models import HistoryQuestion
from intake.answers import save_answers
from intake.models import Answer, Visit

from .factories import PatientFactory, VisitFactory, at_today


def intake_url(visit):
    return f"/staff/visits/{visit.pk}/intake/"


def born_aged(age):
    """A date of birth that makes a patient exactly `age` on today's visits."""
    return datetime.date(timezone.localdate().year - age, 1, 1)


def as_lists(data):
    return {
        name: [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for name, value in data.items()
        if name != "action"
    }


def inputs(kind, name, html):
    return re.findall(rf'<input type="{kind}"[^>]* name="{re.escape(name)}"', html)


def error_summary(html):
    match = re.search(
        r'<div class="alert alert-danger"[^>]*id="error-summary">(.*?)</div>', html, re.S
    )
    return match.group(1) if match else ""


@pytest.fixture
def more_questions(condition, editor):
    """A single-choice and a free-text question, optional, after the demo questions,
    published (ask for it before `visit`, so that the visit is opened with them)."""
    HistoryQuestion.objects.create(
        condition=condition,
        key="writing-hand",
        wording="Which hand do you write with?",
        answer_type="single_choice",
        choices="Left\nRight\nBoth",
        required=False,
        position=20,
    )
    HistoryQuestion.objects.create(
        condition=condition,
        key="medicines",
        wording="Which medicines do you take?",
        help_text="Include vitamins and supplements.",
        answer_type="free_text",
        required=False,
        position=21,
    )
    publish(condition, by=editor)


# The form


def test_the_form_has_a_widget_for_each_answer_type(desk_client, more_questions, visit):
    html = desk_client.get(intake_url(visit)).text

    assert '<input type="date" name="q_first-noticed"' in html
    assert '<input type="number" name="q_episode-length_amount"' in html
    assert '<select name="q_episode-length_unit"' in html
    assert len(inputs("radio", "q_how-often", html)) == 6
    assert len(inputs("checkbox", "q_muscles-affected", html)) == 31
    assert "Arms and hands</p>" in html
    assert len(inputs("radio", "q_same-place", html)) == 2
    assert len(inputs("checkbox", "q_other-symptoms", html)) == 4
    assert len(inputs("radio", "q_writing-hand", html)) == 3
    assert '<textarea name="q_medicines"' in html
    assert '<input type="hidden" name="intake_version" value="0"' in html


def test_the_form_shows_help_text_and_marks_required_questions(desk_client, more_questions, visit):
    html = desk_client.get(intake_url(visit)).text

    assert "If you are not sure of the date, give your best guess." in html
    assert "For example, a few seconds or a few minutes." in html
    assert "Include vitamins and supplements." in html
    for required in (
        "When did you first notice the twitching?",
        "How long does each twitch last?",
        "How often do you have twitching?",
        "Are you pregnant?",
    ):
        assert re.search(re.escape(required) + r'\s*<span class="asteriskField">\*</span>', html)
    for optional in ("Which hand do you write with?", "Which medicines do you take?"):
        assert optional in html
        assert not re.search(re.escape(optional) + r"\s*<span", html)


@pytest.mark.parametrize(
    ("sex_at_birth", "age", "asked"),
    [
        ("female", 30, True),
        ("female", 12, True),
        ("female", 55, True),
        ("female", 11, False),
        ("female", 56, False),
        ("female", 70, False),
        ("male", 30, False),
        ("intersex", 30, False),
    ],
)
def test_the_pregnancy_question_is_asked_only_where_it_applies(
    desk_client, condition, sex_at_birth, age, asked
):
    patient = PatientFactory(sex_at_birth=sex_at_birth, date_of_birth=born_aged(age))
    visit = VisitFactory(patient=patient, condition=condition)

    html = desk_client.get(intake_url(visit)).text

    assert ("Are you pregnant?" in html) is asked
    assert ('name="q_pregnant"' in html) is asked
    assert "Is the twitching always in the same place?" in html


def test_a_man_completes_the_intake_without_the_pregnancy_question(
    desk_client, condition, intake_data
):
    visit = VisitFactory(
        patient=PatientFactory(sex_at_birth="male", date_of_birth=born_aged(40)),
        condition=condition,
    )

    response = desk_client.post(intake_url(visit), intake_data(visit, {"pregnant": "yes"}))

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Visit.Status.INTAKE_COMPLETE
    assert not visit.answers.filter(question_key="pregnant").exists()


# Saving


def test_marking_the_intake_complete_stores_typed_answers_with_who_answered(
    desk_client, visit, intake_data, front_desk
):
    before = timezone.now()

    response = desk_client.post(intake_url(visit), intake_data(visit), follow=True)

    assert response.redirect_chain == [(f"/staff/visits/{visit.pk}/", 302)]
    assert "Intake marked complete." in response.text
    visit.refresh_from_db()
    assert visit.status == Visit.Status.INTAKE_COMPLETE
    assert visit.intake_version == 1
    answers = {answer.question_key: answer for answer in visit.answers.all()}
    assert list(answers) == [
        "first-noticed",
        "episode-length",
        "how-often",
        "muscles-affected",
        "same-place",
        "pregnant",
        "other-symptoms",
    ]
    assert answers["first-noticed"].value_date == timezone.localdate() - datetime.timedelta(days=2)
    assert (answers["episode-length"].value_number, answers["episode-length"].value_unit) == (
        Decimal("5"),
        "seconds",
    )
    assert answers["how-often"].value_choices == [
        {"value": "several-times-a-day", "label": "Several times a day"}
    ]
    assert answers["muscles-affected"].value_choices == [
        {"value": "eyelid-left", "label": "Eyelid (left)"}
    ]
    assert answers["same-place"].value_bool is True
    assert answers["pregnant"].value_bool is False
    assert answers["other-symptoms"].value == {"none-of-these"}
    for answer in answers.values():
        assert answer.answered_by == front_desk
        assert answer.source == Answer.Source.STAFF
        assert before <= answer.answered_at <= timezone.now()
    assert answers["how-often"].wording == "How often do you have twitching?"


def test_a_draft_may_leave_required_questions_unanswered(desk_client, visit, intake_data):
    data = intake_data(
        visit,
        {"first-noticed": "", "how-often": None, "same-place": None, "other-symptoms": None},
        action="save",
    )

    response = desk_client.post(intake_url(visit), data, follow=True)

    assert "Intake saved as a draft." in response.text
    visit.refresh_from_db()
    assert visit.status == Visit.Status.INTAKE_IN_PROGRESS
    assert sorted(visit.answers.values_list("question_key", flat=True)) == [
        "episode-length",
        "muscles-affected",
        "pregnant",
    ]


def test_completing_needs_every_required_answer_and_saves_nothing_without_them(
    desk_client, visit, intake_data
):
    data = intake_data(visit, {"how-often": None, "episode-length_amount": ""})

    response = desk_client.post(intake_url(visit), data)

    assert response.status_code == 200
    summary = error_summary(response.text)
    assert "How often do you have twitching? Answer this question." in summary
    assert "How long does each twitch last? Give a number." in summary
    assert visit.answers.count() == 0
    visit.refresh_from_db()
    assert (visit.status, visit.intake_version) == (Visit.Status.SCHEDULED, 0)


def test_reopening_the_form_shows_the_saved_answers(desk_client, visit, intake_data, form_values):
    data = intake_data(
        visit, {"muscles-affected": ["calf-left", "calf-right", "eyelid-right"]}, action="save"
    )
    desk_client.post(intake_url(visit), data)

    shown = form_values(desk_client.get(intake_url(visit)).text)

    expected = as_lists({**data, "intake_version": 1, "q_episode-length_amount": "5"})
    assert {name: sorted(values) for name, values in shown.items()} == {
        name: sorted(values) for name, values in expected.items()
    }


def test_saving_again_changes_only_the_answers_that_changed(desk_client, visit, intake_data):
    desk_client.post(intake_url(visit), intake_data(visit, action="save"))
    first = {answer.question_key: answer for answer in visit.answers.all()}

    visit.refresh_from_db()
    desk_client.post(
        intake_url(visit), intake_data(visit, {"how-often": "about-once-a-day"}, action="save")
    )

    second = {answer.question_key: answer for answer in visit.answers.all()}
    assert second["how-often"].value == "about-once-a-day"
    assert second["how-often"].answered_at > first["how-often"].answered_at
    assert second["first-noticed"].answered_at == first["first-noticed"].answered_at
    assert Answer.objects.filter(visit=visit).count() == 7
    visit.refresh_from_db()
    assert visit.intake_version == 2


def test_clearing_an_answer_in_a_draft_blanks_it(desk_client, visit, intake_data):
    desk_client.post(intake_url(visit), intake_data(visit, action="save"))
    visit.refresh_from_db()

    desk_client.post(intake_url(visit), intake_data(visit, {"first-noticed": ""}, action="save"))

    answer = visit.answers.get(question_key="first-noticed")
    assert answer.value_date is None
    assert answer.is_blank


def test_a_complete_intake_can_go_back_to_draft(desk_client, visit, intake_data):
    desk_client.post(intake_url(visit), intake_data(visit))
    visit.refresh_from_db()

    desk_client.post(intake_url(visit), intake_data(visit, action="save"))

    visit.refresh_from_db()
    assert visit.status == Visit.Status.INTAKE_IN_PROGRESS


def test_a_staff_correction_keeps_what_the_patient_said_until_the_patient_answers_again(
    desk_client, visit, front_desk
):
    patient = Actor(label="pre-visit link", link_id=1)
    save_answers(visit=visit, values={"same-place": True}, expected_version=0, actor=patient)
    save_answers(
        visit=visit,
        values={"same-place": False},
        expected_version=1,
        actor=Actor.for_user(front_desk),
    )
    corrected = desk_client.get(f"/staff/visits/{visit.pk}/").text

    save_answers(visit=visit, values={"same-place": True}, expected_version=2, actor=patient)

    assert "Corrected by staff. The patient answered: Yes" in corrected
    answer = visit.answers.get(question_key="same-place")
    assert (answer.value, answer.source, answer.patient_answer) == (True, "patient", "")
    assert answer.corrected_by is None
    assert "Corrected by staff" not in desk_client.get(f"/staff/visits/{visit.pk}/").text


def test_the_database_keeps_one_answer_per_question_per_visit(visit):
    Answer.objects.create(visit=visit, question_key="same-place", wording="Same?", source="staff")
    with pytest.raises(IntegrityError):
        Answer.objects.create(
            visit=visit, question_key="same-place", wording="Same?", source="staff"
        )


def test_a_cancelled_visit_has_no_intake_form(desk_client, visit, intake_data):
    visit.move_to(Visit.Status.CANCELLED)
    visit.cancel_reason = "Patient called to cancel"
    visit.save()

    shown = desk_client.get(intake_url(visit), follow=True)
    posted = desk_client.post(intake_url(visit), intake_data(visit), follow=True)

    for response in (shown, posted):
        assert response.redirect_chain == [(f"/staff/visits/{visit.pk}/", 302)]
        assert "This visit is cancelled: its intake is closed." in response.text
    assert visit.answers.count() == 0


# Bad input

# A date the parameters below name, worked out when the test runs (a run can cross
# midnight between collecting the tests and running them).
TOMORROW = "tomorrow"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"first-noticed": TOMORROW},
            "q_first-noticed",
            "This date is in the future.",
        ),
        (
            {"first-noticed": "1990-01-01"},
            "q_first-noticed",
            "This date is before the date of birth.",
        ),
        ({"first-noticed": "2024-02-30"}, "q_first-noticed", "Enter a real date, for example"),
        ({"first-noticed": "last spring"}, "q_first-noticed", "Enter a real date, for example"),
        ({"episode-length_unit": ""}, "q_episode-length_unit", "Choose a unit."),
        ({"episode-length_unit": "weeks"}, "q_episode-length_unit", "Choose one of the"),
        ({"episode-length_amount": "-5"}, "q_episode-length_amount", "greater than or equal"),
        ({"episode-length_amount": "0"}, "q_episode-length_amount", "greater than or equal"),
        ({"episode-length_amount": "five"}, "q_episode-length_amount", "Give a number."),
        ({"episode-length_amount": "NaN"}, "q_episode-length_amount", "Give a number."),
        ({"episode-length_amount": "1e9"}, "q_episode-length_amount", "less than or equal"),
        ({"episode-length_amount": "1.255"}, "q_episode-length_amount", "2 decimal places"),
        (
            {"episode-length_amount": "99999", "episode-length_unit": "days"},
            "q_episode-length_amount",
            "This is longer than the time since the date of birth.",
        ),
        (
            {"episode-length_amount": "11000", "episode-length_unit": "days"},
            "q_episode-length_amount",
            "Check the number and the unit.",
        ),
        ({"how-often": "sometimes"}, "q_how-often", "Choose one of the"),
        ({"muscles-affected": ["eyelid-left", "elbow"]}, "q_muscles-affected", "Choose one of the"),
        ({"same-place": "maybe"}, "q_same-place", "Choose one of the"),
        ({"other-symptoms": ["fever"]}, "q_other-symptoms", "Choose one of the"),
        (
            {"other-symptoms": ["weakness", "none-of-these"]},
            "q_other-symptoms",
            "“None of these” cannot be chosen together with other answers.",
        ),
        ({"writing-hand": "neither"}, "q_writing-hand", "Choose one of the"),
        ({"medicines": "x" * 2001}, "q_medicines", "at most 2000 characters"),
        ({"medicines": "aspirin\x00"}, "q_medicines", "Null characters are not allowed."),
    ],
)
def test_bad_answers_are_explained_beside_the_field_and_at_the_top_and_nothing_is_lost(
    desk_client, more_questions, visit, intake_data, form_values, changes, field, message
):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    changes = {name: tomorrow if value == TOMORROW else value for name, value in changes.items()}
    data = intake_data(visit, {"writing-hand": "left", "medicines": "None", **changes})

    response = desk_client.post(intake_url(visit), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    summary = error_summary(response.text)
    assert message in summary.replace("&#x27;", "'").replace("&quot;", '"')
    beside_field = re.search(
        rf'id="{re.escape(field)}_error"|id="id_{re.escape(field)}_error"', response.text
    )
    assert beside_field, "the error is shown beside its field"
    shown = form_values(response.text)
    for name, values in as_lists(data).items():
        if name != field:
            assert shown.get(name, []) == values, name
    assert visit.answers.count() == 0
    visit.refresh_from_db()
    assert (visit.status, visit.intake_version) == (Visit.Status.SCHEDULED, 0)


def test_a_duration_as_long_as_the_patients_life_so_far_is_accepted(
    desk_client, visit, intake_data
):
    lifetime = (timezone.localdate() - visit.patient.date_of_birth).days
    data = intake_data(
        visit, {"episode-length_amount": str(lifetime), "episode-length_unit": "days"}
    )

    response = desk_client.post(intake_url(visit), data)

    assert response.status_code == 302
    answer = visit.answers.get(question_key="episode-length")
    assert answer.value == (lifetime, "days")


def test_every_link_in_the_error_summary_leads_to_its_field(desk_client, visit):
    response = desk_client.post(intake_url(visit), {"intake_version": 0, "action": "complete"})

    targets = re.findall(r'href="#([^"]*)"', error_summary(response.text))
    assert len(targets) == 8
    for target in targets:
        assert target, "a link to nowhere"
        assert f'id="{target}"' in response.text, target


def test_an_intake_form_without_its_version_is_refused_without_a_crash(desk_client, visit):
    response = desk_client.post(intake_url(visit), {"action": "save", "intake_version": "x"})

    assert response.status_code == 200
    assert visit.answers.count() == 0


# Content changes never rewrite recorded visits


def test_changing_a_question_later_leaves_recorded_answers_as_asked(
    desk_client, visit, intake_data, demo_document
):
    desk_client.post(intake_url(visit), intake_data(visit))
    demo_document["questions"][2]["wording"] = "How frequent is the twitching?"
    demo_document["questions"][2]["choices"][2] = "Many times a day"
    save_condition(demo_document, publish=True)

    page = desk_client.get(f"/staff/visits/{visit.pk}/").text
    form = desk_client.get(intake_url(visit)).text
    later = VisitFactory(
        condition=visit.condition, patient=visit.patient, scheduled_at=at_today(11)
    )

    assert "How often do you have twitching?" in page
    assert "Several times a day" in page
    assert "How frequent is the twitching?" not in page
    # The visit's questionnaire is the one it was opened with; a visit opened now has the new.
    assert "How frequent is the twitching?" not in form
    assert "How frequent is the twitching?" in desk_client.get(intake_url(later)).text


def test_a_question_removed_from_the_condition_keeps_its_answers_on_past_visits(
    desk_client, visit, intake_data, demo_document
):
    desk_client.post(intake_url(visit), intake_data(visit))
    demo_document["questions"] = [q for q in demo_document["questions"] if q["key"] != "same-place"]
    save_condition(demo_document, publish=True)

    later = VisitFactory(
        condition=visit.condition, patient=visit.patient, scheduled_at=at_today(11)
    )

    assert "Is the twitching always in the same place?" in (
        desk_client.get(f"/staff/visits/{visit.pk}/").text
    )
    assert "Is the twitching always in the same place?" not in (
        desk_client.get(intake_url(later)).text
    )


def test_question_content_is_shown_as_text_not_run_as_markup(desk_client, visit):
    questions = {
        question["key"]: question for question in visit.content_version.content["questions"]
    }
    questions["episode-length"]["wording"] = "How long {% now 'Y' %} <b>bold</b>?"
    questions["first-noticed"]["help_text"] = "<img src=x> {{ request.user }}"
    visit.content_version.save()

    response = desk_client.get(intake_url(visit))

    assert response.status_code == 200
    assert "How long {% now &#x27;Y&#x27; %} &lt;b&gt;bold&lt;/b&gt;?" in response.text
    assert "&lt;img src=x&gt; {{ request.user }}" in response.text
    assert "<b>bold</b>" not in response.text


@pytest.mark.parametrize("scheduled", [at_today(9, days=-400), at_today(9, days=30)])
def test_a_visit_on_another_day_takes_an_intake_too(desk_client, condition, intake_data, scheduled):
    visit = VisitFactory(condition=condition, scheduled_at=scheduled)

    response = desk_client.post(intake_url(visit), intake_data(visit))

    assert response.status_code == 302
