"""The import_condition command reading encyclopedia-style text pages and JSON exports."""

import datetime
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from conditions.content import export_condition
from conditions.models import (
    Condition,
    ConditionVersion,
    HistoryQuestion,
    OrderableTest,
    RedFlagRule,
    Section,
    SectionItem,
)

from .conftest import DEMO_DOCUMENT, SEED_PAGE
from .reading import parse

LEG_CRAMPS_PAGE = Path(__file__).resolve().parent / "pages" / "leg-cramps.txt"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"


def import_page(path, *args):
    out = StringIO()
    call_command("import_condition", str(path), *args, stdout=out)
    return out.getvalue()


def outline(section):
    """A section's items as nested (text, [sub-points]) pairs, as saved in the database."""

    def nodes(tree):
        return [(node.item.text, nodes(node.children)) for node in tree]

    return nodes(section.item_tree())


def texts(section):
    return [text for text, _ in outline(section)]


CONTENT_MODELS = [Condition, Section, SectionItem, HistoryQuestion, RedFlagRule, OrderableTest]


def counts():
    """How many rows each content table holds, versions included."""
    return {model.__name__: model.objects.count() for model in [*CONTENT_MODELS, ConditionVersion]}


def content_counts():
    return {name: count for name, count in counts().items() if name != "ConditionVersion"}


@pytest.fixture
def twitches(db):
    import_page(SEED_PAGE)
    return Condition.objects.get(slug="muscle-twitches")


@pytest.fixture
def leg_cramps(db):
    import_page(LEG_CRAMPS_PAGE)
    return Condition.objects.get(slug="leg-cramps")


# The seed page, item by item.


def test_seed_page_title_and_slug_come_from_the_file_name(twitches):
    assert twitches.title == "Muscle twitches"
    assert twitches.slug == "muscle-twitches"
    assert twitches.status == Condition.Status.DRAFT


def test_seed_page_definition_and_alternative_names(twitches):
    assert "fine movements of a small area of muscle" in twitches.definition
    assert twitches.alternative_name_list == ["Muscle fasciculation", "Fasciculations of muscle"]


def test_seed_page_lists_seven_common_causes_with_three_points_under_benign_twitches(twitches):
    causes = twitches.sections.get(kind=Section.Kind.CAUSES)
    assert causes.heading == "Common Causes"
    assert outline(causes) == [
        ("Autoimmune disorders such as Isaac syndrome", []),
        ("Drug overdose (caffeine, amphetamines, or other stimulants)", []),
        ("Drug side effect (such as from diuretics, corticosteroids, or estrogens)", []),
        ("Exercise", []),
        ("Lack of nutrients in the diet (deficiency)", []),
        ("Stress", []),
        (
            "Twitches not caused by disease or disorders (benign twitches)",
            [
                ("Often affecting the eyelids, calf, or thumb", []),
                ("Normal and quite common, often triggered by stress or anxiety", []),
                ("Come and go, and do not last for more than a few days", []),
            ],
        ),
    ]


def test_seed_page_lists_five_nervous_system_conditions(twitches):
    section = twitches.sections.get(kind=Section.Kind.NERVOUS_SYSTEM_CAUSES)
    assert section.heading == "Nervous system conditions that can cause muscle twitching"
    assert outline(section) == [
        ("Amyotrophic lateral sclerosis (ALS – Lou Gehrig’s disease)", []),
        ("Damage to the nerve that leads to a muscle", []),
        ("Muscular dystrophy", []),
        ("Spinal muscular atrophy", []),
        ("Weak muscles (myopathy)", []),
    ]


def test_seed_page_lists_three_red_flag_symptoms(twitches):
    section = twitches.sections.get(kind=Section.Kind.RED_FLAGS)
    assert outline(section) == [
        ("Loss of, or change in, sensation", []),
        ("Loss of muscle size (wasting)", []),
        ("Weakness", []),
    ]


def test_seed_page_sections_keep_the_page_order(twitches):
    assert [section.kind for section in twitches.sections.all()] == [
        "considerations",
        "causes",
        "nervous_system_causes",
        "red_flags",
        "home_care",
        "when_to_call",
        "what_to_expect",
    ]
    when_to_call = twitches.sections.get(kind=Section.Kind.WHEN_TO_CALL)
    assert "long-term or persistent muscle twitches" in when_to_call.body


def test_seed_page_history_questions_get_a_sensible_answer_type_each(twitches):
    questions = [
        (question.wording, question.answer_type, question.applies_to)
        for question in twitches.questions.all()
    ]
    assert questions == [
        ("When did you first notice the twitching?", "date", "everyone"),
        ("How long does it last?", "duration", "everyone"),
        ("How often do you experience twitching?", "frequency", "everyone"),
        ("What muscles are affected?", "body_sites", "everyone"),
        ("Is it always in the same location?", "yes_no", "everyone"),
        ("Are you pregnant?", "yes_no", "female"),
        ("What other symptoms do you have?", "multiple_choice", "everyone"),
    ]


def test_seed_page_other_symptoms_question_offers_the_red_flags_and_flags_them(twitches):
    question = twitches.questions.get(answer_type="multiple_choice")
    assert [label for _, label in question.choice_list] == [
        "Loss of, or change in, sensation",
        "Loss of muscle size (wasting)",
        "Weakness",
        "None of these",
    ]
    flagged = {rule.choice for rule in twitches.red_flag_rules.filter(question=question)}
    assert flagged == {
        "Loss of, or change in, sensation",
        "Loss of muscle size (wasting)",
        "Weakness",
    }


def test_seed_page_tests_are_split_one_per_test_with_their_codes(twitches):
    tests = {
        test.slug: (test.name, test.kind, test.body_site, test.code_system, test.code)
        for test in twitches.tests.all()
    }
    assert tests == {
        "electrolytes-panel": ("Electrolytes panel", "blood", "", LOINC, "24326-1"),
        "thyroid-function": ("Thyroid function (TSH)", "blood", "", LOINC, "3016-3"),
        "blood-chemistry-panel": (
            "Blood chemistry (comprehensive metabolic panel)",
            "blood",
            "",
            LOINC,
            "24323-8",
        ),
        # The bulletless "CT scan of the spine or brain" line, recovered as an item.
        "ct-spine": ("CT scan of the spine", "imaging", "spine", "", ""),
        "ct-brain": ("CT scan of the brain", "imaging", "brain", CPT, "70450"),
        "mri-spine": ("MRI scan of the spine", "imaging", "spine", "", ""),
        "mri-brain": ("MRI scan of the brain", "imaging", "brain", CPT, "70551"),
        "emg": ("Electromyogram (EMG)", "neurophysiology", "", CPT, "95860"),
        "nerve-conduction-studies": (
            "Nerve conduction studies",
            "neurophysiology",
            "",
            CPT,
            "95907",
        ),
    }


@pytest.mark.parametrize(
    "chrome",
    [
        "Coordinated Health",
        '"Conditions"',  # the breadcrumb, as a heading, name or item of its own
        "EmailTwitterFacebookGoogle+LinkedIn",
        "LinkedIn",
    ],
)
def test_seed_page_chrome_is_nowhere_in_the_saved_content(twitches, chrome):
    saved = json.dumps(export_condition(twitches), ensure_ascii=False)
    assert chrome not in saved


# A page of a different make-up: other headings, numbered and starred lists, tabs,
# a lost bullet at column 0, and its own chrome.


def test_other_page_reads_its_own_heading_wording(leg_cramps):
    assert leg_cramps.title == "Leg cramps"
    assert "sudden, painful tightening" in leg_cramps.definition
    assert "arch of the foot" in leg_cramps.definition  # the wrapped second line
    assert [(section.kind, section.heading) for section in leg_cramps.sections.all()] == [
        ("considerations", "Information"),
        ("causes", "Causes"),
        ("causes", "Longer-term illnesses can also lead to cramps"),
        ("red_flags", "These signs may point to a more serious problem"),
        ("home_care", "Self-care at home"),
        ("other", "Prevention"),
        ("when_to_call", "When to Contact a Medical Professional"),
        ("what_to_expect", "What to Expect at Your Office Visit"),
    ]


def test_other_page_alternative_names_separated_by_commas(leg_cramps):
    assert leg_cramps.alternative_name_list == [
        "Nocturnal leg cramps",
        "Charley horse",
        "Muscle cramp of the leg",
    ]


def test_other_page_numbered_list_keeps_its_tab_indented_sub_list(leg_cramps):
    causes = leg_cramps.sections.get(heading="Causes")
    assert "Things that can bring on a leg cramp include:" in causes.body
    assert outline(causes) == [
        ("Sitting or standing in one position for a long time", []),
        ("Hard exercise, especially in hot weather", []),
        ("Not drinking enough fluids (dehydration)", []),
        (
            "Low levels of minerals in the blood, such as:",
            [("Potassium", []), ("Calcium", []), ("Magnesium", [])],
        ),
        ("Some medicines, such as water pills and statins", []),
    ]


def test_other_page_recovers_the_item_whose_bullet_was_lost_at_column_0(leg_cramps):
    illnesses = leg_cramps.sections.get(heading__startswith="Longer-term illnesses")
    assert texts(illnesses) == [
        "Diabetes",
        "Kidney failure",
        "Thyroid disease",
        "Narrowed arteries in the legs (peripheral artery disease)",
    ]


def test_other_page_keeps_a_list_item_with_a_greater_than_sign(leg_cramps):
    red_flags = leg_cramps.sections.get(kind=Section.Kind.RED_FLAGS)
    assert texts(red_flags) == [
        "Swelling, redness or warmth in the calf",
        "Numbness or weakness in the leg",
        "A cramp lasting > 10 minutes",
    ]


def test_other_page_questions_after_a_lead_in_without_the_word_question(leg_cramps):
    questions = [
        (question.wording, question.answer_type, question.applies_to)
        for question in leg_cramps.questions.all()
    ]
    assert questions == [
        ("When did the cramps start?", "date", "everyone"),
        ("How often do you get them?", "frequency", "everyone"),
        ("How long does each cramp last?", "duration", "everyone"),
        ("Which part of your leg is affected?", "body_sites", "everyone"),
        ("Do the cramps wake you at night?", "yes_no", "everyone"),
        ("Are you pregnant, or could you be?", "yes_no", "female"),
        ("Do you have any other symptoms?", "multiple_choice", "everyone"),
    ]
    # The questions are the questionnaire, not a list on the page.
    expect = leg_cramps.sections.get(kind=Section.Kind.WHAT_TO_EXPECT)
    assert outline(expect) == []
    assert "may ask" not in expect.body


def test_other_page_tests_from_a_tab_indented_list(leg_cramps):
    assert sorted(leg_cramps.tests.values_list("name", "kind")) == [
        ("Calcium", "blood"),
        ("Kidney function blood test", "blood"),
        ("Magnesium", "blood"),
        ("Potassium", "blood"),
        ("Ultrasound of the leg arteries", "imaging"),
    ]


@pytest.mark.parametrize(
    "chrome",
    ["Home > Health", "Health > Leg cramps", "Review Date", "01/02/2025", "Updated by", "Share |"],
)
def test_other_page_chrome_is_nowhere_in_the_saved_content(leg_cramps, chrome):
    saved = json.dumps(export_condition(leg_cramps), ensure_ascii=False)
    assert chrome not in saved


def test_importer_handles_both_pages_side_by_side(twitches, leg_cramps):
    assert set(Condition.objects.values_list("slug", flat=True)) == {
        "muscle-twitches",
        "leg-cramps",
    }
    assert not set(twitches.tests.all()) & set(leg_cramps.tests.all())


# The command: titles, re-imports, bad files, dry runs, publishing.


def test_title_option_names_the_condition_and_its_slug(db):
    out = import_page(SEED_PAGE, "--title", "Fasciculations")
    condition = Condition.objects.get()
    assert (condition.title, condition.slug) == ("Fasciculations", "fasciculations")
    assert "Created condition “Fasciculations” (draft)." in out


def test_title_from_a_file_name_keeps_its_capitals(db, tmp_path):
    page = tmp_path / "ALS_and_twitching.txt"
    page.write_bytes(SEED_PAGE.read_bytes())
    import_page(page)
    condition = Condition.objects.get()
    assert (condition.title, condition.slug) == ("ALS and twitching", "als-and-twitching")


def test_reimporting_the_same_page_changes_nothing_not_even_the_versions(twitches):
    before = content_counts()
    versions = list(twitches.versions.values_list("pk", "number"))
    items = list(SectionItem.objects.values_list("pk", "text"))
    out = import_page(SEED_PAGE)
    assert "Condition “Muscle twitches” is unchanged" in out
    assert content_counts() == before
    assert before["SectionItem"] == 7 + 3 + 5 + 3
    assert before["HistoryQuestion"] == 7
    assert before["OrderableTest"] == 9
    assert list(twitches.versions.values_list("pk", "number")) == versions
    assert list(SectionItem.objects.values_list("pk", "text")) == items


def test_reimporting_a_changed_page_updates_it_as_a_new_version(twitches, tmp_path):
    page = tmp_path / "muscle-twitches.txt"
    page.write_text(
        SEED_PAGE.read_text(encoding="utf-8").replace("  • Stress\n", ""), encoding="utf-8"
    )
    out = import_page(page)
    assert "Updated condition “Muscle twitches” (draft)." in out
    assert twitches.versions.count() == 2
    assert "Stress" not in texts(twitches.sections.get(kind=Section.Kind.CAUSES))


def test_reimporting_an_unchanged_page_with_publish_publishes_it_once(twitches):
    import_page(SEED_PAGE, "--publish")
    import_page(SEED_PAGE, "--publish")
    assert Condition.objects.get().is_published
    assert twitches.versions.count() == 2


def test_reimporting_keeps_the_questions_recorded_answers_point_at(twitches):
    before = dict(twitches.questions.values_list("key", "pk"))
    import_page(SEED_PAGE)
    assert dict(twitches.questions.values_list("key", "pk")) == before


def test_reimporting_a_published_condition_keeps_it_published(twitches, client):
    import_page(SEED_PAGE, "--publish")
    import_page(SEED_PAGE)
    assert Condition.objects.get().is_published
    assert client.get("/conditions/muscle-twitches/").status_code == 200


def test_publish_option_publishes_the_page(db, client):
    out = import_page(SEED_PAGE, "--publish")
    condition = Condition.objects.get()
    assert condition.is_published
    assert condition.published_at is not None
    assert "(published)" in out
    response = client.get("/conditions/muscle-twitches/")
    assert "Isaac syndrome" in response.text


def test_without_publish_the_imported_page_stays_hidden(twitches, client):
    assert client.get("/conditions/muscle-twitches/").status_code == 404


def test_dry_run_prints_what_would_be_created_and_writes_nothing(db):
    out = import_page(SEED_PAGE, "--dry-run")
    assert counts() == dict.fromkeys(counts(), 0)
    assert "Would create condition “Muscle twitches”" in out
    assert "Alternative names: Muscle fasciculation, Fasciculations of muscle" in out
    assert "Section “Common Causes” (causes): 10 items" in out
    assert "Question [date] When did you first notice the twitching?" in out
    assert "Test [blood] Electrolytes panel: 24326-1 (http://loinc.org)" in out
    assert "Test [imaging] CT scan of the spine: no code" in out


def test_dry_run_of_a_known_page_says_it_would_update(twitches):
    before = counts()
    out = import_page(SEED_PAGE, "--dry-run", "--publish")
    assert "Would update condition “Muscle twitches”" in out
    assert counts() == before
    assert not Condition.objects.get().is_published


def _bad_json(**changes):
    document = json.loads(DEMO_DOCUMENT.read_text(encoding="utf-8"))
    document.update(changes)
    return json.dumps(document).encode()


def _bad_question_document():
    document = json.loads(_bad_json())
    document["questions"][3]["answer_type"] = "smell"
    return json.dumps(document).encode()


def _duplicate_key_document():
    document = json.loads(_bad_json())
    document["questions"][1]["key"] = document["questions"][0]["key"]
    return json.dumps(document).encode()


BAD_FILES = [
    (
        "notes.txt",
        b"Remember to buy milk.\nThe meeting moved to Thursday.\n",
        "does not look like a condition page",
    ),
    ("empty.txt", b"", "does not look like a condition page"),
    (
        "meeting.txt",
        b"Team meeting\nCauses of the delay: supplier\nHome care rota agreed\nNext: Friday\n",
        "does not look like a condition page",
    ),
    (
        "overview.txt",
        b"Overview\n\nThe clinic moves to the new building in May.\n\n- Pack the files\n"
        b"- Label the boxes\n",
        "a definition and at least 2 of the sections",
    ),
    (
        "definition-only.txt",
        b"Definition\n\nA hiccup is a sudden tightening of the diaphragm.\n\nCauses\n\n"
        b"- Eating fast\n",
        "Found: a definition, Causes.",
    ),
    (
        "sections-without-definition.txt",
        b"Causes\n\n- Eating fast\n\nHome Care\n\n- Hold your breath\n",
        "Found: no definition, Causes, Home care.",
    ),
    ("junk.txt", bytes(range(256)) * 4, "not a UTF-8 text file"),
    ("scan.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a UTF-8 text file"),
    ("broken.json", b'{"format": "clinic-condition/1", "title": ', "Expecting value"),
    ("list.json", b"[1, 2, 3]", "Not a condition document"),
    ("other-format.json", b'{"format": "recipe/2", "title": "Soup"}', "Not a condition document"),
    ("no-slug.json", _bad_json(slug=""), "no slug"),
    ("sections-of-text.json", _bad_json(sections=["Causes"]), "Every section must be an object"),
    ("names-of-numbers.json", _bad_json(alternative_names=[1, 2]), "alternative name"),
    ("nul.json", _bad_json(definition="a\u0000b"), "NUL character"),
    ("bad-question.json", _bad_question_document(), "Invalid question “muscles-affected”"),
    ("twice-the-same-key.json", _duplicate_key_document(), "Two questions have the key"),
]


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
@pytest.mark.parametrize(("name", "data", "message"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_a_file_that_is_no_condition_page_is_refused_and_nothing_is_written(
    condition, tmp_path, name, data, message, dry_run
):
    path = tmp_path / name
    path.write_bytes(data)
    before, exported = counts(), export_condition(condition)
    with pytest.raises(CommandError, match=message):
        import_page(path, *(["--dry-run"] if dry_run else []))
    assert counts() == before
    condition.refresh_from_db()
    assert export_condition(condition) == exported


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(db, tmp_path, settings):
    settings.CONDITION_IMPORT_MAX_BYTES = 1000
    page = tmp_path / "huge.txt"
    page.write_bytes(SEED_PAGE.read_bytes()[:1001])
    with pytest.raises(CommandError, match=r"huge\.txt is larger than 1000"):
        import_page(page)
    assert counts() == dict.fromkeys(counts(), 0)


def test_the_size_limit_is_one_megabyte_by_default(settings):
    assert settings.CONDITION_IMPORT_MAX_BYTES == 1024 * 1024


def test_a_missing_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        import_page(tmp_path / "nowhere.txt")


def test_a_page_with_windows_line_endings_reads_the_same(twitches, tmp_path):
    page = tmp_path / "muscle-twitches.txt"
    page.write_bytes(SEED_PAGE.read_bytes().replace(b"\n", b"\r\n"))
    before = export_condition(twitches)
    import_page(page)
    assert export_condition(twitches) == before


def test_the_same_question_twice_gets_two_keys(db, tmp_path):
    page = tmp_path / "hiccups.txt"
    page.write_text(
        "Definition\n\nA hiccup is a sudden, unwanted tightening of the diaphragm.\n\n"
        "Causes\n\n- Eating fast\n\n"
        "What to expect at your visit\n\nQuestions may include:\n\n"
        "- When did the hiccups start?\n- Do they keep you awake?\n- Do they keep you awake?\n",
        encoding="utf-8",
    )
    import_page(page)
    assert list(Condition.objects.get().questions.values_list("key", flat=True)) == [
        "when-did-the-hiccups-start",
        "do-they-keep-you-awake",
        "do-they-keep-you-awake-2",
    ]


def test_review_date_and_reviewer_become_the_conditions_reviewed_on(leg_cramps, client):
    assert leg_cramps.reviewed_on == datetime.date(2025, 1, 2)
    assert leg_cramps.reviewed_by == "A. Writer, MD, Internal Medicine"
    import_page(LEG_CRAMPS_PAGE, "--publish")
    page = client.get("/conditions/leg-cramps/")
    (reviewed,) = [
        element.text
        for element in parse(page.text).iter()
        if "reviewed" in element.attrs.get("class", "").split()
    ]
    assert reviewed == "Reviewed on 2 January 2025 by A. Writer, MD, Internal Medicine."


def test_reviewed_on_travels_in_the_document(leg_cramps):
    document = export_condition(leg_cramps)
    assert (document["reviewed_on"], document["reviewed_by"]) == (
        "2025-01-02",
        "A. Writer, MD, Internal Medicine",
    )
