"""The patient's pre-visit pages at /v/<token>/: confirming the date of birth, answering,
saving and coming back, submitting once, the pages for links that do not work, the limit
on failed tries, headers, logs and accessibility."""

import datetime
import itertools
import logging
import math
import socket
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from conditions.models import Condition, HistoryQuestion
from config.log_filters import RedactTokensAndSearches
from intake import links
from intake.answers import save_answers
from intake.models import AccessAttempt, Answer, Attestation, PreVisitLink, Visit
from intake.patient_views import SESSION_KEY

from .conftest import PreVisitPatient
from .factories import PatientFactory, VisitFactory, at_today
from .reading import by_id, description_of, field_signature, form_fields, headings, parse

BORN = datetime.date(1995, 3, 27)  # the upcoming visit's patient
ALL_ANSWERS = {
    "first-noticed": datetime.date(2026, 1, 5),
    "episode-length": (Decimal(5), "seconds"),
    "how-often": "all-the-time",
    "muscles-affected": {"calf-right"},
    "same-place": True,
    "pregnant": False,
    "other-symptoms": {"none-of-these"},
}


def patient_data(visit):
    patient = visit.patient
    born = patient.date_of_birth
    return [
        patient.given_name,
        patient.family_name,
        patient.mrn,
        patient.email,
        born.isoformat(),
        f"{born:%-d %b %Y}",
        f"{born:%-d %B %Y}",
        f"{born:%d/%m/%Y}",
    ]


def assert_no_patient_data(html, visit):
    for value in patient_data(visit):
        assert value not in html


def answers_post(visit, intake_data, changes=None, action="save"):
    visit.refresh_from_db()
    return intake_data(visit, changes, action=action)


# Opening the link and confirming the date of birth


def test_the_link_opens_a_page_asking_for_the_date_of_birth_with_no_patient_data(
    link_patient, upcoming_visit
):
    response = link_patient.get()

    assert response.status_code == 200
    assert "What is your date of birth?" in response.text
    assert settings.CLINIC_NAME in response.text
    visit_time = timezone.localtime(upcoming_visit.scheduled_at)
    assert f"{visit_time:%A %-d %B %Y} at {visit_time:%H:%M}" in response.text
    assert_no_patient_data(response.text, upcoming_visit)
    assert PreVisitLink.objects.get().opened_at is not None


def test_the_right_date_of_birth_opens_the_questions(link_patient, link_token):
    response = link_patient.confirm_birth_date(BORN)

    assert response.status_code == 302
    assert response["Location"] == f"/v/{link_token}/questions/"
    assert PreVisitLink.objects.get().verified_at is not None
    assert link_patient.get()["Location"] == f"/v/{link_token}/questions/"


def test_a_wrong_date_of_birth_says_how_many_tries_are_left(link_patient):
    response = link_patient.confirm_birth_date(BORN.replace(day=28))

    assert response.status_code == 200
    message = "The date of birth does not match our records. You can try 4 more times."
    assert message in response.text
    page = parse(response.text)
    ids = by_id(page)
    assert message in ids["error-summary"].text
    assert ids["error-summary"].attrs["role"] == "alert"
    for field in form_fields(page):
        assert field.attrs["aria-invalid"] == "true"
        assert message in description_of(field, ids)
    assert PreVisitLink.objects.get().failed_attempts == 1


def test_the_last_try_before_the_lock_is_counted_in_the_singular(link_patient):
    link_patient.get()
    for day in range(1, 4):
        link_patient.post(data={"day": day, "month": 1, "year": 1980})

    response = link_patient.post(data={"day": 9, "month": 1, "year": 1980})

    assert "You can try 1 more time." in response.text


@pytest.mark.parametrize(
    ("date", "field", "message"),
    [
        ({"day": "31", "month": "2", "year": "1995"}, None, "Enter a real date of birth."),
        ({"day": "", "month": "3", "year": "1995"}, "day", "Enter the day."),
        ({"day": "27", "month": "March", "year": "1995"}, "month", "Enter the month as a number"),
        ({"day": "27", "month": "3", "year": "95"}, "year", "Ensure this value is greater"),
        ({"day": "27", "month": "3", "year": "2990"}, None, "must be in the past"),
        ({"day": "27", "month": "3", "year": "99999999999999999999"}, "year", "less than"),
    ],
)
def test_a_date_of_birth_that_is_not_a_date_is_explained_and_not_counted_as_a_try(
    link_patient, date, field, message
):
    link_patient.get()

    response = link_patient.post(data=date)

    assert response.status_code == 200
    page = parse(response.text)
    ids = by_id(page)
    assert message in ids["error-summary"].text
    if field:
        assert ids[f"id_{field}"].attrs["aria-invalid"] == "true"
        assert message in description_of(ids[f"id_{field}"], ids)
        assert ids[f"id_{field}"].attrs["value"] == date[field]
    assert PreVisitLink.objects.get().failed_attempts == 0


def test_five_wrong_dates_of_birth_lock_the_link_even_for_the_right_one(
    link_patient, link_token, upcoming_visit
):
    link_patient.get()
    for day in range(1, 5):
        link_patient.post(data={"day": day, "month": 1, "year": 1980})

    fifth = link_patient.post(data={"day": 5, "month": 1, "year": 1980})
    right = link_patient.confirm_birth_date(BORN)
    elsewhere = PreVisitPatient(Client(), link_token).confirm_birth_date(BORN)

    assert fifth.status_code == 403
    assert "This link has been locked" in fifth.text
    for response in (right, elsewhere):
        assert response.status_code == 403
        assert "This link has been locked" in response.text
        assert_no_patient_data(response.text, upcoming_visit)
    link = PreVisitLink.objects.get()
    assert (link.state, link.failed_attempts, link.verified_at) == (
        PreVisitLink.State.LOCKED,
        5,
        None,
    )


def test_the_patient_is_never_signed_in(verified_patient, link_token):
    response = verified_patient.get("questions/")

    assert response.status_code == 200
    assert response.wsgi_request.user.is_anonymous
    assert "_auth_user_id" not in verified_patient.client.session
    staff_page = verified_patient.client.get("/staff/")
    assert staff_page.status_code == 302
    assert staff_page["Location"].startswith("/accounts/login/")


def test_the_date_of_birth_is_asked_again_in_another_browser(verified_patient, link_token):
    other_browser = PreVisitPatient(Client(), link_token)

    response = other_browser.get("questions/")

    assert response.status_code == 302
    assert response["Location"] == f"/v/{link_token}/"


# The questions


def test_the_questions_page_shows_the_visit_what_to_expect_and_every_question(
    verified_patient, upcoming_visit
):
    version = upcoming_visit.content_version
    expect = next(s for s in version.content["sections"] if s["kind"] == "what_to_expect")
    expect["items"].append({"text": "Bring a list of the medicines you take.", "items": []})
    version.save()

    response = verified_patient.get("questions/")

    assert response.status_code == 200
    assert "Questions before your visit" in response.text
    assert "What happens at your visit" in response.text
    assert "Your provider will ask about your health and your twitching" in response.text
    assert "<li>Bring a list of the medicines you take.</li>" in response.text
    for question in upcoming_visit.questions():
        assert question.wording in response.text
    assert_no_patient_data(response.text, upcoming_visit)


def test_the_patient_gets_the_same_fields_and_choices_as_the_staff_form(
    verified_patient, upcoming_visit, desk_client
):
    staff = desk_client.get(f"/staff/visits/{upcoming_visit.pk}/intake/")

    patient = verified_patient.get("questions/")

    assert field_signature(patient.text) == field_signature(staff.text)
    assert 'type="date" name="q_first-noticed"' in patient.text
    assert 'type="radio" class="form-check-input"  name="q_how-often"' in patient.text


def test_a_man_is_not_asked_whether_he_is_pregnant(client, condition, front_desk):
    visit = VisitFactory(
        patient=PatientFactory(sex_at_birth="male", date_of_birth=BORN),
        scheduled_at=at_today(10, days=3),
    )
    _, url = links.show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    patient = PreVisitPatient(client, url.rstrip("/").rsplit("/", 1)[1])
    patient.confirm_birth_date(BORN)

    response = patient.get("questions/")

    assert "When did you first notice the twitching?" in response.text
    assert "Are you pregnant?" not in response.text


def test_answers_are_checked_as_on_the_staff_form(verified_patient, upcoming_visit, intake_data):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()

    response = verified_patient.post(
        "questions/",
        answers_post(
            upcoming_visit,
            intake_data,
            {
                "first-noticed": future,
                "episode-length_amount": "99999",
                "episode-length_unit": "days",
                "other-symptoms": ["weakness", "none-of-these"],
            },
        ),
    )

    assert response.status_code == 200
    page = parse(response.text)
    ids = by_id(page)
    summary = ids["error-summary"].text
    assert "This date is in the future." in summary
    assert "“None of these” cannot be chosen together with other answers." in summary
    assert "This date is in the future." in description_of(ids["id_q_first-noticed"], ids)
    too_long = "This is longer than the time since the date of birth."
    assert too_long in summary
    assert too_long in description_of(ids["id_q_episode-length_amount"], ids)
    assert "cannot be chosen together" in description_of(ids["id_q_other-symptoms_0"], ids)
    assert ids["id_q_first-noticed"].attrs["value"] == future
    assert not Answer.objects.exists()


# Saving, coming back, submitting


def test_saving_keeps_the_answers_given_so_far_as_the_patients(
    verified_patient, upcoming_visit, intake_data
):
    data = answers_post(
        upcoming_visit, intake_data, {"how-often": None, "muscles-affected": None}, action="save"
    )

    response = verified_patient.post("questions/", data, follow=True)

    assert response.redirect_chain == [(verified_patient.url + "questions/", 302)]
    assert "Your answers are saved" in response.text
    assert "open the link in your e-mail or message again" in response.text
    answers = Answer.objects.filter(visit=upcoming_visit)
    assert answers.count() == len(upcoming_visit.questions()) - 2
    assert {(a.source, a.answered_by) for a in answers} == {(Answer.Source.PATIENT, None)}
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.status == Visit.Status.INTAKE_IN_PROGRESS
    link = PreVisitLink.objects.get()
    assert link.submitted_at is None
    event = AuditEvent.objects.get(action="update", record_type="intake.visit")
    assert (event.actor, event.actor_label) == (None, f"pre-visit link {link.pk}")


def test_coming_back_later_resumes_where_the_patient_left_off(
    verified_patient, link_token, upcoming_visit, intake_data, form_values
):
    data = answers_post(upcoming_visit, intake_data, {"how-often": None}, action="save")
    verified_patient.post("questions/", data)

    later = PreVisitPatient(Client(), link_token)
    later.confirm_birth_date(BORN)
    response = later.get("questions/")

    shown = form_values(response.text)
    for name, value in data.items():
        if name.endswith("_amount"):
            assert Decimal(shown[name][0]) == Decimal(value)
        elif name.startswith("q_"):
            assert shown[name] == (value if isinstance(value, list) else [value]), name
    assert "q_how-often" not in shown
    assert shown["intake_version"] == ["1"]


def test_the_saved_page_can_be_sent_as_it_is(
    verified_patient, upcoming_visit, intake_data, form_values
):
    # The page shown after saving carries the version just saved, so sending from it is
    # not taken for someone else's change.
    saved = verified_patient.post(
        "questions/", answers_post(upcoming_visit, intake_data), follow=True
    )
    shown = form_values(saved.text)
    assert shown["intake_version"] == ["1"]

    response = verified_patient.send(shown)

    assert response.status_code == 302
    assert PreVisitLink.objects.get().submitted_at is not None


def test_the_patient_saves_as_often_as_they_like_from_the_page_that_comes_back(
    verified_patient, upcoming_visit, intake_data, form_values
):
    page = verified_patient.post(
        "questions/", answers_post(upcoming_visit, intake_data), follow=True
    )

    for amount in ("6", "7", "8"):
        shown = form_values(page.text)
        shown["q_episode-length_amount"] = [amount]
        page = verified_patient.post("questions/", {**shown, "action": "save"}, follow=True)
        assert "Your answers are saved" in page.text
        assert "The clinic changed some of your answers" not in page.text

    answer = Answer.objects.get(visit=upcoming_visit, question_key="episode-length")
    assert answer.value == (Decimal(8), "seconds")
    assert form_values(page.text)["intake_version"] == ["4"]


def test_reloading_the_page_after_saving_sends_nothing_again(
    verified_patient, upcoming_visit, intake_data
):
    verified_patient.post("questions/", answers_post(upcoming_visit, intake_data))
    verified_patient.get("questions/")

    reloaded = verified_patient.get("questions/")

    assert reloaded.status_code == 200
    assert "Your answers are saved" not in reloaded.text
    assert AuditEvent.objects.filter(action="update", record_type="intake.visit").count() == 1


@pytest.mark.parametrize("action", ["continue", "save"])
def test_a_form_sent_from_a_page_left_open_after_sending_says_what_was_not_saved(
    verified_patient, upcoming_visit, intake_data, action
):
    left_open = answers_post(
        upcoming_visit, intake_data, {"how-often": "all-the-time"}, action=action
    )
    verified_patient.send(answers_post(upcoming_visit, intake_data))
    kept = list(Answer.objects.values())

    response = verified_patient.post("questions/", left_open)

    assert response.status_code == 409
    ids = by_id(parse(response.text))
    assert "Your answers were already sent" in response.text
    assert "were not saved" in response.text
    not_saved = ids["not-saved-heading"].parent.text
    assert "How often do you have twitching?" in not_saved
    assert "You gave: All the time" in not_saved
    assert "The clinic has: Several times a day" in not_saved
    assert "Which muscles are affected?" not in not_saved
    assert "Several times a day" in response.text.split("The answers the clinic has")[1]
    assert f'href="tel:{settings.CLINIC_PHONE}"' in response.text
    assert list(Answer.objects.values()) == kept
    # The save on "Continue" and the send; nothing from the page left open.
    assert AuditEvent.objects.filter(action__in=["update", "submit"]).count() == 2


def test_a_form_sent_after_sending_by_a_browser_no_longer_confirmed_shows_no_answers(
    verified_patient, upcoming_visit, intake_data
):
    left_open = answers_post(upcoming_visit, intake_data, {"how-often": "all-the-time"})
    verified_patient.send(answers_post(upcoming_visit, intake_data))
    session = verified_patient.client.session
    del session[SESSION_KEY]  # as if the date of birth had not been given in this browser
    session.save()

    response = verified_patient.post("questions/", left_open)

    assert response.status_code == 410
    assert "<h1>Your answers have already been sent</h1>" in response.text
    assert "The answers on the page you sent were not saved." in response.text
    assert "Several times a day" not in response.text
    assert_no_patient_data(response.text, upcoming_visit)


def test_continuing_with_questions_unanswered_lists_them_and_saves_nothing(
    verified_patient, upcoming_visit, intake_data
):
    data = answers_post(upcoming_visit, intake_data, {"same-place": None}, action="continue")

    response = verified_patient.post("questions/", data)

    assert response.status_code == 200
    ids = by_id(parse(response.text))
    assert "Is the twitching always in the same place? Answer this question." in (
        ids["error-summary"].text
    )
    assert ids["error-summary"].attrs["tabindex"] == "-1"
    assert "Answer this question." in description_of(ids["id_q_same-place_0"], ids)
    assert PreVisitLink.objects.get().submitted_at is None
    assert not Answer.objects.exists()


def test_continuing_then_confirming_sends_the_answers_and_shows_them_read_only(
    verified_patient, link_token, upcoming_visit, intake_data
):
    continued = verified_patient.post(
        "questions/", answers_post(upcoming_visit, intake_data, action="continue")
    )
    assert continued["Location"] == f"/v/{link_token}/photos/"
    assert PreVisitLink.objects.get().submitted_at is None

    response = verified_patient.attest(follow=True)

    assert response.redirect_chain == [(f"/v/{link_token}/done/", 302)]
    assert "Thank you, your answers have been sent" in response.text
    assert "Several times a day" in response.text
    assert "When did you first notice the twitching?" in response.text
    assert not form_fields(parse(response.text))
    assert "<form" not in response.text
    assert PreVisitLink.objects.get().state == PreVisitLink.State.SUBMITTED
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.status == Visit.Status.INTAKE_COMPLETE


def test_the_same_send_twice_sends_the_answers_once(
    verified_patient, link_token, upcoming_visit, intake_data
):
    verified_patient.post(
        "questions/", answers_post(upcoming_visit, intake_data, action="continue")
    )
    data = {
        "intake_version": 1,
        "respondent": "patient",
        "full_name": "Ines Okafor",
        "confirmed": "on",
    }
    verified_patient.post("confirm/", data)
    submitted_at = PreVisitLink.objects.get().submitted_at
    answers = list(Answer.objects.values())

    again = verified_patient.post("confirm/", data)

    assert again.status_code == 302
    assert again["Location"] == f"/v/{link_token}/done/"
    assert AuditEvent.objects.filter(action="submit").count() == 1
    assert list(Answer.objects.values()) == answers
    assert PreVisitLink.objects.get().submitted_at == submitted_at
    assert Attestation.objects.count() == 1
    assert verified_patient.get("questions/")["Location"] == f"/v/{link_token}/done/"


def test_a_submit_that_waited_for_the_first_one_finds_the_link_used(link_token):
    # Two clicks that both got past the page's check: the second waits for the row lock
    # in submit_previsit_answers, then finds the link submitted.
    link = PreVisitLink.objects.get()
    patient = Actor.through_link(link)
    links.save_patient_answers(link=link, values=ALL_ANSWERS, expected_version=0, actor=patient)
    links.submit_previsit_answers(
        link=link, expected_version=1, respondent="patient", full_name="Ines", actor=patient
    )

    with pytest.raises(links.LinkNotUsable):
        links.submit_previsit_answers(
            link=link, expected_version=1, respondent="patient", full_name="Ines", actor=patient
        )

    assert AuditEvent.objects.filter(action="submit").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_submits_at_the_same_moment_give_one_submit_and_one_already_sent(
    link_token, upcoming_visit
):
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared in-memory one, whose table locks fail at
        # once instead of waiting, unlike a database file.
        pytest.skip("needs a database whose writers wait for each other")
    link = PreVisitLink.objects.get()
    links.save_patient_answers(
        link=link, values=ALL_ANSWERS, expected_version=0, actor=Actor.through_link(link)
    )
    both_ready = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            both_ready.wait()
            links.submit_previsit_answers(
                link=link,
                expected_version=1,
                respondent="patient",
                full_name="Ines Okafor",
                actor=Actor.through_link(link),
            )
            outcomes.append("submitted")
        except links.LinkNotUsable as error:
            outcomes.append(error.state)
        finally:
            connection.close()

    clicks = [threading.Thread(target=submit), threading.Thread(target=submit)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()

    assert sorted(outcomes) == [PreVisitLink.State.SUBMITTED, "submitted"]
    assert AuditEvent.objects.filter(action="submit").count() == 1
    assert Attestation.objects.count() == 1
    assert upcoming_visit.answers.count() == len(ALL_ANSWERS)


def test_after_submitting_the_link_no_longer_opens_in_another_browser(
    verified_patient, link_token, upcoming_visit, intake_data
):
    verified_patient.send(answers_post(upcoming_visit, intake_data))

    response = PreVisitPatient(Client(), link_token).get()

    assert response.status_code == 410
    assert "Your answers have already been sent" in response.text
    assert_no_patient_data(response.text, upcoming_visit)


def test_staff_saving_meanwhile_makes_the_patients_save_a_conflict_not_an_overwrite(
    verified_patient, upcoming_visit, intake_data, front_desk
):
    data = answers_post(upcoming_visit, intake_data, {"same-place": "yes"})
    save_answers(
        visit=upcoming_visit,
        values={"same-place": False},
        expected_version=0,
        actor=Actor.for_user(front_desk),
    )

    response = verified_patient.post("questions/", data)

    assert response.status_code == 200
    assert "The clinic changed some of your answers while you were filling this in." in (
        response.text
    )
    answer = Answer.objects.get(visit=upcoming_visit)
    assert (answer.value, answer.source) == (False, Answer.Source.STAFF)
    clinic_answers = by_id(parse(response.text))["clinic-answers"].parent.text
    assert "Is the twitching always in the same place?" in clinic_answers
    assert "No" in clinic_answers
    assert 'name="intake_version" value="1"' in response.text
    saved_again = verified_patient.post("questions/", {**data, "intake_version": "1"}, follow=True)
    assert "Your answers are saved" in saved_again.text


def test_the_questions_page_takes_as_many_queries_with_12_sections_to_read_as_with_3(
    verified_patient, upcoming_visit, django_assert_num_queries
):
    version = upcoming_visit.content_version

    def add_sections(start, end):
        for number in range(start, end):
            version.content["sections"].append(
                {
                    "kind": "what_to_expect",
                    "heading": f"Part {number}",
                    "body": "",
                    "items": [{"text": f"Point {number}", "items": []}],
                }
            )
        version.save()

    add_sections(0, 1)  # with the demo's two: 3
    verified_patient.get("questions/")
    with CaptureQueriesContext(connection) as at_3:
        verified_patient.get("questions/")
    add_sections(1, 10)

    with django_assert_num_queries(len(at_3)):
        response = verified_patient.get("questions/")

    assert "<li>Point 9</li>" in response.text


# Tampering: nothing the browser sends points anywhere but the link's own visit


@pytest.fixture
def other_visit(condition, front_desk):
    """Another patient's visit, with its own link: (visit, token)."""
    visit = VisitFactory(
        patient=PatientFactory(date_of_birth=BORN), scheduled_at=at_today(11, days=3)
    )
    _, url = links.show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    return visit, url.rstrip("/").rsplit("/", 1)[1]


def test_extra_fields_naming_another_visit_or_a_status_are_ignored(
    verified_patient, upcoming_visit, other_visit, intake_data
):
    visit, _ = other_visit
    data = answers_post(upcoming_visit, intake_data, action="save")
    tampered = {
        **data,
        "visit": visit.pk,
        "visit_id": visit.pk,
        "pk": visit.pk,
        "patient": visit.patient_id,
        "status": Visit.Status.CLOSED,
        "submitted_at": "2020-01-01",
        "source": "staff",
        "answered_by": 1,
    }

    verified_patient.post("questions/", tampered)

    assert not visit.answers.exists()
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.status == Visit.Status.INTAKE_IN_PROGRESS
    answers = Answer.objects.filter(visit=upcoming_visit)
    assert answers.count() == len(upcoming_visit.questions())
    assert {(a.source, a.answered_by) for a in answers} == {(Answer.Source.PATIENT, None)}
    assert PreVisitLink.objects.get(visit=upcoming_visit).submitted_at is None


def test_answers_to_another_conditions_questions_are_ignored(
    verified_patient, upcoming_visit, intake_data
):
    cramps = Condition.objects.create(title="Leg cramps", slug="leg-cramps")
    HistoryQuestion.objects.create(
        condition=cramps, key="cramp-side", wording="Which leg?", answer_type="free_text"
    )

    verified_patient.post(
        "questions/",
        {**answers_post(upcoming_visit, intake_data), "q_cramp-side": "Left", "q_other": "x"},
    )

    keys = set(Answer.objects.values_list("question_key", flat=True))
    assert keys == {question.key for question in upcoming_visit.questions()}


@pytest.mark.parametrize("version", ["1", "99", "-1", "zero", ""])
def test_a_tampered_intake_version_saves_nothing(
    verified_patient, upcoming_visit, intake_data, version
):
    data = {**answers_post(upcoming_visit, intake_data), "intake_version": version}

    response = verified_patient.post("questions/", data)

    assert response.status_code == 200
    assert "Your answers are saved" not in response.text
    assert "Intake version" not in response.text
    if not version.lstrip("-").isdigit():
        assert "This page is out of date. Reload it" in response.text
    assert not Answer.objects.exists()
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.intake_version == 0


def test_one_visits_link_never_reads_or_writes_another_visit(
    verified_patient, upcoming_visit, other_visit, intake_data
):
    visit, token = other_visit
    client = verified_patient.client
    other = PreVisitPatient(client, token)

    read = other.get("questions/")
    done = other.get("done/")
    confirm = other.get("confirm/")
    other.get()
    write = other.post("questions/", answers_post(visit, intake_data, action="continue"))
    send = other.attest()

    for response in (read, done, confirm, write, send):
        assert response.status_code == 302
        assert response["Location"] == f"/v/{token}/"
    assert not visit.answers.exists()
    assert visit.previsit_links.get().submitted_at is None
    assert not Answer.objects.exists()


def test_confirming_one_visits_link_does_not_open_the_same_patients_other_visit(
    verified_patient, upcoming_visit, front_desk
):
    second = VisitFactory(patient=upcoming_visit.patient, scheduled_at=at_today(9, days=5))
    _, url = links.show_previsit_link(visit=second, actor=Actor.for_user(front_desk))
    token = url.rstrip("/").rsplit("/", 1)[1]

    response = PreVisitPatient(verified_patient.client, token).get("questions/")

    assert response.status_code == 302
    assert response["Location"] == f"/v/{token}/"


def test_a_post_without_the_pages_form_key_is_refused_and_saves_nothing(
    verified_patient, upcoming_visit, intake_data
):
    data = answers_post(upcoming_visit, intake_data, action="continue")

    response = verified_patient.client.post(f"{verified_patient.url}questions/", data)

    assert response.status_code == 400
    assert "Please try again" in response.text
    assert not Answer.objects.exists()


def test_a_post_the_browser_marks_as_from_another_site_is_refused(
    verified_patient, upcoming_visit, intake_data
):
    data = answers_post(upcoming_visit, intake_data, action="continue")

    response = verified_patient.post("questions/", data, HTTP_SEC_FETCH_SITE="cross-site")

    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_a_post_with_origin_null_and_no_referer_is_accepted(
    verified_patient, upcoming_visit, intake_data
):
    # What browsers send from a page with Referrer-Policy: no-referrer.
    data = answers_post(upcoming_visit, intake_data, action="save")

    response = verified_patient.post(
        "questions/", data, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin", follow=True
    )

    assert "Your answers are saved" in response.text


# Links that do not work


def make_unusable(state, token, front_desk):
    link = PreVisitLink.objects.get()
    match state:
        case "expired":
            link.expires_at = timezone.now() - datetime.timedelta(seconds=1)
            link.save()
        case "revoked":
            links.revoke_link(link=link, actor=Actor.for_user(front_desk))
        case "locked":
            link.failed_attempts, link.locked_at = 5, timezone.now()
            link.save()
        case "submitted":
            link.submitted_at = timezone.now()
            link.save()
        case "unknown":
            return token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    return token


BAD_LINKS = [
    ("unknown", 404, "This link does not work"),
    ("expired", 410, "This link has expired"),
    ("revoked", 410, "This link no longer works"),
    ("submitted", 410, "Your answers have already been sent"),
    ("locked", 403, "This link has been locked"),
]


@pytest.mark.parametrize("page", ["", "questions/", "confirm/", "done/"])
@pytest.mark.parametrize(("state", "status", "heading"), BAD_LINKS)
def test_a_link_that_does_not_work_says_to_call_the_clinic_and_shows_no_patient_data(
    client, link_token, upcoming_visit, front_desk, state, status, heading, page
):
    token = make_unusable(state, link_token, front_desk)

    response = client.get(f"/v/{token}/{page}", follow=True)

    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in response.text
    assert f'href="tel:{settings.CLINIC_PHONE}"' in response.text
    assert_no_patient_data(response.text, upcoming_visit)
    assert "What is your date of birth?" not in response.text


@pytest.mark.parametrize(("state", "status", "heading"), BAD_LINKS)
def test_a_link_that_stopped_working_mid_way_refuses_answers(
    verified_patient, link_token, upcoming_visit, front_desk, intake_data, state, status, heading
):
    data = answers_post(upcoming_visit, intake_data, action="continue")
    token = make_unusable(state, link_token, front_desk)
    verified_patient.url = f"/v/{token}/"

    response = verified_patient.post("questions/", data, follow=True)

    # Sent meanwhile from another window: the page says what was not saved.
    assert response.status_code == (409 if state == "submitted" else status)
    assert "were not saved" in response.text
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("status", "reason"),
    [(Visit.Status.CANCELLED, "The patient is better"), (Visit.Status.SEEN, "")],
)
def test_the_link_of_a_visit_no_longer_taking_answers_says_so(
    verified_patient, link_token, upcoming_visit, intake_data, status, reason
):
    data = answers_post(upcoming_visit, intake_data, action="save")
    Visit.objects.filter(pk=upcoming_visit.pk).update(status=status, cancel_reason=reason)

    pages = [
        PreVisitPatient(Client(), link_token).get(),
        verified_patient.get("questions/", follow=True),
        verified_patient.post("questions/", data, follow=True),
    ]

    for response in pages:
        assert response.status_code == 410
        assert "<h1>This link no longer works</h1>" in response.text
        assert "Your visit:" not in response.text
        assert_no_patient_data(response.text, upcoming_visit)
    assert not Answer.objects.exists()


# Too many failed tries from one address


def test_repeated_bad_tokens_from_one_address_are_refused_for_a_while_in_every_process(
    settings, link_token
):
    settings.PREVISIT_MAX_FAILURES = 3
    settings.PREVISIT_FAILURE_WINDOW_MINUTES = 30
    # Two clients stand for two web processes: they share nothing but the database.
    first, second = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="203.0.113.7")
    elsewhere = Client(REMOTE_ADDR="198.51.100.2")

    statuses = [
        first.get("/v/wrong-1/").status_code,
        second.get("/v/wrong-2/").status_code,
        first.get("/v/wrong-3/done/").status_code,
    ]
    refused = second.get("/v/wrong-4/")

    assert statuses == [404, 404, 404]
    assert refused.status_code == 429
    assert "Too many tries" in refused.text
    # The count starts again when its 30-minute window ends.
    retry_after = int(refused["Retry-After"])
    assert 0 < retry_after <= 30 * 60
    minutes = math.ceil(retry_after / 60)
    assert f"Wait {minutes} minute{'s' if minutes > 1 else ''} and try again" in refused.text
    assert first.get("/v/wrong-5/questions/").status_code == 429
    assert elsewhere.get("/v/wrong-6/").status_code == 404
    attempt = AccessAttempt.objects.get(failures=3)
    assert "203.0.113.7" not in attempt.client


def test_a_valid_link_keeps_working_whatever_others_on_its_address_tried(settings, link_token):
    # A clinic's shared network, or a proxy left unconfigured: everyone has one address.
    settings.PREVISIT_MAX_FAILURES = 2
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(3):
        guesser.get(f"/v/guess-{attempt}/")
    assert guesser.get("/v/guess-4/").status_code == 429

    patient = PreVisitPatient(Client(REMOTE_ADDR="203.0.113.7"), link_token)

    assert patient.get().status_code == 200
    assert patient.confirm_birth_date(BORN)["Location"].endswith("/questions/")
    assert patient.get("questions/").status_code == 200
    # The guesser is still held back, valid link or not in the same network.
    assert guesser.get("/v/guess-5/").status_code == 429


def test_wrong_dates_of_birth_lock_their_own_link_and_hold_back_guessing_from_the_address(
    settings, link_token, other_visit
):
    settings.PREVISIT_MAX_FAILURES = 3
    other, other_token = other_visit
    one = PreVisitPatient(Client(REMOTE_ADDR="203.0.113.7"), link_token)
    two = PreVisitPatient(Client(REMOTE_ADDR="203.0.113.7"), other_token)

    for day in (1, 2, 3):
        one.confirm_birth_date(datetime.date(1980, 1, day))

    # The other patient on the same address is not held back by them...
    assert two.confirm_birth_date(other.patient.date_of_birth).status_code == 302
    assert PreVisitLink.objects.get(visit=other).verified_at is not None
    # ...but someone trying tokens from that address is.
    assert Client(REMOTE_ADDR="203.0.113.7").get("/v/a-guess/").status_code == 429
    assert PreVisitLink.objects.exclude(visit=other).get().failed_attempts == 3


def test_the_limit_lifts_when_its_window_has_passed(settings, link_token):
    settings.PREVISIT_MAX_FAILURES = 1
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.get("/v/wrong/")
    assert client.get("/v/wrong-again/").status_code == 429

    AccessAttempt.objects.update(
        window_start=timezone.now()
        - datetime.timedelta(minutes=settings.PREVISIT_FAILURE_WINDOW_MINUTES + 1)
    )

    assert client.get("/v/wrong-again/").status_code == 404


# Headers on every patient page


def every_kind_of_patient_response(link_token, upcoming_visit, intake_data, settings):
    patient = PreVisitPatient(Client(), link_token)
    yield "start", patient.get()
    yield "wrong date of birth", patient.post(data={"day": 1, "month": 1, "year": 1980})
    yield "no form key", patient.client.post(patient.url, {"day": 1})
    yield "questions before the date of birth", patient.get("questions/")
    yield "right date of birth", patient.confirm_birth_date(BORN)
    yield "questions", patient.get("questions/")
    yield "saved", patient.post("questions/", answers_post(upcoming_visit, intake_data))
    yield (
        "continued",
        patient.post("questions/", answers_post(upcoming_visit, intake_data, action="continue")),
    )
    yield "confirm", patient.get("confirm/")
    yield "confirm with errors", patient.post("confirm/", {"respondent": "on_behalf"})
    yield "submitted", patient.attest()
    yield "done", patient.get("done/")
    yield "used link", Client().get(patient.url)
    yield "unknown link", Client().get("/v/nothing-here/")
    settings.PREVISIT_MAX_FAILURES = 1
    yield "too many tries", Client().get("/v/nothing-here/")


def test_every_patient_page_is_private_uncached_and_not_indexed(
    link_token, upcoming_visit, intake_data, settings
):
    seen = set()
    for name, response in every_kind_of_patient_response(
        link_token, upcoming_visit, intake_data, settings
    ):
        seen.add(response.status_code)
        assert response["Referrer-Policy"] == "no-referrer", name
        assert "no-store" in response["Cache-Control"], name
        assert response["X-Robots-Tag"] == "noindex, nofollow", name
        if response.status_code != 302:
            assert '<meta name="robots" content="noindex, nofollow">' in response.text, name
            assert "Staff sign in" not in response.text, name
    assert seen == {200, 302, 400, 404, 410, 429}


# Logs


LOGGERS = ["django.request", "django.server", "intake", "audit", "config"]


def test_the_token_never_reaches_the_logs(
    caplog, client, link_token, link_patient, upcoming_visit, front_desk
):
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    wrong = link_token[:-2] + "zz"

    client.get(f"/v/{wrong}/")
    link_patient.get()
    for day in range(1, 6):
        link_patient.post(data={"day": day, "month": 1, "year": 1980})
    link_patient.get("questions/")
    PreVisitLink.objects.update(locked_at=None, revoked_at=timezone.now(), revoke_reason="x")
    link_patient.get()

    assert {r.status_code for r in caplog.records if hasattr(r, "status_code")} >= {404, 403, 410}
    redact = RedactTokensAndSearches()
    for record in caplog.records:
        assert redact.filter(record) is True
        assert link_token not in record.getMessage()
        assert wrong not in record.getMessage()
        assert getattr(record, "request", None) is None or "/v/" not in record.request.path


def test_the_console_handler_redacts_pre_visit_tokens():
    console = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    server = [
        h for h in logging.getLogger("django.server").handlers if type(h) is logging.StreamHandler
    ]

    for handler in [*console, *server]:
        assert any(isinstance(f, RedactTokensAndSearches) for f in handler.filters)
    assert console and server


def log_record(msg, *args, request=None):
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, msg, args, None)
    if request is not None:
        record.request = request
    return record


@pytest.mark.parametrize(
    ("msg", "args", "expected"),
    [
        (
            '"%s" %s %s',
            ("GET /v/Abc-123_xyz/questions/ HTTP/1.1", 200, 512),
            '"GET /v/[token]/questions/ HTTP/1.1" 200 512',
        ),
        ("Not Found: %s", ("/v/Abc-123_xyz/",), "Not Found: /v/[token]/"),
        ("Gone: /v/Abc-123_xyz/done/", (), "Gone: /v/[token]/done/"),
        (
            "Sent https://clinic.example/v/Abc-123_xyz/ at %d%%",
            (5,),
            "Sent https://clinic.example/v/[token]/ at 5%",
        ),
        ("Nothing secret in %s", ("/staff/visits/1/",), "Nothing secret in /staff/visits/1/"),
    ],
)
def test_the_redaction_filter_replaces_tokens_in_log_messages(msg, args, expected):
    record = log_record(msg, *args)

    assert RedactTokensAndSearches().filter(record) is True
    assert record.getMessage() == expected


def test_the_redaction_filter_lets_the_dev_servers_access_log_through():
    # runserver logs each request with its socket as `request`, not an HttpRequest.
    record = log_record('"%s" %s %s', "GET /v/Abc-123/ HTTP/1.1", "404", "9")
    with socket.socket() as connection:
        record.request = connection

        assert RedactTokensAndSearches().filter(record) is True

    assert record.getMessage() == '"GET /v/[token]/ HTTP/1.1" 404 9'


def test_the_redaction_filter_drops_a_patient_pages_request_from_the_record(rf):
    patient_record = log_record("Not Found: %s", "/v/[token]/", request=rf.get("/v/Abc-123/"))
    staff_request = rf.get("/staff/")
    staff_record = log_record("Forbidden: %s", "/staff/", request=staff_request)

    RedactTokensAndSearches().filter(patient_record)
    RedactTokensAndSearches().filter(staff_record)

    assert patient_record.request is None
    assert staff_record.request is staff_request


# Accessibility of the pages as served


def patient_pages(verified_patient, upcoming_visit, intake_data):
    fresh = PreVisitPatient(Client(), verified_patient.url.split("/")[2])
    yield "start", fresh.get()
    yield "start with errors", fresh.post(data={"day": "", "month": "13", "year": "1995"})
    yield "questions", verified_patient.get("questions/")
    yield (
        "questions with errors",
        verified_patient.post(
            "questions/",
            answers_post(
                upcoming_visit,
                intake_data,
                {"first-noticed": "2999-01-01", "episode-length_unit": "", "how-often": None},
                action="continue",
            ),
        ),
    )
    yield (
        "saved",
        verified_patient.post("questions/", answers_post(upcoming_visit, intake_data), follow=True),
    )
    stale = answers_post(upcoming_visit, intake_data, {"how-often": "all-the-time"})
    continuing = answers_post(upcoming_visit, intake_data, action="continue")
    verified_patient.post("questions/", continuing)
    yield "confirm", verified_patient.get("confirm/")
    yield (
        "confirm with errors",
        verified_patient.post(
            "confirm/", {"intake_version": 2, "respondent": "on_behalf", "relation": "other"}
        ),
    )
    verified_patient.attest()
    yield "done", verified_patient.get("done/")
    yield "already sent", verified_patient.post("questions/", stale)
    yield "problem", Client().get("/v/nothing-here/")


def test_every_field_has_a_label_and_every_error_is_tied_to_its_field(
    verified_patient, upcoming_visit, intake_data
):
    for name, response in patient_pages(verified_patient, upcoming_visit, intake_data):
        page = parse(response.text)
        ids = by_id(page)
        labels = {e.attrs.get("for") for e in page.iter() if e.tag == "label"}
        for field in form_fields(page):
            assert field.attrs.get("id") in labels, (name, field.attrs)
            if field.attrs.get("aria-invalid") == "true":
                assert description_of(field, ids), (name, field.attrs)
        summary = ids.get("error-summary")
        if "errors" in name:
            assert summary.attrs["role"] == "alert"
            for link in (e for e in summary.iter() if e.tag == "a"):
                assert link.attrs["href"].removeprefix("#") in ids, (name, link.attrs)
        else:
            assert summary is None, name


def test_headings_on_every_page_start_at_one_h1_and_skip_no_level(
    verified_patient, upcoming_visit, intake_data
):
    for name, response in patient_pages(verified_patient, upcoming_visit, intake_data):
        levels = [level for level, _ in headings(response.text)]
        assert levels.count(1) == 1, (name, levels)
        assert levels[0] == 1, (name, headings(response.text))
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (name, levels)


def test_each_page_has_a_title_saying_what_it_is(verified_patient, upcoming_visit, intake_data):
    titles = {
        name: response.text.split("<title>")[1].split("</title>")[0]
        for name, response in patient_pages(verified_patient, upcoming_visit, intake_data)
    }

    assert titles["start"].startswith("Confirm who you are")
    assert titles["start with errors"].startswith("Error: Confirm who you are")
    assert titles["questions"].startswith("Questions before your visit")
    assert titles["questions with errors"].startswith("Error: Questions before your visit")
    assert titles["done"].startswith("Answers sent")
    assert titles["already sent"].startswith("Your answers were already sent")
    assert titles["problem"].startswith("This link does not work")


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),
        (2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (2, "203.0.113.9", "10.0.0.1"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(
    rf, settings, proxies, forwarded, expected
):
    from audit.actors import client_address

    settings.TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_admin_search_terms_are_redacted_from_log_lines():
    record = logging.LogRecord(
        "django.server",
        logging.WARNING,
        __file__,
        1,
        '"GET /admin/intake/visit/?q=Vargas&status=seen HTTP/1.1" 200',
        (),
        None,
    )
    RedactTokensAndSearches().filter(record)
    assert "Vargas" not in record.getMessage()
    assert "?q=[redacted]&status=seen" in record.getMessage()


def test_a_patients_draft_save_leaves_an_intake_staff_completed_complete(
    verified_patient, upcoming_visit, intake_data
):
    upcoming_visit.status = Visit.Status.INTAKE_COMPLETE
    upcoming_visit.save(update_fields=["status"])
    data = answers_post(upcoming_visit, intake_data, {"how-often": None}, action="save")

    response = verified_patient.post("questions/", data, follow=True)

    assert "Your answers are saved" in response.text
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.status == Visit.Status.INTAKE_COMPLETE
