"""The patient pages in the patient's language: which language a page speaks (the switch,
the patient's record, the browser, English), the switch that keeps what was typed, every
fixed text in Spanish, the link e-mail, staff pages that stay in English, and a Spanish
catalog with nothing left untranslated."""

import datetime
import re
from pathlib import Path

import polib
import pytest
from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from intake.forms import IntakeForm
from intake.models import Answer, Attestation, PreVisitLink

from .reading import by_id, parse
from .test_answer_types import scale_visit  # noqa: F401 (a fixture)
from .test_previsit_pages import BORN, answers_post, make_unusable

CATALOG = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES"

# Fixed texts of the patient pages, and words of them, that must not be left in English
# on a Spanish page (as whole words, case-sensitive, in what a person sees or hears).
ENGLISH = [
    "Before your visit",
    "What is your date of birth",
    "Day",
    "Month",
    "Year",
    "Continue",
    "There is a problem",
    "Your visit",
    "Questions before your visit",
    "Your answers",
    "Send my answers",
    "Save and come back later",
    "Answer this question",
    "Choose a unit",
    "Number",
    "Unit",
    "0 means none",
    "10 means the worst",
    "Head and face",
    "Eyelid",
    "left",
    "right",
    "Yes",
    "out of 10",
    "Thank you",
    "What you told us",
    "call us",
    "Call us",
    "This link",
    "Too many tries",
    "Please try again",
    "not saved",
    "Skip to main content",
    "In an emergency",
    "minute",
    "Language",
    "Get help now",
    "You ticked",
    "Questions marked",
    "clip",
    "photo",
    "Remove",
    "How to film it",
]


def visible_text(html):
    """What a person sees or a screen reader reads: text, titles and labels, not markup.
    The clinic's name is the clinic's own."""
    page = parse(html)
    parts = [element.text for element in page.children]
    for element in page.iter():
        parts += [element.attrs.get(name) or "" for name in ("aria-label", "title", "alt")]
    return " ".join(parts).replace(settings.CLINIC_NAME, "")


def english_left(html):
    text = visible_text(html)
    return [words for words in ENGLISH if re.search(rf"\b{re.escape(words)}\b", text)]


def assert_spanish(response):
    assert 'lang="es"' in response.text.split(">", 2)[1]
    assert response["Content-Language"] == "es"
    assert english_left(response.text) == []


def speaks(response):
    return response["Content-Language"]


@pytest.fixture
def spanish_speaker(upcoming_visit):
    upcoming_visit.patient.preferred_language = "es"
    upcoming_visit.patient.save()
    return upcoming_visit.patient


# Which language a page speaks


def test_the_link_opens_in_the_language_on_the_patient_record(link_patient, spanish_speaker):
    response = link_patient.get(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assert speaks(response) == "es"
    assert "¿Cuál es su fecha de nacimiento?" in response.text
    assert response.text.split(">", 2)[1].strip() == '<html lang="es"'
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize(
    ("on_record", "browser", "expected"),
    [
        ("", "es-MX,es;q=0.9,en;q=0.5", "es"),
        ("fr", "es", "es"),  # a language we do not have yet
        ("en", "es", "en"),
        ("", "de-DE,de;q=0.9", "en"),
        ("", "", "en"),
    ],
)
def test_else_the_browser_language_else_english(
    link_patient, upcoming_visit, on_record, browser, expected
):
    upcoming_visit.patient.preferred_language = on_record
    upcoming_visit.patient.save()

    response = link_patient.get(HTTP_ACCEPT_LANGUAGE=browser)

    assert speaks(response) == expected
    assert f'<html lang="{expected}"' in response.text


def test_a_link_that_matches_none_speaks_the_browser_language(client, db):
    response = client.get("/v/no-such-link/", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 404
    assert_spanish(response)
    assert "Este enlace no funciona" in response.text


# The switch


def test_every_patient_page_offers_each_language_named_in_itself(link_patient):
    page = parse(link_patient.get().text)

    switch = next(e for e in page.iter() if "language-switch" in e.attrs.get("class", ""))
    assert switch.attrs["aria-label"] == "Language"
    current, other = [element for element in switch.iter() if element.attrs.get("lang")]
    assert (current.text, current.attrs["aria-current"]) == ("English", "true")
    assert (other.tag, other.text, other.attrs["hreflang"]) == ("a", "Español", "es")


def test_the_switch_changes_the_language_and_beats_the_record(
    link_patient, link_token, spanish_speaker
):
    response = link_patient.get("?language=en")

    assert response.status_code == 302
    assert response["Location"] == f"/v/{link_token}/"
    assert speaks(link_patient.get()) == "en"
    assert speaks(link_patient.get("?language=es", follow=True)) == "es"


def test_a_language_we_do_not_have_changes_nothing(link_patient):
    link_patient.get("?language=xx")

    assert speaks(link_patient.get(HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_switching_on_the_questions_page_saves_what_was_typed_and_comes_back_in_spanish(
    verified_patient, upcoming_visit, intake_data, link_token
):
    data = answers_post(upcoming_visit, intake_data, {"how-often": "all-the-time"})
    del data["action"]

    response = verified_patient.post("questions/", {**data, "language": "es"})

    assert response.status_code == 302
    assert response["Location"] == f"/v/{link_token}/questions/"
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.answers.get(question_key="how-often").value_choices[0]["value"] == (
        "all-the-time"
    )
    assert PreVisitLink.objects.get().submitted_at is None
    page = verified_patient.get("questions/")
    assert_spanish(page)
    assert "Sus respuestas están guardadas" in page.text
    assert re.search(r'value="all-the-time"[^>]*checked', page.text)


def test_switching_with_a_mistake_on_the_page_keeps_every_typed_answer(
    verified_patient, upcoming_visit, intake_data
):
    data = answers_post(
        upcoming_visit, intake_data, {"first-noticed": "not a date", "episode-length_amount": "7"}
    )
    del data["action"]

    response = verified_patient.post("questions/", {**data, "language": "es"})

    assert response.status_code == 200
    assert_spanish(response)
    assert "Escriba una fecha real, por ejemplo" in response.text
    ids = by_id(parse(response.text))
    assert ids["id_q_first-noticed"].attrs["value"] == "not a date"
    assert ids["id_q_episode-length_amount"].attrs["value"] == "7"
    assert not Answer.objects.filter(visit=upcoming_visit).exists()


def test_the_questions_page_switch_is_a_button_of_the_answers_form(verified_patient):
    page = parse(verified_patient.get("questions/").text)

    (button,) = [e for e in page.iter() if e.tag == "button" and e.attrs.get("name") == "language"]
    assert (button.attrs["form"], button.attrs["value"], button.attrs["lang"]) == (
        "answers-form",
        "es",
        "es",
    )
    assert by_id(page)["answers-form"].tag == "form"


# Every fixed text in Spanish


def test_the_start_page_in_spanish(link_patient, spanish_speaker, upcoming_visit):
    response = link_patient.get()

    assert_spanish(response)
    day = timezone.localtime(upcoming_visit.scheduled_at)
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto"]
    months += ["septiembre", "octubre", "noviembre", "diciembre"]
    assert f"{day.day} de {months[day.month - 1]} de {day.year} a las {day:%H:%M}" in (
        response.text
    )
    assert "Confirme quién es usted" in response.text
    assert "Por ejemplo, 27 3 1985." in response.text


def test_a_wrong_date_of_birth_in_spanish_says_how_many_tries_are_left(
    link_patient, spanish_speaker
):
    response = link_patient.confirm_birth_date(BORN.replace(day=28))

    assert_spanish(response)
    message = "La fecha de nacimiento no es la que tenemos. Puede intentarlo 4 veces más."
    assert message in by_id(parse(response.text))["error-summary"].text
    for day in (1, 2, 3):
        response = link_patient.post(data={"day": day, "month": 1, "year": 1980})
    assert "Puede intentarlo 1 vez más." in response.text


def test_date_of_birth_mistakes_in_spanish(link_patient, spanish_speaker):
    link_patient.get()

    response = link_patient.post(data={"day": "", "month": "marzo", "year": "19"})

    assert_spanish(response)
    for message in ("Escriba el día.", "Escriba el mes con números", "mayor o igual a 1900"):
        assert message in response.text


def test_the_questions_page_with_mistakes_in_spanish(
    verified_patient, upcoming_visit, intake_data, spanish_speaker
):
    data = answers_post(
        upcoming_visit,
        intake_data,
        {"how-often": None, "episode-length_unit": None, "first-noticed": "2999-01-01"},
        action="continue",
    )

    response = verified_patient.post("questions/", data)

    assert_spanish(response)
    for words in ("Hay un problema", "Responda esta pregunta.", "todavía no ha llegado"):
        assert words in response.text
    for words in ("Cabeza y cara", "Párpado", "Izquierda", "Elija una unidad"):
        assert words in response.text


def test_the_done_page_in_spanish(verified_patient, upcoming_visit, intake_data, spanish_speaker):
    data = answers_post(upcoming_visit, intake_data, {"muscles-affected": ["calf-left"]})
    data["action"] = "continue"
    verified_patient.post("questions/", data)

    response = verified_patient.attest(follow=True)

    assert_spanish(response)
    assert "Gracias, sus respuestas se enviaron" in response.text
    assert "Pantorrilla (izquierda)" in response.text
    noticed = timezone.localdate() - datetime.timedelta(days=2)
    month = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"]
    assert f"{noticed.day} {month[noticed.month - 1]} {noticed.year}" in response.text
    # Kept language-independently: the site, and its English name.
    answer = Answer.objects.get(question_key="muscles-affected")
    assert answer.value_choices == [{"value": "calf-left", "label": "Calf (left)"}]
    # The words agreed to are kept as the patient read them, in Spanish.
    attestation = Attestation.objects.get()
    assert attestation.language == "es"
    assert "Sus respuestas van solo a" in attestation.text
    assert "Confirmo que estas respuestas son verdad" in attestation.text


def test_a_scale_question_in_spanish(scale_visit):  # noqa: F811
    with translation.override("es"):
        html = render_crispy_form(IntakeForm(visit=scale_visit))

    assert "0 quiere decir nada" in html
    assert "10 quiere decir lo peor que se pueda imaginar" in html


def test_the_photos_page_in_spanish(verified_patient, spanish_speaker):
    response = verified_patient.get("photos/")

    assert_spanish(response)
    assert "Un video o fotos de los espasmos" in response.text
    assert "Volver a sus preguntas" in response.text


def test_answers_sent_from_a_page_left_open_are_refused_in_spanish(
    verified_patient, upcoming_visit, intake_data, spanish_speaker
):
    sent = answers_post(upcoming_visit, intake_data, action="continue")
    verified_patient.post("questions/", sent)
    verified_patient.attest()
    changed = {**sent, "q_muscles-affected": ["calf-right"], "q_same-place": "no"}

    response = verified_patient.post("questions/", changed)

    assert response.status_code == 409
    assert_spanish(response)
    assert "Lo que no se guardó" in response.text
    assert "Usted puso: Pantorrilla (derecha)" in response.text
    assert "La clínica tiene: Sí" in response.text


@pytest.mark.parametrize("state", ["unknown", "expired", "revoked", "submitted", "locked"])
def test_each_link_that_does_not_work_says_so_in_spanish(
    link_token, upcoming_visit, front_desk, state, spanish_speaker
):
    token = make_unusable(state, link_token, front_desk)

    response = Client(HTTP_ACCEPT_LANGUAGE="es").get(f"/v/{token}/")

    assert response.status_code >= 400
    assert_spanish(response)
    assert "Llámenos al" in response.text or "llámenos al" in response.text


def test_too_many_tries_in_spanish(settings, db):
    settings.PREVISIT_MAX_FAILURES = 1
    guesser = Client(REMOTE_ADDR="203.0.113.9", HTTP_ACCEPT_LANGUAGE="es")
    guesser.get("/v/guess-1/")

    response = guesser.get("/v/guess-2/")

    assert response.status_code == 429
    assert_spanish(response)
    assert re.search(r"Espere \d+ minutos? y vuelva a intentarlo", response.text)


def test_a_form_from_elsewhere_is_refused_in_spanish(link_patient, spanish_speaker):
    link_patient.get()

    response = link_patient.client.post(link_patient.url, {"form_key": "not ours", "day": "1"})

    assert response.status_code == 400
    assert_spanish(response)
    assert "Por favor, inténtelo otra vez" in response.text


# The link e-mail


def test_the_link_e_mail_is_in_spanish_for_a_patient_who_prefers_it(
    desk_client, upcoming_visit, spanish_speaker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        desk_client.post(f"/staff/visits/{upcoming_visit.pk}/link/send/")

    [message] = mail.outbox
    assert message.subject == f"Antes de su visita a {settings.CLINIC_NAME}"
    assert message.body.startswith("Hola, Ines:")
    assert "Primero le pediremos su fecha de nacimiento." in message.body
    assert re.search(r"El enlace sirve hasta el \d+ [a-z]+ \d{4} a las \d\d:\d\d\.", message.body)
    assert " de 20" in message.body  # the visit's day, "martes 4 de diciembre de 2026"


# Staff pages stay in English


def test_staff_pages_stay_in_english_whatever_the_browser_asks(
    desk_client, visit, link_patient, spanish_speaker
):
    link_patient.get()  # a Spanish page served by the same process just before

    for url in ("/staff/", f"/staff/visits/{visit.pk}/intake/"):
        response = desk_client.get(url, HTTP_ACCEPT_LANGUAGE="es")

        assert response.status_code == 200
        assert '<html lang="en"' in response.text
        assert response.get("Content-Language") is None
    assert "Head and face" in response.text
    assert "Choose a unit" in response.text
    assert "Elija" not in response.text


def test_staff_see_body_sites_in_english_when_the_patient_answered_in_spanish(
    verified_patient, upcoming_visit, intake_data, spanish_speaker, desk_client
):
    data = answers_post(upcoming_visit, intake_data, {"muscles-affected": ["calf-left"]})
    verified_patient.post("questions/", data)

    response = desk_client.get(f"/staff/visits/{upcoming_visit.pk}/")

    assert "Calf (left)" in response.text
    assert "Pantorrilla" not in response.text


# The catalog


def test_every_text_in_the_spanish_catalog_is_translated():
    catalog = polib.pofile(CATALOG / "django.po")

    assert catalog.untranslated_entries() == []
    assert catalog.fuzzy_entries() == []
    assert catalog.obsolete_entries() == []
    for entry in catalog:
        placeholders = set(re.findall(r"%\(\w+\)[sd]", entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert set(re.findall(r"%\(\w+\)[sd]", text)) == placeholders, entry.msgid


def test_the_compiled_catalog_is_the_one_the_po_file_says():
    """django.mo is committed (installing needs no gettext): `make messages` after any
    change to django.po."""
    written = polib.pofile(CATALOG / "django.po")
    compiled = polib.mofile(CATALOG / "django.mo")

    def texts(catalog):
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr_plural or entry.msgstr
            for entry in catalog
            if entry.msgid and not entry.obsolete
        }

    assert texts(compiled) == texts(written)
