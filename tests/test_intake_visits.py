"""Opening a visit, the visit page, and cancelling a visit."""

import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from audit.models import AuditEvent
from conditions.models import Condition
from intake.models import Visit

from .factories import AnswerFactory, PatientFactory, UserFactory, VisitFactory, at_today


def open_url(patient):
    return f"/staff/patients/{patient.pk}/visits/new/"


def cancel_url(visit):
    return f"/staff/visits/{visit.pk}/cancel/"


def visit_url(visit):
    return f"/staff/visits/{visit.pk}/"


# Opening a visit


def test_opening_a_visit_records_who_opened_it_and_shows_it(
    desk_client, condition, front_desk, provider
):
    patient = PatientFactory()
    today = timezone.localdate()

    response = desk_client.post(
        open_url(patient),
        {
            "condition": condition.pk,
            "scheduled_date": today.isoformat(),
            "scheduled_time": "14:30",
            "provider": provider.pk,
        },
        follow=True,
    )

    visit = Visit.objects.get()
    assert response.redirect_chain == [(visit_url(visit), 302)]
    assert "Visit opened." in response.text
    assert (visit.patient, visit.condition, visit.provider) == (patient, condition, provider)
    assert timezone.localtime(visit.scheduled_at) == at_today(14, 30)
    assert visit.status == Visit.Status.SCHEDULED
    assert visit.created_by == front_desk
    assert AuditEvent.objects.filter(action="create", record_type="intake.visit").count() == 1


def test_the_open_visit_form_offers_published_conditions_and_providers_only(
    desk_client, condition, provider, front_desk
):
    Condition.objects.create(title="Leg cramps", slug="leg-cramps")  # a draft

    response = desk_client.get(open_url(PatientFactory()))

    assert "Muscle twitches" in response.text
    assert "Leg cramps" not in response.text
    choices = response.context["form"].fields["provider"].queryset
    assert list(choices) == [provider]
    assert f'<option value="{provider.pk}">{provider.get_full_name()}</option>' in response.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"scheduled_date": "2020-01-01"}, "scheduled_date", "A new visit cannot be in the past."),
        ({"scheduled_date": "tomorrow"}, "scheduled_date", "Enter a valid date."),
        ({"scheduled_time": ""}, "scheduled_time", "This field is required."),
        ({"scheduled_time": "25:00"}, "scheduled_time", "Enter a valid time."),
        ({"condition": "999999"}, "condition", "Select a valid choice."),
        ({"provider": "fran"}, "provider", "Select a valid choice."),
    ],
)
def test_bad_visit_details_are_explained_and_nothing_is_opened(
    desk_client, condition, changes, field, message
):
    data = {
        "condition": condition.pk,
        "scheduled_date": timezone.localdate().isoformat(),
        "scheduled_time": "09:00",
        "provider": "",
        **changes,
    }

    response = desk_client.post(open_url(PatientFactory()), data)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert "There is a problem" in response.text
    assert Visit.objects.count() == 0


def test_a_provider_who_is_only_a_clerk_cannot_be_assigned(desk_client, condition, front_desk):
    data = {
        "condition": condition.pk,
        "scheduled_date": timezone.localdate().isoformat(),
        "scheduled_time": "09:00",
        "provider": front_desk.pk,
    }

    response = desk_client.post(open_url(PatientFactory()), data)

    assert "provider" in response.context["form"].errors
    assert Visit.objects.count() == 0


# The visit page


def test_the_visit_page_shows_patient_time_status_and_provider(desk_client, condition):
    provider = UserFactory(first_name="Pat", last_name="Provider")
    patient = PatientFactory(given_name="Ines", family_name="Vargas")
    visit = VisitFactory(patient=patient, provider=provider, scheduled_at=at_today(10, 15))

    response = desk_client.get(visit_url(visit))

    assert response.status_code == 200
    assert "<h1>Muscle twitches visit</h1>" in response.text
    assert "Ines Vargas" in response.text
    assert patient.mrn in response.text
    assert "10:15" in response.text
    assert "Scheduled" in response.text
    assert "Provider: Pat Provider" in response.text
    assert "No answers recorded yet." in response.text
    assert f'href="/staff/visits/{visit.pk}/intake/">Record intake' in response.text


def test_the_visit_page_lists_answers_as_asked_with_who_answered_and_when(
    desk_client, visit, intake_data, front_desk
):
    front_desk.first_name, front_desk.last_name = "Fran", "Desk"
    front_desk.save()
    desk_client.post(f"/staff/visits/{visit.pk}/intake/", intake_data(visit))

    response = desk_client.get(visit_url(visit))

    text = response.text
    assert "Intake complete" in text
    for wording, shown in [
        ("When did you first notice the twitching?", "{:%-d %b %Y}"),
        ("How long does each twitch last?", "5 seconds"),
        ("How often do you have twitching?", "Several times a day"),
        ("Which muscles are affected?", "Eyelid (left)"),
        ("Is the twitching always in the same place?", "Yes"),
        ("Are you pregnant?", "No"),
        ("Do you have any of these other symptoms?", "None of these"),
    ]:
        assert wording in text
        assert shown.format(timezone.localdate() - datetime.timedelta(days=2)) in text
    assert text.count("Fran Desk") >= 7
    assert f"{timezone.localtime():%-d %b %Y}" in text
    assert f'href="/staff/visits/{visit.pk}/intake/">Edit intake' in text
    assert "Red flags" in text


def test_answers_show_in_the_order_the_questions_were_asked(desk_client, visit):
    AnswerFactory(visit=visit, wording="Second question?", position=2)
    AnswerFactory(visit=visit, wording="First question?", position=1)

    text = desk_client.get(visit_url(visit)).text

    assert text.index("First question?") < text.index("Second question?")


def test_answer_text_is_shown_as_text_not_markup(desk_client, visit):
    AnswerFactory(visit=visit, wording="<i>Asked</i>?", value_text="<script>alert(1)</script>")

    text = desk_client.get(visit_url(visit)).text

    assert "&lt;i&gt;Asked&lt;/i&gt;?" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text


# Cancelling


def test_cancelling_a_visit_records_the_reason_and_shows_it(desk_client, visit, front_desk):
    response = desk_client.post(
        cancel_url(visit), {"reason": "  Patient   called to cancel "}, follow=True
    )

    assert response.redirect_chain == [(visit_url(visit), 302)]
    assert "Visit cancelled." in response.text
    assert "Cancelled: Patient called to cancel" in response.text
    visit.refresh_from_db()
    assert (visit.status, visit.cancel_reason) == ("cancelled", "Patient called to cancel")
    assert AuditEvent.objects.filter(action="cancel", actor=front_desk).count() == 1
    # Nothing more can be done to a cancelled visit from its page.
    assert "Cancel visit" not in response.text
    assert "Record intake" not in response.text


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Give a reason for cancelling the visit."),
        ("   ", "Give a reason for cancelling the visit."),
        ("x" * 301, "Keep the reason to 300 characters or fewer."),
    ],
)
def test_a_visit_is_not_cancelled_without_a_reason(desk_client, visit, reason, message):
    response = desk_client.post(cancel_url(visit), {"reason": reason}, follow=True)

    assert message in response.text
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SCHEDULED


def test_a_cancelled_visit_cannot_be_cancelled_again(desk_client, visit):
    desk_client.post(cancel_url(visit), {"reason": "Patient called"})

    response = desk_client.post(cancel_url(visit), {"reason": "Again"}, follow=True)

    assert "This visit is already cancelled." in response.text
    assert "Cancelled: Patient called" in response.text
    visit.refresh_from_db()
    assert visit.cancel_reason == "Patient called"


def test_a_seen_visit_cannot_be_cancelled(desk_client, visit):
    Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.SEEN)

    response = desk_client.post(cancel_url(visit), {"reason": "Too late"}, follow=True)

    assert "A visit that is seen cannot become cancelled." in response.text
    visit.refresh_from_db()
    assert visit.status == Visit.Status.SEEN


def test_the_database_refuses_a_cancelled_visit_without_a_reason(visit):
    with pytest.raises(IntegrityError):
        Visit.objects.filter(pk=visit.pk).update(status=Visit.Status.CANCELLED)
