"""A 0 to 10 scale and body sites by side, answered on a phone by keyboard."""

import datetime

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from conditions.content import save_condition
from intake.links import show_previsit_link
from tests.factories import PatientFactory, VisitFactory, at_today

from .test_previsit_journey import (
    assert_fits_the_screen,
    give_birth_date_by_keyboard,
    new_phone,
    serious_accessibility_problems,
    shot,
    tab_to,
)

pytestmark = pytest.mark.django_db(transaction=True)

BORN = datetime.date(1984, 3, 9)


@pytest.fixture
def condition(db, demo_document):
    demo_document["questions"].insert(
        0,
        {
            "key": "how-bad",
            "wording": "How much do the twitches bother you?",
            "answer_type": "scale",
            "choices": [],
        },
    )
    return save_condition(demo_document, publish=True)


def test_a_patient_on_a_phone_answers_a_scale_and_sites_by_side_by_keyboard(
    clock, live_server, browser, front_desk, condition, settings
):
    settings.PREVISIT_BASE_URL = live_server.url
    record = PatientFactory(date_of_birth=BORN, sex_at_birth="male")
    visit = VisitFactory(patient=record, condition=condition, scheduled_at=at_today(15))
    _, url = show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    phone = new_phone(browser)
    patient = phone.new_page()
    patient.goto(url)
    give_birth_date_by_keyboard(patient, BORN)

    scale = patient.get_by_role("group", name="How much do the twitches bother you?")
    # One radio group: Tab reaches it, the arrow keys move along it.
    tab_to(patient, scale.get_by_role("radio", name="0", exact=True))
    for _ in range(6):
        patient.keyboard.press("ArrowRight")
    expect(scale.get_by_role("radio", name="6", exact=True)).to_be_checked()
    points = scale.locator("label").all()
    assert len({round(point.bounding_box()["y"]) for point in points}) == 1  # one line
    # The scale’s ends are named under it.
    assert scale.get_by_text("0 means none").bounding_box()["y"] > points[0].bounding_box()["y"]
    sites = patient.get_by_role("group", name="Which muscles are affected?")
    tab_to(patient, sites.get_by_role("checkbox", name="Calf, left"))
    patient.keyboard.press("Space")
    tab_to(patient, sites.get_by_role("checkbox", name="Calf, right"))
    patient.keyboard.press("Space")
    shot(patient, "scale-and-sides-phone")
    assert serious_accessibility_problems(patient) == []
    assert_fits_the_screen(patient)

    patient.get_by_role("button", name="Save and come back later").click()
    expect(patient.get_by_role("radio", name="6", exact=True)).to_be_checked()
    answers = {answer.question_key: answer.display for answer in visit.answers.all()}
    assert answers["how-bad"] == "6 out of 10"
    assert answers["muscles-affected"] == "Calf (both sides)"
    phone.close()
