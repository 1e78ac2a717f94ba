"""Staff sessions end after 15 minutes idle and after 12 hours in any case, with a
warning before; the page's question of how long is left never extends them.

Time is moved by editing the session's stored times, never by waiting.
"""

import datetime
import re
import time

import pytest

from audit.models import AuditEvent
from signin.sessions import LAST_ACTIVITY, STARTED

STATUS = "/accounts/session/"
STAY = "/accounts/session/stay/"
MINUTE = 60


def back_in_time(client, **seconds):
    """Move the session's stored times back: `last_activity=900` is 15 minutes idle."""
    session = client.session
    for name, amount in seconds.items():
        key = {"last_activity": LAST_ACTIVITY, "started": STARTED}[name]
        session[key] -= amount
    session.save()


def idle_seconds(client):
    return time.time() - client.session[LAST_ACTIVITY]


def ended_events():
    return AuditEvent.objects.filter(action=AuditEvent.Action.SESSION_ENDED)


def test_after_15_idle_minutes_the_next_request_signs_out_and_says_why(desk_client, front_desk):
    back_in_time(desk_client, last_activity=15 * MINUTE + 1, started=15 * MINUTE + 1)

    response = desk_client.get("/staff/", follow=True)

    assert response.redirect_chain == [("/accounts/login/?next=%2Fstaff%2F", 302)]
    assert "You were signed out after 15 minutes of inactivity." in response.text
    assert not response.wsgi_request.user.is_authenticated
    event = ended_events().get()
    assert (event.actor, event.record_id, event.detail) == (
        front_desk,
        front_desk.pk,
        {"reason": "idle", "limit_seconds": 900},
    )
    assert desk_client.get("/staff/").status_code == 302


def test_a_request_within_the_idle_time_is_activity(desk_client):
    back_in_time(desk_client, last_activity=14 * MINUTE, started=14 * MINUTE)

    assert desk_client.get("/staff/").status_code == 200
    assert idle_seconds(desk_client) < MINUTE
    assert not ended_events().exists()


def test_after_12_hours_a_session_ends_however_active(provider_client, provider):
    back_in_time(provider_client, started=12 * 60 * MINUTE + 1)

    response = provider_client.get("/admin/intake/visit/", follow=True)

    assert response.redirect_chain[0] == (
        "/accounts/login/?next=%2Fadmin%2Fintake%2Fvisit%2F",
        302,
    )
    assert "signed out because you had been signed in for 12 hours" in response.text
    assert ended_events().get().detail == {"reason": "too long", "limit_seconds": 43200}


def test_the_limits_come_from_settings(desk_client, settings):
    settings.STAFF_SESSION_IDLE = datetime.timedelta(minutes=5)
    back_in_time(desk_client, last_activity=5 * MINUTE + 1)

    response = desk_client.get("/staff/", follow=True)

    assert "after 5 minutes of inactivity" in response.text


def test_asking_how_long_is_left_does_not_extend_the_session(desk_client):
    back_in_time(desk_client, last_activity=10 * MINUTE, started=10 * MINUTE)
    before = desk_client.session[LAST_ACTIVITY]

    status = desk_client.get(STATUS).json()

    assert status["signed_in"] is True
    assert 4 * MINUTE < status["seconds_left"] <= 5 * MINUTE
    assert (status["ends_because"], status["warning_seconds"]) == ("idle", 60)
    assert desk_client.session[LAST_ACTIVITY] == before


def test_asking_after_the_end_signs_out_and_the_sign_in_page_says_why(desk_client):
    back_in_time(desk_client, last_activity=16 * MINUTE)

    assert desk_client.get(STATUS).json() == {"signed_in": False}
    assert ended_events().count() == 1
    page = desk_client.get("/accounts/login/?next=/staff/")
    assert "You were signed out after 15 minutes of inactivity." in page.text


def test_the_sign_in_page_itself_ends_a_timed_out_session(desk_client):
    back_in_time(desk_client, last_activity=16 * MINUTE)

    page = desk_client.get("/accounts/login/")

    assert page.status_code == 200
    assert "15 minutes of inactivity" in page.text
    assert ended_events().count() == 1


def test_staying_signed_in_is_a_post_that_extends_the_session(desk_client):
    back_in_time(desk_client, last_activity=14 * MINUTE + 30)

    status = desk_client.post(STAY).json()

    assert status["signed_in"] is True
    assert status["seconds_left"] > 14 * MINUTE
    assert idle_seconds(desk_client) < MINUTE
    assert desk_client.get(STAY).status_code == 405


def test_staying_is_too_late_after_the_end(desk_client):
    back_in_time(desk_client, last_activity=15 * MINUTE + 1)

    response = desk_client.post(STAY)

    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert ended_events().count() == 1


def test_staying_cannot_pass_the_12_hours(desk_client):
    back_in_time(desk_client, started=12 * 60 * MINUTE - 30)

    status = desk_client.post(STAY).json()

    assert status["ends_because"] == "too long"
    assert status["seconds_left"] <= 30


def test_signed_out_the_page_learns_it_has_no_session(client):
    assert client.get(STATUS).json() == {"signed_in": False}


def test_closing_the_browser_ends_the_session(client, front_desk):
    response = client.post(
        "/accounts/login/", {"username": "fran.frontdesk", "password": "correct-horse-battery"}
    )

    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert (cookie["expires"], cookie["max-age"]) == ("", "")


def test_patient_sessions_keep_their_own_two_hours(verified_patient):
    cookie = verified_patient.client.cookies["sessionid"]

    assert cookie["max-age"] == 7200
    assert verified_patient.get("questions/").status_code == 200


def test_an_old_staff_session_does_not_end_on_a_patient_page(desk_client, link_token):
    back_in_time(desk_client, last_activity=16 * MINUTE)

    assert desk_client.get(f"/v/{link_token}/").status_code == 200
    assert not ended_events().exists()


@pytest.mark.parametrize("url", ["/staff/", "/admin/", "/conditions/"])
def test_signed_in_pages_carry_the_warning_dialog(provider_client, condition, url):
    page = provider_client.get(url).text

    dialog = re.search(r'<dialog id="session-timeout"[^>]*>', page).group(0)
    assert 'role="alertdialog"' in dialog
    assert 'data-warning-seconds="60"' in dialog
    assert re.search(r'data-seconds-left="(89\d|900)"', dialog)
    assert "Stay signed in" in page
    assert '<script src="/static/js/session-timeout.js" defer></script>' in page


def test_pages_for_the_public_and_patients_have_no_warning(client, verified_patient, condition):
    assert "session-timeout" not in client.get("/conditions/").text
    assert "session-timeout" not in verified_patient.get("questions/").text
