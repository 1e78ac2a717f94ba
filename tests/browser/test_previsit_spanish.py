"""The whole pre-visit link in Spanish on a phone, as issue 13 asks: the patient's record
says Spanish; a wrong date of birth; the questions in Spanish, switching to English and
back without losing what was typed; a mistake; a refused file, then a short clip; the
confirm step, answered by the patient's son; the thanks. Then the provider plays the
clip and reads the answers in English with the Spanish beside them. Each patient page is
checked with axe-core and screenshotted at 390 px."""

import base64
import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.actors import Actor
from intake.links import show_previsit_link
from intake.models import Answer, Attachment, Attestation
from tests.factories import PatientFactory, VisitFactory, at_today
from tests.media_files import attachment_folder  # noqa: F401 (a fixture)

from .conftest import DESKTOP, PHONE
from .test_previsit_clip import RECORD_CLIP
from .test_previsit_journey import (
    assert_fits_the_screen,
    serious_accessibility_problems,
    shot,
    tab_to,
)
from .test_today import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("attachment_folder")]

BORN = datetime.date(1979, 11, 3)


def checked(page, name):
    """Screenshot, axe-core and the phone's width, for the page as it stands."""
    shot(page, name)
    assert serious_accessibility_problems(page) == []
    assert_fits_the_screen(page)


def test_a_spanish_speaking_patient_goes_through_the_whole_link_and_the_provider_plays_the_clip(
    live_server, browser, front_desk, provider, condition, settings, authenticator
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
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()

    # The record says Spanish, whatever the phone's own language; the first page says
    # where the answers go.
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Antes de su visita")
    expect(page.locator("#privacy-statement")).to_contain_text(
        f"Sus respuestas van solo a {settings.CLINIC_NAME}."
    )
    checked(page, "previsit-es-start-phone")

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
    expect(page.get_by_label("Día")).to_have_attribute("aria-invalid", "true")
    checked(page, "previsit-es-start-errors-phone")
    page.get_by_label("Día").fill(str(BORN.day))
    page.get_by_role("button", name="Continuar").click()

    # The questions, content and all, in Spanish; a number typed, then the switch to
    # English and back keeps it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Preguntas antes de su visita")
    page.get_by_label("Número").fill("12")
    page.get_by_label("Unidad").select_option("minutes")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions before your visit")
    expect(page.get_by_label("Number")).to_have_value("12")
    expect(page.get_by_role("group", name="Which muscles are affected?")).to_be_visible()
    page.get_by_role("button", name="Español").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preguntas antes de su visita")
    expect(page.get_by_label("Número")).to_have_value("12")
    expect(page.get_by_label("Unidad")).to_have_value("minutes")
    page.get_by_role("group", name="¿Qué músculos tienen espasmos?").get_by_label(
        "Pantorrilla, izquierda"
    ).check()
    checked(page, "previsit-es-questions-phone")

    # Continuing with questions unanswered says so in Spanish; Enter in a box continues
    # (the header's language buttons belong to the form too, and must not take Enter).
    page.get_by_label("Número").press("Enter")
    summary = page.get_by_role("alert").filter(has_text="Hay un problema")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Responda esta pregunta.")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    checked(page, "previsit-es-questions-errors-phone")

    noticed = timezone.localdate() - datetime.timedelta(days=20)
    page.get_by_label("¿Cuándo notó los espasmos por primera vez?").fill(noticed.isoformat())
    page.get_by_role("group", name="¿Con qué frecuencia tiene espasmos?").get_by_label(
        "Todo el tiempo"
    ).check()
    for question in ("¿Los espasmos son siempre en el mismo lugar?", "¿Está embarazada?"):
        page.get_by_role("group", name=question).get_by_label("No", exact=True).check()
    page.get_by_role("group", name="¿Tiene alguno de estos otros síntomas?").get_by_label(
        "Ninguno de estos"
    ).check()
    page.get_by_role("button", name="Continuar").click()

    # The photos page: a text file named as a clip is refused in Spanish, then a real
    # two-second clip (recorded by Chromium) is kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("Un video o fotos de los espasmos")
    checked(page, "previsit-es-photos-phone")
    page.get_by_label("Foto o video").set_input_files(
        {"name": "clip.mp4", "mimeType": "video/mp4", "buffer": b"not a clip at all"}
    )
    page.get_by_role("button", name="Mandar este archivo").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("No podemos abrir este archivo como foto ni como video.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Foto o video")).to_have_attribute("aria-invalid", "true")
    checked(page, "previsit-es-photos-refused-phone")
    clip = base64.b64decode(page.evaluate(RECORD_CLIP, 2000))
    page.get_by_label("Foto o video").set_input_files(
        {"name": "espasmo.webm", "mimeType": "video/webm", "buffer": clip}
    )
    page.get_by_role("button", name="Mandar este archivo").click()
    expect(page.get_by_text("Su archivo se mandó a la clínica.")).to_be_visible()
    expect(page.get_by_text("Video 1 (2 segundos)")).to_be_visible()
    checked(page, "previsit-es-photos-sent-phone")
    page.get_by_role("link", name="Continuar").click()

    # The confirm step: the son answers for his mother. Enter in the name box without the
    # tick asks for it, in Spanish, keeping what was typed.
    expect(page.get_by_role("heading", level=1)).to_have_text("Revise y envíe sus respuestas")
    expect(page.get_by_text("Todo el tiempo")).to_be_visible()
    # Answered in English before the switch back, read in Spanish now.
    expect(page.get_by_text("¿Cuánto dura cada espasmo?")).to_be_visible()
    expect(page.get_by_text("Video 1 (2 segundos)")).to_be_visible()
    checked(page, "previsit-es-confirm-phone")
    page.get_by_role("radio", name="Respondo por el paciente").check()
    page.get_by_role("group", name="¿Qué relación tiene usted con el paciente?").get_by_label(
        "Hijo o hija"
    ).check()
    page.get_by_label("Su nombre completo").fill("Mateo Herrera")
    page.get_by_label("Su nombre completo").press("Enter")
    summary = page.get_by_role("alert").filter(has_text="Hay un problema")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Marque la casilla para confirmar sus respuestas.")
    expect(page.get_by_label("Su nombre completo")).to_have_value("Mateo Herrera")
    expect(page.get_by_label("Hijo o hija")).to_be_checked()
    checked(page, "previsit-es-confirm-errors-phone")
    page.get_by_label("Confirmo que estas respuestas son verdad", exact=False).check()
    page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias, sus respuestas se enviaron")
    expect(page.get_by_text("Pantorrilla (izquierda)")).to_be_visible()
    expect(page.get_by_text("12 minutos")).to_be_visible()
    checked(page, "previsit-es-done-phone")

    # Kept language-independently, with the words as asked and agreed to.
    often = Answer.objects.get(visit=visit, question_key="how-often")
    assert often.value_choices == [{"value": "all-the-time", "label": "All the time"}]
    assert (often.asked_language, often.wording) == ("es", "¿Con qué frecuencia tiene espasmos?")
    attestation = Attestation.objects.get()
    assert (attestation.respondent, attestation.relation) == ("on_behalf", "child")
    assert attestation.language == "es"
    assert attestation.text.startswith("Sus respuestas van solo a")
    assert Attachment.objects.get().content_type == "video/webm"

    # A link that does not work, in the language chosen.
    page.goto(f"{live_server.url}/v/not-a-real-link/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Este enlace no funciona")
    checked(page, "previsit-es-problem-phone")
    phone.close()

    # The provider reads it in English with the Spanish beside, and plays the clip.
    staff = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(staff, live_server, provider, device=authenticator(provider))
    staff.goto(f"{live_server.url}/staff/visits/{visit.pk}/")
    asked = staff.get_by_role("cell", name="How often do you have twitching?")
    expect(asked).to_contain_text("Asked in Spanish")
    expect(asked).to_contain_text("¿Con qué frecuencia tiene espasmos?")
    expect(staff.get_by_text("Sent by the patient's", exact=False)).to_contain_text(
        "Mateo Herrera (typed name)"
    )
    video = staff.locator("video")
    video.scroll_into_view_if_needed()
    staff.evaluate("async () => await document.querySelector('video').play()")
    staff.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return v.readyState >= 2 && v.currentTime > 0.3; }",
        timeout=10_000,
    )
    shot(staff, "visit-es-answers-and-clip")
