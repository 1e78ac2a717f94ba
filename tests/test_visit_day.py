"""A visit through its day on the staff pages: checking in, a patient who did not come,
moving a visit to another time, and closing it once its orders are done (or for a reason)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from intake.links import show_previsit_link
from intake.models import PreVisitLink, Visit
from intake.roles import PROVIDER
from intake.visits import check_in, close_visit, mark_did_not_attend, mark_seen

from .factories import TestOrderFactory, VisitFactory, at_today

Status = Visit.Status


def url(visit, action):
    return f"/staff/visits/{visit.pk}/{action}/"


def visit_url(visit):
    return f"/staff/visits/{visit.pk}/"


def shown_message(response):
    """The messages the page shows at its top."""
    return [str(message) for message in response.context["messages"]]


def updates(visit):
    return AuditEvent.objects.filter(
        action="update", record_type="intake.visit", record_id=visit.pk
    ).order_by("pk")


@pytest.fixture(autouse=True)
def half_past_ten(clock):
    """Every test here runs at 10:30 today, set before any record is made, so that the
    records' times and versions follow one clock."""
    return clock


@pytest.fixture
def afternoon_visit(condition):
    """A visit at 14:00 today: with the clock at 10:30, it is not yet due."""
    return VisitFactory(condition=condition, scheduled_at=at_today(14))


# Checking in


def test_checking_in_from_the_day_list_records_the_arrival_and_returns_to_the_same_list(
    desk_client, visit, front_desk, clock
):
    day_list = "/staff/?sort=flags&provider=none"

    response = desk_client.post(url(visit, "check-in"), {"next": day_list}, follow=True)

    assert response.redirect_chain == [(day_list, 302)]
    assert shown_message(response) == ["Mara Lindqvist checked in at 10:30."]
    visit.refresh_from_db()
    assert (visit.status, visit.checked_in_at, visit.checked_in_by) == (
        Status.CHECKED_IN,
        clock.now,
        front_desk,
    )
    event = updates(visit).get()
    assert event.detail == {"status": "checked_in", "checked_in": True}
    assert (event.actor, event.patient_id) == (front_desk, visit.patient_id)
    version = visit.history.latest("history_id")
    assert (version.status, version.history_actor) == (Status.CHECKED_IN, "fran.frontdesk")


def test_the_visit_page_shows_the_arrival_and_who_checked_the_patient_in(
    desk_client, visit, front_desk, clock
):
    front_desk.first_name, front_desk.last_name = "Fran", "Desk"
    front_desk.save()

    response = desk_client.post(url(visit, "check-in"), follow=True)

    assert response.redirect_chain == [(visit_url(visit), 302)]
    assert "Arrived at <strong>10:30</strong>, checked in by Fran Desk." in response.text
    assert "Checked in</span>" in response.text
    # Arrived: no second check-in, no new time, no "did not come".
    assert url(visit, "check-in") not in response.text
    assert url(visit, "reschedule") not in response.text
    assert url(visit, "did-not-attend") not in response.text
    assert "<del>Scheduled</del> → <ins>Checked in</ins>" in response.text


def test_a_patient_who_sent_their_answers_before_arriving_keeps_intake_complete(
    desk_client, flagged_visit, clock
):
    desk_client.post(url(flagged_visit, "check-in"))

    flagged_visit.refresh_from_db()
    assert flagged_visit.status == Status.INTAKE_COMPLETE
    assert flagged_visit.checked_in_at == clock.now
    row = desk_client.get("/staff/").text.split("<tbody>")[1]
    assert "Intake complete" in row
    assert "Arrived 10:30" in row


def test_intake_saved_after_arrival_keeps_the_arrival(desk_client, visit, intake_data, clock):
    desk_client.post(url(visit, "check-in"))
    visit.refresh_from_db()
    clock.move(minutes=5)

    desk_client.post(url(visit, "intake"), intake_data(visit, action="draft"))

    visit.refresh_from_db()
    assert visit.status == Status.INTAKE_IN_PROGRESS
    assert visit.checked_in_at == clock.now - datetime.timedelta(minutes=5)
    row = desk_client.get("/staff/").text.split("<tbody>")[1]
    assert "Intake in progress" in row
    assert "Arrived 10:30" in row
    # Arrived is arrived, whatever the intake does.
    response = desk_client.post(url(visit, "did-not-attend"), follow=True)
    assert shown_message(response) == [
        "Mara Lindqvist checked in at 10:30: the visit cannot be marked as not attended."
    ]


def test_a_second_press_says_when_the_patient_arrived_and_changes_nothing(
    desk_client, visit, clock
):
    desk_client.post(url(visit, "check-in"), follow=True)
    clock.move(minutes=2)

    response = desk_client.post(url(visit, "check-in"), follow=True)

    assert shown_message(response) == ["Mara Lindqvist was already checked in at 10:30."]
    visit.refresh_from_db()
    assert visit.checked_in_at == clock.now - datetime.timedelta(minutes=2)
    assert updates(visit).count() == 1


def test_a_visit_on_another_day_is_not_checked_in(desk_client, condition, clock):
    tomorrow = VisitFactory(condition=condition, scheduled_at=at_today(9, days=1))

    response = desk_client.post(url(tomorrow, "check-in"), follow=True)

    (message,) = shown_message(response)
    assert message.startswith(f"This visit is on {at_today(9, days=1):%A %-d %B}:")
    assert "Move the visit to today first" in message
    tomorrow.refresh_from_db()
    assert (tomorrow.status, tomorrow.checked_in_at) == (Status.SCHEDULED, None)


@pytest.mark.parametrize("status", [Status.SEEN, Status.CLOSED])
def test_a_visit_already_seen_is_not_checked_in(desk_client, visit, clock, status):
    Visit.objects.filter(pk=visit.pk).update(status=status)

    response = desk_client.post(url(visit, "check-in"), follow=True)

    label = Status(status).label.lower()
    assert shown_message(response) == [f"This visit is {label}: the patient cannot be checked in."]
    visit.refresh_from_db()
    assert visit.checked_in_at is None


def test_a_cancelled_visit_is_not_checked_in(desk_client, visit, clock):
    desk_client.post(url(visit, "cancel"), {"reason": "Patient called"}, follow=True)

    response = desk_client.post(url(visit, "check-in"), follow=True)

    assert shown_message(response) == ["This visit is cancelled: the patient cannot be checked in."]


@pytest.mark.parametrize(
    "elsewhere", ["https://example.com/staff/", "//example.com/staff/", "/admin/", "/v/abc/"]
)
def test_an_action_returns_only_to_a_staff_page_of_this_site(desk_client, visit, clock, elsewhere):
    response = desk_client.post(url(visit, "check-in"), {"next": elsewhere})

    assert response["Location"] == visit_url(visit)


def test_the_database_refuses_a_checked_in_visit_without_an_arrival_time(visit):
    with pytest.raises(IntegrityError):
        Visit.objects.filter(pk=visit.pk).update(status=Status.CHECKED_IN)


def test_the_database_refuses_an_absent_patient_with_an_arrival_time(visit):
    with pytest.raises(IntegrityError):
        Visit.objects.filter(pk=visit.pk).update(
            status=Status.DID_NOT_ATTEND, checked_in_at=timezone.now()
        )


# A patient who did not come


def test_a_visit_whose_time_has_passed_is_marked_not_attended_with_one_press(
    desk_client, visit, front_desk, clock
):
    response = desk_client.post(url(visit, "did-not-attend"), {"next": "/staff/"}, follow=True)

    assert response.redirect_chain == [("/staff/", 302)]
    assert shown_message(response) == ["Mara Lindqvist: marked as not attended."]
    visit.refresh_from_db()
    assert (visit.status, visit.did_not_attend_reason) == (Status.DID_NOT_ATTEND, "")
    assert updates(visit).get().detail == {"status": "did_not_attend"}
    # Listed with the day's finished visits, marked as such.
    finished = response.text.split("Closed, cancelled and not attended</th>")[1]
    assert "Mara Lindqvist" in finished
    assert "Did not attend" in finished


def test_before_its_time_a_visit_is_marked_not_attended_only_with_a_reason(
    desk_client, afternoon_visit, clock
):
    refused = desk_client.post(url(afternoon_visit, "did-not-attend"), {"next": "/staff/"})

    assert refused.status_code == 200
    assert "<h1>Mark as not attended</h1>" in refused.text
    message = "The visit is not due until 14:00: give a reason to mark it as not attended now."
    assert refused.context["form"].errors == {"reason": [message]}
    assert 'id="error-summary"' in refused.text
    assert 'name="next" value="/staff/"' in refused.text
    afternoon_visit.refresh_from_db()
    assert afternoon_visit.status == Status.SCHEDULED

    response = desk_client.post(
        url(afternoon_visit, "did-not-attend"),
        {"absent-reason": "  Called: stuck   abroad ", "next": "/staff/"},
    )

    assert response["Location"] == "/staff/"
    afternoon_visit.refresh_from_db()
    assert afternoon_visit.status == Status.DID_NOT_ATTEND
    assert afternoon_visit.did_not_attend_reason == "Called: stuck abroad"
    page = desk_client.get(visit_url(afternoon_visit)).text
    assert "Did not attend: Called: stuck abroad" in page
    version = afternoon_visit.history.latest("history_id")
    assert version.history_change_reason == "Called: stuck abroad"


def test_a_reason_too_long_comes_back_beside_its_field_as_typed(desk_client, afternoon_visit):
    reason = "Phoned " + "x" * 300

    response = desk_client.post(url(afternoon_visit, "did-not-attend"), {"absent-reason": reason})

    assert response.context["form"].errors == {
        "reason": ["Keep the reason to 300 characters or fewer."]
    }
    assert reason in response.text
    afternoon_visit.refresh_from_db()
    assert afternoon_visit.status == Status.SCHEDULED


def test_a_visit_on_a_later_day_is_cancelled_rather_than_marked_not_attended(
    desk_client, condition, clock
):
    later = VisitFactory(condition=condition, scheduled_at=at_today(9, days=2))

    response = desk_client.post(
        url(later, "did-not-attend"), {"absent-reason": "Will not come"}, follow=True
    )

    (message,) = shown_message(response)
    assert message.endswith("If the patient will not come, cancel the visit instead.")
    later.refresh_from_db()
    assert later.status == Status.SCHEDULED


def test_a_patient_marked_not_attended_who_arrives_late_gets_back_their_intake(
    desk_client, flagged_visit, clock
):
    desk_client.post(url(flagged_visit, "did-not-attend"), follow=True)
    clock.move(minutes=15)

    response = desk_client.post(url(flagged_visit, "check-in"), follow=True)

    assert shown_message(response) == ["Mara Lindqvist checked in at 10:45."]
    assert "Arrived after all: check in" not in response.text
    flagged_visit.refresh_from_db()
    assert flagged_visit.status == Status.INTAKE_COMPLETE
    assert flagged_visit.did_not_attend_reason == ""
    version = flagged_visit.history.latest("history_id")
    assert version.history_change_reason == "Arrived after being marked as not attended"


def test_a_late_arrival_with_no_intake_is_simply_checked_in(desk_client, visit, clock):
    desk_client.post(url(visit, "did-not-attend"))
    page = desk_client.get(visit_url(visit)).text
    assert "Arrived after all: check in" in page

    desk_client.post(url(visit, "check-in"))

    visit.refresh_from_db()
    assert (visit.status, visit.checked_in_at) == (Status.CHECKED_IN, clock.now)


def test_a_patient_who_did_not_come_finds_their_link_closed(upcoming_visit, front_desk, clock):
    actor = Actor.for_user(front_desk)
    link, _ = show_previsit_link(visit=upcoming_visit, actor=actor)
    Visit.objects.filter(pk=upcoming_visit.pk).update(scheduled_at=at_today(9))
    upcoming_visit.refresh_from_db()

    mark_did_not_attend(visit=upcoming_visit, actor=actor)

    link.refresh_from_db()
    assert link.state == PreVisitLink.State.CLOSED


# Moving a visit to another time


def reschedule(client, visit, when, reason="Patient asked for an afternoon"):
    return client.post(
        url(visit, "reschedule"),
        {
            "reschedule-scheduled_date": f"{when:%Y-%m-%d}",
            "reschedule-scheduled_time": f"{when:%H:%M}",
            "reschedule-reason": reason,
        },
        follow=True,
    )


def test_moving_a_visit_keeps_the_old_time_and_the_reason_in_its_history(
    desk_client, upcoming_visit, front_desk
):
    new_time = at_today(15, 15, days=4)

    response = reschedule(desk_client, upcoming_visit, new_time)

    assert response.redirect_chain == [(visit_url(upcoming_visit), 302)]
    assert shown_message(response) == [f"Visit moved to {new_time:%A %-d %B %Y}, 15:15."]
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.scheduled_at == new_time
    version = upcoming_visit.history.latest("history_id")
    assert (version.history_change_reason, version.history_actor) == (
        "Patient asked for an afternoon",
        "fran.frontdesk",
    )
    assert "Patient asked for an afternoon" in response.text
    event = updates(upcoming_visit).get()
    assert (event.actor, event.detail) == (front_desk, {"fields": ["scheduled_at"]})


def test_an_unfinished_link_follows_the_new_time(desk_client, upcoming_visit, front_desk):
    link, _ = show_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))
    assert link.expires_at == upcoming_visit.scheduled_at

    # Earlier than the link would otherwise last: it works until the new time.
    sooner = at_today(8, days=2)
    reschedule(desk_client, upcoming_visit, sooner)
    link.refresh_from_db()
    assert link.expires_at == sooner

    # Later than a link lasts: no longer than a link issued when this one was.
    much_later = at_today(9, days=20)
    reschedule(desk_client, upcoming_visit, much_later)
    link.refresh_from_db()
    assert link.expires_at == link.created_at + datetime.timedelta(days=7)
    assert link.state == PreVisitLink.State.ACTIVE
    moved = AuditEvent.objects.filter(record_type="intake.previsitlink", action="update")
    assert [event.detail for event in moved] == [{"fields": ["expires_at"]}] * 2


def test_a_link_whose_answers_were_sent_back_stays_as_it_was(
    desk_client, upcoming_visit, front_desk
):
    link, _ = show_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))
    PreVisitLink.objects.filter(pk=link.pk).update(submitted_at=timezone.now())
    link.refresh_from_db()

    reschedule(desk_client, upcoming_visit, at_today(8, days=2))

    expires_at = link.expires_at
    link.refresh_from_db()
    assert link.expires_at == expires_at == at_today(10, days=3)
    assert not AuditEvent.objects.filter(record_type="intake.previsitlink", action="update")


def test_moving_a_visit_works_out_its_date_dependent_flags_again(
    desk_client, visit, intake_data, clock
):
    # Twitching noticed two days before the visit: not yet "long-term" (over 3 days).
    desk_client.post(url(visit, "intake"), intake_data(visit))
    visit.refresh_from_db()
    assert visit.red_flags == []

    reschedule(desk_client, visit, at_today(9, days=5))

    visit.refresh_from_db()
    assert [flag["message"] for flag in visit.red_flags] == [
        "Twitching for more than a few days (long-term)"
    ]


def test_a_visit_cannot_move_to_a_time_that_has_passed(desk_client, upcoming_visit, clock):
    response = reschedule(desk_client, upcoming_visit, at_today(10), reason="Patient is here early")

    assert response.redirect_chain == []
    assert "<h1>Move the visit</h1>" in response.text
    assert response.context["form"].errors == {
        "scheduled_date": ["Choose a time that has not passed."]
    }
    # What was typed comes back.
    assert "Patient is here early" in response.text
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in response.text
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.scheduled_at == at_today(10, days=3)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"reschedule-scheduled_date": "", "reschedule-scheduled_time": "", "reason": ""},
            {
                "scheduled_date": ["Enter the new date."],
                "scheduled_time": ["Enter the new time."],
                "reason": ["Give a reason for moving the visit."],
            },
        ),
        (
            {
                "reschedule-scheduled_date": "2031-02-30",
                "reschedule-scheduled_time": "25:00",
                "reschedule-reason": "  ",
            },
            {
                "scheduled_date": ["Enter a valid date."],
                "scheduled_time": ["Enter a time such as 14:30."],
                "reason": ["Give a reason for moving the visit."],
            },
        ),
        (
            {
                "reschedule-scheduled_date": "2301-01-01",
                "reschedule-scheduled_time": "09:00",
                "reschedule-reason": "Far off",
            },
            {"scheduled_date": ["Check the year of the new date."]},
        ),
    ],
)
def test_bad_input_for_a_new_time_is_explained_beside_each_field(
    desk_client, upcoming_visit, data, errors
):
    response = desk_client.post(url(upcoming_visit, "reschedule"), data)

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.scheduled_at == at_today(10, days=3)
    assert not updates(upcoming_visit).exists()


def test_moving_a_visit_to_the_time_it_has_is_refused(desk_client, upcoming_visit):
    response = reschedule(desk_client, upcoming_visit, upcoming_visit.scheduled_at)

    assert response.context["form"].errors == {
        "scheduled_date": ["The visit is at that time already."]
    }


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (Status.SEEN, "This visit is seen: it cannot move to another time."),
        (Status.CLOSED, "This visit is closed: it cannot move to another time."),
        (Status.DID_NOT_ATTEND, "This visit is did not attend: it cannot move to another time."),
    ],
)
def test_a_finished_visit_cannot_move(desk_client, visit, clock, status, message):
    Visit.objects.filter(pk=visit.pk).update(status=status)

    response = reschedule(desk_client, visit, at_today(9, days=1))

    assert response.context["form"].non_field_errors() == [message]
    visit.refresh_from_db()
    assert visit.scheduled_at == at_today(9)


def test_a_cancelled_or_checked_in_visit_cannot_move(desk_client, visit, afternoon_visit, clock):
    desk_client.post(url(visit, "cancel"), {"reason": "Patient called"})
    desk_client.post(url(afternoon_visit, "check-in"))

    cancelled = reschedule(desk_client, visit, at_today(9, days=1))
    arrived = reschedule(desk_client, afternoon_visit, at_today(9, days=1))

    assert cancelled.context["form"].non_field_errors() == [
        "This visit is cancelled: it cannot move to another time."
    ]
    name = afternoon_visit.patient.full_name
    assert arrived.context["form"].non_field_errors() == [
        f"{name} checked in at 10:30: the visit can no longer move. "
        "Cancel it with a reason and open a new one."
    ]
    assert "Patient asked for an afternoon" in arrived.text


# Closing


@pytest.fixture
def seen_visit(visit, provider):
    return mark_seen(visit=visit, actor=Actor.for_user(provider))


def test_a_seen_visit_whose_orders_are_all_done_closes_with_one_press(
    provider_client, provider, seen_visit
):
    TestOrderFactory(visit=seen_visit, ordered_by=provider, reviewed=True)
    TestOrderFactory(visit=seen_visit, ordered_by=provider, cancelled=True)
    page = provider_client.get(visit_url(seen_visit)).text
    assert "Every test order is reviewed or cancelled." in page
    assert "Close visit</button>" in page

    response = provider_client.post(url(seen_visit, "close"), follow=True)

    assert shown_message(response) == ["Visit closed."]
    seen_visit.refresh_from_db()
    assert (seen_visit.status, seen_visit.close_reason) == (Status.CLOSED, "")
    assert updates(seen_visit).last().detail == {"status": "closed", "open_orders": []}
    assert url(seen_visit, "close") not in response.text


def test_open_orders_keep_a_visit_open_until_a_reason_is_given(
    provider_client, provider, seen_visit
):
    ordered = TestOrderFactory(visit=seen_visit, ordered_by=provider)
    resulted = TestOrderFactory(
        visit=seen_visit,
        ordered_by=provider,
        resulted=True,
        test=seen_visit.condition.tests.get(slug="nerve-conduction-studies"),
    )
    page = provider_client.get(visit_url(seen_visit)).text
    assert "Electromyogram (EMG) (Both legs): ordered" in page
    assert "Nerve conduction studies (Both legs): resulted" in page

    refused = provider_client.post(url(seen_visit, "close"), {"close-reason": " "})

    assert "<h1>Close the visit</h1>" in refused.text
    assert refused.context["form"].errors == {
        "reason": [
            "Not every test order is reviewed or cancelled: "
            "Electromyogram (EMG) (Both legs) (ordered); "
            "Nerve conduction studies (Both legs) (resulted). "
            "Review or cancel them first, or give a reason for closing the visit with them open."
        ]
    }
    seen_visit.refresh_from_db()
    assert seen_visit.status == Status.SEEN

    response = provider_client.post(
        url(seen_visit, "close"), {"close-reason": "Results go to the GP"}, follow=True
    )

    seen_visit.refresh_from_db()
    assert (seen_visit.status, seen_visit.close_reason) == (Status.CLOSED, "Results go to the GP")
    assert "Closed with test orders open: Results go to the GP" in response.text
    version = seen_visit.history.latest("history_id")
    assert version.history_change_reason == "Results go to the GP"
    assert updates(seen_visit).last().detail == {
        "status": "closed",
        "open_orders": [ordered.pk, resulted.pk],
    }


def test_only_a_seen_visit_closes(provider_client, visit):
    response = provider_client.post(url(visit, "close"))

    assert response.context["form"].non_field_errors() == [
        "A visit that is scheduled cannot become closed."
    ]
    visit.refresh_from_db()
    assert visit.status == Status.SCHEDULED


def test_the_admins_bulk_close_obeys_the_same_rule_and_says_why_each_was_refused(
    provider_client, provider, condition
):
    actor = Actor.for_user(provider)
    done, pending = (
        mark_seen(visit=VisitFactory(scheduled_at=at_today(hour)), actor=actor) for hour in (9, 10)
    )
    TestOrderFactory(visit=done, ordered_by=provider, reviewed=True)
    TestOrderFactory(visit=pending, ordered_by=provider)
    waiting = VisitFactory(scheduled_at=at_today(11))

    response = provider_client.post(
        reverse("admin:intake_visit_changelist"),
        {"action": "close_action", "_selected_action": [done.pk, pending.pk, waiting.pk]},
        follow=True,
    )

    statuses = dict(Visit.objects.values_list("pk", "status"))
    assert statuses == {done.pk: "closed", pending.pk: "seen", waiting.pk: "scheduled"}
    shown = shown_message(response)
    assert "1 visit(s) closed." in shown
    assert (
        f"{pending.patient.mrn}: Not every test order is reviewed or cancelled: "
        "Electromyogram (EMG) (Both legs) (ordered). Review or cancel them first, or give a reason "
        "for closing the visit with them open. To close it anyway, give the reason on its "
        "staff page." in shown
    )
    assert f"{waiting.patient.mrn}: A visit that is scheduled cannot become closed." in shown


def test_the_admin_visit_page_shows_the_arrival_and_the_reasons(
    provider_client, provider, seen_visit, clock
):
    TestOrderFactory(visit=seen_visit, ordered_by=provider)
    Visit.objects.filter(pk=seen_visit.pk).update(checked_in_at=clock.now, checked_in_by=provider)
    close_visit(visit=seen_visit, actor=Actor.for_user(provider), reason="Results go to the GP")

    page = provider_client.get(reverse("admin:intake_visit_change", args=[seen_visit.pk])).text
    listing = provider_client.get(reverse("admin:intake_visit_changelist")).text

    name = provider.get_full_name()
    assert f"{timezone.localdate():%-d %b %Y} 10:30, checked in by {name}" in page
    assert "Closed with test orders open: Results go to the GP" in page
    assert '<td class="field-arrived">10:30</td>' in listing


def test_front_desk_is_not_offered_closing(desk_client, seen_visit):
    page = desk_client.get(visit_url(seen_visit)).text

    assert url(seen_visit, "close") not in page


# Who may do what


ACTIONS = ["check-in", "did-not-attend", "reschedule", "close"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", [None, "front_desk", "provider", "editor"])
def test_each_action_is_only_a_post(client, visit, sign_in, request, action, persona):
    if persona:
        sign_in(client, request.getfixturevalue(persona))

    response = client.get(url(visit, action))

    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("action", ACTIONS)
def test_someone_signed_out_is_sent_to_sign_in(client, visit, action):
    response = client.post(url(visit, action))

    assert response["Location"] == f"/accounts/login/?next={url(visit, action)}"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", ["editor", "clinic_admin"])
def test_roles_without_visit_rights_are_refused_and_the_refusal_is_audited(
    client, visit, sign_in, request, clock, action, persona
):
    user = request.getfixturevalue(persona)
    sign_in(client, user)

    response = client.post(url(visit, action), {"absent-reason": "x", "close-reason": "x"})

    assert response.status_code == 403
    denied = AuditEvent.objects.get(action="deny")
    assert (denied.actor, denied.record_id, denied.patient_id) == (
        user,
        visit.pk,
        visit.patient_id,
    )
    visit.refresh_from_db()
    assert (visit.status, visit.checked_in_at) == (Status.SCHEDULED, None)


def test_front_desk_may_not_close_a_visit(desk_client, front_desk, seen_visit):
    response = desk_client.post(url(seen_visit, "close"))

    assert response.status_code == 403
    seen_visit.refresh_from_db()
    assert seen_visit.status == Status.SEEN


@pytest.mark.parametrize("persona", ["front_desk", "provider"])
def test_front_desk_and_providers_check_in_mark_absent_and_move_visits(
    client, condition, sign_in, request, clock, persona
):
    sign_in(client, request.getfixturevalue(persona))
    arriving, absent, moving = (VisitFactory(scheduled_at=at_today(h)) for h in (8, 9, 10))

    client.post(url(arriving, "check-in"))
    client.post(url(absent, "did-not-attend"))
    reschedule(client, moving, at_today(16))

    statuses = dict(Visit.objects.values_list("pk", "status"))
    assert statuses == {
        arriving.pk: Status.CHECKED_IN,
        absent.pk: Status.DID_NOT_ATTEND,
        moving.pk: Status.SCHEDULED,
    }
    moving.refresh_from_db()
    assert moving.scheduled_at == at_today(16)


@pytest.mark.parametrize("action", ACTIONS)
def test_an_unknown_visit_is_not_found(provider_client, action):
    assert provider_client.post(f"/staff/visits/999999/{action}/").status_code == 404


def test_only_providers_hold_the_right_to_close_visits(db):
    holders = Group.objects.filter(permissions__codename="close_visit")

    assert list(holders.values_list("name", flat=True)) == [PROVIDER]


def test_a_system_actor_or_clerk_cannot_close_through_the_workflow(visit, front_desk):
    Visit.objects.filter(pk=visit.pk).update(status=Status.SEEN)
    for actor in (Actor.system("hl7"), Actor.for_user(front_desk)):
        with pytest.raises(PermissionDenied):
            close_visit(visit=visit, actor=actor)


def test_checking_in_through_the_workflow_names_a_system_actor(visit, clock):
    check_in(visit=visit, actor=Actor.system("kiosk"))

    visit.refresh_from_db()
    assert (visit.checked_in_by, visit.checked_in_at) == (None, clock.now)
    assert visit.history.latest("history_id").history_actor == "kiosk"


def test_a_visit_page_before_arrival_offers_check_in_a_new_time_and_did_not_come(
    desk_client, visit, clock
):
    page = desk_client.get(visit_url(visit)).text

    assert "Not checked in yet." in page
    assert f'action="{url(visit, "check-in")}"' in page
    assert f'action="{url(visit, "reschedule")}"' in page
    assert f'action="{url(visit, "did-not-attend")}"' in page
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in page
    assert 'value="09:00"' in page
