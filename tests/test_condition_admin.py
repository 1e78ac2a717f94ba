"""The content editors' admin: editing a whole condition, publishing, preview, versions."""

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from conditions.content import export_condition, save_condition
from conditions.models import Condition, HistoryQuestion, OrderableTest, Section

PUBLIC_PAGE = "/conditions/muscle-twitches/"


class _FormFields(HTMLParser):
    """The name/value pairs a browser submits from the form with the given id."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = False
        self.fields = []
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_form = attrs.get("id") == self.form_id
        if not self.in_form or (not attrs.get("name") and tag != "option"):
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "reset", "file", "image"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields.append((attrs["name"], attrs.get("value", "on")))
                return
            self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # As in a browser, the newline right after <textarea> is not part of the value.
            self.fields.append((name, text.removeprefix("\r\n").removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None


def form_data(response, form_id="condition_form"):
    """The change form's data as the editor's browser would post it back unchanged."""
    parser = _FormFields(form_id)
    parser.feed(response.text)
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def prefix_where(data, field, value):
    """The inline form prefix (e.g. "questions-3") whose `field` holds `value`."""
    return next(
        name.removesuffix(f"-{field}")
        for name, values in data.items()
        if name.endswith(f"-{field}") and values == [value]
    )


def change_url(condition):
    return reverse("admin:conditions_condition_change", args=[condition.pk])


def compact(html):
    return re.sub(r">\s+<", "><", html)


def publish(client, condition):
    response = client.post(reverse("admin:conditions_condition_publish", args=[condition.pk]))
    assert response.status_code == 302


@pytest.fixture
def draft(db, demo_document):
    """The demo condition, saved but not published."""
    return save_condition(demo_document)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_change_page_round_trips_unchanged(editor_client, condition):
    """Posting the form back as it came changes no content (but keeps a version)."""
    before = export_condition(condition)
    data = form_data(editor_client.get(change_url(condition)))
    response = editor_client.post(change_url(condition), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    condition.refresh_from_db()
    assert export_condition(condition) == before
    assert condition.versions.first().note == "Edited"


def test_editor_rewords_a_question_and_the_public_page_shows_it_once_published(
    editor_client, condition, editor
):
    data = form_data(editor_client.get(change_url(condition)))
    question = prefix_where(data, "key", "muscles-affected")
    data[f"{question}-wording_en"] = ["Which muscles twitch?"]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 302
    reworded = condition.questions.get(key="muscles-affected")
    assert reworded.wording == "Which muscles twitch?"
    version = condition.versions.first()
    assert (version.number, version.note, version.created_by) == (2, "Edited", editor)
    page = editor_client.get(PUBLIC_PAGE).text
    assert "Which muscles are affected?" in page
    assert "Which muscles twitch?" not in page
    preview = editor_client.get(reverse("admin:conditions_condition_preview", args=[condition.pk]))
    assert "Which muscles twitch?" in preview.text
    assert 'value="Publish changes"' in editor_client.get(change_url(condition)).text

    publish(editor_client, condition)

    page = editor_client.get(PUBLIC_PAGE).text
    assert "Which muscles twitch?" in page
    assert "Which muscles are affected?" not in page
    assert 'value="Publish changes"' not in editor_client.get(change_url(condition)).text


def test_editor_adds_a_catalog_test_to_the_condition(editor_client, condition):
    creatine_kinase = OrderableTest.objects.create(
        slug="creatine-kinase",
        name="Creatine kinase (CK)",
        kind=OrderableTest.Kind.BLOOD,
        code_system=OrderableTest.CodeSystem.LOINC,
        code="2157-6",
    )
    data = form_data(editor_client.get(change_url(condition)))
    assert len(data["tests"]) == 9
    data["tests"].append(str(creatine_kinase.pk))

    assert editor_client.post(change_url(condition), data).status_code == 302

    assert creatine_kinase in condition.tests.all()
    assert condition.tests.count() == 10
    assert "Creatine kinase (CK)" not in editor_client.get(PUBLIC_PAGE).text
    publish(editor_client, condition)
    assert "Creatine kinase (CK)" in editor_client.get(PUBLIC_PAGE).text


def test_editor_sets_the_reason_code_and_its_title(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    assert (data["icd10cm_code"], data["icd10cm_title"]) == (["R25.3"], ["Fasciculation"])
    data["icd10cm_code"], data["icd10cm_title"] = ["R25.1"], ["Tremor, unspecified"]

    assert editor_client.post(change_url(condition), data).status_code == 302

    condition.refresh_from_db()
    assert (condition.icd10cm_code, condition.icd10cm_title) == ("R25.1", "Tremor, unspecified")
    assert condition.versions.first().content["icd10cm_title"] == "Tremor, unspecified"


def test_editor_says_a_catalog_test_asks_for_side_and_limb_and_its_history_keeps_it(
    editor_client, editor, condition
):
    stimulation = OrderableTest.objects.create(
        slug="repetitive-nerve-stimulation",
        name="Repetitive nerve stimulation",
        kind=OrderableTest.Kind.NEUROPHYSIOLOGY,
    )
    page = reverse("admin:conditions_orderabletest_change", args=[stimulation.pk])
    data = form_data(editor_client.get(page), form_id="orderabletest_form")
    assert "asks_side_and_limb" not in data  # an unticked box

    response = editor_client.post(page, data | {"asks_side_and_limb": ["on"]})

    assert response.status_code == 302
    stimulation.refresh_from_db()
    assert stimulation.asks_side_and_limb is True
    latest = stimulation.history.latest("history_id")
    assert (latest.asks_side_and_limb, latest.history_user) == (True, editor)
    listed = editor_client.get(
        reverse("admin:conditions_orderabletest_changelist"), {"asks_side_and_limb__exact": "1"}
    )
    assert {test.slug for test in listed.context["cl"].result_list} == {
        "emg",
        "nerve-conduction-studies",
        "repetitive-nerve-stimulation",
    }


def test_nesting_typed_in_the_items_outline_is_nested_on_the_public_page(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    home_care = prefix_where(data, "kind", "home_care")
    data[f"{home_care}-items_outline"] = [
        "- Rest the muscle\r\n"
        "  - Sleep well\r\n"
        "    - In a dark, quiet room\r\n"
        "  - Take breaks from screens\r\n"
        "- Cut down on <strong>caffeine</strong>"
    ]

    assert editor_client.post(change_url(condition), data).status_code == 302
    publish(editor_client, condition)

    page = compact(editor_client.get(PUBLIC_PAGE).text)
    assert (
        "<ul><li>Rest the muscle"
        "<ul><li>Sleep well<ul><li>In a dark, quiet room</li></ul></li>"
        "<li>Take breaks from screens</li></ul></li>"
        "<li>Cut down on <strong>caffeine</strong></li></ul>"
    ) in page
    section = condition.sections.get(kind=Section.Kind.HOME_CARE)
    rest = section.items.get(text="Rest the muscle")
    assert [child.text for child in rest.children.all()] == [
        "Sleep well",
        "Take breaks from screens",
    ]


def test_items_outline_shows_the_saved_nesting(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    causes = prefix_where(data, "kind", "causes")
    outline = data[f"{causes}-items_outline"][0]
    assert outline.splitlines()[-4:] == [
        "- Harmless (benign) twitches that are not caused by any disease",
        "  - Often felt in the eyelids, the calf or the thumb",
        "  - Common and normal, and often brought on by stress or worry",
        "  - Come and go, and stop within a few days",
    ]


def test_publish_button_publishes_a_draft(editor_client, draft, editor):
    assert editor_client.get(PUBLIC_PAGE).status_code == 404
    change_page = editor_client.get(change_url(draft)).text
    assert reverse("admin:conditions_condition_publish", args=[draft.pk]) in change_page

    response = editor_client.post(reverse("admin:conditions_condition_publish", args=[draft.pk]))

    assert response.status_code == 302
    assert response.url == change_url(draft)
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.versions.first().note == "Published"
    assert editor_client.get(PUBLIC_PAGE).status_code == 200


def test_publishing_twice_leaves_the_condition_published(editor_client, draft):
    url = reverse("admin:conditions_condition_publish", args=[draft.pk])
    editor_client.post(url)
    editor_client.post(url)  # a double click, or a second editor's stale page
    draft.refresh_from_db()
    assert draft.is_published
    assert editor_client.get(PUBLIC_PAGE).status_code == 200


def test_return_to_draft_button_hides_the_public_page(editor_client, condition):
    change_page = editor_client.get(change_url(condition)).text
    unpublish_url = reverse("admin:conditions_condition_unpublish", args=[condition.pk])
    assert unpublish_url in change_page
    assert "Return to draft" in change_page

    editor_client.post(unpublish_url)

    condition.refresh_from_db()
    assert condition.status == Condition.Status.DRAFT
    assert editor_client.get(PUBLIC_PAGE).status_code == 404


@pytest.mark.parametrize("name", ["publish", "unpublish"])
def test_publish_endpoints_refuse_get(editor_client, draft, name):
    response = editor_client.get(reverse(f"admin:conditions_condition_{name}", args=[draft.pk]))
    assert response.status_code == 405
    draft.refresh_from_db()
    assert draft.status == Condition.Status.DRAFT


def test_publish_of_an_unknown_condition_is_404(editor_client, db):
    response = editor_client.post(reverse("admin:conditions_condition_publish", args=[999]))
    assert response.status_code == 404


def test_publish_selected_action_publishes_from_the_list(editor_client, draft):
    response = editor_client.post(
        reverse("admin:conditions_condition_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "Published 1 condition(s)." in response.text
    draft.refresh_from_db()
    assert draft.is_published
    assert "Isaac syndrome" in editor_client.get(PUBLIC_PAGE).text


def test_restoring_an_earlier_version_brings_back_the_public_content(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'pregnant')}-wording_en"] = ["Could you be pregnant?"]
    editor_client.post(change_url(condition), data)
    publish(editor_client, condition)
    assert "Could you be pregnant?" in editor_client.get(PUBLIC_PAGE).text

    response = editor_client.post(
        reverse("admin:conditions_condition_restore", args=[condition.pk, 1]), follow=True
    )

    assert "Restored version 1 of “Muscle twitches”." in response.text
    publish(editor_client, condition)
    page = editor_client.get(PUBLIC_PAGE).text
    assert "Are you pregnant?" in page
    assert "Could you be pregnant?" not in page
    assert list(condition.versions.values_list("number", "note")) == [
        (5, "Published"),
        (4, "Restored version 1"),
        (3, "Published"),
        (2, "Edited"),
        (1, ""),
    ]


def test_restore_refuses_get(editor_client, condition):
    url = reverse("admin:conditions_condition_restore", args=[condition.pk, 1])
    assert editor_client.get(url).status_code == 405
    assert condition.versions.count() == 1


def test_restore_of_an_unknown_version_is_404(editor_client, condition):
    url = reverse("admin:conditions_condition_restore", args=[condition.pk, 99])
    assert editor_client.post(url).status_code == 404


def test_versions_page_lists_versions_with_their_differences(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'pregnant')}-wording_en"] = ["Could you be pregnant?"]
    editor_client.post(change_url(condition), data)

    response = editor_client.get(
        reverse("admin:conditions_condition_versions", args=[condition.pk])
    )

    assert response.status_code == 200
    assert "Versions of “Muscle twitches”" in response.text
    page = compact(response.text)
    version_1 = page[page.index('id="version-1"') :]
    assert "1 difference from the current content" in version_1
    assert (
        '<td class="change-status">Changed</td><td class="change-text"><del>Are</del> you pregnant?'
    ) in version_1
    assert '<td class="change-text"><ins>Could</ins> you <ins>be </ins>pregnant?' in version_1
    assert "Same as current" in page  # version 2
    assert "Restore version 1" in page
    assert "Restore version 2" not in page  # it is the current content
    assert "eddie.editor" in page


def test_preview_shows_a_draft_that_the_public_cannot_see(editor_client, draft):
    response = editor_client.get(reverse("admin:conditions_condition_preview", args=[draft.pk]))

    assert response.status_code == 200
    assert "This condition is a draft: the public cannot see it." in response.text
    assert "Isaac syndrome" in response.text
    public = editor_client.get(PUBLIC_PAGE)
    assert public.status_code == 404
    assert "Isaac syndrome" not in public.text


# Who may do what


def _admin_urls(condition):
    return {
        "change": change_url(condition),
        "publish": reverse("admin:conditions_condition_publish", args=[condition.pk]),
        "unpublish": reverse("admin:conditions_condition_unpublish", args=[condition.pk]),
        "restore": reverse("admin:conditions_condition_restore", args=[condition.pk, 1]),
        "preview": reverse("admin:conditions_condition_preview", args=[condition.pk]),
        "versions": reverse("admin:conditions_condition_versions", args=[condition.pk]),
    }


@pytest.mark.parametrize("who", ["front_desk", "anonymous"])
@pytest.mark.parametrize("view", ["change", "publish", "unpublish", "restore", "preview"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, request, draft, who, view):
    if who == "front_desk":
        client.force_login(request.getfixturevalue("front_desk"))
    url = _admin_urls(draft)[view]

    response = client.post(url) if view in {"publish", "unpublish", "restore"} else client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(f"/admin/login/?next={url}")
    draft.refresh_from_db()
    assert draft.status == Condition.Status.DRAFT
    assert draft.versions.count() == 1


# (Not "page": that name is Playwright's browser page fixture.)
@pytest.mark.parametrize("view", ["publish", "unpublish", "restore"])
def test_provider_cannot_publish_unpublish_or_restore(provider_client, condition, view):
    response = provider_client.post(_admin_urls(condition)[view])
    assert response.status_code == 403
    condition.refresh_from_db()
    assert condition.is_published
    assert condition.versions.count() == 1


def test_provider_cannot_change_a_condition(client, editor, provider, condition, sign_in):
    client.force_login(editor)
    data = form_data(client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'pregnant')}-wording_en"] = ["Could you be pregnant?"]
    sign_in(client, provider)

    response = client.post(change_url(condition), data)

    assert response.status_code == 403
    assert condition.questions.get(key="pregnant").wording == "Are you pregnant?"
    assert condition.versions.count() == 1


def test_provider_can_read_but_not_publish_from_the_list(provider_client, draft):
    response = provider_client.post(
        reverse("admin:conditions_condition_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Publish selected conditions" not in response.text
    draft.refresh_from_db()
    assert draft.status == Condition.Status.DRAFT


def test_provider_sees_versions_and_preview_without_restore_or_publish_buttons(
    provider_client, condition
):
    urls = _admin_urls(condition)
    versions = provider_client.get(urls["versions"])
    assert versions.status_code == 200
    assert "Restore version" not in versions.text
    assert provider_client.get(urls["preview"]).status_code == 200
    change_page = provider_client.get(urls["change"]).text
    assert urls["unpublish"] not in change_page
    assert urls["publish"] not in change_page


def test_question_keys_stay_put_when_an_editor_rewords_them(editor_client, condition):
    before = dict(HistoryQuestion.objects.values_list("pk", "key"))
    data = form_data(editor_client.get(change_url(condition)))
    for name in [name for name in data if name.endswith("-wording") and "__prefix__" not in name]:
        data[name] = [data[name][0] + " (please say)"]
    editor_client.post(change_url(condition), data)
    assert dict(HistoryQuestion.objects.values_list("pk", "key")) == before


# Red flags hang on questions: editing a question must not silently disarm them.


def test_removing_a_choice_that_raises_a_red_flag_is_refused(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    other_symptoms = prefix_where(data, "key", "other-symptoms")
    choices = data[f"{other_symptoms}-choices_en"][0].splitlines()
    data[f"{other_symptoms}-choices_en"] = ["\n".join(c for c in choices if c != "Weakness")]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 200
    assert "The red flag “Reports weakness” depends on this question" in unescape(response.text)
    question = condition.questions.get(key="other-symptoms")
    assert "Weakness" in question.choices
    assert condition.red_flag_rules.filter(choice="Weakness").exists()


def test_changing_the_type_of_a_date_question_with_a_days_rule_is_refused(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'first-noticed')}-answer_type"] = ["free_text"]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 200
    assert "needs a date question" in unescape(response.text)
    assert condition.questions.get(key="first-noticed").answer_type == "date"


def test_deleting_a_question_that_raises_red_flags_is_refused(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'other-symptoms')}-DELETE"] = ["on"]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.text
    assert "Reports weakness" in response.text
    assert condition.questions.filter(key="other-symptoms").exists()
    assert condition.red_flag_rules.count() == 5


def test_a_question_without_red_flags_can_still_be_deleted(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'same-place')}-DELETE"] = ["on"]

    assert editor_client.post(change_url(condition), data).status_code == 302
    assert not condition.questions.filter(key="same-place").exists()


def test_editor_creates_a_draft_condition_with_a_nested_list_from_the_add_page(
    editor_client, editor
):
    add_url = reverse("admin:conditions_condition_add")
    data = form_data(editor_client.get(add_url))
    data |= {
        "title_en": ["Hiccups"],
        "slug": ["hiccups"],
        "definition_en": ["<p>A hiccup is a sudden tightening of the diaphragm.</p>"],
        "sections-TOTAL_FORMS": ["1"],
        "sections-0-position": ["1"],
        "sections-0-kind": ["home_care"],
        "sections-0-heading_en": ["Easing hiccups at home"],
        "sections-0-body_en": [""],
        "sections-0-items_outline": ["- Sip cold water\n  - Slowly\n- Hold your breath"],
    }

    response = editor_client.post(add_url, data)

    assert response.status_code == 302
    hiccups = Condition.objects.get(slug="hiccups")
    assert hiccups.status == Condition.Status.DRAFT
    version = hiccups.versions.get()
    assert (version.note, version.created_by) == ("Created", editor)
    assert version.content["sections"][0]["items"] == [
        {"text": "Sip cold water", "items": [{"text": "Slowly", "items": []}]},
        {"text": "Hold your breath", "items": []},
    ]
    preview = editor_client.get(reverse("admin:conditions_condition_preview", args=[hiccups.pk]))
    assert "<li>Sip cold water<ul><li>Slowly</li></ul></li>" in compact(preview.text)


def test_every_outline_line_is_an_item_even_without_its_dash(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    home_care = prefix_where(data, "kind", "home_care")
    data[f"{home_care}-items_outline"] = [
        "- Rest the muscle\r\nDrink enough water\r\n  - Sip it slowly\r\n\r\n-Stretch gently"
    ]

    editor_client.post(change_url(condition), data)

    section = condition.sections.get(kind=Section.Kind.HOME_CARE)
    tree = [(node.item.text, [c.item.text for c in node.children]) for node in section.item_tree()]
    assert tree == [
        ("Rest the muscle", []),
        ("Drink enough water", ["Sip it slowly"]),
        ("Stretch gently", []),
    ]


def test_a_saved_questions_key_cannot_be_changed(editor_client, condition):
    data = form_data(editor_client.get(change_url(condition)))
    question = prefix_where(data, "key", "first-noticed")
    data[f"{question}-key"] = ["onset"]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 200
    assert "cannot change once saved" in response.text
    assert condition.questions.filter(key="first-noticed").exists()
    assert not condition.questions.filter(key="onset").exists()


def test_content_editors_may_edit_red_flag_rules(editor):
    assert editor.has_perm("conditions.change_redflagrule")
    assert editor.has_perm("conditions.add_redflagrule")
    assert editor.has_perm("conditions.delete_redflagrule")


def test_editor_sets_the_tests_a_condition_and_a_red_flag_suggest(editor_client, condition):
    emg, ct_brain = (OrderableTest.objects.get(slug=slug) for slug in ("emg", "ct-brain"))
    data = form_data(editor_client.get(change_url(condition)))
    data["suggests"] = [str(emg.pk)]
    weakness = prefix_where(data, "message_en", "Reports weakness")
    data[f"{weakness}-suggests"] = [str(ct_brain.pk)]

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 302
    document = export_condition(condition)
    assert document["suggests"] == ["emg"]
    flag = next(rule for rule in document["red_flags"] if rule["message"] == "Reports weakness")
    assert flag["suggests"] == ["ct-brain"]


def test_a_suggested_test_must_be_one_of_the_conditions_tests(editor_client, condition):
    creatine_kinase = OrderableTest.objects.create(
        slug="creatine-kinase", name="Creatine kinase (CK)", kind=OrderableTest.Kind.BLOOD
    )
    data = form_data(editor_client.get(change_url(condition)))
    data["suggests"].append(str(creatine_kinase.pk))

    response = editor_client.post(change_url(condition), data)

    assert response.status_code == 200
    assert "Suggest only the condition" in response.text
    assert "Creatine kinase (CK)" in str(response.context["adminform"].form.errors["suggests"])
    assert creatine_kinase not in condition.suggests.all()
