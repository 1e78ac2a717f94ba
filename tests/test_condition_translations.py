"""Condition content in English and Spanish: editing translations in the admin, the
"out of date" mark, publishing, versions, the patient's questions in Spanish, answers
given in Spanish as staff read them, and the public page per language."""

import copy
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from conditions.content import export_condition, publish, restore_version, save_condition
from conditions.models import Condition, HistoryQuestion, SectionItem, TranslationStatus
from intake.models import Answer

from .conftest import SEED_PAGE
from .test_condition_admin import change_url, form_data, prefix_where
from .test_importer import import_page
from .test_previsit_pages import answers_post


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def untranslated(document):
    """The document with every translation taken out."""
    document = copy.deepcopy(document)

    def strip(part):
        part.pop("translations", None)
        for item in part.get("items", []):
            strip(item)

    for part in [document, *document["sections"], *document["questions"], *document["red_flags"]]:
        strip(part)
    return document


def hreflangs(html):
    """{hreflang: address} of the page's alternate links."""
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html))


def question(condition, key):
    return HistoryQuestion.objects.get(condition=condition, key=key)


# The admin


def test_editor_translates_a_question_beside_the_english(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    pregnant = prefix_where(data, "key", "pregnant")
    assert data[f"{pregnant}-wording_en"] == ["Are you pregnant?"]
    data[f"{pregnant}-wording_es"] = ["¿Podría estar embarazada?"]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 302
    saved = question(condition, "pregnant")
    assert (saved.wording_en, saved.wording_es) == (
        "Are you pregnant?",
        "¿Podría estar embarazada?",
    )
    assert saved.translation_status("es") is None
    latest = condition.versions.first().content
    spanish = next(q for q in latest["questions"] if q["key"] == "pregnant")["translations"]["es"]
    assert spanish["wording"] == "¿Podría estar embarazada?"


def test_english_change_marks_the_translation_out_of_date_until_confirmed(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    pregnant = prefix_where(data, "key", "pregnant")
    data[f"{pregnant}-wording_en"] = ["Could you be pregnant?"]
    editor_client.post(change_url(condition), data)

    assert question(condition, "pregnant").translation_status("es") == "out_of_date"
    page = editor_client.get(change_url(condition)).text
    assert "Spanish: Translation out of date" in page
    assert "1 part(s) have a Spanish translation missing or out of date" in page
    listing = editor_client.get(reverse("admin:conditions_condition_changelist")).text
    assert '<td class="field-translations_to_check">1</td>' in listing

    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'pregnant')}-translation_still_right"] = ["on"]
    editor_client.post(change_url(condition), data)

    assert question(condition, "pregnant").translation_status("es") is None
    assert "translation-warning" not in editor_client.get(change_url(condition)).text


def test_saving_the_translation_clears_the_out_of_date_mark(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    how_often = prefix_where(data, "key", "how-often")
    data[f"{how_often}-help_text_en"] = ["Think of the last two weeks."]
    editor_client.post(change_url(condition), data)
    assert question(condition, "how-often").translation_status("es") == "missing"

    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'how-often')}-help_text_es"] = [
        "Piense en las dos últimas semanas."
    ]
    editor_client.post(change_url(condition), data)

    assert question(condition, "how-often").translation_status("es") is None


def test_a_changed_list_item_marks_its_section_and_the_spanish_list_is_edited_beside_it(
    editor_client, condition
):
    data = form_data(editor_client.get(change_url(condition)))
    red_flags = prefix_where(data, "kind", "red_flags")
    assert data[f"{red_flags}-items_outline_es"][0].splitlines()[-1] == "- Debilidad"
    data[f"{red_flags}-items_outline"] = [
        data[f"{red_flags}-items_outline"][0].replace("- Weakness", "- Weak muscles")
    ]
    editor_client.post(change_url(condition), data)
    section = condition.sections.get(kind="red_flags")
    assert section.translation_status("es") == "out_of_date"

    data = form_data(editor_client.get(change_url(condition)))
    data[f"{red_flags}-items_outline_es"] = [
        data[f"{red_flags}-items_outline_es"][0].replace("- Debilidad", "- Músculos débiles")
    ]
    editor_client.post(change_url(condition), data)

    section = condition.sections.get(kind="red_flags")
    assert section.translation_status("es") is None
    assert [item.text_es for item in section.listed_items()][-1] == "Músculos débiles"


def test_a_spanish_list_of_another_length_is_refused(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    red_flags = prefix_where(data, "kind", "red_flags")
    data[f"{red_flags}-items_outline_es"] = ["- Debilidad"]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 200
    assert "The list has 3 item(s) in English and 1 here" in response.text


def test_publishing_with_stale_translations_warns_and_publishes(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'pregnant')}-wording_en"] = ["Could you be pregnant?"]
    editor_client.post(change_url(condition), data)

    response = editor_client.post(
        reverse("admin:conditions_condition_publish", args=[condition.pk])
    )

    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert "“Muscle twitches” is published." in messages
    warning = next(message for message in messages if "Spanish translation" in message)
    assert "Question “pregnant”: translation out of date" in warning
    condition.refresh_from_db()
    assert condition.published_version.content["questions"][5]["wording"] == (
        "Could you be pregnant?"
    )


# Versions


def test_a_version_keeps_the_translations_and_restoring_brings_them_back(condition, editor):
    first = condition.published_version
    document = export_condition(condition)
    document["questions"][0]["translations"]["es"]["wording"] = "¿Desde cuándo?"
    save_condition(document, condition=condition, by=editor)
    assert question(condition, "first-noticed").wording_es == "¿Desde cuándo?"

    restore_version(first, by=editor)

    restored = question(condition, "first-noticed")
    assert restored.wording_es == "¿Cuándo notó los espasmos por primera vez?"
    assert restored.translation_status("es") is None
    assert export_condition(condition) == first.content


def test_an_old_document_without_translations_loads_untranslated(db, demo_document):
    condition = save_condition(untranslated(demo_document), publish=True)

    assert condition.published_version.languages() == ["en"]
    problems = condition.translation_problems("es")
    assert {status for _, _, status in problems} == {TranslationStatus.MISSING}
    with translation.override("es"):
        assert condition.published_version.questions()[0].wording == (
            "When did you first notice the twitching?"
        )


# Re-imports and restores: a document part without translations keeps the saved ones


def spanish(text):
    """A stand-in translation, line by line (as lists are translated)."""
    return "\n".join(f"ES {line}" for line in text.splitlines())


def translate_everything(condition):
    """Give every text of the condition a Spanish translation of its English as it stands."""
    for item in SectionItem.objects.filter(section__condition=condition):
        item.text_es = spanish(item.text_en)
        item.save()
    records = [
        condition,
        *condition.sections.all(),
        *condition.questions.all(),
        *condition.red_flag_rules.all(),
    ]
    for record in records:
        for field in record.TRANSLATED_FIELDS:
            setattr(record, f"{field}_es", spanish(getattr(record, f"{field}_en") or ""))
        record.mark_translated("es")
        record.save()
    assert condition.translation_problems("es") == []


def test_reimporting_the_english_page_keeps_the_spanish_and_marks_what_changed(db, tmp_path):
    import_page(SEED_PAGE)
    condition = Condition.objects.get(slug="muscle-twitches")
    translate_everything(condition)
    translated = export_condition(condition)

    import_page(SEED_PAGE)

    assert condition.versions.count() == 1
    assert export_condition(condition) == translated

    page = tmp_path / "muscle-twitches.txt"
    page.write_text(
        SEED_PAGE.read_text(encoding="utf-8").replace("  • Exercise\n", "  • Hard exercise\n"),
        encoding="utf-8",
    )
    import_page(page)

    assert condition.versions.count() == 2
    assert condition.translation_problems("es") == [
        ("Section", "Common Causes", TranslationStatus.OUT_OF_DATE)
    ]
    causes = condition.sections.get(kind="causes")
    assert causes.heading_es == "ES Common Causes"
    assert [(item.text_en, item.text_es) for item in causes.listed_items()][3:5] == [
        ("Hard exercise", "ES Exercise"),
        (
            "Lack of nutrients in the diet (deficiency)",
            "ES Lack of nutrients in the diet (deficiency)",
        ),
    ]
    assert question(condition, "what-other-symptoms-do-you-have").choices_es.startswith(
        "ES Loss of, or change in, sensation"
    )


def test_reworded_parts_keep_their_spanish_as_out_of_date(condition, editor):
    document = untranslated(export_condition(condition))
    causes = next(section for section in document["sections"] if section["kind"] == "causes")
    causes["heading"] = "What can cause twitching"
    causes["items"].insert(0, {"text": "Not sleeping enough", "items": []})
    document["red_flags"][0]["message"] = "Reports numbness"

    save_condition(document, condition=condition, by=editor)

    causes = condition.sections.get(kind="causes")
    assert causes.heading_es == "Causas comunes"
    assert causes.translation_status("es") == TranslationStatus.MISSING
    assert [item.text_es for item in causes.listed_items()][:3] == [
        "",
        "Enfermedades autoinmunes, como el síndrome de Isaac",
        "Demasiado de una sustancia estimulante, como la cafeína o las anfetaminas",
    ]
    rule = condition.red_flag_rules.get(message_en="Reports numbness")
    assert rule.message_es == "Dice que ha perdido la sensibilidad o que la siente distinta"
    assert rule.translation_status("es") == TranslationStatus.OUT_OF_DATE
    assert {name for _, name, _ in condition.translation_problems("es")} == {
        "What can cause twitching",
        "Reports numbness",
    }


def test_restoring_a_version_from_before_the_translation_keeps_the_spanish(
    db, demo_document, editor
):
    old = untranslated(demo_document)
    old["questions"][0]["wording"] = "When did the twitching start?"
    condition = save_condition(old, by=editor)
    save_condition(demo_document, condition=condition, by=editor)

    restore_version(condition.versions.get(number=1), by=editor)

    condition.refresh_from_db()
    first = question(condition, "first-noticed")
    assert (first.wording_en, first.wording_es) == (
        "When did the twitching start?",
        "¿Cuándo notó los espasmos por primera vez?",
    )
    assert condition.translation_problems("es") == [
        ("Question", "first-noticed", TranslationStatus.OUT_OF_DATE)
    ]


def test_an_empty_translations_clears_the_spanish(condition, editor):
    document = export_condition(condition)
    document["questions"][0]["translations"] = {}
    document["sections"][1]["items"][0]["translations"] = {}

    save_condition(document, condition=condition, by=editor)

    assert question(condition, "first-noticed").wording_es == ""
    causes = condition.sections.get(kind="causes")
    assert causes.listed_items()[0].text_es == ""
    assert causes.listed_items()[1].text_es != ""
    assert {name for _, name, _ in condition.translation_problems("es")} == {
        "first-noticed",
        "Common causes",
    }


# The patient's questions and answers


def test_questions_page_in_spanish_shows_the_spanish_content(verified_patient, upcoming_visit):
    response = verified_patient.get("questions/", HTTP_ACCEPT_LANGUAGE="es")

    assert "¿Con qué frecuencia tiene espasmos?" in response.text
    assert "Varias veces al día" in response.text
    assert 'value="several-times-a-day"' in response.text
    assert "Algunas pruebas se hacen de otra manera durante el embarazo." in response.text
    assert "How often do you have twitching?" not in response.text


def test_a_question_not_translated_is_asked_in_english(db, demo_document, editor):
    document = copy.deepcopy(demo_document)
    del document["questions"][1]["translations"]
    condition = save_condition(document, publish=True, by=editor)

    with translation.override("es"):
        wordings = [q.wording for q in condition.published_version.questions()]

    assert wordings[:2] == [
        "¿Cuándo notó los espasmos por primera vez?",
        "How long does each twitch last?",
    ]


def test_an_answer_given_in_spanish_is_kept_by_its_english_code_and_staff_read_english(
    verified_patient, upcoming_visit, intake_data, desk_client
):
    data = answers_post(upcoming_visit, intake_data, {"other-symptoms": ["weakness"]})

    response = verified_patient.post("questions/", data, follow=True, HTTP_ACCEPT_LANGUAGE="es")
    assert "Debilidad" in response.text

    answer = Answer.objects.get(visit=upcoming_visit, question_key="other-symptoms")
    assert answer.asked_language == "es"
    assert answer.wording == "¿Tiene alguno de estos otros síntomas?"
    assert answer.value_choices == [{"value": "weakness", "label": "Weakness"}]
    upcoming_visit.refresh_from_db()
    weakness = next(f for f in upcoming_visit.red_flags if f["message"] == "Reports weakness")
    assert weakness["reason"] == "Answered “Weakness” to “Do you have any of these other symptoms?”"

    page = desk_client.get(reverse("intake:visit-detail", args=[upcoming_visit.pk])).text
    assert "Do you have any of these other symptoms?" in page
    assert (
        'Asked in Spanish: “<span lang="es">¿Tiene alguno de estos otros síntomas?</span>”' in page
    )
    assert "Weakness" in page


# The public page per language


def test_public_page_in_spanish_with_hreflang_links(client, condition):
    response = client.get("/conditions/muscle-twitches/es/")

    assert response.status_code == 200
    assert '<html lang="es">' in response.text
    assert "<h1>Espasmos musculares</h1>" in response.text
    assert "Preguntas que le pueden hacer" in response.text
    assert hreflangs(response.text) == {
        "en": "http://testserver/conditions/muscle-twitches/",
        "es": "http://testserver/conditions/muscle-twitches/es/",
        "x-default": "http://testserver/conditions/muscle-twitches/",
    }
    assert 'href="http://testserver/conditions/muscle-twitches/" hreflang="en" lang="en"' in (
        response.text
    )

    english = client.get("/conditions/muscle-twitches/")
    assert '<html lang="en">' in english.text
    assert hreflangs(english.text) == hreflangs(response.text)
    assert 'hreflang="es" lang="es">Español</a>' in english.text


def test_no_spanish_page_while_the_translation_is_incomplete(client, db, demo_document):
    document = copy.deepcopy(demo_document)
    del document["red_flags"][0]["translations"]
    save_condition(document, publish=True)

    assert client.get("/conditions/muscle-twitches/es/").status_code == 404
    english = client.get("/conditions/muscle-twitches/")
    assert hreflangs(english.text) == {}
    assert "Español" not in english.text


def test_no_spanish_page_while_a_translation_is_out_of_date(client, condition, editor):
    document = export_condition(condition)
    document["red_flags"][0]["message"] = "Reports numbness"
    save_condition(document, condition=condition, by=editor)
    publish(condition, by=editor)

    assert client.get("/conditions/muscle-twitches/es/").status_code == 404
    assert client.get("/conditions/muscle-twitches/").status_code == 200


def test_an_english_list_of_another_length_saves_and_leaves_the_list_untranslated(
    editor_client, condition
):
    data = form_data(editor_client.get(change_url(condition)))
    red_flags = prefix_where(data, "kind", "red_flags")
    data[f"{red_flags}-items_outline"] = ["- Weakness\n- Numbness"]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 302
    section = condition.sections.get(kind="red_flags")
    assert [item.text_es for item in section.listed_items()] == ["", ""]
    assert section.heading_es == "Señales de que el sistema nervioso puede estar afectado"
    assert section.translation_status("es") == "missing"


def test_translations_posted_back_with_a_browsers_line_endings_are_not_taken_as_saved(
    editor_client, condition
):
    data = form_data(editor_client.get(change_url(condition)))
    how_often = prefix_where(data, "key", "how-often")
    causes = prefix_where(data, "kind", "causes")
    data[f"{how_often}-wording_en"] = ["How often do you get twitches?"]
    data[f"{causes}-items_outline"] = [data[f"{causes}-items_outline"][0] + "\n- Tiredness"]
    for name, values in data.items():
        data[name] = [value.replace("\n", "\r\n") for value in values]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 302
    assert question(condition, "how-often").translation_status("es") == "out_of_date"
    assert condition.sections.get(kind="causes").translation_status("es") == "missing"


def test_the_versions_page_lists_a_changed_translation(editor_client, condition, editor):
    document = export_condition(condition)
    document["questions"][5]["translations"]["es"]["wording"] = "¿Podría estar embarazada?"
    save_condition(document, condition=condition, by=editor)

    page = editor_client.get(reverse("admin:conditions_condition_versions", args=[condition.pk]))

    assert "[es] question “pregnant”" in page.text
    assert re.search(r"<ins>¿Podría[^<]*</ins>", page.text)
