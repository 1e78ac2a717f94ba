"""The consent step on a phone: where the answers go, then who is sending them, a typed
name and a check box, with errors a keyboard and a screen reader can follow."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from intake.models import Attestation, PreVisitLink

from .test_previsit_journey import (
    assert_fits_the_screen,
    new_phone,
    serious_accessibility_problems,
    shot,
    tab_to,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_someone_answering_for_the_patient_confirms_and_sends_on_a_phone(
    live_server, browser, link_token, upcoming_visit, intake_data
):
    phone = new_phone(browser)
    page = phone.new_page()
    page.goto(f"{live_server.url}/v/{link_token}/")
    statement = page.locator("#privacy-statement")
    expect(statement).to_contain_text(f"Your answers go only to {settings.CLINIC_NAME}.")
    expect(statement).to_contain_text("for nothing else")
    born = upcoming_visit.patient.date_of_birth
    page.get_by_label("Day").fill(str(born.day))
    page.get_by_label("Month").fill(str(born.month))
    page.get_by_label("Year").fill(str(born.year))
    page.get_by_role("button", name="Continue").click()

    often = page.get_by_role("group", name="How often do you have twitching?")
    expect(often).to_be_visible()
    page.get_by_label("When did you first notice the twitching?").fill("2026-11-20")
    page.get_by_label("Number").fill("5")
    page.get_by_label("Unit").select_option("seconds")
    often.get_by_label("Several times a day").check()
    muscles = page.get_by_role("group", name="Which muscles are affected?")
    muscles.get_by_label("Eyelid, left").check()
    page.get_by_role("group", name="Is the twitching always in the same place?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
    page.get_by_role("group", name="Do you have any of these other symptoms?").get_by_label(
        "None of these"
    ).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Continue without a file").click()

    # The confirm page: the answers, a way back, the statement again and the questions.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check and send your answers")
    expect(page.get_by_role("link", name="Change your answers")).to_be_visible()
    expect(page.get_by_text("Several times a day")).to_be_visible()
    shot(page, "previsit-confirm-phone")
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)

    # Answering for the patient, with no relation and no tick: the summary says so.
    who = page.get_by_role("group", name="Who is filling this in?")
    who.get_by_label("I am answering for the patient").check()
    page.get_by_label("Your full name").fill("Ana Ruiz")
    page.get_by_role("button", name="Send my answers").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Choose how you are related to the patient.")
    expect(summary).to_contain_text("Tick the box to confirm your answers.")
    expect(page.get_by_label("Your full name")).to_have_value("Ana Ruiz")
    expect(who.get_by_label("I am answering for the patient")).to_be_checked()
    shot(page, "previsit-confirm-errors-phone")
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)
    assert PreVisitLink.objects.get().submitted_at is None

    # The summary's link takes the keyboard to the relation; then the box, then send.
    summary.get_by_role("link", name="How are you related", exact=False).press("Enter")
    relation = page.get_by_role("group", name="How are you related to the patient?")
    expect(relation.get_by_label("Parent")).to_be_focused()
    page.keyboard.press("Space")
    checkbox = page.get_by_label("I confirm that these answers are true", exact=False)
    expect(checkbox).to_have_attribute("aria-invalid", "true")
    tab_to(page, checkbox)
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Send my answers"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you, your answers have been sent"
    )
    shot(page, "previsit-consent-done-phone")
    attestation = Attestation.objects.get()
    assert (attestation.respondent, attestation.relation) == ("on_behalf", "parent")
    assert attestation.full_name == "Ana Ruiz"
    assert attestation.client_address == "127.0.0.1"
    phone.close()
