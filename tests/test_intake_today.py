"""The Today page: the day's visits in time order, with intake status, arrival, the
pre-visit link's progress and red flags; whose visits, in what order; one-press check-in."""

import datetime
import re
import secrets

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from audit.models import AuditEvent
from intake.models import Answer, PreVisitLink, Visit

from .factories import AnswerFactory, PatientFactory, UserFactory, VisitFactory, at_today

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


def test_newest_information_first_is_still_a_choice(desk_client, visit, intake_data, condition):
    early = VisitFactory(scheduled_at=at_today(8))
    late = VisitFactory(scheduled_at=at_today(17))
    # The 09:00 visit's intake is recorded last, so its information is the newest.
    desk_client.post(f"/staff/visits/{visit.pk}/intake/", intake_data(visit))

    by_time = desk_client.get(TODAY)
    newest_first = desk_client.get(TODAY, {"sort": "updated"})

    assert list(by_time.context["visits"]) == [early, visit, late]
    assert newest_first.context["visits"][0] == visit
    assert '<option value="updated" selected>Newest information first</option>' in (
        newest_first.text
    )


def test_status_and_red_flags_are_shown_for_each_visit(desk_client, visit, intake_data):
    quiet = VisitFactory(scheduled_at=at_today(11))
    desk_client.post(
        f"/staff/visits/{visit.pk}/intake/", intake_data(visit, {"other-symptoms": ["weakness"]})
    )

    response = desk_client.get(TODAY)

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


def test_the_day_list_is_one_audit_event_naming_every_visit_and_patient_it_shows(
    desk_client, front_desk, condition
):
    visits = [
        VisitFactory(),
        VisitFactory(red_flags=[{"message": "Weakness", "reason": "Asked", "urgent": True}]),
    ]

    desk_client.get(TODAY)

    listing = AuditEvent.objects.get(action="list")
    assert (listing.record_type, listing.actor) == ("intake.visit", front_desk)
    assert listing.detail == {
        "record_ids": sorted(v.pk for v in visits),
        "patient_ids": sorted(v.patient_id for v in visits),
    }
    for visit in visits:  # who saw this patient's record
        assert listing in AuditEvent.objects.about_patient(visit.patient_id)


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


# The order of the day, whose visits, and what each row says


def rows(response):
    """Each visit's row as plain text, in the order shown (open visits, then finished)."""
    found = []
    for body in response.text.split("<tbody")[1:]:
        for row in body.split("</tbody>")[0].split("</tr>")[:-1]:
            if "<td" in row:
                found.append(" ".join(re.sub(r"<[^>]+>", " ", row).split()))
    return found


FLAG = [{"message": "Reports weakness", "reason": "Answered “Weakness”"}]
# The order the issue found the day in.
TIMES = [(14, 30), (16, 30), (15, 15), (14, 0)]


def test_the_day_runs_by_time_with_finished_visits_after_the_rest(desk_client, condition):
    # Found as 14:30, 16:30, 15:15, 14:00, with a closed visit on top.
    at = {f"{h}:{m:02d}": VisitFactory(scheduled_at=at_today(h, m)) for h, m in TIMES}
    closed = VisitFactory(scheduled_at=at_today(8), status=Visit.Status.CLOSED)
    absent = VisitFactory(scheduled_at=at_today(7), status=Visit.Status.DID_NOT_ATTEND)

    response = desk_client.get(TODAY)

    assert list(response.context["visits"]) == [
        at["14:00"],
        at["14:30"],
        at["15:15"],
        at["16:30"],
        absent,
        closed,
    ]
    open_part, finished_part = response.text.split("Closed, cancelled and not attended</th>")
    assert closed.patient.full_name not in open_part
    assert closed.patient.full_name in finished_part
    assert "Did not attend" in finished_part


def test_red_flags_come_first_at_the_same_time_and_first_of_all_when_chosen(desk_client, condition):
    eight = VisitFactory(scheduled_at=at_today(8))
    nine = VisitFactory(scheduled_at=at_today(9))
    nine_flagged = VisitFactory(scheduled_at=at_today(9), red_flags=FLAG)
    four_flagged = VisitFactory(scheduled_at=at_today(16), red_flags=FLAG)
    finished_flagged = VisitFactory(
        scheduled_at=at_today(7), red_flags=FLAG, status=Visit.Status.CLOSED
    )

    by_time = desk_client.get(TODAY)
    flags_first = desk_client.get(TODAY, {"sort": "flags"})

    assert list(by_time.context["visits"]) == [
        eight,
        nine_flagged,
        nine,
        four_flagged,
        finished_flagged,
    ]
    assert list(flags_first.context["visits"]) == [
        nine_flagged,
        four_flagged,
        eight,
        nine,
        finished_flagged,
    ]
    assert '<option value="flags" selected>Red flags first</option>' in flags_first.text
    # A flagged row is marked with a bar, not a pink background that dims its text.
    assert by_time.text.count("visit-flagged") == 3
    assert "table-danger" not in by_time.text


def test_the_chosen_order_and_provider_stay_across_pages_and_days(desk_client, condition, provider):
    from intake.views import VISITS_PER_PAGE

    day = timezone.localdate() + datetime.timedelta(days=1)
    VisitFactory.create_batch(
        VISITS_PER_PAGE + 1, provider=provider, scheduled_at=at_today(8, days=1)
    )
    choices = {"day": f"{day:%Y-%m-%d}", "provider": str(provider.pk), "sort": "flags"}

    first = desk_client.get(TODAY, choices)
    second = desk_client.get(TODAY, {**choices, "page": "2"})

    assert f'href="?day={day:%Y-%m-%d}&amp;provider={provider.pk}&amp;sort=flags&amp;page=2"' in (
        first.text
    )
    assert "Previous page" in second.text
    assert len(second.context["visits"]) == 1
    # The form that shows another day sends the order and provider chosen.
    assert f'<option value="{provider.pk}" selected>' in second.text
    assert '<option value="flags" selected>' in second.text


def test_a_provider_sees_their_own_visits(client, sign_in, provider, condition):
    from intake.roles import PROVIDER

    provider.first_name, provider.last_name = "Pat", "Provider"
    provider.save()
    colleague = UserFactory(first_name="Rita", last_name="Reviewer", is_staff=True)
    colleague.groups.add(Group.objects.get(name=PROVIDER))
    mine = VisitFactory(provider=provider, scheduled_at=at_today(9))
    theirs = VisitFactory(provider=colleague, scheduled_at=at_today(10))
    nobodys = VisitFactory(scheduled_at=at_today(11))
    sign_in(client, provider)

    everyone = client.get(TODAY)
    own = client.get(TODAY, {"provider": "mine"})
    rita = client.get(TODAY, {"provider": str(colleague.pk)})
    unassigned = client.get(TODAY, {"provider": "none"})

    assert list(everyone.context["visits"]) == [mine, theirs, nobodys]
    assert 'href="?provider=mine">My visits</a>' in everyone.text
    assert list(own.context["visits"]) == [mine]
    assert f"My visits on {timezone.localdate():%A %-d %B %Y}" in own.text
    assert 'aria-current="page" href="?provider=mine">My visits</a>' in own.text
    assert list(rita.context["visits"]) == [theirs]
    assert "Visits with Rita Reviewer on" in rita.text
    assert list(unassigned.context["visits"]) == [nobodys]


def test_my_visits_is_offered_only_to_providers(desk_client, condition):
    VisitFactory()

    response = desk_client.get(TODAY, {"provider": "mine"})

    assert "My visits</a>" not in response.text
    assert "That provider is not on the list. Showing all providers instead." in response.text
    assert len(response.context["visits"]) == 1


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ({"sort": "by-mood"}, "That order is not on the list. Showing visits by time instead."),
        ({"provider": "999999"}, "That provider is not on the list. Showing all providers"),
        ({"provider": "abc", "sort": ""}, "That provider is not on the list."),
    ],
)
def test_a_choice_that_cannot_be_used_is_explained_and_the_default_shown(
    desk_client, condition, choices, message
):
    early, late = VisitFactory(scheduled_at=at_today(8)), VisitFactory(scheduled_at=at_today(9))

    response = desk_client.get(TODAY, choices)

    assert response.status_code == 200
    assert message in response.text
    assert list(response.context["visits"]) == [early, late]


def make_link(visit, **fields):
    """A pre-visit link at a given stage, as the link workflows leave it."""
    defaults = {
        "channel": PreVisitLink.Channel.EMAIL,
        "created_by": visit.created_by,
        "expires_at": visit.scheduled_at,
        "token_hash": secrets.token_hex(32),
        "sent_at": timezone.now(),
    }
    return PreVisitLink.objects.create(visit=visit, **{**defaults, **fields})


def test_each_row_says_how_far_the_pre_visit_link_got(desk_client, condition, clock):
    stages = {}

    def visit_at(minute, label):
        stages[label] = VisitFactory(scheduled_at=at_today(14, minute))
        return stages[label]

    visit_at(0, "None")
    make_link(visit_at(1, "Being sent"), token_hash=None, sent_at=None)
    make_link(visit_at(2, "Sent"))
    make_link(visit_at(3, "Opened"), opened_at=clock.now)
    started = visit_at(4, "Started")
    make_link(started, opened_at=clock.now)
    AnswerFactory(visit=started, source=Answer.Source.PATIENT, answered_by=None)
    make_link(visit_at(5, "Sent back"), opened_at=clock.now, submitted_at=clock.now)
    make_link(visit_at(6, "Expired"), expires_at=clock.now)
    make_link(visit_at(7, "Could not be sent"), token_hash=None, sent_at=None, send_error="No")
    replaced = visit_at(8, "Sent ")  # the newest link is the one that counts
    make_link(replaced, submitted_at=clock.now, revoked_at=clock.now, revoke_reason="Replaced")
    make_link(replaced)

    response = desk_client.get(TODAY)

    shown = rows(response)
    assert len(shown) == len(stages)
    for row, label in zip(shown, stages, strict=True):
        assert f"Pre-visit link: {label.strip()} Provider:" in row, row


def test_arrival_shows_beside_the_intake_status(desk_client, condition, clock):
    from audit.actors import Actor
    from intake.visits import check_in

    waiting = VisitFactory(scheduled_at=at_today(11))
    here = check_in(visit=VisitFactory(scheduled_at=at_today(12)), actor=Actor.system("test"))

    first, second = rows(desk_client.get(TODAY))

    assert waiting.patient.full_name in first
    assert "Scheduled" in first
    assert "Arrived" not in first
    assert here.patient.full_name in second
    assert "Checked in Arrived 10:30" in second


def test_the_buttons_on_each_row_fit_the_visit(desk_client, condition, clock):
    due = VisitFactory(scheduled_at=at_today(9))
    coming = VisitFactory(scheduled_at=at_today(15))
    seen = VisitFactory(scheduled_at=at_today(8), status=Visit.Status.SEEN)

    response = desk_client.get(TODAY, {"sort": "flags"})

    def buttons(visit):
        return (
            f'action="/staff/visits/{visit.pk}/check-in/"' in response.text,
            f'action="/staff/visits/{visit.pk}/did-not-attend/"' in response.text,
        )

    assert buttons(due) == (True, True)
    assert buttons(coming) == (True, False)
    assert buttons(seen) == (False, False)
    # Each press comes back to this list as it was chosen.
    assert 'name="next" value="/staff/?sort=flags"' in response.text
    name = due.patient.full_name
    assert f'Check in<span class="visually-hidden"> {name}</span>' in response.text


def test_another_day_offers_no_check_in(desk_client, condition, clock):
    tomorrow = VisitFactory(scheduled_at=at_today(9, days=1))

    response = desk_client.get(TODAY, {"day": f"{timezone.localdate() + datetime.timedelta(1)}"})

    assert list(response.context["visits"]) == [tomorrow]
    assert "/check-in/" not in response.text
