"""Pre-visit links from the staff side: sending, showing, expiry, revoking, reopening, and
what staff see of the patient's answers; the token's secrecy."""

import base64
import datetime
import hashlib
from html import unescape

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from intake import links
from intake.models import Answer, PreVisitLink, Visit

from .conftest import PreVisitPatient
from .factories import PatientFactory, UserFactory, VisitFactory, at_today

FAILING_MAILER = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 5},
    }
}


def visit_url(visit):
    return f"/staff/visits/{visit.pk}/"


def token_in(text):
    """The token of the one pre-visit link address in an e-mail or page."""
    start = text.index(settings.PREVISIT_BASE_URL + "/v/") + len(settings.PREVISIT_BASE_URL) + 3
    return text[start:].split("/", 1)[0]


def link_state(response):
    """What the visit page says of its latest pre-visit link, as one line of text."""
    text = response.text.split('id="link-state">', 1)[1].split("</p>", 1)[0]
    return " ".join(unescape(text).split())


def send_by_email(client, visit, capture):
    """Press "Send link by e-mail" on the visit page; the task runs once the request commits."""
    with capture(execute=True):
        response = client.post(f"/staff/visits/{visit.pk}/link/send/")
    assert response.status_code == 302
    return response


# Sending by e-mail


def test_staff_e_mail_a_link_whose_address_comes_from_the_base_url_not_the_host_header(
    desk_client, upcoming_visit, settings, django_capture_on_commit_callbacks
):
    settings.PREVISIT_BASE_URL = "https://forms.clinic.example"
    settings.ALLOWED_HOSTS = ["attacker.example", "testserver"]

    with django_capture_on_commit_callbacks(execute=True):
        desk_client.post(
            f"/staff/visits/{upcoming_visit.pk}/link/send/", HTTP_HOST="attacker.example"
        )

    [message] = mail.outbox
    assert message.to == ["ines.okafor@example.org"]
    assert "attacker.example" not in message.body
    token = token_in(message.body)
    assert f"https://forms.clinic.example/v/{token}/" in message.body
    link = PreVisitLink.objects.get()
    assert link.state == PreVisitLink.State.ACTIVE
    assert link.channel == PreVisitLink.Channel.EMAIL
    assert link.sent_at is not None
    assert links.find_link(token) == link


def test_the_e_mail_says_when_the_visit_is_and_how_to_come_back(
    desk_client, upcoming_visit, django_capture_on_commit_callbacks
):
    send_by_email(desk_client, upcoming_visit, django_capture_on_commit_callbacks)

    body = mail.outbox[0].body
    assert "Hello Ines," in body
    assert timezone.localtime(upcoming_visit.scheduled_at).strftime("%H:%M") in body
    assert "this same link" in body
    assert "date of birth" in body
    assert settings.CLINIC_PHONE in body


def test_the_visit_page_tells_staff_the_link_is_being_e_mailed_and_until_when_it_works(
    desk_client, upcoming_visit, django_capture_on_commit_callbacks
):
    send_by_email(desk_client, upcoming_visit, django_capture_on_commit_callbacks)

    response = desk_client.get(visit_url(upcoming_visit))

    assert "The pre-visit link is being e-mailed to the patient." in response.text
    link = PreVisitLink.objects.get()
    sent, expires = timezone.localtime(link.sent_at), timezone.localtime(link.expires_at)
    assert link_state(response) == (
        f"The link was e-mailed to the patient on {sent:%-d %b %Y at %H:%M}. "
        f"It works until {expires:%-d %b %Y at %H:%M}."
    )


def test_a_mailer_that_fails_is_shown_to_staff_and_leaves_no_working_link(
    desk_client, upcoming_visit, settings, django_capture_on_commit_callbacks, caplog
):
    settings.MAILERS = FAILING_MAILER

    send_by_email(desk_client, upcoming_visit, django_capture_on_commit_callbacks)
    response = desk_client.get(visit_url(upcoming_visit))

    assert response.status_code == 200
    assert link_state(response).startswith("The link could not be e-mailed to the patient.")
    assert links.SEND_FAILED in response.text
    assert "ConnectionRefused" not in response.text
    assert "Connection refused" not in response.text
    link = PreVisitLink.objects.get()
    assert link.state == PreVisitLink.State.FAILED
    assert link.token_hash is None
    assert "ines.okafor@example.org" not in caplog.text
    assert "Connection refused" not in caplog.text
    assert f"Pre-visit link {link.pk} could not be sent" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_when_the_task_runs_at_once_a_failed_send_is_the_message_staff_see_next(
    desk_client, upcoming_visit, settings
):
    # Outside a test transaction the task runs as soon as the link is saved, as in
    # production with the immediate backend.
    settings.MAILERS = FAILING_MAILER

    response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/send/")

    assert response.status_code == 200
    assert "being e-mailed" not in response.text
    assert (
        "The e-mail could not be sent. The link is shown below to copy or read out; "
        "try sending again later."
    ) in response.text
    assert "ConnectionRefused" not in response.text
    failed, shown = PreVisitLink.objects.order_by("pk")
    assert (failed.state, shown.state) == (PreVisitLink.State.REVOKED, PreVisitLink.State.ACTIVE)
    assert shown.channel == PreVisitLink.Channel.SHOWN
    assert links.find_link(token_in(unescape(response.text))) == shown
    assert response["Cache-Control"] == "no-store"


def test_a_link_cannot_be_e_mailed_to_a_patient_without_an_address(desk_client, condition):
    visit = VisitFactory(patient=PatientFactory(email=""), scheduled_at=at_today(10, days=3))

    response = desk_client.post(f"/staff/visits/{visit.pk}/link/send/", follow=True)

    assert "The patient has no e-mail address. Show a link to copy instead." in response.text
    assert not PreVisitLink.objects.exists()
    assert "Send link by e-mail" not in response.text
    assert "Show a link to copy" in response.text


@pytest.mark.parametrize(
    ("status", "reason"), [(Visit.Status.CANCELLED, "Patient moved away"), (Visit.Status.SEEN, "")]
)
def test_no_link_is_sent_for_a_visit_whose_intake_is_closed(
    desk_client, upcoming_visit, status, reason, django_capture_on_commit_callbacks
):
    Visit.objects.filter(pk=upcoming_visit.pk).update(status=status, cancel_reason=reason)

    with django_capture_on_commit_callbacks(execute=True):
        response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/send/", follow=True)
        desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/show/")

    assert "no pre-visit link can be sent" in response.text
    assert not PreVisitLink.objects.exists()
    assert mail.outbox == []


def test_no_link_is_sent_once_the_visit_time_has_passed(desk_client, condition):
    visit = VisitFactory(scheduled_at=timezone.now() - datetime.timedelta(minutes=5))

    response = desk_client.post(f"/staff/visits/{visit.pk}/link/show/", follow=True)

    assert "The visit time has passed: a pre-visit link would not work." in response.text
    assert not PreVisitLink.objects.exists()


# Showing a link once


def test_a_link_shown_to_copy_is_built_from_the_base_url_and_shown_only_once(
    desk_client, upcoming_visit, settings
):
    settings.PREVISIT_BASE_URL = "https://forms.clinic.example"
    settings.ALLOWED_HOSTS = ["attacker.example", "testserver"]

    response = desk_client.post(
        f"/staff/visits/{upcoming_visit.pk}/link/show/", HTTP_HOST="attacker.example"
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = token_in(response.text)
    assert f'value="https://forms.clinic.example/v/{token}/"' in response.text
    assert "attacker.example" not in response.text
    link = PreVisitLink.objects.get()
    assert (link.channel, link.state) == (PreVisitLink.Channel.SHOWN, PreVisitLink.State.ACTIVE)
    assert token not in desk_client.get(visit_url(upcoming_visit)).text


# The token's secrecy


def test_a_token_is_256_random_bits_and_only_its_sha_256_is_stored(upcoming_visit, front_desk):
    tokens = []
    for _ in range(5):
        _, url = links.show_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))
        tokens.append(token_in(url))

    assert len(set(tokens)) == 5
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=")) == 32
    stored = set(PreVisitLink.objects.values_list("token_hash", flat=True))
    assert stored == {hashlib.sha256(token.encode()).hexdigest() for token in tokens}


def test_the_stored_hash_does_not_open_the_link(link_token):
    link = links.find_link(link_token)

    assert link is not None
    assert links.find_link(link.token_hash) is None
    assert links.find_link(link_token[:-1]) is None
    assert links.find_link("") is None
    assert links.find_link("x" * 5000) is None


def all_stored_text(*tables):
    """Every column of every row of these tables, as text."""
    text = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            text.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(text)


def test_no_plain_token_is_stored_or_logged_or_mailed_beyond_the_e_mail_body(
    desk_client, upcoming_visit, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level("DEBUG")
    send_by_email(desk_client, upcoming_visit, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    token = token_in(message.body)
    PreVisitPatient(Client(), token).confirm_birth_date(upcoming_visit.patient.date_of_birth)

    stored = all_stored_text(
        PreVisitLink._meta.db_table, AuditEvent._meta.db_table, "django_session"
    )
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in caplog.text
    mailed = message.message()
    del mailed["Content-Transfer-Encoding"]
    headers = "\n".join(f"{name}: {value}" for name, value in mailed.items())
    assert token not in headers
    assert token not in message.subject
    assert message.body.count(token) == 1


# The worker closes the database connection between tasks, as it would in production,
# which a test wrapped in a transaction cannot allow.
@pytest.mark.django_db(transaction=True)
def test_a_queued_e_mail_task_holds_no_token_until_the_worker_sends_it(
    desk_client, upcoming_visit, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    send_by_email(desk_client, upcoming_visit, django_capture_on_commit_callbacks)
    link = PreVisitLink.objects.get()

    assert link.state == PreVisitLink.State.PENDING
    shown = link_state(desk_client.get(visit_url(upcoming_visit)))
    assert shown.startswith("The link is being e-mailed to the patient.")
    assert mail.outbox == []
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs == {"args": [link.pk], "kwargs": {}}

    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)

    [message] = mail.outbox
    token = token_in(message.body)
    assert token not in all_stored_text(DBTaskResult._meta.db_table)
    assert links.find_link(token) == link


# Expiry


def test_a_link_lasts_seven_days_by_default(upcoming_visit, front_desk):
    upcoming_visit.scheduled_at = at_today(10, days=30)
    upcoming_visit.save()

    link, _ = links.show_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))

    lasts = link.expires_at - timezone.now()
    assert datetime.timedelta(days=7) - datetime.timedelta(minutes=1) < lasts
    assert lasts <= datetime.timedelta(days=7)


def test_how_long_a_link_lasts_is_a_setting(upcoming_visit, front_desk, settings):
    settings.PREVISIT_LINK_DAYS = 2

    link, _ = links.show_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))

    lasts = link.expires_at - timezone.now()
    assert datetime.timedelta(days=2) - datetime.timedelta(minutes=1) < lasts
    assert lasts <= datetime.timedelta(days=2)


def test_a_link_never_lasts_beyond_the_visit(upcoming_visit, front_desk):
    upcoming_visit.scheduled_at = timezone.now() + datetime.timedelta(hours=2)
    upcoming_visit.save()

    link, _ = links.show_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))

    assert link.expires_at == upcoming_visit.scheduled_at


def test_an_expired_link_stops_working_and_staff_see_it_expired(
    desk_client, link_token, link_patient, upcoming_visit
):
    PreVisitLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = link_patient.get()

    assert response.status_code == 410
    assert "This link has expired" in response.text
    state = link_state(desk_client.get(visit_url(upcoming_visit)))
    assert state.startswith("The link was shown to staff to copy on ")
    assert ". It expired on " in state


# Revoking and resending


def test_staff_revoke_a_link_and_the_patient_is_told_it_no_longer_works(
    desk_client, front_desk, link_patient, upcoming_visit
):
    response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/revoke/", follow=True)

    assert "The pre-visit link no longer works." in response.text
    assert ". It was revoked on " in link_state(response)
    assert link_state(response).endswith(". Reason: Revoked by staff.")
    assert "Revoke link" not in response.text
    link = PreVisitLink.objects.get()
    assert (link.revoked_by, link.revoke_reason) == (front_desk, "Revoked by staff")
    assert AuditEvent.objects.filter(action="revoke", record_id=link.pk).count() == 1
    patient_page = link_patient.get()
    assert patient_page.status_code == 410
    assert "This link no longer works" in patient_page.text


def test_revoking_when_there_is_no_link_says_so(desk_client, upcoming_visit):
    response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/revoke/", follow=True)

    assert "There is no link to revoke." in response.text


def test_revoking_twice_keeps_the_first_revocation(desk_client, front_desk, link_token):
    link = PreVisitLink.objects.get()
    first = links.revoke_link(link=link, actor=Actor.for_user(front_desk))

    again = links.revoke_link(
        link=link, actor=Actor.for_user(UserFactory()), reason="Second thoughts"
    )

    assert (again.revoked_at, again.revoked_by, again.revoke_reason) == (
        first.revoked_at,
        front_desk,
        "Revoked by staff",
    )
    assert AuditEvent.objects.filter(action="revoke").count() == 1


def test_sending_a_new_link_stops_the_old_one_working(
    desk_client, link_token, link_patient, upcoming_visit, django_capture_on_commit_callbacks
):
    send_by_email(desk_client, upcoming_visit, django_capture_on_commit_callbacks)
    new_token = token_in(mail.outbox[0].body)

    old = link_patient.get()
    new = PreVisitPatient(Client(), new_token).get()

    assert old.status_code == 410
    assert "We may have sent you a newer link" in old.text
    assert new.status_code == 200
    old_link, new_link = PreVisitLink.objects.order_by("created_at")
    assert old_link.revoke_reason == "Replaced by a new link"
    assert new_link.state == PreVisitLink.State.ACTIVE


# Who may do what


STAFF_LINK_ACTIONS = ["send", "show", "revoke", "reopen"]


@pytest.mark.parametrize("action", STAFF_LINK_ACTIONS)
def test_link_actions_are_posts_only(desk_client, upcoming_visit, action):
    response = desk_client.get(f"/staff/visits/{upcoming_visit.pk}/link/{action}/")

    assert response.status_code == 405


@pytest.mark.parametrize("action", STAFF_LINK_ACTIONS)
def test_link_actions_need_a_signed_in_member_of_staff(client, upcoming_visit, action):
    url = f"/staff/visits/{upcoming_visit.pk}/link/{action}/"

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"
    assert not PreVisitLink.objects.exists()


@pytest.mark.parametrize("action", STAFF_LINK_ACTIONS)
def test_link_actions_are_refused_to_a_content_editor(client, editor, upcoming_visit, action):
    client.force_login(editor)

    response = client.post(f"/staff/visits/{upcoming_visit.pk}/link/{action}/")

    assert response.status_code == 403


@pytest.mark.parametrize("action", STAFF_LINK_ACTIONS)
def test_link_actions_on_a_visit_that_does_not_exist_are_not_found(desk_client, action):
    response = desk_client.post(f"/staff/visits/999999/link/{action}/")

    assert response.status_code == 404


# Locks, submissions and reopening, as staff see them


def test_staff_see_that_wrong_dates_of_birth_locked_the_link(
    desk_client, link_patient, upcoming_visit
):
    link_patient.get()
    for day in range(1, 6):
        link_patient.post(data={"day": day, "month": 1, "year": 1980})

    response = desk_client.get(visit_url(upcoming_visit))

    assert link_state(response).endswith(" after 5 wrong dates of birth.")
    assert ". It was locked on " in link_state(response)
    assert AuditEvent.objects.filter(action="update", detail__locked=True).count() == 1


def submit_all_answers(patient, visit, intake_data, changes=None):
    return patient.send(intake_data(visit, changes))


def test_staff_see_the_patients_answers_as_given_by_the_patient(
    desk_client, verified_patient, upcoming_visit, intake_data
):
    submit_all_answers(
        verified_patient, upcoming_visit, intake_data, {"other-symptoms": ["weakness"]}
    )

    response = desk_client.get(visit_url(upcoming_visit))

    assert "Intake complete" in response.text
    assert ". The patient sent their answers back on " in link_state(response)
    assert response.text.count(">The patient<") == len(upcoming_visit.questions())
    assert "Weakness" in response.text
    assert "Red flag" in response.text
    assert "Let the patient change their answers" in response.text


def test_a_staff_correction_keeps_and_shows_what_the_patient_said(
    desk_client, front_desk, verified_patient, upcoming_visit, intake_data, form_values
):
    submit_all_answers(verified_patient, upcoming_visit, intake_data, {"same-place": "yes"})
    upcoming_visit.refresh_from_db()
    data = form_values(desk_client.get(f"/staff/visits/{upcoming_visit.pk}/intake/").text)

    desk_client.post(
        f"/staff/visits/{upcoming_visit.pk}/intake/",
        {**data, "q_same-place": "no", "action": "complete"},
    )

    answer = Answer.objects.get(visit=upcoming_visit, question_key="same-place")
    assert answer.value is False
    assert (answer.source, answer.answered_by, answer.corrected_by) == (
        Answer.Source.STAFF,
        front_desk,
        front_desk,
    )
    assert answer.patient_answer == "Yes"
    page = desk_client.get(visit_url(upcoming_visit)).text
    assert "Corrected by staff. The patient answered: Yes" in page
    unchanged = Answer.objects.get(visit=upcoming_visit, question_key="how-often")
    assert (unchanged.source, unchanged.patient_answer) == (Answer.Source.PATIENT, "")


def test_staff_reopen_a_submitted_link_and_the_patient_can_change_their_answers(
    desk_client, verified_patient, upcoming_visit, intake_data
):
    submit_all_answers(verified_patient, upcoming_visit, intake_data)

    response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/reopen/", follow=True)

    assert "The patient can change their answers through the same link." in response.text
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.status == Visit.Status.INTAKE_IN_PROGRESS
    assert PreVisitLink.objects.get().state == PreVisitLink.State.ACTIVE
    assert AuditEvent.objects.filter(action="update", detail__reopened=True).count() == 1
    assert verified_patient.get("questions/").status_code == 200
    resubmitted = submit_all_answers(
        verified_patient, upcoming_visit, intake_data, {"same-place": "no"}
    )
    assert resubmitted["Location"].endswith("/done/")
    answer = Answer.objects.get(visit=upcoming_visit, question_key="same-place")
    assert answer.value is False


def test_a_link_that_was_not_submitted_cannot_be_reopened(desk_client, link_token, upcoming_visit):
    response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/reopen/", follow=True)

    assert "The patient has not sent their answers through a link." in response.text


def test_a_revoked_submitted_link_cannot_be_reopened(
    desk_client, front_desk, verified_patient, upcoming_visit, intake_data
):
    submit_all_answers(verified_patient, upcoming_visit, intake_data)
    links.revoke_link(link=PreVisitLink.objects.get(), actor=Actor.for_user(front_desk))

    response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/reopen/", follow=True)

    assert "This link no longer works: send a new one instead." in response.text
    assert PreVisitLink.objects.get().state == PreVisitLink.State.REVOKED


def test_the_answers_of_a_visit_already_seen_cannot_be_reopened(
    desk_client, verified_patient, upcoming_visit, intake_data
):
    submit_all_answers(verified_patient, upcoming_visit, intake_data)
    Visit.objects.filter(pk=upcoming_visit.pk).update(status=Visit.Status.SEEN)

    response = desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/reopen/", follow=True)

    assert "This visit is seen: the patient's answers cannot change." in unescape(response.text)
    assert PreVisitLink.objects.get().state == PreVisitLink.State.SUBMITTED
    assert not AuditEvent.objects.filter(detail__reopened=True).exists()


def test_staff_are_offered_to_reopen_only_a_link_that_can_be_reopened(
    desk_client, front_desk, verified_patient, upcoming_visit, intake_data
):
    submit_all_answers(verified_patient, upcoming_visit, intake_data)
    offered = desk_client.get(visit_url(upcoming_visit)).text
    PreVisitLink.objects.update(expires_at=timezone.now())

    expired = desk_client.get(visit_url(upcoming_visit)).text

    assert "Let the patient change their answers" in offered
    assert "Let the patient change their answers" not in expired
    assert "sent their answers back on" in expired.split('id="link-state">')[1]


def test_cancelling_the_visit_closes_its_link_as_staff_see_it(
    desk_client, link_token, upcoming_visit
):
    desk_client.post(
        f"/staff/visits/{upcoming_visit.pk}/cancel/", {"reason": "The patient is better"}
    )

    response = desk_client.get(visit_url(upcoming_visit))

    assert link_state(response).endswith(" It no longer works: the visit is cancelled.")
    assert "works until" not in response.text
    assert "Revoke link" not in response.text


def test_the_patients_new_answer_after_a_reopen_is_not_shown_as_a_staff_correction(
    desk_client, verified_patient, upcoming_visit, intake_data, form_values
):
    submit_all_answers(verified_patient, upcoming_visit, intake_data, {"same-place": "yes"})
    upcoming_visit.refresh_from_db()
    data = form_values(desk_client.get(f"/staff/visits/{upcoming_visit.pk}/intake/").text)
    desk_client.post(
        f"/staff/visits/{upcoming_visit.pk}/intake/",
        {**data, "q_same-place": "no", "action": "complete"},
    )
    desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/reopen/")
    upcoming_visit.refresh_from_db()

    submit_all_answers(verified_patient, upcoming_visit, intake_data, {"same-place": "yes"})

    answer = Answer.objects.get(visit=upcoming_visit, question_key="same-place")
    assert (answer.value, answer.source) == (True, Answer.Source.PATIENT)
    assert "Corrected by staff" not in desk_client.get(visit_url(upcoming_visit)).text


# What staff read of a link, state by state


def _at(moment):
    return f"{timezone.localtime(moment):%-d %b %Y at %H:%M}"


def _link_in_state(state, *, visit, front_desk, clock):
    """The visit's latest link brought to `state`, at the clock's times."""
    actor = Actor.for_user(front_desk)
    if state in ("being e-mailed", "e-mailed", "could not be sent"):
        link = PreVisitLink.objects.create(
            visit=visit,
            channel=PreVisitLink.Channel.EMAIL,
            created_by=front_desk,
            expires_at=links.link_expiry(issued_at=clock.now, visit_time=visit.scheduled_at),
        )
        if state == "e-mailed":
            link.token_hash, link.sent_at = "0" * 64, clock.now
        if state == "could not be sent":
            link.send_error = links.SEND_FAILED
        link.save()
        return link
    link, _ = links.show_previsit_link(visit=visit, actor=actor)
    clock.move(minutes=5)
    if state in ("opened", "started", "sent back"):
        link.opened_at = clock.now
        link.save()
    if state in ("started", "sent back"):
        clock.move(minutes=5)
        patient = Actor.through_link(link)
        links.save_patient_answers(
            link=link,
            values={"how-often": "all-the-time"} if state == "started" else ALL_ANSWERS,
            expected_version=visit.intake_version,
            actor=patient,
        )
        if state == "sent back":
            links.submit_previsit_answers(
                link=link,
                expected_version=visit.intake_version + 1,
                respondent="patient",
                full_name="Ines Okafor",
                actor=patient,
            )
    if state == "expired":
        link.expires_at = clock.now - datetime.timedelta(minutes=1)
        link.save()
    if state == "revoked":
        links.revoke_link(link=link, actor=actor)
    if state == "locked":
        link.failed_attempts, link.locked_at = 5, clock.now
        link.save()
    if state == "closed":
        Visit.objects.filter(pk=visit.pk).update(
            status=Visit.Status.CANCELLED, cancel_reason="The patient is better"
        )
    link.refresh_from_db()
    return link


ALL_ANSWERS = {
    "first-noticed": datetime.date(2026, 1, 5),
    "episode-length": (5, "seconds"),
    "how-often": "all-the-time",
    "muscles-affected": {"calf-right"},
    "same-place": True,
    "pregnant": False,
    "other-symptoms": {"none-of-these"},
}


@pytest.mark.parametrize(
    ("state", "wording"),
    [
        ("being e-mailed", "The link is being e-mailed to the patient. It works until {expires}."),
        (
            "e-mailed",
            "The link was e-mailed to the patient on {sent}. It works until {expires}.",
        ),
        (
            "could not be sent",
            "The link could not be e-mailed to the patient.",
        ),
        ("shown", "The link was shown to staff to copy on {sent}. It works until {expires}."),
        (
            "opened",
            "The link was shown to staff to copy on {sent}. The patient opened it on {opened}. "
            "It works until {expires}.",
        ),
        (
            "started",
            "The link was shown to staff to copy on {sent}. The patient opened it on {opened}. "
            "The patient has saved some answers and not sent them back yet. "
            "It works until {expires}.",
        ),
        (
            "sent back",
            "The link was shown to staff to copy on {sent}. The patient opened it on {opened}. "
            "The patient sent their answers back on {submitted}.",
        ),
        ("expired", "The link was shown to staff to copy on {sent}. It expired on {expires}."),
        (
            "revoked",
            "The link was shown to staff to copy on {sent}. It was revoked on {revoked}. "
            "Reason: Revoked by staff.",
        ),
        (
            "locked",
            "The link was shown to staff to copy on {sent}. "
            "It was locked on {locked} after 5 wrong dates of birth.",
        ),
        (
            "closed",
            "The link was shown to staff to copy on {sent}. "
            "It no longer works: the visit is cancelled.",
        ),
    ],
)
def test_each_state_of_a_link_reads_as_sentences_on_the_visit_page(
    clock, desk_client, front_desk, upcoming_visit, state, wording
):
    link = _link_in_state(state, visit=upcoming_visit, front_desk=front_desk, clock=clock)

    response = desk_client.get(visit_url(upcoming_visit))

    moments = {
        "sent": link.sent_at,
        "expires": link.expires_at,
        "opened": link.opened_at,
        "submitted": link.submitted_at,
        "revoked": link.revoked_at,
        "locked": link.locked_at,
    }
    expected = wording.format(**{name: _at(m) for name, m in moments.items() if m})
    assert link_state(response) == expected
