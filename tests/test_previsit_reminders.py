"""The one reminder e-mailed before a visit whose pre-visit link has not been answered:
when it is due, who never gets one, what it says and in which language, the audit trail,
a mailer failure, and what staff see on the visit page."""

import datetime
import io
from html import unescape

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from intake import links, reminders
from intake.models import PreVisitLink, PreVisitReminder
from intake.visits import cancel_visit, reschedule_visit

from .conftest import Clock
from .factories import PatientFactory, VisitFactory
from .test_previsit_links import FAILING_MAILER


def at(day, hour, minute=0):
    """An aware datetime in November 2026, in the clinic's time."""
    return timezone.make_aware(datetime.datetime(2026, 11, day, hour, minute))


# The link is e-mailed on Monday 23 November at 09:00 for a visit on Thursday 26 November
# at 10:00, so with the default 48 hours the reminder is due on Tuesday 24 at 10:00.
VISIT_TIME = at(26, 10)
DUE_TIME = at(24, 10)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, at(23, 9))


@pytest.fixture
def emailed_visit(clock, condition, front_desk, django_capture_on_commit_callbacks):
    """Ines Okafor's visit on 26 November at 10:00, her link e-mailed on 23 November."""
    patient = PatientFactory(
        given_name="Ines", family_name="Okafor", email="ines.okafor@example.org"
    )
    visit = VisitFactory(patient=patient, condition=condition, scheduled_at=VISIT_TIME)
    with django_capture_on_commit_callbacks(execute=True):
        links.send_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    mail.outbox.clear()
    return visit


def send_due_reminders():
    call_command("send_previsit_reminders", stdout=io.StringIO())


def reminder_state(response):
    """What the visit page says of the pre-visit reminder, as one line of text."""
    text = response.text.split('id="link-reminder">', 1)[1].split("</p>", 1)[0]
    return " ".join(unescape(text).split())


# When it is due, and only once


def test_due_reminder_is_e_mailed_once_however_often_the_command_and_task_run(emailed_visit, clock):
    clock.now = DUE_TIME + datetime.timedelta(minutes=5)

    send_due_reminders()
    send_due_reminders()
    reminders.email_previsit_reminder.call(emailed_visit.pk)

    [message] = mail.outbox
    assert message.to == ["ines.okafor@example.org"]
    assert message.subject == "A reminder before your visit to Riverside Neurology Clinic"
    assert "Hello Ines," in message.body
    assert "is on 26 Nov 2026 at 10:00" in message.body
    assert "open the link in the e-mail we sent you on 23 Nov 2026" in message.body
    assert "call us on 555-0100" in message.body
    assert "/v/" not in message.body
    assert "Okafor" not in message.body
    reminder = PreVisitReminder.objects.get()
    assert reminder.sent_at == clock.now
    assert reminder.due_at == DUE_TIME
    assert reminder.not_sent_reason == ""
    # The link the patient may be using still works.
    assert PreVisitLink.objects.get().state == PreVisitLink.State.ACTIVE


def test_no_reminder_before_it_is_due(emailed_visit, clock):
    clock.now = DUE_TIME - datetime.timedelta(minutes=5)

    send_due_reminders()
    reminders.email_previsit_reminder.call(emailed_visit.pk)

    assert mail.outbox == []
    assert not PreVisitReminder.objects.exists()


def test_the_hours_before_the_visit_come_from_the_setting(emailed_visit, clock, settings):
    settings.PREVISIT_REMINDER_HOURS = 24
    clock.now = DUE_TIME + datetime.timedelta(minutes=5)
    send_due_reminders()
    assert mail.outbox == []

    clock.now = at(25, 10)
    send_due_reminders()

    assert len(mail.outbox) == 1
    assert PreVisitReminder.objects.get().due_at == at(25, 10)


def test_a_command_run_late_still_sends_the_reminder_before_the_visit(emailed_visit, clock):
    clock.now = at(26, 9, 45)

    send_due_reminders()

    assert len(mail.outbox) == 1


def test_no_reminder_once_the_visit_time_has_come(emailed_visit, clock):
    clock.now = VISIT_TIME

    send_due_reminders()
    reminders.email_previsit_reminder.call(emailed_visit.pk)

    assert mail.outbox == []


def test_a_new_link_after_the_reminder_earns_no_second_one(
    emailed_visit, clock, front_desk, django_capture_on_commit_callbacks
):
    clock.now = DUE_TIME
    send_due_reminders()
    clock.move(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        links.send_previsit_link(visit=emailed_visit, actor=Actor.for_user(front_desk))
    mail.outbox.clear()

    send_due_reminders()
    reminders.email_previsit_reminder.call(emailed_visit.pk)

    assert mail.outbox == []
    assert PreVisitReminder.objects.count() == 1


def test_a_link_e_mailed_after_the_reminder_time_earns_no_reminder(
    emailed_visit, clock, front_desk, django_capture_on_commit_callbacks
):
    clock.now = DUE_TIME - datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        links.send_previsit_link(visit=emailed_visit, actor=Actor.for_user(front_desk))
    clock.now = DUE_TIME + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        links.send_previsit_link(visit=emailed_visit, actor=Actor.for_user(front_desk))
    mail.outbox.clear()

    send_due_reminders()

    assert mail.outbox == []


def test_moving_the_visit_moves_the_reminder_but_never_earns_a_second(
    emailed_visit, clock, front_desk
):
    desk = Actor.for_user(front_desk)
    reschedule_visit(visit=emailed_visit, scheduled_at=at(27, 10), reason="Asked to", actor=desk)
    clock.now = DUE_TIME
    send_due_reminders()
    assert mail.outbox == []

    clock.now = at(25, 10)
    send_due_reminders()
    assert PreVisitReminder.objects.get().due_at == at(25, 10)
    reschedule_visit(visit=emailed_visit, scheduled_at=at(30, 10), reason="Again", actor=desk)
    clock.now = at(28, 10)
    send_due_reminders()

    assert len(mail.outbox) == 1


# Who never gets one


def test_no_reminder_to_a_patient_who_asked_for_no_e_mail(emailed_visit, clock):
    emailed_visit.patient.email_allowed = False
    emailed_visit.patient.save()
    clock.now = DUE_TIME

    send_due_reminders()
    send_due_reminders()

    assert mail.outbox == []
    reminder = PreVisitReminder.objects.get()
    assert reminder.sent_at is None
    assert reminder.not_sent_reason == "The patient asked not to be contacted by e-mail."


def test_no_reminder_to_a_patient_without_an_e_mail_address(emailed_visit, clock):
    emailed_visit.patient.email = ""
    emailed_visit.patient.save()
    clock.now = DUE_TIME

    send_due_reminders()

    assert mail.outbox == []
    assert PreVisitReminder.objects.get().not_sent_reason == "The patient has no e-mail address."


def test_no_reminder_once_the_answers_were_sent_back(emailed_visit, clock):
    PreVisitLink.objects.update(submitted_at=at(23, 18))
    clock.now = DUE_TIME

    send_due_reminders()
    reminders.email_previsit_reminder.call(emailed_visit.pk)

    assert mail.outbox == []
    assert not PreVisitReminder.objects.exists()


def test_no_reminder_for_a_cancelled_visit(emailed_visit, clock, front_desk):
    cancel_visit(visit=emailed_visit, reason="Feeling better", actor=Actor.for_user(front_desk))
    clock.now = DUE_TIME

    send_due_reminders()
    reminders.email_previsit_reminder.call(emailed_visit.pk)

    assert mail.outbox == []


def test_no_reminder_for_a_revoked_link(emailed_visit, clock, front_desk):
    links.revoke_link(link=PreVisitLink.objects.get(), actor=Actor.for_user(front_desk))
    clock.now = DUE_TIME

    send_due_reminders()

    assert mail.outbox == []


def test_no_reminder_for_a_link_that_stops_working_before_the_reminder_time(
    clock, condition, front_desk, django_capture_on_commit_callbacks
):
    # A link lasts PREVISIT_LINK_DAYS (7): this one ends three days before the visit.
    visit = VisitFactory(condition=condition, scheduled_at=at(23, 9) + datetime.timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        links.send_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    mail.outbox.clear()
    clock.now = visit.scheduled_at - datetime.timedelta(hours=47)

    send_due_reminders()

    assert mail.outbox == []
    assert not PreVisitReminder.objects.exists()


def test_no_reminder_for_a_link_shown_to_staff(clock, condition, front_desk):
    visit = VisitFactory(condition=condition, scheduled_at=VISIT_TIME)
    links.show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    clock.now = DUE_TIME

    send_due_reminders()

    assert mail.outbox == []


# What it says


def test_the_reminder_is_written_in_the_patients_language(emailed_visit, clock):
    emailed_visit.patient.preferred_language = "es"
    emailed_visit.patient.save()
    clock.now = DUE_TIME

    send_due_reminders()

    [message] = mail.outbox
    assert message.subject == "Un recordatorio antes de su visita a Riverside Neurology Clinic"
    assert message.body.startswith("Hola, Ines:")
    assert "Su visita a Riverside Neurology Clinic es el 26 nov 2026 a las 10:00." in (message.body)
    assert "abra el enlace del correo que le mandamos el 23 nov 2026." in message.body


def test_a_language_the_patient_pages_do_not_speak_falls_back_to_english(emailed_visit, clock):
    emailed_visit.patient.preferred_language = "fr"
    emailed_visit.patient.save()
    clock.now = DUE_TIME

    send_due_reminders()

    [message] = mail.outbox
    assert "is on 26 Nov 2026 at 10:00" in message.body


# Audit and failures


def test_the_reminder_is_audited_as_sent_by_the_system(emailed_visit, clock):
    clock.now = DUE_TIME

    send_due_reminders()

    reminder = PreVisitReminder.objects.get()
    event = AuditEvent.objects.get(record_type="intake.previsitreminder")
    assert event.action == AuditEvent.Action.SEND
    assert event.record_id == reminder.pk
    assert event.patient_id == emailed_visit.patient_id
    assert event.actor is None
    assert event.actor_label == "pre-visit reminders"
    assert event.detail == {"reminder": "sent"}


def test_a_mailer_failure_is_recorded_in_plain_words_and_not_retried(
    emailed_visit, clock, settings
):
    settings.MAILERS = FAILING_MAILER
    clock.now = DUE_TIME

    send_due_reminders()
    send_due_reminders()

    reminder = PreVisitReminder.objects.get()
    assert reminder.sent_at is None
    assert reminder.not_sent_reason == reminders.SEND_FAILED
    event = AuditEvent.objects.get(record_type="intake.previsitreminder")
    assert event.detail == {"reminder": "failed"}


# What staff see


def test_staff_see_when_the_reminder_is_due_then_that_it_was_sent(
    emailed_visit, clock, client, front_desk
):
    client.force_login(front_desk)
    url = f"/staff/visits/{emailed_visit.pk}/"
    assert reminder_state(client.get(url)) == (
        "A reminder is due to be e-mailed on 24 Nov 2026 at 10:00 "
        "if the patient has not sent their answers back by then."
    )

    clock.now = DUE_TIME
    send_due_reminders()
    client.force_login(front_desk)  # a day on: the first session has timed out

    assert reminder_state(client.get(url)) == (
        "A reminder was e-mailed to the patient on 24 Nov 2026 at 10:00."
    )


def test_staff_see_that_no_reminder_will_go_to_a_patient_who_asked_for_no_e_mail(
    emailed_visit, clock, desk_client
):
    emailed_visit.patient.email_allowed = False
    emailed_visit.patient.save()
    url = f"/staff/visits/{emailed_visit.pk}/"

    assert reminder_state(desk_client.get(url)) == (
        "No reminder will be sent. The patient asked not to be contacted by e-mail."
    )


def test_staff_see_that_the_reminder_could_not_be_sent(
    emailed_visit, clock, client, front_desk, settings
):
    settings.MAILERS = FAILING_MAILER
    clock.now = DUE_TIME
    send_due_reminders()
    client.force_login(front_desk)

    response = client.get(f"/staff/visits/{emailed_visit.pk}/")

    assert reminder_state(response) == (
        "The reminder due on 24 Nov 2026 at 10:00 was not sent. " + reminders.SEND_FAILED
    )


def test_staff_see_nothing_of_a_reminder_once_the_answers_were_sent_back(
    emailed_visit, clock, desk_client
):
    PreVisitLink.objects.update(submitted_at=at(23, 18))

    response = desk_client.get(f"/staff/visits/{emailed_visit.pk}/")

    assert 'id="link-reminder"' not in response.text
