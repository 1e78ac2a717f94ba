"""Condition content as a JSON document: export_condition, import round trips, versions."""

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from conditions.content import (
    export_condition,
    publish,
    restore_version,
    save_condition,
    unpublish,
)
from conditions.models import Condition, ConditionVersion, OrderableTest

from .conftest import SEED_PAGE


def export_command(slug):
    out = StringIO()
    call_command("export_condition", slug, stdout=out)
    return out.getvalue()


def import_command(path, *args):
    call_command("import_condition", str(path), *args, stdout=StringIO())


def test_export_prints_sections_nested_items_questions_red_flags_and_coded_tests(condition):
    document = json.loads(export_command("muscle-twitches"))

    assert document["format"] == "clinic-condition/1"
    assert document["title"] == "Muscle twitches"
    assert document["alternative_names"] == ["Muscle fasciculation", "Fasciculations of muscle"]
    causes = next(s for s in document["sections"] if s["kind"] == "causes")
    benign = causes["items"][-1]
    assert benign["text"] == "Harmless (benign) twitches that are not caused by any disease"
    assert [item["text"] for item in benign["items"]] == [
        "Often felt in the eyelids, the calf or the thumb",
        "Common and normal, and often brought on by stress or worry",
        "Come and go, and stop within a few days",
    ]
    assert [q["key"] for q in document["questions"]] == [
        "first-noticed",
        "episode-length",
        "how-often",
        "muscles-affected",
        "same-place",
        "pregnant",
        "other-symptoms",
    ]
    pregnant = next(q for q in document["questions"] if q["key"] == "pregnant")
    assert (pregnant["answer_type"], pregnant["applies_to"]) == ("yes_no", "female")
    long_term = document["red_flags"][3]
    assert (long_term["question"], long_term["kind"], long_term["days"]) == (
        "first-noticed",
        "longer_than",
        3,
    )
    emg = next(t for t in document["tests"] if t["slug"] == "emg")
    assert (emg["code_system"], emg["code"]) == ("http://www.ama-assn.org/go/cpt", "95860")
    assert len(document["tests"]) == 9


def test_export_of_an_unknown_slug_is_a_command_error(db):
    with pytest.raises(CommandError, match="No condition with the slug “nothing-here”"):
        export_command("nothing-here")


def test_export_then_import_into_an_empty_database_gives_the_same_export(condition, tmp_path):
    exported = export_command("muscle-twitches")
    path = tmp_path / "muscle-twitches.json"
    path.write_text(exported, encoding="utf-8")
    Condition.objects.all().delete()
    OrderableTest.objects.all().delete()

    import_command(path)

    assert export_command("muscle-twitches") == exported


def test_export_then_import_under_another_title_makes_a_copy_with_the_same_content(
    condition, tmp_path
):
    exported = export_command("muscle-twitches")
    path = tmp_path / "muscle-twitches.json"
    path.write_text(exported, encoding="utf-8")

    import_command(path, "--title", "Twitching muscles")

    copy = json.loads(export_command("twitching-muscles"))
    original = json.loads(export_command("muscle-twitches"))
    assert (copy.pop("title"), copy.pop("slug")) == ("Twitching muscles", "twitching-muscles")
    assert (original.pop("title"), original.pop("slug")) == ("Muscle twitches", "muscle-twitches")
    assert copy == original
    assert Condition.objects.count() == 2
    assert OrderableTest.objects.count() == 9  # the catalog is shared, not copied


def test_an_imported_page_survives_the_round_trip_through_json(db, tmp_path):
    import_command(SEED_PAGE)
    exported = export_command("muscle-twitches")
    path = tmp_path / "export.json"
    path.write_text(exported, encoding="utf-8")
    Condition.objects.all().delete()

    import_command(path)

    assert export_command("muscle-twitches") == exported


def test_saving_an_invalid_document_writes_nothing(condition, demo_document):
    before = export_condition(condition)
    demo_document["sections"][0]["heading"] = "A new heading"
    demo_document["tests"].append(
        {"slug": "creatine-kinase", "name": "Creatine kinase", "kind": "blood", "code": "2157-6"}
    )  # a code needs its code system

    with pytest.raises(ValidationError, match="Invalid test “creatine-kinase”"):
        save_condition(demo_document)

    condition.refresh_from_db()
    assert export_condition(condition) == before
    assert condition.versions.count() == 1


# Versions


def test_import_records_a_version_and_reimport_another(db):
    import_command(SEED_PAGE)
    import_command(SEED_PAGE, "--publish")
    condition = Condition.objects.get()
    assert list(condition.versions.values_list("number", "note")) == [
        (2, "Imported muscle-twitches.txt"),
        (1, "Imported muscle-twitches.txt"),
    ]
    assert condition.versions.get(number=1).content == export_condition(condition)


def test_publishing_and_unpublishing_record_versions(condition, editor):
    unpublish(condition, by=editor)
    publish(condition, by=editor)
    notes = list(condition.versions.values_list("number", "note", "created_by"))
    assert notes == [(3, "Published", editor.pk), (2, "Unpublished", editor.pk), (1, "", None)]


def test_restoring_an_earlier_version_brings_its_content_back_as_a_new_version(
    condition, demo_document, editor
):
    original = export_condition(condition)
    demo_document["definition"] = "<p>Rewritten.</p>"
    demo_document["sections"] = demo_document["sections"][:2]
    demo_document["questions"] = demo_document["questions"][:1]
    demo_document["red_flags"] = []
    demo_document["tests"] = demo_document["tests"][:1]
    demo_document["suggests"] = []
    save_condition(demo_document, by=editor, note="Cut down")
    assert condition.sections.count() == 2

    restore_version(condition.versions.get(number=1), by=editor)

    assert export_condition(condition) == original
    latest = condition.versions.first()
    assert (latest.number, latest.note, latest.created_by) == (3, "Restored version 1", editor)
    assert ConditionVersion.objects.filter(condition=condition).count() == 3


def test_a_document_may_change_questions_and_their_red_flags_together(condition, demo_document):
    other_symptoms = demo_document["questions"][-1]
    other_symptoms["choices"] = ["Tiredness", "Weakness in an arm or leg", "None of these"]
    demo_document["red_flags"] = [
        {
            "question": "other-symptoms",
            "kind": "answer_includes",
            "choice": "Weakness in an arm or leg",
            "message": "Reports limb weakness",
        }
    ]
    demo_document["questions"] = [q for q in demo_document["questions"] if q["key"] != "how-often"]

    save_condition(demo_document)

    assert list(condition.red_flag_rules.values_list("choice", flat=True)) == [
        "Weakness in an arm or leg"
    ]
    assert not condition.questions.filter(key="how-often").exists()


def test_deleting_a_condition_takes_its_questions_and_red_flags_with_it(condition):
    condition.delete()
    assert not Condition.objects.exists()


def test_publishing_a_published_condition_changes_nothing(condition, editor):
    published_at = condition.published_at
    publish(condition, by=editor)
    condition.refresh_from_db()
    assert condition.published_at == published_at
    assert condition.versions.count() == 1


def test_restoring_keeps_the_address_even_if_the_old_one_was_taken_since(
    condition, demo_document, editor
):
    condition.slug = "twitching"
    condition.save()
    save_condition({**demo_document, "title": "Eyelid twitch"})  # takes "muscle-twitches"

    restore_version(condition.versions.get(number=1), by=editor)

    condition.refresh_from_db()
    assert condition.slug == "twitching"
    assert Condition.objects.get(slug="muscle-twitches").title == "Eyelid twitch"


# The test catalog is shared between conditions and kept in its own admin.


def test_restoring_one_condition_leaves_the_shared_test_catalog_alone(
    condition, demo_document, editor
):
    other = save_condition({**demo_document, "title": "Eyelid twitch", "slug": "eyelid-twitch"})
    ct_spine = OrderableTest.objects.get(slug="ct-spine")
    ct_spine.code_system, ct_spine.code = OrderableTest.CodeSystem.CPT, "72125"
    ct_spine.save()

    restore_version(condition.versions.get(number=1), by=editor)

    ct_spine.refresh_from_db()
    assert ct_spine.code == "72125"
    assert ct_spine in other.tests.all()


def test_reimporting_a_page_keeps_what_the_catalog_says_of_its_tests(db):
    import_command(SEED_PAGE)
    ct_spine = OrderableTest.objects.get(slug="ct-spine")
    ct_spine.code_system, ct_spine.code = OrderableTest.CodeSystem.CPT, "72125"
    ct_spine.name = "CT scan of the cervical spine"
    ct_spine.save()

    import_command(SEED_PAGE)

    ct_spine.refresh_from_db()
    assert (ct_spine.name, ct_spine.code) == ("CT scan of the cervical spine", "72125")
    assert ct_spine in Condition.objects.get().tests.all()


def test_a_test_new_to_the_catalog_is_added_from_the_document(condition, demo_document):
    demo_document["tests"].append(
        {"slug": "creatine-kinase", "name": "Creatine kinase", "kind": "blood", "code": ""}
    )
    save_condition(demo_document)
    assert condition.tests.get(slug="creatine-kinase").name == "Creatine kinase"


def test_the_document_names_the_tests_the_condition_and_its_red_flags_suggest(condition):
    document = export_condition(condition)

    assert document["suggests"] == [
        "blood-chemistry-panel",
        "electrolytes-panel",
        "thyroid-function",
        "emg",
        "nerve-conduction-studies",
    ]
    weakness = next(rule for rule in document["red_flags"] if rule["message"] == "Reports weakness")
    assert weakness["suggests"] == ["mri-brain", "mri-spine"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"suggests": ["hba1c"]}, "The condition suggests the test “hba1c”, which is not one"),
        ({"suggests": "emg"}, "The tests the condition suggests must be a list of test slugs."),
    ],
)
def test_a_document_suggesting_what_it_cannot_is_refused(condition, demo_document, change, message):
    before = export_condition(condition)
    demo_document.update(change)

    with pytest.raises(ValidationError, match=message):
        save_condition(demo_document)

    assert export_condition(condition) == before


def test_a_red_flag_may_only_suggest_the_conditions_tests(condition, demo_document):
    demo_document["red_flags"][0]["suggests"] = ["hba1c"]

    with pytest.raises(ValidationError, match="Red flag “Reports loss of or change in sensation”"):
        save_condition(demo_document)
