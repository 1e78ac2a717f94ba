"""Correcting a patient's details on the staff pages, and their contact preferences:
who may, the reason for a new name or date of birth, a stale correction refused with
the input kept, the duplicate warning, the kept versions and the audit trail; e-mail
not used for a patient who said no."""

import datetime
import json

import pytest
from django.core import mail
from django.test import Client

from audit.actors import Actor
from audit.models import AuditEvent
from intake import links
from intake.models import Patient, PreVisitLink
from intake.patients import StaleEdit, update_patient

from .factories import PatientFactory, VisitFactory, at_today

REGISTER = "/staff/patients/new/"


def edit_url(patient):
    return f"/staff/patients/{patient.pk}/edit/"


@pytest.fixture
def patient(db):
    return PatientFactory(
        given_name="Jon",
        family_name="Smtih",
        date_of_birth=datetime.date(1980, 5, 17),
        sex_at_birth="male",
        email="jon.smith@example.org",
        phone="+1 555 0123",
    )


def details(patient, **changes):
    """The correction form as the page fills it for this patient, with `changes`."""
    data = {
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
        "email": patient.email,
        "phone": patient.phone,
        "preferred_language": patient.preferred_language,
        "other_language": patient.other_language,
        "email_allowed": {True: "true", False: "false"}.get(patient.email_allowed, ""),
        "sms_allowed": {True: "true", False: "false"}.get(patient.sms_allowed, ""),
        "reason": "",
        "edit_stamp": patient.edit_stamp,
    }
    return {**data, **changes}


def history_rows(response):
    return [
        (change.by, change.record, change.fields, change.reason)
        for change in response.context["record_history"]
    ]


# The page


def test_the_patient_page_offers_to_correct_the_details(desk_client, patient):
    response = desk_client.get(patient.get_absolute_url())

    assert f'href="{edit_url(patient)}">Correct details</a>' in response.text


def test_the_correction_form_shows_the_details_as_saved(desk_client, patient, form_values):
    response = desk_client.get(edit_url(patient))

    assert response.status_code == 200
    assert "<h1>Correct details</h1>" in response.text
    values = form_values(response.text)
    assert values["given_name"] == ["Jon"]
    assert values["family_name"] == ["Smtih"]
    assert values["date_of_birth"] == ["1980-05-17"]
    assert values["phone"] == ["+1 555 0123"]
    assert values["email_allowed"] == [""]  # "Not asked" is chosen
    assert values["edit_stamp"] == [patient.edit_stamp]


# Corrections


def test_a_new_phone_number_is_saved_without_a_reason_and_kept_as_a_version(
    desk_client, front_desk, patient
):
    response = desk_client.post(edit_url(patient), details(patient, phone="+1 555 0199"))

    assert response.status_code == 302
    assert response["Location"] == patient.get_absolute_url()
    patient.refresh_from_db()
    assert patient.phone == "+1 555 0199"
    page = desk_client.get(patient.get_absolute_url())
    assert "Details corrected." in page.text
    assert history_rows(page)[0] == (
        front_desk.get_full_name(),
        "Patient",
        [("Phone", "+1 555 0123", "+1 555 0199")],
        "",
    )
    event = AuditEvent.objects.get(action="update")
    assert (event.actor, event.patient_id, event.record_id) == (front_desk, patient.pk, patient.pk)
    assert event.detail == {"fields": ["phone"]}


def test_a_new_name_is_saved_with_its_reason_and_the_history_shows_before_after_and_why(
    desk_client, front_desk, patient
):
    desk_client.post(
        edit_url(patient),
        details(patient, given_name="John", family_name="Smith", reason="Misspelt at desk"),
    )

    page = desk_client.get(patient.get_absolute_url())
    assert "<h1>John Smith</h1>" in page.text
    assert history_rows(page)[0] == (
        front_desk.get_full_name(),
        "Patient",
        [("First name", "Jon", "John"), ("Last name", "Smtih", "Smith")],
        "Misspelt at desk",
    )
    assert "<del>Smtih</del> → <ins>Smith</ins>" in page.text
    assert "Reason: Misspelt at desk" in page.text
    [before, after] = patient.history.order_by("history_id")
    assert (before.family_name, after.family_name) == ("Smtih", "Smith")
    assert (after.history_user, after.history_change_reason) == (front_desk, "Misspelt at desk")
    # The audit trail names the fields, never what they held.
    event = AuditEvent.objects.get(action="update")
    assert event.detail == {"fields": ["given_name", "family_name"]}
    assert "Smith" not in json.dumps(event.detail)


@pytest.mark.parametrize(
    "changes",
    [
        {"family_name": "Smith"},
        {"given_name": "John"},
        {"date_of_birth": "1980-05-18"},
        {"date_of_birth": "1980-05-18", "reason": "   "},
    ],
)
def test_a_new_name_or_date_of_birth_without_a_reason_is_refused_and_the_input_kept(
    desk_client, patient, changes
):
    data = details(patient, phone="+1 555 0199", **changes)

    response = desk_client.post(edit_url(patient), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["reason"] == ["Give a reason for changing the name or date of birth."]
    assert 'href="#id_reason"' in response.text
    for name, value in data.items():
        if name not in ("reason", "edit_stamp"):
            assert form[name].value() == value, name
    refreshed = Patient.objects.get(pk=patient.pk)
    assert (refreshed.family_name, refreshed.phone) == ("Smtih", "+1 555 0123")
    assert not AuditEvent.objects.filter(action="update").exists()


def test_a_correction_that_changes_nothing_saves_nothing(desk_client, patient):
    response = desk_client.post(edit_url(patient), details(patient), follow=True)

    assert "Nothing was changed." in response.text
    assert patient.history.count() == 1
    assert not AuditEvent.objects.filter(action="update").exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": " "}, "given_name", "This field is required."),
        ({"date_of_birth": "1980-02-30"}, "date_of_birth", "Enter a valid date."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
        ({"sex_at_birth": "other"}, "sex_at_birth", "Select a valid choice."),
        ({"email": "jon@"}, "email", "Enter a valid email address."),
        ({"phone": "ring after 5"}, "phone", "Use only digits, spaces and + - ( )"),
        ({"preferred_language": "xx"}, "preferred_language", "Select a valid choice."),
        ({"preferred_language": "other"}, "other_language", "Say which language"),
        ({"email": "", "email_allowed": "true"}, "email_allowed", "Give an e-mail address"),
        ({"phone": "", "sms_allowed": "true"}, "sms_allowed", "Give a phone number"),
        ({"reason": "x" * 301}, "reason", "Keep the reason to 300 characters or fewer."),
    ],
)
def test_bad_corrections_are_explained_beside_their_field_and_nothing_is_lost(
    desk_client, patient, changes, field, message
):
    data = details(patient, **{"phone": "+1 555 0199", **changes})

    response = desk_client.post(edit_url(patient), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert "There is a problem" in response.text
    for name, value in data.items():
        if name not in (field, "edit_stamp"):
            assert form[name].value() == value, name
    assert Patient.objects.get(pk=patient.pk).phone == "+1 555 0123"


def test_a_correction_from_a_page_loaded_before_someone_elses_save_is_a_conflict(
    desk_client, provider, sign_in, patient, form_values
):
    other = sign_in(Client(), provider)
    # Both open the form; the provider saves a new phone number first.
    desk_page = form_values(desk_client.get(edit_url(patient)).text)
    other.post(edit_url(patient), details(patient, phone="+1 555 0777"))
    typed = {name: values[0] for name, values in desk_page.items()}
    typed.update(email="jon.new@example.org", reason="")

    response = desk_client.post(edit_url(patient), typed)

    assert response.status_code == 409
    assert "Someone else changed this patient&#x27;s details while you were editing" in (
        response.text
    )
    assert "Your changes have not been saved yet." in response.text
    assert "What is saved now" in response.text
    assert "+1 555 0777" in response.text
    shown = form_values(response.text)
    assert shown["email"] == ["jon.new@example.org"]
    assert shown["phone"] == ["+1 555 0123"]  # what this person's form held
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("jon.smith@example.org", "+1 555 0777")
    assert shown["edit_stamp"] == [patient.edit_stamp]

    # Saving the kept input again, knowingly, replaces what the other person saved.
    again = desk_client.post(edit_url(patient), {name: values[0] for name, values in shown.items()})
    assert again.status_code == 302
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("jon.new@example.org", "+1 555 0123")


def test_update_patient_writes_nothing_on_a_stale_stamp(patient, front_desk):
    actor = Actor.for_user(front_desk)
    stamp = patient.edit_stamp
    update_patient(
        patient=patient, changes={"phone": "+1 555 0001"}, expected_stamp=stamp, actor=actor
    )

    with pytest.raises(StaleEdit):
        update_patient(
            patient=patient, changes={"phone": "+1 555 0002"}, expected_stamp=stamp, actor=actor
        )

    assert Patient.objects.get(pk=patient.pk).phone == "+1 555 0001"


def test_a_tampered_or_missing_stamp_is_explained_not_a_server_error(desk_client, patient):
    missing = desk_client.post(edit_url(patient), details(patient, phone="1234567", edit_stamp=""))
    tampered = desk_client.post(
        edit_url(patient), details(patient, phone="1234567", edit_stamp="yesterday")
    )

    assert missing.status_code == 200
    assert "This page is out of date." in missing.text
    assert tampered.status_code == 409
    assert Patient.objects.get(pk=patient.pk).phone == "+1 555 0123"


# The duplicate warning


def test_a_correction_that_makes_the_record_match_another_patient_warns_first(
    desk_client, patient, front_desk
):
    other = PatientFactory(
        given_name="John", family_name="Smith", date_of_birth=datetime.date(1980, 5, 17)
    )
    data = details(patient, given_name="John", family_name="Smith", reason="Misspelt")

    response = desk_client.post(edit_url(patient), data)

    assert response.status_code == 200
    assert "With these changes the record matches another patient" in response.text
    assert f'href="/staff/patients/{other.pk}/"' in response.text
    assert other.mrn in response.text
    assert "Same person: merge the records instead" in response.text
    assert 'type="checkbox" name="confirm_new_record"' in response.text
    assert Patient.objects.get(pk=patient.pk).family_name == "Smtih"
    assert (
        AuditEvent.objects.about_patient(other.pk).filter(action="list", actor=front_desk).exists()
    )

    confirmed = desk_client.post(edit_url(patient), {**data, "confirm_new_record": "on"})
    assert confirmed.status_code == 302
    assert Patient.objects.get(pk=patient.pk).family_name == "Smith"


def test_correcting_other_details_of_a_record_that_already_matches_does_not_warn(
    desk_client, patient
):
    PatientFactory(given_name="Jon", family_name="Smtih", date_of_birth=patient.date_of_birth)

    response = desk_client.post(edit_url(patient), details(patient, phone="+1 555 0199"))

    assert response.status_code == 302


def test_the_duplicate_warning_offers_to_merge_with_the_match_instead(
    desk_client, patient, form_values
):
    other = PatientFactory(
        given_name="John", family_name="Smith", date_of_birth=datetime.date(1980, 5, 17)
    )
    warned = desk_client.post(
        edit_url(patient), details(patient, given_name="John", family_name="Smith", reason="x")
    )
    merge_form = warned.text.split(f'action="/staff/patients/{patient.pk}/merge/"')[1]
    assert f'name="record_number" value="{other.mrn}"' in merge_form.split("</form>")[0]

    response = desk_client.post(
        f"/staff/patients/{patient.pk}/merge/", {"record_number": other.mrn, "prefill": "1"}
    )

    assert response.status_code == 200
    assert "There is a problem" not in response.text
    assert form_values(response.text)["record_number"] == [other.mrn]


# Who may correct


def test_anyone_signed_out_is_sent_to_sign_in(client, patient):
    for response in (client.get(edit_url(patient)), client.post(edit_url(patient), {})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert patient.history.count() == 1


@pytest.mark.parametrize("persona", ["editor", "clinic_admin"])
def test_roles_without_patient_records_are_refused_and_the_refusal_audited(
    client, sign_in, request, patient, persona
):
    user = request.getfixturevalue(persona)
    sign_in(client, user)

    page = client.get(edit_url(patient))
    post = client.post(edit_url(patient), details(patient, phone="+1 555 0199"))

    assert (page.status_code, post.status_code) == (403, 403)
    assert "Smtih" not in page.text
    assert Patient.objects.get(pk=patient.pk).phone == "+1 555 0123"
    denials = AuditEvent.objects.filter(action="deny", actor=user)
    assert [event.patient_id for event in denials] == [patient.pk, patient.pk]


@pytest.mark.parametrize("persona", ["front_desk", "provider"])
def test_front_desk_and_providers_may_correct_details(client, sign_in, request, patient, persona):
    sign_in(client, request.getfixturevalue(persona))

    assert client.get(edit_url(patient)).status_code == 200
    assert client.post(edit_url(patient), details(patient, phone="555 0100 22")).status_code == 302
    assert Patient.objects.get(pk=patient.pk).phone == "555 0100 22"


def test_an_unknown_patient_is_not_found(desk_client, patient):
    assert desk_client.get("/staff/patients/999999/edit/").status_code == 404


# Contact preferences


def test_registration_asks_for_the_contact_preferences(desk_client):
    response = desk_client.post(
        REGISTER,
        {
            "given_name": "Ana",
            "family_name": "Reyes",
            "date_of_birth": "1990-02-03",
            "sex_at_birth": "female",
            "email": "ana@example.org",
            "phone": "555 0100 33",
            "preferred_language": "es",
            "email_allowed": "false",
            "sms_allowed": "true",
        },
        follow=True,
    )

    patient = Patient.objects.get()
    assert (patient.preferred_language, patient.email_allowed, patient.sms_allowed) == (
        "es",
        False,
        True,
    )
    text = response.text
    assert 'Preferred language</dt><dd class="col-sm-9">Spanish</dd>' in text
    assert 'E-mail may be used</dt><dd class="col-sm-9">No' in text
    assert 'Text messages may be used</dt><dd class="col-sm-9">Yes' in text


def test_the_registration_form_offers_the_languages_with_their_codes(desk_client):
    response = desk_client.get(REGISTER)

    assert '<option value="es">Spanish</option>' in response.text
    assert '<option value="ase">American Sign Language</option>' in response.text
    assert '<option value="other">Other</option>' in response.text
    assert '<option value="" selected>Not asked</option>' in response.text
    assert 'name="email_allowed" value="false"' in response.text


def test_preferences_not_asked_are_shown_as_not_asked(desk_client, patient):
    response = desk_client.get(patient.get_absolute_url())

    assert response.text.count('<span class="text-secondary">Not asked</span>') == 3


def test_another_language_is_saved_by_name(desk_client, patient):
    desk_client.post(
        edit_url(patient),
        details(patient, preferred_language="other", other_language="  Amharic "),
    )

    patient.refresh_from_db()
    assert (patient.preferred_language, patient.other_language) == ("other", "Amharic")
    page = desk_client.get(patient.get_absolute_url())
    assert 'Preferred language</dt><dd class="col-sm-9">Amharic</dd>' in page.text


def test_a_language_from_the_list_clears_a_leftover_other_language(desk_client, patient):
    desk_client.post(
        edit_url(patient), details(patient, preferred_language="vi", other_language="Amharic")
    )

    patient.refresh_from_db()
    assert (patient.preferred_language, patient.other_language) == ("vi", "")


# No e-mail for a patient who said no


@pytest.fixture
def no_email_visit(condition):
    patient = PatientFactory(email="ines@example.org", email_allowed=False)
    return VisitFactory(patient=patient, scheduled_at=at_today(10, days=3))


def test_the_visit_page_offers_no_e_mail_to_a_patient_who_said_no(desk_client, no_email_visit):
    response = desk_client.get(f"/staff/visits/{no_email_visit.pk}/")

    assert "Send link by e-mail" not in response.text
    assert "The patient asked not to be contacted by e-mail" in response.text
    assert "Show a link to copy" in response.text


def test_e_mailing_a_link_to_a_patient_who_said_no_is_refused_with_a_clear_message(
    desk_client, no_email_visit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_client.post(f"/staff/visits/{no_email_visit.pk}/link/send/", follow=True)

    assert (
        "The patient asked not to be contacted by e-mail. Show a link to copy instead."
        in response.text
    )
    assert not PreVisitLink.objects.exists()
    assert mail.outbox == []
    shown = desk_client.post(f"/staff/visits/{no_email_visit.pk}/link/show/")
    assert shown.status_code == 200
    assert PreVisitLink.objects.get().channel == PreVisitLink.Channel.SHOWN


def test_a_queued_link_is_not_e_mailed_once_the_patient_said_no(
    upcoming_visit, front_desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        link = links.send_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))
    # Before the task runs, the patient tells the desk not to e-mail them.
    Patient.objects.filter(pk=upcoming_visit.patient_id).update(email_allowed=False)
    for callback in queued:
        callback()

    assert mail.outbox == []
    link.refresh_from_db()
    assert link.state == PreVisitLink.State.FAILED
    assert link.send_error.startswith("The patient asked not to be contacted by e-mail")


def test_a_patient_who_agreed_to_e_mail_is_sent_the_link(
    desk_client, upcoming_visit, django_capture_on_commit_callbacks
):
    Patient.objects.filter(pk=upcoming_visit.patient_id).update(email_allowed=True)

    with django_capture_on_commit_callbacks(execute=True):
        desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/send/")

    assert [message.to for message in mail.outbox] == [["ines.okafor@example.org"]]
