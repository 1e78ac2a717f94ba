"""A pre-visit link in Spanish on a phone: the patient's record says Spanish; a wrong date
of birth, then the questions, switching to English and back without losing what was
typed, a refused file, a mistake, sending, and a link that does not work; each page checked
with axe-core."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.actors import Actor
from intake.links import show_previsit_link
from tests.factories import PatientFactory, VisitFactory, at_today

from .test_previsit_journey import (
    assert_fits_the_screen,
    serious_accessibility_problems,
    shot,
    tab_to,
)

pytestmark = pytest.mark.django_db(transaction=True)

BORN = datetime.date(1979, 11, 3)


def test_a_spanish_speaking_patient_answers_in_spanish_on_a_phone(
    live_server, browser, front_desk, condition, settings
):
    settings.PREVISIT_BASE_URL = live_server.url
    patient = PatientFactory(
        given_name="Lucía",
        family_name="Herrera",
        date_of_birth=BORN,
        sex_at_birth="female",
        preferred_language="es",
    )
    visit = VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(11, days=2))
    _, url = show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()

    # The record says Spanish, whatever the phone's own language.
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Antes de su visita")
    shot(page, "previsit-es-start-phone")
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)

    # A wrong date of birth, by keyboard.
    tab_to(page, page.get_by_label("Día"))
    page.keyboard.type("4")
    page.keyboard.press("Tab")
    page.keyboard.type(str(BORN.month))
    page.keyboard.press("Tab")
    page.keyboard.type(str(BORN.year))
    page.keyboard.press("Enter")
    summary = page.get_by_role("alert").filter(has_text="Hay un problema")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Puede intentarlo 4 veces más.")
    shot(page, "previsit-es-start-errors-phone")
    assert serious_accessibility_problems(page) == []
    page.get_by_label("Día").fill(str(BORN.day))
    page.get_by_role("button", name="Continuar").click()

    # The questions; a number typed, then the switch to English and back keeps it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Preguntas antes de su visita")
    page.get_by_label("Número").fill("12")
    page.get_by_label("Unidad").select_option("minutes")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions before your visit")
    expect(page.get_by_label("Number")).to_have_value("12")
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preguntas antes de su visita")
    expect(page.get_by_label("Número")).to_have_value("12")
    expect(page.get_by_label("Unidad")).to_have_value("minutes")

    # A refused file on the photos page says so in Spanish; the answers saved are kept.
    page.get_by_role("link", name="Añadir un video o fotos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Un video o fotos de los espasmos")
    page.get_by_label("Foto o video").set_input_files(
        {"name": "clip.mp4", "mimeType": "video/mp4", "buffer": b"not a clip at all"}
    )
    page.get_by_role("button", name="Mandar este archivo").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("No podemos abrir este archivo como foto ni como video.")
    expect(summary).to_be_focused()
    shot(page, "previsit-es-photos-refused-phone")
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)
    page.get_by_role("link", name="Volver a sus preguntas").click()
    expect(page.get_by_label("Número")).to_have_value("12")

    muscles = page.get_by_role("group", name="Which muscles are affected?")
    muscles.get_by_label("Pantorrilla, Izquierda").check()
    shot(page, "previsit-es-questions-phone")
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)

    # Sending with questions unanswered says so in Spanish.
    page.get_by_role("button", name="Enviar mis respuestas").click()
    summary = page.get_by_role("alert").filter(has_text="Hay un problema")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Responda esta pregunta.")
    shot(page, "previsit-es-questions-errors-phone")
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)

    # Answering the rest sends them; the page that thanks the patient is in Spanish too.
    noticed = timezone.localdate() - datetime.timedelta(days=20)
    page.get_by_label("When did you first notice the twitching?").fill(noticed.isoformat())
    page.get_by_role("group", name="How often do you have twitching?").get_by_label(
        "All the time"
    ).check()
    for question in ("Is the twitching always in the same place?", "Are you pregnant?"):
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Do you have any of these other symptoms?").get_by_label(
        "None of these"
    ).check()
    page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias, sus respuestas se enviaron")
    expect(page.get_by_text("Pantorrilla (izquierda)")).to_be_visible()
    expect(page.get_by_text("12 minutos")).to_be_visible()
    shot(page, "previsit-es-done-phone")
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)

    # A link that does not work, in the language chosen.
    page.goto(f"{live_server.url}/v/not-a-real-link/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Este enlace no funciona")
    shot(page, "previsit-es-problem-phone")
    assert serious_accessibility_problems(page) == []
    phone.close()
