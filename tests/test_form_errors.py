"""Every form page, staff and patient, sent with bad input: each message shows once in the
error summary (a link to its field) and at most once more, beside the field it is about,
never a second time as a list of its own."""

import datetime
from collections import Counter

import pytest
from django.utils import timezone

from audit.actors import Actor
from intake.answers import save_answers

from .conftest import PreVisitPatient
from .factories import PatientFactory
from .reading import by_id, parse


def messages_of(response):
    """The messages of the page's bound forms, but those of hidden fields (a stale page
    gets one plain sentence for those)."""
    found = []
    for name in ("form", "lookup"):
        form = response.context.get(name) if response.context else None
        if form is None or not getattr(form, "is_bound", False):
            continue
        hidden = {field.name for field in form.hidden_fields()}
        for field, errors in form.errors.items():
            if field not in hidden:
                found.extend(" ".join(str(error).split()) for error in errors)
    return found


def text_outside(element, left_out):
    if element is left_out:
        return ""
    parts = [" ".join(element.text_parts)]
    parts.extend(text_outside(child, left_out) for child in element.children)
    return " ".join(" ".join(parts).split())


def assert_each_message_once(response, page, html=None):
    main = next(e for e in parse(html or response.text).iter() if e.tag == "main")
    ids = by_id(main)
    summary = ids.get("error-summary")
    # What a screen reader reads with some field: the texts its aria-describedby names.
    tied = [
        ids[ref].text
        for element in main.iter()
        for ref in element.attrs.get("aria-describedby", "").split()
        if ref in ids
    ]
    messages = Counter(messages_of(response))
    assert messages, f"{page}: no error to check"
    # A message may be given for several fields ("Enter the day." for one, "This field is
    # required." for four): it shows once per field in each place.
    for message, times in messages.items():
        if summary is not None:
            assert summary.text.count(message) == times, (page, message, summary.text)
        elsewhere = text_outside(main, summary).count(message)
        assert elsewhere <= times, (page, message, "shown more than once outside the summary")
        if elsewhere:
            assert any(message in text for text in tied), (page, message, "not by its field")
        else:
            assert summary is not None, (page, message, "not shown at all")


@pytest.fixture
def patient(db):
    return PatientFactory(given_name="Ines", family_name="Vargas", sex_at_birth="female")


@pytest.fixture
def other(db):
    return PatientFactory(given_name="Ines", family_name="Vargas-Lee", sex_at_birth="female")


def staff_pages(client, patient, other, visit, intake_data):
    """(page, response) for each staff form page sent with bad input."""
    yield "register: nothing given", client.post("/staff/patients/new/", {"given_name": ""})
    yield (
        "register: the same person again",
        client.post(
            "/staff/patients/new/",
            {
                "given_name": patient.given_name,
                "family_name": patient.family_name,
                "date_of_birth": patient.date_of_birth.isoformat(),
                "sex_at_birth": "female",
            },
        ),
    )
    edit = f"/staff/patients/{patient.pk}/edit/"
    stamp = patient.edit_stamp
    details = {
        "given_name": "Inés",
        "family_name": patient.family_name,
        "date_of_birth": "",
        "sex_at_birth": "female",
        "edit_stamp": stamp,
    }
    yield "correct details: no reason, no date", client.post(edit, details)
    client.post(edit, {**details, "date_of_birth": patient.date_of_birth, "reason": "Typo"})
    yield (
        "correct details: saved meanwhile",
        client.post(edit, {**details, "date_of_birth": patient.date_of_birth, "reason": "Typo"}),
    )
    yield (
        "merge: a bad record number",
        client.post(f"/staff/patients/{patient.pk}/merge/", {"record_number": "12345678"}),
    )
    yield (
        "merge: no reason",
        client.post(
            f"/staff/patients/{other.pk}/merge/into/{patient.pk}/", {"reason": "", "stamp": "x"}
        ),
    )
    yield (
        "open a visit: no date or time",
        client.post(f"/staff/patients/{patient.pk}/visits/new/", {"condition": visit.condition_id}),
    )
    intake = f"/staff/visits/{visit.pk}/intake/"
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    yield (
        "intake: a date in the future, a duration too long",
        client.post(
            intake,
            intake_data(
                visit,
                {
                    "first-noticed": future,
                    "episode-length_amount": "99999",
                    "episode-length_unit": "days",
                },
            ),
        ),
    )
    stale = intake_data(visit, action="save")
    save_answers(
        visit=visit,
        values={"same-place": False},
        expected_version=visit.intake_version,
        actor=Actor.system("test"),
    )
    yield "intake: saved meanwhile", client.post(intake, stale)
    yield (
        "move the visit: nothing given",
        client.post(f"/staff/visits/{visit.pk}/reschedule/", {"reschedule-reason": ""}),
    )
    yield "find a patient: only punctuation", client.post("/staff/patients/", {"q": "!!"})


def test_staff_form_pages_show_each_message_once(
    desk_client, patient, other, visit, intake_data, clock
):
    for page, response in staff_pages(desk_client, patient, other, visit, intake_data):
        assert response.status_code in (200, 409), (page, response.status_code)
        assert_each_message_once(response, page)


def test_the_sign_in_page_shows_a_wrong_password_once(client, front_desk):
    response = client.post(
        "/accounts/login/", {"username": front_desk.username, "password": "not-it"}
    )

    assert_each_message_once(response, "sign in")


def test_the_audit_trails_record_number_lookup_shows_its_message_once(
    client, clinic_admin, sign_in
):
    sign_in(client, clinic_admin)

    response = client.post("/staff/audit/", {"record_number": "1234"})

    assert_each_message_once(response, "audit trail: a bad record number")


def test_patient_form_pages_show_each_message_once(
    client, link_token, upcoming_visit, intake_data, front_desk
):
    patient = PreVisitPatient(client, link_token)
    patient.get()
    born = upcoming_visit.patient.date_of_birth
    pages = [
        ("date of birth: missing day", patient.post(data={"month": "3", "year": "1995"})),
        (
            "date of birth: wrong",
            patient.post(data={"day": born.day + 1, "month": born.month, "year": born.year}),
        ),
    ]
    patient.confirm_birth_date(born)
    upcoming_visit.refresh_from_db()
    stale = intake_data(upcoming_visit, action="save")
    pages.append(
        (
            "questions: a date before birth, unanswered",
            patient.post(
                "questions/",
                intake_data(
                    upcoming_visit,
                    {"first-noticed": "1990-01-01", "how-often": None},
                    action="continue",
                ),
            ),
        )
    )
    save_answers(
        visit=upcoming_visit,
        values={"same-place": False},
        expected_version=upcoming_visit.intake_version,
        actor=Actor.for_user(front_desk),
    )
    pages.append(("questions: the clinic saved meanwhile", patient.post("questions/", stale)))

    for page, response in pages:
        assert response.status_code == 200, page
        assert_each_message_once(response, page)


def test_a_message_shown_twice_is_caught(desk_client, patient):
    # The check itself: a page listing the summary's message again fails it.
    response = desk_client.post("/staff/patients/new/", {"given_name": ""})
    html = response.text.replace(
        "<h1>Register a patient</h1>", "<h1>Register a patient</h1><p>This field is required.</p>"
    )

    with pytest.raises(AssertionError):
        assert_each_message_once(response, "register", html)
