"""A patient saving their answers again and again, and sending from a window left open
after the answers were sent, in a real browser on a phone and on a desktop."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.actors import Actor
from intake.links import show_previsit_link
from intake.models import Answer, PreVisitLink
from tests.factories import PatientFactory, VisitFactory, at_today

from .conftest import DESKTOP, PHONE
from .test_previsit_journey import assert_fits_the_screen, serious_accessibility_problems, shot

pytestmark = pytest.mark.django_db(transaction=True)

BORN = datetime.date(1988, 4, 12)


@pytest.fixture
def link_url(live_server, condition, front_desk, settings):
    settings.PREVISIT_BASE_URL = live_server.url
    patient = PatientFactory(date_of_birth=BORN, sex_at_birth="female")
    visit = VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(9, days=2))
    _, url = show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    return url


def open_questions(context, url):
    page = context.new_page()
    page.goto(url)
    page.get_by_label("Day").fill(str(BORN.day))
    page.get_by_label("Month").fill(str(BORN.month))
    page.get_by_label("Year").fill(str(BORN.year))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions before your visit")
    return page


def answer_everything(page):
    noticed = timezone.localdate() - datetime.timedelta(days=10)
    page.get_by_label("When did you first notice the twitching?").fill(noticed.isoformat())
    page.get_by_label("Number").fill("5")
    page.get_by_label("Unit").select_option("seconds")
    page.get_by_role("group", name="How often do you have twitching?").get_by_label(
        "Several times a day"
    ).check()
    page.get_by_role("group", name="Which muscles are affected?").get_by_label("Calf, left").check()
    same_place = page.get_by_role("group", name="Is the twitching always in the same place?")
    same_place.get_by_label("Yes").check()
    page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
    other = page.get_by_role("group", name="Do you have any of these other symptoms?")
    other.get_by_label("None of these").check()


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_patient_saves_three_times_then_a_window_left_open_cannot_change_what_was_sent(
    browser, link_url, size, viewport
):
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = open_questions(context, link_url)
    answer_everything(page)

    # Saved three times in a row from the page each save brings back.
    for seconds in ("5", "6", "7"):
        page.get_by_label("Number").fill(seconds)
        page.get_by_role("button", name="Save and come back later").click()
        saved = page.get_by_role("status").filter(has_text="Your answers are saved")
        expect(saved).to_be_focused()
        expect(page.get_by_text("The clinic changed some of your answers")).to_have_count(0)
        expect(page.get_by_label("Number")).to_have_value(seconds)
    answer = Answer.objects.get(question_key="episode-length")
    assert answer.value_number == 7
    shot(page, f"previsit-saved-three-times-{size}")
    assert serious_accessibility_problems(page) == []
    if size == "phone":
        assert_fits_the_screen(page)

    # A second window on the same page, left open while the first sends the answers.
    left_open = context.new_page()
    left_open.goto(page.url)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Continue without a file").click()
    page.get_by_label("I am the patient").check()
    page.get_by_label("Your full name").fill("Ines Okafor")
    page.get_by_label("I confirm that these answers are true", exact=False).check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your answers have been sent"
    )

    often = left_open.get_by_role("group", name="How often do you have twitching?")
    often.get_by_label("All the time").check()
    left_open.get_by_role("button", name="Continue").click()

    expect(left_open.get_by_role("heading", level=1)).to_have_text("Your answers were already sent")
    expect(left_open.get_by_text("were not saved")).to_be_visible()
    not_saved = left_open.get_by_role("region", name="What was not saved")
    expect(not_saved).to_contain_text("How often do you have twitching?")
    expect(not_saved).to_contain_text("You gave: All the time")
    expect(not_saved).to_contain_text("The clinic has: Several times a day")
    expect(left_open.get_by_role("link", name="555-0100").first).to_be_visible()
    shot(left_open, f"previsit-already-sent-{size}")
    assert serious_accessibility_problems(left_open) == []
    if size == "phone":
        assert_fits_the_screen(left_open)

    answer = Answer.objects.get(question_key="how-often")
    assert answer.display == "Several times a day"
    assert PreVisitLink.objects.get().state == PreVisitLink.State.SUBMITTED
    context.close()


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_staff_whose_e_mail_fails_get_a_link_to_copy_in_plain_words(
    live_server, browser, front_desk, condition, settings, size, viewport
):
    settings.PREVISIT_BASE_URL = live_server.url
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 5},
        }
    }
    patient = PatientFactory(email="mara@example.org", email_allowed=True)
    visit = VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(9, days=2))
    staff = browser.new_context(viewport=viewport).new_page()
    staff.goto(f"{live_server.url}/accounts/login/?next=/staff/visits/{visit.pk}/")
    staff.get_by_label("Username").fill("fran.frontdesk")
    staff.get_by_label("Password").fill("correct-horse-battery")
    staff.get_by_role("button", name="Sign in").click()

    staff.get_by_role("button", name="Send link by e-mail").click()

    expect(staff.get_by_role("alert")).to_have_text(
        "The e-mail could not be sent. The link is shown below to copy or read out; "
        "try sending again later."
    )
    expect(staff.get_by_label("Link")).to_have_value(re.compile(rf"^{live_server.url}/v/\S+/$"))
    expect(staff.get_by_text("Connection")).to_have_count(0)
    shot(staff, f"previsit-email-failed-{size}")
    assert serious_accessibility_problems(staff) == []

    staff.get_by_role("link", name="Back to the visit").click()
    expect(staff.locator("#link-state")).to_contain_text("The link was shown to staff to copy on")
    shot(staff, f"previsit-link-state-{size}")
    assert serious_accessibility_problems(staff) == []
