"""Two app servers behind one load balancer, sharing one PostgreSQL database: the app
keeps nothing of its own between requests, so a person may land on either server for any
request. Sessions (and with them the patient pages' form key and staff sign-ins), the
throttles and the checks that stop one save overwriting another all live in the database.

Each server is gunicorn with the shipped config and production settings (tests/serving.py),
one worker each, so every switch of server is also a switch of process.
"""

import datetime
import time

import pytest
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from intake.models import PreVisitLink, Visit

from .reading import parse
from .serving import Browser, collected_static, database_url, serve

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="two server processes need one database they can both reach: PostgreSQL "
        "(run with DATABASE_URL=postgres://...; CI does)",
    ),
    pytest.mark.django_db(transaction=True),
]

PUBLIC_HOST = "intake.example-clinic.org"
CLIENT_ADDRESS = "203.0.113.9"
PASSWORD = "correct-horse-battery"  # UserFactory's
USERNAME_FAILURE_LIMIT = 3
PREVISIT_MAX_FAILURES = 2
# The pre-visit throttle counts failures in windows that start on the hour with this length.
PREVISIT_FAILURE_WINDOW_MINUTES = 60


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory):
    """Two gunicorn servers on the test database, started side by side."""
    static_root = collected_static(tmp_path_factory)
    logs = tmp_path_factory.mktemp("two-servers")
    environment = {
        "ALLOWED_HOSTS": PUBLIC_HOST,
        "SIGNIN_USERNAME_FAILURE_LIMIT": str(USERNAME_FAILURE_LIMIT),
        "PREVISIT_MAX_FAILURES": str(PREVISIT_MAX_FAILURES),
        "PREVISIT_FAILURE_WINDOW_MINUTES": str(PREVISIT_FAILURE_WINDOW_MINUTES),
    }
    url = database_url(connection.settings_dict)
    with (
        serve(
            database_url=url,
            static_root=static_root,
            output=logs / "one.log",
            workers=1,
            **environment,
        ) as one,
        serve(
            database_url=url,
            static_root=static_root,
            output=logs / "two.log",
            workers=1,
            **environment,
        ) as two,
    ):
        yield one, two


class BehindTheLoadBalancer(Browser):
    """One person's browser, whose requests the load balancer sends to whichever server
    `on` names: the site's public host name, the client's address in X-Forwarded-For,
    and the Origin a browser sends with a form."""

    def on(self, server):
        self.server = server
        return self

    def request(self, method, path, *, body=None, headers=None):
        headers = {
            "Host": PUBLIC_HOST,
            "X-Forwarded-For": CLIENT_ADDRESS,
            **({"Origin": f"https://{PUBLIC_HOST}"} if method == "POST" else {}),
            **(headers or {}),
        }
        page = super().request(method, path, body=body, headers=headers)
        assert page.status < 500, self.server.log()
        return page


def csrf_token(page):
    """The CSRF token a form on the page sends (any of them: they are the same secret)."""
    return next(
        element.attrs["value"]
        for element in parse(page.text).iter()
        if element.attrs.get("name") == "csrfmiddlewaretoken"
    )


def test_a_patient_saves_part_of_the_form_on_one_server_and_sends_it_from_the_other(
    servers, link_token, upcoming_visit, form_values, intake_data
):
    one, two = servers
    patient = BehindTheLoadBalancer(one)
    start = f"/v/{link_token}/"
    born = upcoming_visit.patient.date_of_birth

    # On server one: the date of birth, then half the answers saved for later.
    page = patient.on(one).get(start)
    assert page.status == 200
    page = patient.post(
        start,
        {
            "form_key": form_values(page.text)["form_key"],
            "day": born.day,
            "month": born.month,
            "year": born.year,
        },
    )
    assert (page.status, page.headers["Location"]) == (302, f"{start}questions/")
    page = patient.get(f"{start}questions/")
    partly = intake_data(
        upcoming_visit,
        {"same-place": None, "pregnant": None, "other-symptoms": None},
        action="save",
    )
    page = patient.post(f"{start}questions/", {**form_values(page.text), **partly})
    assert (page.status, page.headers["Location"]) == (302, f"{start}questions/")

    # On server two, the same session: the page says the answers were saved and shows
    # them; the rest are filled in and the whole form sent.
    page = patient.on(two).get(f"{start}questions/")
    assert page.status == 200
    assert "Your answers are saved" in page.text
    shown = form_values(page.text)
    assert shown["q_how-often"] == ["several-times-a-day"]
    assert "q_same-place" not in shown
    everything = intake_data(upcoming_visit, action="continue")
    page = patient.post(
        f"{start}questions/", {**shown, **everything, "intake_version": shown["intake_version"]}
    )
    assert (page.status, page.headers["Location"]) == (302, f"{start}photos/")
    # Back on server one, the patient confirms and sends them.
    page = patient.on(one).get(f"{start}confirm/")
    assert page.status == 200
    attestation = {"respondent": "patient", "full_name": "Ines Okafor", "confirmed": "on"}
    page = patient.post(f"{start}confirm/", {**form_values(page.text), **attestation})
    assert (page.status, page.headers["Location"]) == (302, f"{start}done/")
    assert patient.get(f"{start}done/").status == 200

    upcoming_visit.refresh_from_db()
    assert upcoming_visit.status == Visit.Status.INTAKE_COMPLETE
    assert set(upcoming_visit.answers.values_list("question_key", flat=True)) == {
        "first-noticed",
        "episode-length",
        "how-often",
        "muscles-affected",
        "same-place",
        "pregnant",
        "other-symptoms",
    }
    link = PreVisitLink.objects.get(visit=upcoming_visit)
    assert link.state == PreVisitLink.State.SUBMITTED
    assert link.attestations.get().client_address == CLIENT_ADDRESS
    # Both servers name the patient's own address, from the load balancer's header.
    assert set(
        AuditEvent.objects.filter(actor_label=link.actor_label).values_list(
            "remote_addr", flat=True
        )
    ) == {CLIENT_ADDRESS}


def test_failed_sign_ins_on_either_server_count_together_and_lock_out_on_both(servers, front_desk):
    one, two = servers
    someone = BehindTheLoadBalancer(one)

    def sign_in(server, password):
        form = someone.on(server).get("/accounts/login/")
        return someone.post(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": csrf_token(form),
                "username": front_desk.username,
                "password": password,
            },
        )

    # One failure short of the limit on server one, the last one on server two.
    for _ in range(USERNAME_FAILURE_LIMIT - 1):
        assert "Please enter a correct username and password" in sign_in(one, "wrong").text
    assert sign_in(two, "wrong").status == 429

    # Locked on both, even with the right password.
    for server in (one, two):
        page = sign_in(server, PASSWORD)
        assert page.status == 429
        assert "sessionid" not in someone.cookies
    assert AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT).count() == 1


def test_unknown_links_tried_on_one_server_are_throttled_on_the_other(servers):
    one, two = servers
    # The servers' clocks cannot be pinned: keep the tries within one window (an hour).
    now = datetime.datetime.now(datetime.UTC)
    seconds_left = 3600 - (now.minute * 60 + now.second + now.microsecond / 1e6)
    if seconds_left < 10:
        time.sleep(seconds_left + 0.5)
    someone = BehindTheLoadBalancer(one)

    for guess in range(PREVISIT_MAX_FAILURES):
        assert someone.on(one).get(f"/v/guessed-token-{guess}/").status == 404

    page = someone.on(two).get("/v/guessed-token-next/")
    assert page.status == 429
    assert int(page.headers["Retry-After"]) > 0


def test_a_save_on_one_server_makes_a_stale_save_on_the_other_a_conflict(
    servers, front_desk, provider, sign_in, visit, intake_data, form_values
):
    one, two = servers
    desk, doctor = BehindTheLoadBalancer(one), BehindTheLoadBalancer(two)
    desk.cookies["sessionid"] = sign_in(Client(), front_desk).cookies["sessionid"].value
    doctor.cookies["sessionid"] = sign_in(Client(), provider).cookies["sessionid"].value
    intake = f"/staff/visits/{visit.pk}/intake/"

    # Both open the form, on different servers, before anything is saved.
    desk_form = desk.on(one).get(intake)
    doctor_form = doctor.on(two).get(intake)
    for form in (desk_form, doctor_form):
        assert form_values(form.text)["intake_version"] == ["0"]

    # The desk's form, loaded from server one, is sent to server two: session and CSRF
    # token hold there.
    page = desk.on(two).post(
        intake,
        {
            "csrfmiddlewaretoken": csrf_token(desk_form),
            **intake_data(visit, {"how-often": "about-once-a-day"}),
        },
    )
    assert page.status == 302

    # The provider's form, loaded before that save, is refused on server one.
    page = doctor.on(one).post(
        intake,
        {
            "csrfmiddlewaretoken": csrf_token(doctor_form),
            **intake_data(visit, {"how-often": "all-the-time"}, action="save"),
        },
    )
    assert page.status == 409
    assert "Someone else saved this intake while you were working on it." in page.text
    assert form_values(page.text)["q_how-often"] == ["all-the-time"]
    visit.refresh_from_db()
    assert (visit.status, visit.intake_version) == (Visit.Status.INTAKE_COMPLETE, 1)
    assert visit.answers.get(question_key="how-often").value == "about-once-a-day"
