"""A whole intake in a real browser, as the front desk takes it."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from intake.models import Patient, Visit

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

FLAGS = [
    "Reports weakness",
    "Twitching for more than a few days (long-term)",
    "Twitching all the time (persistent)",
]


def at_both_widths(page, screenshot, name):
    """Screenshots at desktop and phone width; the page is left at desktop width."""
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        screenshot(f"{name}-{size_name}")


def test_front_desk_takes_a_whole_intake_and_sees_the_red_flags(
    live_server, page, condition, front_desk, provider, screenshot, axe_violations
):
    provider.first_name, provider.last_name = "Pat", "Provider"
    provider.save()
    page.set_viewport_size(DESKTOP)

    # Sign in.
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/")
    page.get_by_label("Username").fill("fran.frontdesk")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Visits on")

    # Register a patient.
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("First name").fill("Mara")
    page.get_by_label("Last name").fill("Lindqvist")
    page.get_by_label("Date of birth").fill("1988-04-12")
    page.get_by_label("Sex at birth").select_option("female")
    page.get_by_label("Email").fill("mara.lindqvist@example.org")
    page.get_by_label("Phone").fill("+1 555 0142")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mara Lindqvist")
    patient = Patient.objects.get()
    expect(page.get_by_text("Patient registered with a new record number.")).to_be_visible()
    expect(page.get_by_text(patient.mrn, exact=True)).to_be_visible()

    # Open a visit for today.
    page.get_by_role("link", name="Open a visit").click()
    page.get_by_label("Date").fill(timezone.localdate().isoformat())
    page.get_by_label("Time").fill("09:30")
    page.get_by_label("Provider").select_option(label="Pat Provider")
    page.get_by_role("button", name="Open visit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Muscle twitches visit")

    # Marking it complete before anything is answered lists every question at the top.
    page.get_by_role("link", name="Record intake").click()
    page.get_by_role("button", name="Mark intake complete").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link")).to_have_count(8)
    at_both_widths(page, screenshot, "intake-errors")
    summary.get_by_role("link", name="Which muscles are affected? Answer this question.").click()
    expect(page.get_by_label("Eyelid, right")).to_be_in_viewport()

    # Fill every question.
    first_noticed = timezone.localdate() - datetime.timedelta(days=10)
    page.get_by_label("When did you first notice the twitching?").fill(first_noticed.isoformat())
    page.get_by_label("Number").fill("5")
    page.get_by_label("Unit").select_option("seconds")
    question = page.get_by_role("group", name="How often do you have twitching?")
    question.get_by_label("All the time").check()
    question = page.get_by_role("group", name="Which muscles are affected?")
    question.get_by_label("Eyelid, right").check()
    question.get_by_label("Calf, left").check()
    page.get_by_role("group", name="Is the twitching always in the same place?").get_by_label(
        "No"
    ).check()
    page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
    page.get_by_role("group", name="Do you have any of these other symptoms?").get_by_label(
        "Weakness"
    ).check()
    at_both_widths(page, screenshot, "intake-form")
    assert axe_violations() == []
    page.get_by_role("button", name="Mark intake complete").click()

    # The visit page shows the answers and the red flags, with their reasons.
    expect(page.get_by_text("Intake marked complete.")).to_be_visible()
    flags = page.get_by_role("region", name="Red flags")
    for flag in FLAGS:
        expect(flags).to_contain_text(flag)
    expect(flags).to_contain_text("10 days before the visit, more than 3 days")
    answers = page.get_by_role("region", name="Intake answers")
    expect(answers).to_contain_text("Eyelid (right), Calf (left)")
    expect(answers).to_contain_text("5 seconds")
    at_both_widths(page, screenshot, "visit-page")
    assert axe_violations() == []
    visit = Visit.objects.get()
    assert visit.status == Visit.Status.INTAKE_COMPLETE
    assert visit.answers.count() == 7

    # And on Today.
    page.get_by_role("link", name="Today").click()
    expect(page).to_have_url(f"{live_server.url}/staff/")
    row = page.get_by_role("row").filter(has_text="Mara Lindqvist")
    expect(row).to_contain_text("09:30")
    expect(row).to_contain_text("Intake complete")
    for flag in FLAGS:
        expect(row).to_contain_text(flag)
    at_both_widths(page, screenshot, "today")

    # The patient's page lists the visit.
    row.get_by_role("link", name="Mara Lindqvist").click()
    page.get_by_role("link", name="Mara Lindqvist").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mara Lindqvist")
    expect(page.get_by_role("row").filter(has_text="Muscle twitches")).to_contain_text(
        "Intake complete"
    )
    at_both_widths(page, screenshot, "patient-page")
