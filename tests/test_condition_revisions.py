"""Content changes only when published: editors work on a draft, while the public page,
the staff intake and the pre-visit link use the content as last published, and each
visit keeps the content version it was opened with."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conditions.content import export_condition, save_condition
from conditions.models import Section, SectionItem

from .factories import VisitFactory, at_today
from .test_condition_admin import PUBLIC_PAGE, change_url, form_data, prefix_where

OLD = "Which muscles are affected?"
NEW = "Which muscles twitch?"


@pytest.fixture
def editing(editor):
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def desk(front_desk):
    client = Client()
    client.force_login(front_desk)
    return client


def intake_url(visit):
    return f"/staff/visits/{visit.pk}/intake/"


def reword(client, condition):
    data = form_data(client.get(change_url(condition)))
    data[f"{prefix_where(data, 'key', 'muscles-affected')}-wording_en"] = [NEW]
    assert client.post(change_url(condition), data).status_code == 302


def post_admin(client, name, condition):
    url = reverse(f"admin:conditions_condition_{name}", args=[condition.pk])
    assert client.post(url).status_code == 302


def test_an_edit_reaches_the_public_page_and_new_visits_only_when_published(
    editing, desk, client, condition, upcoming_visit, verified_patient
):
    reword(editing, condition)

    assert OLD in client.get(PUBLIC_PAGE).text
    assert NEW not in client.get(PUBLIC_PAGE).text
    assert OLD in desk.get(intake_url(upcoming_visit)).text
    assert OLD in verified_patient.get("questions/").text
    assert NEW not in verified_patient.get("questions/").text
    preview = editing.get(reverse("admin:conditions_condition_preview", args=[condition.pk]))
    assert NEW in preview.text

    post_admin(editing, "publish", condition)

    assert NEW in client.get(PUBLIC_PAGE).text
    later = VisitFactory(
        condition=condition, patient=upcoming_visit.patient, scheduled_at=at_today(14, days=3)
    )
    assert NEW in desk.get(intake_url(later)).text
    # The visit opened before keeps the questionnaire it was opened with, on both sides.
    assert OLD in desk.get(intake_url(upcoming_visit)).text
    assert OLD in verified_patient.get("questions/").text


def test_return_to_draft_takes_the_page_down_but_staff_keep_the_published_wording(
    editing, desk, client, condition, visit
):
    reword(editing, condition)

    post_admin(editing, "unpublish", condition)

    assert client.get(PUBLIC_PAGE).status_code == 404
    intake = desk.get(intake_url(visit)).text
    assert OLD in intake
    assert NEW not in intake
    condition.refresh_from_db()
    assert condition.published_version.content["questions"][3]["wording"] == OLD


def test_publishing_an_unchanged_condition_keeps_no_new_version(editing, condition):
    post_admin(editing, "publish", condition)

    assert list(condition.versions.values_list("number", flat=True)) == [1]


def test_publish_changes_button_shows_only_with_unpublished_changes(editing, condition):
    assert "Publish changes" not in editing.get(change_url(condition)).text

    reword(editing, condition)

    page = editing.get(change_url(condition)).text
    assert 'value="Publish changes"' in page
    assert "with saved changes not yet published" in page


def add_sections(condition, count):
    for number in range(count):
        section = Section.objects.create(
            condition=condition, kind="what_to_expect", heading=f"Part {number}", position=50
        )
        SectionItem.objects.create(section=section, text=f"Point {number}")


def test_the_public_page_takes_as_many_queries_however_long_the_content(
    editing, client, condition, django_assert_num_queries
):
    client.get(PUBLIC_PAGE)
    with CaptureQueriesContext(connection) as before:
        client.get(PUBLIC_PAGE)
    assert len(before) == 1  # the condition with its published version
    queries = len(before)  # counted now: the next request clears the log
    add_sections(condition, 10)
    post_admin(editing, "publish", condition)

    with django_assert_num_queries(queries):
        response = client.get(PUBLIC_PAGE)

    assert "Point 9" in response.text


def test_the_intake_page_takes_as_many_queries_after_a_bigger_publish(
    editing, desk, condition, visit, django_assert_num_queries
):
    desk.get(intake_url(visit))
    with CaptureQueriesContext(connection) as before:
        desk.get(intake_url(visit))
    queries = len(before)  # counted now: the next request clears the log
    add_sections(condition, 10)
    post_admin(editing, "publish", condition)
    later = VisitFactory(condition=condition, patient=visit.patient, scheduled_at=at_today(11))

    with django_assert_num_queries(queries):
        response = desk.get(intake_url(later))

    assert response.status_code == 200


def test_the_versions_page_names_each_part_that_changed(editing, condition):
    data = form_data(editing.get(change_url(condition)))
    home_care = prefix_where(data, "kind", "home_care")
    data[f"{home_care}-heading_en"] = ["Looking after yourself"]
    data[f"{prefix_where(data, 'key', 'muscles-affected')}-wording_en"] = [NEW]
    unsuggested = next(test for test in data["tests"] if test not in data["suggests"])
    data["tests"].remove(unsuggested)
    assert editing.post(change_url(condition), data).status_code == 302

    page = editing.get(reverse("admin:conditions_condition_versions", args=[condition.pk]))

    rows = {
        (part, status)
        for part, status in re.findall(
            r'<th scope="row" class="change-part">([^<]+)<br>.*?'
            r'<td class="change-status">(\w+)</td>',
            page.text,
            re.S,
        )
    }
    assert rows == {
        ("Section", "Removed"),
        ("Section", "Added"),
        ("Question", "Changed"),
        ("Orderable test", "Removed"),
    }
    assert "Which muscles <ins>twitch?</ins>" in page.text
    assert "Which muscles <del>are affected?</del>" in page.text


def test_a_second_editor_saving_over_a_newer_save_is_told_and_loses_nothing(
    editing, editor, condition
):
    other = Client()
    other.force_login(editor)
    stale = form_data(other.get(change_url(condition)))
    reword(editing, condition)  # the first editor saves meanwhile
    stale["definition_en"] = ["Twitches are small, fine movements of a muscle."]

    response = other.post(change_url(condition), stale)

    assert response.status_code == 200
    assert "eddie.editor saved this condition at " in response.text
    assert "(version 2: Edited) after you opened it" in response.text
    assert "Nothing of yours is saved yet" in response.text
    returned = form_data(response)
    assert returned["definition_en"] == ["Twitches are small, fine movements of a muscle."]
    assert returned["loaded_version"] == ["2"]
    shown = response.text[response.text.index('id="others-changes"') :]
    assert "Which muscles <ins>twitch?</ins>" in shown
    condition.refresh_from_db()
    assert "fine movements" not in condition.definition
    assert condition.versions.count() == 2

    # Having read the other changes, the second editor saves deliberately.
    assert other.post(change_url(condition), returned).status_code == 302
    condition.refresh_from_db()
    assert condition.definition == "Twitches are small, fine movements of a muscle."


def test_an_import_after_the_form_was_opened_also_makes_the_save_stale(
    editing, condition, demo_document
):
    stale = form_data(editing.get(change_url(condition)))
    save_condition({**demo_document, "title": "Muscle twitching"}, note="Imported")

    response = editing.post(change_url(condition), stale)

    assert response.status_code == 200
    assert "(version 2: Imported) after you opened it" in response.text
    condition.refresh_from_db()
    assert condition.title == "Muscle twitching"


def test_importing_the_draft_unchanged_with_publish_publishes_it(editing, client, condition):
    """An import that brings exactly the draft's content still publishes what the public
    page did not show yet, and a second such import writes nothing."""
    reword(editing, condition)
    condition.refresh_from_db()
    versions = condition.versions.count()

    save_condition(export_condition(condition), publish=True)

    condition.refresh_from_db()
    assert NEW in client.get(PUBLIC_PAGE).text
    assert condition.versions.count() == versions + 1
    assert condition.published_version == condition.versions.latest("number")

    save_condition(export_condition(condition), publish=True)

    assert condition.versions.count() == versions + 1


def test_the_conditions_list_shows_which_have_changes_saved_since_publishing(editing, condition):
    def marked():
        html = editing.get(reverse("admin:conditions_condition_changelist")).text
        row = re.search(r'<tr>.*?class="field-saved_since_publishing">(.*?)</td>', html, re.S)
        return 'alt="True"' in row[1]

    assert not marked()
    reword(editing, condition)
    assert marked()
    post_admin(editing, "publish", condition)
    assert not marked()
