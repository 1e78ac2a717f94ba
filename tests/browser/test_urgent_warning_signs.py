"""An urgent warning sign in a real browser: a patient on a phone ticks it and is told at
once to get help; the front desk sees it at the top of Today, on a phone and a desk."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from conditions.content import save_condition
from intake.links import show_previsit_link
from tests.factories import PatientFactory, VisitFactory, at_today

from .conftest import DESKTOP, PHONE, SCREENSHOTS
from .test_previsit_journey import (
    assert_fits_the_screen,
    give_birth_date_by_keyboard,
    new_phone,
    serious_accessibility_problems,
    shot,
    tab_to,
)

pytestmark = pytest.mark.django_db(transaction=True)

BORN = datetime.date(1990, 6, 2)


@pytest.fixture
def condition(db, demo_document):
    demo_document["questions"].insert(
        0,
        {
            "key": "warning-signs",
            "wording": "Do you have any of these now?",
            "help_text": "Tick each one you have now, or “None of these”.",
            "answer_type": "multiple_choice",
            "choices": [
                "Sudden weakness on one side of the body",
                "Ringing in the ears",
                "None of these",
            ],
        },
    )
    demo_document["red_flags"] += [
        {
            "question": "warning-signs",
            "kind": "answer_includes",
            "choice": "Sudden weakness on one side of the body",
            "message": "Warning sign now: Sudden weakness on one side of the body",
            "urgent": True,
        },
        {
            "question": "warning-signs",
            "kind": "answer_includes",
            "choice": "Ringing in the ears",
            "message": "Warning sign now: Ringing in the ears",
        },
    ]
    return save_condition(demo_document, publish=True)


def test_a_patient_ticking_an_urgent_sign_is_told_at_once_and_staff_see_it_first(
    clock, live_server, browser, front_desk, condition, settings
):
    settings.PREVISIT_BASE_URL = live_server.url
    settings.CLINIC_PHONE = "555-0100"
    patient_record = PatientFactory(
        given_name="Tomas", family_name="Reyes", date_of_birth=BORN, sex_at_birth="male"
    )
    visit = VisitFactory(patient=patient_record, condition=condition, scheduled_at=at_today(14))
    VisitFactory(condition=condition, scheduled_at=at_today(8))
    _, url = show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))

    phone = new_phone(browser)
    patient = phone.new_page()
    patient.goto(url)
    give_birth_date_by_keyboard(patient, BORN)
    expect(patient.get_by_role("heading", level=1)).to_have_text("Questions before your visit")
    alert = patient.locator("#urgent-alert")
    expect(alert).to_be_empty()

    # Ticking the urgent sign, by keyboard, tells the patient at once.
    signs = patient.get_by_role("group", name="Do you have any of these now?")
    tab_to(patient, signs.get_by_label("Ringing in the ears"))
    patient.keyboard.press("Space")
    expect(alert).to_be_empty()
    tab_to(patient, signs.get_by_label("Sudden weakness on one side of the body"))
    patient.keyboard.press("Space")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("Get help now: do not wait for your visit")
    expect(alert).to_contain_text("Call 911 (the emergency number) now")
    expect(alert.get_by_role("link", name="555-0100")).to_have_attribute("href", "tel:555-0100")
    expect(alert).to_be_in_viewport()
    shot(patient, "urgent-sign-ticked-phone")
    assert serious_accessibility_problems(patient) == []
    assert_fits_the_screen(patient)

    # Unticking takes it away; ticking again and saving shows it from the server.
    signs.get_by_label("Sudden weakness on one side of the body").uncheck()
    expect(alert).to_be_empty()
    signs.get_by_label("Sudden weakness on one side of the body").check()
    patient.get_by_role("button", name="Save and come back later").click()
    notice = patient.locator("#urgent-notice")
    expect(notice).to_be_focused()
    expect(notice).to_contain_text("Call 911")
    shot(patient, "urgent-sign-saved-phone")
    assert serious_accessibility_problems(patient) == []
    phone.close()

    # The front desk sees it at the top of Today, above the list, at both widths.
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=viewport)
        staff = context.new_page()
        staff.goto(f"{live_server.url}/accounts/login/?next=/staff/")
        staff.get_by_label("Username").fill("fran.frontdesk")
        staff.get_by_label("Password").fill("correct-horse-battery")
        staff.get_by_role("button", name="Sign in").click()
        box = staff.get_by_role("region", name="Urgent warning signs")
        expect(box).to_contain_text(
            re.compile(r"Tomas Reyes, 14:00: Warning sign now: Sudden weakness on one side")
        )
        box_top = box.bounding_box()["y"]
        assert box_top < staff.locator("table.day-list").bounding_box()["y"]
        staff.screenshot(path=SCREENSHOTS / f"urgent-today-{name}.png", full_page=True)
        assert serious_accessibility_problems(staff) == []
        context.close()
