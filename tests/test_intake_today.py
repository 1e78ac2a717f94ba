"""The Today page: the day's visits with intake status and red flags."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from intake.models import Visit

from .factories import PatientFactory, UserFactory, VisitFactory, at_today

TODAY = "/staff/"


def test_today_lists_the_days_visits_with_time_patient_condition_status_and_provider(
    desk_client, condition
):
    patient = PatientFactory(
        given_name="Ines", family_name="Vargas", date_of_birth=datetime.date(2001, 6, 21)
    )
    provider = UserFactory(first_name="Pat", last_name="Provider")
    visit = VisitFactory(patient=patient, provider=provider, scheduled_at=at_today(10, 15))
    VisitFactory(patient=PatientFactory(given_name="Tomorrow"), scheduled_at=at_today(9, days=1))
    VisitFactory(patient=PatientFactory(given_name="Yesterday"), scheduled_at=at_today(9, days=-1))

    response = desk_client.get(TODAY)

    assert list(response.context["visits"]) == [visit]
    text = response.text
    assert f"Visits on {timezone.localdate():%A %-d %B %Y}" in text
    assert "10:15" in text
    assert f'<a href="/staff/visits/{visit.pk}/">Ines Vargas</a>' in text
    assert f"{patient.mrn} · born 21 Jun 2001" in text
    assert "Muscle twitches" in text
    assert "Scheduled" in text
    assert "Pat Provider" in text
    assert "Tomorrow" not in text
    assert "Yesterday" not in text


def test_another_day_is_shown_with_day_in_the_address(desk_client, condition):
    day = timezone.localdate() + datetime.timedelta(days=3)
    later = VisitFactory(scheduled_at=at_today(11, days=3))
    VisitFactory(scheduled_at=at_today(11))

    response = desk_client.get(TODAY, {"day": day.isoformat()})

    assert list(response.context["visits"]) == [later]
    assert f"Visits on {day:%A %-d %B %Y}" in response.text
    assert f'value="{day.isoformat()}"' in response.text


def test_a_visit_late_in_the_evening_belongs_to_its_own_day(desk_client, condition):
    late = VisitFactory(scheduled_at=at_today(23, 59))
    VisitFactory(scheduled_at=at_today(0, 0, days=1))

    response = desk_client.get(TODAY)

    assert list(response.context["visits"]) == [late]


def test_a_day_with_no_visits_says_so(desk_client):
    response = desk_client.get(TODAY, {"day": "2030-01-01"})

    assert "No visits on this day." in response.text


@pytest.mark.parametrize("day", ["tomorrow", "2026-02-30", "0000-01-01", "9999-12-31", "1-1-1"])
def test_a_day_that_cannot_be_shown_is_explained_and_today_shown_instead(
    desk_client, condition, day
):
    visit = VisitFactory()

    response = desk_client.get(TODAY, {"day": day})

    assert response.status_code == 200
    assert "Showing today instead." in response.text
    assert list(response.context["visits"]) == [visit]


def test_the_newest_information_comes_first(desk_client, visit, intake_data, condition):
    early = VisitFactory(scheduled_at=at_today(8))
    late = VisitFactory(scheduled_at=at_today(17))
    # The 09:00 visit's intake is recorded last, so its information is the newest.
    desk_client.post(f"/staff/visits/{visit.pk}/intake/", intake_data(visit))

    newest_first = desk_client.get(TODAY)
    by_time = desk_client.get(TODAY, {"sort": "time"})

    assert newest_first.context["visits"][0] == visit
    assert "Newest information first." in newest_first.text
    assert list(by_time.context["visits"]) == [early, visit, late]
    assert "Sorted by time." in by_time.text


def test_status_and_red_flags_are_shown_for_each_visit(desk_client, visit, intake_data):
    quiet = VisitFactory(scheduled_at=at_today(11))
    desk_client.post(
        f"/staff/visits/{visit.pk}/intake/", intake_data(visit, {"other-symptoms": ["weakness"]})
    )

    response = desk_client.get(TODAY, {"sort": "time"})

    rows = response.text.split("<tbody>")[1].split("</tr>")
    assert "Intake complete" in rows[0]
    assert "Reports weakness" in rows[0]
    assert "Scheduled" in rows[1]
    assert "None" in rows[1]
    assert quiet.patient.full_name in rows[1]


def test_cancelled_visits_stay_on_the_list_marked_cancelled(desk_client, visit):
    desk_client.post(f"/staff/visits/{visit.pk}/cancel/", {"reason": "Patient called"})

    response = desk_client.get(TODAY)

    assert Visit.objects.get().status == "cancelled"
    assert "Cancelled" in response.text


def test_each_listed_patient_is_recorded_in_the_audit_trail(desk_client, condition):
    visits = [VisitFactory(), VisitFactory()]

    desk_client.get(TODAY)

    listed = AuditEvent.objects.filter(action="list", record_type="intake.visit")
    assert sorted(listed.values_list("patient_id", flat=True)) == sorted(
        v.patient_id for v in visits
    )


def test_a_busy_day_is_shown_a_hundred_visits_at_a_time(client, front_desk, condition):
    from intake.views import VISITS_PER_PAGE

    day = timezone.localdate() + datetime.timedelta(days=1)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))
    VisitFactory.create_batch(
        VISITS_PER_PAGE + 5,
        condition=condition,
        scheduled_at=start,
    )
    client.force_login(front_desk)

    first = client.get(f"/staff/?day={day:%Y-%m-%d}&sort=time")
    second = client.get(f"/staff/?day={day:%Y-%m-%d}&sort=time&page=2")

    assert first.text.count('href="/staff/visits/') == VISITS_PER_PAGE
    assert "Page 1 of 2 (105 visits)" in first.text
    assert second.text.count('href="/staff/visits/') == 5
    assert "Previous page" in second.text
