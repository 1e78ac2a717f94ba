"""A pre-visit link in a real browser: staff e-mail it, the patient answers on a phone with
the keyboard alone, saves, comes back later and sends the answers; staff see them."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from audit.models import AuditEvent
from intake.models import Answer, PreVisitLink, Visit
from tests.factories import PatientFactory, VisitFactory, at_today

from .conftest import AXE, DESKTOP, PHONE, SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)

BORN = datetime.date(1988, 4, 12)
FLAGS = [
    "Reports weakness",
    "Twitching for more than a few days (long-term)",
    "Twitching all the time (persistent)",
]


def serious_accessibility_problems(page):
    """axe-core's serious and critical violations on the page as it stands."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run()")
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def tab_to(page, target, limit=120):
    """Press Tab until `target` has the focus, as a keyboard user moves through a page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def assert_fits_the_screen(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width}px wide"


def give_birth_date_by_keyboard(page, born):
    tab_to(page, page.get_by_label("Day"))
    page.keyboard.type(str(born.day))
    page.keyboard.press("Tab")
    page.keyboard.type(str(born.month))
    page.keyboard.press("Tab")
    page.keyboard.type(str(born.year))
    page.keyboard.press("Enter")


def new_phone(browser):
    # The date box takes its digits in the order of the browser's locale.
    return browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")


@pytest.fixture
def visit(condition):
    patient = PatientFactory(
        given_name="Mara",
        family_name="Lindqvist",
        date_of_birth=BORN,
        sex_at_birth="female",
        email="mara.lindqvist@example.org",
    )
    return VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(9, days=2))


def test_a_patient_answers_on_a_phone_comes_back_and_sends_and_staff_see_the_flags(
    live_server, browser, front_desk, visit, settings
):
    settings.PREVISIT_BASE_URL = live_server.url
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    mail.outbox.clear()

    # Staff send the link from the visit page.
    staff = browser.new_context(viewport=DESKTOP).new_page()
    staff.goto(f"{live_server.url}/accounts/login/?next=/staff/visits/{visit.pk}/")
    staff.get_by_label("Username").fill("fran.frontdesk")
    staff.get_by_label("Password").fill("correct-horse-battery")
    staff.get_by_role("button", name="Sign in").click()
    staff.get_by_role("button", name="Send link by e-mail").click()
    expect(staff.get_by_text("The pre-visit link is being e-mailed")).to_be_visible()
    [message] = mail.outbox
    assert message.to == ["mara.lindqvist@example.org"]
    url = next(line for line in message.body.splitlines() if line.startswith(live_server.url))

    # The patient opens it on a phone and gives their date of birth, keyboard only.
    phone = new_phone(browser)
    patient = phone.new_page()
    patient.goto(url)
    expect(patient.get_by_role("heading", level=1)).to_have_text("Before your visit")
    expect(patient.get_by_text("Mara")).to_have_count(0)
    shot(patient, "previsit-start-phone")
    assert serious_accessibility_problems(patient) == []
    assert_fits_the_screen(patient)
    give_birth_date_by_keyboard(patient, BORN)

    # The questions, answered with the keyboard alone; one is left for later.
    expect(patient.get_by_role("heading", level=1)).to_have_text("Questions before your visit")
    expect(patient.get_by_role("heading", name="What happens at your visit")).to_be_visible()
    first_noticed = timezone.localdate() - datetime.timedelta(days=10)
    tab_to(patient, patient.get_by_label("When did you first notice the twitching?"))
    patient.keyboard.type(f"{first_noticed:%m%d%Y}")
    tab_to(patient, patient.get_by_label("Number"))
    patient.keyboard.type("5")
    tab_to(patient, patient.get_by_label("Unit"))
    patient.keyboard.press("ArrowDown")
    often = patient.get_by_role("group", name="How often do you have twitching?")
    tab_to(patient, often.get_by_label("All the time"))
    patient.keyboard.press("Space")
    muscles = patient.get_by_role("group", name="Which muscles are affected?")
    for place in ("Eyelid, right", "Calf, left"):
        tab_to(patient, muscles.get_by_label(place))
        patient.keyboard.press("Space")
    same_place = patient.get_by_role("group", name="Is the twitching always in the same place?")
    tab_to(patient, same_place.get_by_label("Yes"))
    patient.keyboard.press("ArrowDown")
    pregnant = patient.get_by_role("group", name="Are you pregnant?")
    tab_to(patient, pregnant.get_by_label("Yes"))
    patient.keyboard.press("ArrowDown")
    shot(patient, "previsit-questions-phone")
    assert serious_accessibility_problems(patient) == []
    assert_fits_the_screen(patient)
    tab_to(patient, patient.get_by_role("button", name="Save and come back later"))
    patient.keyboard.press("Enter")

    saved = patient.get_by_role("status").filter(has_text="Your answers are saved")
    expect(saved).to_be_focused()
    assert serious_accessibility_problems(patient) == []
    assert Answer.objects.filter(visit=visit, source=Answer.Source.PATIENT).count() == 6
    phone.close()

    # Later, in a new browser session: a mistyped date of birth, then the right one.
    phone = new_phone(browser)
    patient = phone.new_page()
    patient.goto(url)
    give_birth_date_by_keyboard(patient, BORN.replace(day=13))
    summary = patient.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("You can try 4 more times.")
    expect(patient.get_by_label("Day")).to_have_attribute("aria-invalid", "true")
    shot(patient, "previsit-start-errors-phone")
    assert serious_accessibility_problems(patient) == []
    patient.get_by_label("Day").fill(str(BORN.day))
    patient.get_by_role("button", name="Continue").click()

    # The answers given before are there.
    often = patient.get_by_role("group", name="How often do you have twitching?")
    muscles = patient.get_by_role("group", name="Which muscles are affected?")
    same_place = patient.get_by_role("group", name="Is the twitching always in the same place?")
    expect(patient.get_by_label("When did you first notice the twitching?")).to_have_value(
        first_noticed.isoformat()
    )
    expect(patient.get_by_label("Unit")).to_have_value("seconds")
    expect(often.get_by_label("All the time")).to_be_checked()
    expect(muscles.get_by_label("Calf, left")).to_be_checked()
    expect(same_place.get_by_label("No")).to_be_checked()

    # Continuing with a question unanswered points to it; answering it goes on to the
    # confirm step, where the patient says it is them, types their name and sends.
    patient.get_by_role("button", name="Continue").click()
    summary = patient.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    other = patient.get_by_role("group", name="Do you have any of these other symptoms?")
    expect(other.get_by_label("Weakness")).to_have_attribute("aria-invalid", "true")
    shot(patient, "previsit-questions-errors-phone")
    assert serious_accessibility_problems(patient) == []
    assert_fits_the_screen(patient)
    summary.get_by_role("link").first.press("Enter")
    expect(other.get_by_label("Loss of feeling, or a change in how things feel")).to_be_focused()
    tab_to(patient, other.get_by_label("Weakness"))
    patient.keyboard.press("Space")
    tab_to(patient, patient.get_by_role("button", name="Continue"))
    patient.keyboard.press("Enter")
    expect(patient.get_by_role("heading", level=1)).to_have_text(
        "A clip or photos of the twitching"
    )
    tab_to(patient, patient.get_by_role("link", name="Continue without a file"))
    patient.keyboard.press("Enter")
    expect(patient.get_by_role("heading", level=1)).to_have_text("Check and send your answers")
    who = patient.get_by_role("group", name="Who is filling this in?")
    tab_to(patient, who.get_by_label("I am the patient"))
    patient.keyboard.press("Space")
    tab_to(patient, patient.get_by_label("Your full name"))
    patient.keyboard.type("Mara Lindqvist")
    tab_to(patient, patient.get_by_label("I confirm that these answers are true", exact=False))
    patient.keyboard.press("Space")
    tab_to(patient, patient.get_by_role("button", name="Send my answers"))
    # (A double press is tested in test_previsit_pages.py: here, on SQLite, the live
    # server's threads share one connection, so two overlapping requests would mix their
    # transactions in a way no real database allows.)
    patient.keyboard.press("Enter")

    expect(patient.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your answers have been sent"
    )
    expect(patient.get_by_text("Weakness")).to_be_visible()
    expect(patient.get_by_role("textbox")).to_have_count(0)
    shot(patient, "previsit-done-phone")
    assert serious_accessibility_problems(patient) == []
    assert_fits_the_screen(patient)

    assert AuditEvent.objects.filter(action="submit").count() == 1
    assert PreVisitLink.objects.get().state == PreVisitLink.State.SUBMITTED

    # A link that does not work, on the phone.
    patient.goto(f"{live_server.url}/v/not-a-real-link/")
    expect(patient.get_by_role("heading", level=1)).to_have_text("This link does not work")
    shot(patient, "previsit-problem-phone")
    assert serious_accessibility_problems(patient) == []
    phone.close()

    # Staff see the answers as the patient's, with the red flags.
    staff.reload()
    flags = staff.get_by_role("region", name="Red flags")
    for flag in FLAGS:
        expect(flags).to_contain_text(flag)
    answers = staff.get_by_role("region", name="Intake answers")
    expect(answers).to_contain_text("The patient")
    expect(answers).to_contain_text("Eyelid (right), Calf (left)")
    expect(answers).to_contain_text("Sent by the patient, Mara Lindqvist (typed name)")
    expect(staff.locator("#link-state")).to_contain_text("The patient sent their answers back on")
    shot(staff, "previsit-staff-visit-desktop")
    staff.set_viewport_size(PHONE)
    shot(staff, "previsit-staff-visit-phone")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.INTAKE_COMPLETE
    assert visit.answers.filter(source=Answer.Source.PATIENT).count() == 7
