"""The provider's page of a visit: the intake at a glance, the intake review, the clinical
note (drafts, signing, addenda), and who may do each."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.actors import Actor
from audit.models import AuditEvent
from intake import notes
from intake.answers import save_answers
from intake.models import ClinicalNote, NoteAddendum, Visit

from .factories import AnswerFactory, TestOrderFactory, UserFactory

NOTE = {
    "clinical_history": "Twitching in both calves since September.",
    "examination": "Power 5/5 throughout.\nNo wasting.",
    "assessment": "Probably benign fasciculations.",
    "plan": "EMG and bloods; review in four weeks.",
}


@pytest.fixture(autouse=True)
def half_past_ten(clock):
    """Every test runs at 10:30 today, set before any record is made."""
    return clock


def page_url(visit, action=""):
    return f"/staff/visits/{visit.pk}/{action}"


def review_url(visit):
    return page_url(visit, "review/")


def note_data(visit, *, action="draft", version=None, **parts):
    note = ClinicalNote.objects.filter(visit=visit).first()
    if version is None:
        version = note.version if note else 0
    return {**NOTE, **parts, "version": version, "action": action}


def save_note(client, visit, *, follow=False, **kwargs):
    return client.post(page_url(visit, "note/"), note_data(visit, **kwargs), follow=follow)


def last_message(response):
    """The newest message the page shows at its top."""
    return [str(message) for message in response.context["messages"]][-1]


def events(record_type, action=None):
    found = AuditEvent.objects.filter(record_type=record_type)
    if action:
        found = found.filter(action=action)
    return list(found.order_by("pk"))


# The page


def test_the_page_shows_red_flags_first_then_the_answers_in_the_questionnaires_order(
    provider_client, flagged_visit
):
    response = provider_client.get(review_url(flagged_visit))

    assert response.status_code == 200
    text = response.text
    assert text.index("Reports weakness") < text.index("When did you first notice")
    rows = [row[0] for row in response.context["rows"]]
    assert rows == [question.wording for question in flagged_visit.questions()]


def test_a_date_answered_is_also_said_as_how_long_before_the_visit(provider_client, visit):
    save_answers(
        visit=visit,
        values={
            "first-noticed": visit.scheduled_at.date() - datetime.timedelta(weeks=3),
            "episode-length": (Decimal(90), "seconds"),
        },
        expected_version=0,
        actor=Actor.for_user(UserFactory()),
    )

    response = provider_client.get(review_url(visit))

    words = {wording: said for wording, _, said, _ in response.context["rows"]}
    assert words["When did you first notice the twitching?"] == "3 weeks before the visit"
    assert words["How long does each twitch last?"] == "1 minute 30 seconds"
    assert "3 weeks before the visit" in response.text
    assert "1 minute 30 seconds" in response.text


def test_questions_not_answered_are_listed_as_such(provider_client, visit):
    response = provider_client.get(review_url(visit))

    assert response.text.count("Not answered") == len(visit.questions())
    assert "I have reviewed this intake" not in response.text


def test_reading_the_page_is_audited_with_the_patient(provider_client, provider, flagged_visit):
    provider_client.get(review_url(flagged_visit))

    read = events("intake.visit", AuditEvent.Action.VIEW)[-1]
    assert (read.actor, read.record_id, read.patient_id) == (
        provider,
        flagged_visit.pk,
        flagged_visit.patient_id,
    )


def test_today_and_the_visit_pages_link_providers_to_the_page(provider_client, flagged_visit):
    admin_page = f"/admin/intake/visit/{flagged_visit.pk}/change/"
    for url in ["/staff/", page_url(flagged_visit), admin_page]:
        assert f'href="{review_url(flagged_visit)}"' in provider_client.get(url).text, url


def test_the_front_desk_sees_no_link_and_is_refused_the_page(desk_client, flagged_visit):
    for url in ["/staff/", page_url(flagged_visit)]:
        assert review_url(flagged_visit) not in desk_client.get(url).text, url

    response = desk_client.get(review_url(flagged_visit))

    assert response.status_code == 403
    assert "Mara" not in response.text


def test_every_provider_action_is_refused_to_the_front_desk(desk_client, flagged_visit, provider):
    note = ClinicalNote.objects.create(
        visit=flagged_visit, author=provider, signed_by=provider, signed_at=flagged_visit.created_at
    )
    for action, data in [
        ("review/intake/", {"intake_version": flagged_visit.intake_version}),
        ("note/", note_data(flagged_visit)),
        ("note/addenda/", {"text": "More."}),
    ]:
        assert desk_client.post(page_url(flagged_visit, action), data).status_code == 403, action
    assert desk_client.get(page_url(flagged_visit, "orders/new/")).status_code == 403

    flagged_visit.refresh_from_db()
    assert flagged_visit.intake_reviewed_at is None
    assert not note.addenda.exists()
    assert len(events("intake.visit", AuditEvent.Action.DENY)) == 4


def test_signed_out_visitors_are_sent_to_sign_in(client, flagged_visit):
    for action in ["review/", "orders/new/"]:
        response = client.get(page_url(flagged_visit, action))
        assert response["Location"].startswith("/accounts/login/"), action
    for action in ["review/intake/", "note/", "note/addenda/"]:
        response = client.post(page_url(flagged_visit, action), {})
        assert response["Location"].startswith("/accounts/login/"), action


def test_changes_are_only_posts(provider_client, flagged_visit):
    for action in ["review/intake/", "note/", "note/addenda/"]:
        assert provider_client.get(page_url(flagged_visit, action)).status_code == 405, action


def test_an_unknown_visit_is_not_found(provider_client, condition):
    for action in ["review/", "orders/new/"]:
        assert provider_client.get(f"/staff/visits/999999/{action}").status_code == 404
    for action in ["review/intake/", "note/", "note/addenda/"]:
        assert provider_client.post(f"/staff/visits/999999/{action}", {}).status_code == 404


# Reviewing the intake


def test_one_press_records_who_reviewed_the_intake_and_when(
    provider_client, provider, flagged_visit, clock
):
    response = provider_client.post(
        page_url(flagged_visit, "review/intake/"),
        {"intake_version": flagged_visit.intake_version},
        follow=True,
    )

    flagged_visit.refresh_from_db()
    assert flagged_visit.intake_reviewed_by == provider
    assert flagged_visit.intake_reviewed_at == clock.now
    name = provider.get_full_name()
    assert f"by {name} at 10:30" in response.text
    assert "I have reviewed this intake" not in response.text
    event = events("intake.visit", AuditEvent.Action.UPDATE)[-1]
    assert event.detail == {"fields": ["intake_reviewed_by", "intake_reviewed_at"]}


def test_answers_changed_after_the_review_are_marked(
    provider_client, provider, flagged_visit, clock, front_desk
):
    provider_client.post(
        page_url(flagged_visit, "review/intake/"), {"intake_version": flagged_visit.intake_version}
    )
    clock.move(minutes=5)
    flagged_visit.refresh_from_db()
    save_answers(
        visit=flagged_visit,
        values={"same-place": True},
        expected_version=flagged_visit.intake_version,
        actor=Actor.for_user(front_desk),
    )

    response = provider_client.get(review_url(flagged_visit))

    assert "Answers changed since this review" in response.text
    changed = [wording for wording, _, _, is_changed in response.context["rows"] if is_changed]
    assert changed == ["Is the twitching always in the same place?"]
    assert "I have reviewed this intake" in response.text


def test_a_review_from_a_page_loaded_before_the_answers_changed_is_refused(
    provider_client, flagged_visit, front_desk
):
    loaded_version = flagged_visit.intake_version
    save_answers(
        visit=flagged_visit,
        values={"same-place": True},
        expected_version=loaded_version,
        actor=Actor.for_user(front_desk),
    )

    response = provider_client.post(
        page_url(flagged_visit, "review/intake/"), {"intake_version": loaded_version}, follow=True
    )

    flagged_visit.refresh_from_db()
    assert flagged_visit.intake_reviewed_at is None
    assert "The answers were saved again after you opened this page" in last_message(response)


def test_a_review_with_a_tampered_form_or_no_answers_is_refused(provider_client, visit):
    response = provider_client.post(page_url(visit, "review/intake/"), {}, follow=True)
    assert "This page is out of date" in last_message(response)

    response = provider_client.post(
        page_url(visit, "review/intake/"), {"intake_version": visit.intake_version}, follow=True
    )
    assert last_message(response) == "There are no answers to review yet."
    visit.refresh_from_db()
    assert visit.intake_reviewed_at is None


# The clinical note


def test_a_draft_is_saved_as_often_as_wanted_and_each_save_is_audited(
    provider_client, provider, flagged_visit
):
    response = save_note(provider_client, flagged_visit, plan="")
    assert response.status_code == 302
    response = save_note(provider_client, flagged_visit, follow=True)

    note = ClinicalNote.objects.get(visit=flagged_visit)
    assert (note.author, note.version, note.is_signed) == (provider, 2, False)
    assert note.plan == NOTE["plan"]
    assert last_message(response) == "Draft saved."
    assert "Not signed yet" in response.text
    saves = events("intake.clinicalnote")
    assert [(event.action, event.detail["fields"]) for event in saves] == [
        ("create", ["clinical_history", "examination", "assessment"]),
        ("update", ["plan"]),
    ]
    assert {event.patient_id for event in saves} == {flagged_visit.patient_id}


def test_signing_locks_the_note_and_moves_the_visit_to_seen(
    provider_client, provider, flagged_visit, clock
):
    save_note(provider_client, flagged_visit)

    response = save_note(provider_client, flagged_visit, action="sign", follow=True)

    note = ClinicalNote.objects.get(visit=flagged_visit)
    assert (note.signed_by, note.signed_at) == (provider, clock.now)
    flagged_visit.refresh_from_db()
    assert flagged_visit.status == Visit.Status.SEEN
    assert last_message(response) == "Note signed."
    assert f"by {provider.get_full_name()} at 10:30" in response.text
    assert 'name="clinical_history"' not in response.text
    assert "Probably benign fasciculations." in response.text
    assert events("intake.clinicalnote")[-1].detail["signed"] is True


def test_signing_a_note_of_a_closed_visit_leaves_its_status(provider_client, flagged_visit):
    Visit.objects.filter(pk=flagged_visit.pk).update(status=Visit.Status.CLOSED)

    save_note(provider_client, flagged_visit, action="sign")

    flagged_visit.refresh_from_db()
    assert flagged_visit.status == Visit.Status.CLOSED
    assert ClinicalNote.objects.get(visit=flagged_visit).is_signed


def test_a_note_without_assessment_or_plan_is_not_signed_and_the_text_is_kept(
    provider_client, flagged_visit
):
    response = save_note(provider_client, flagged_visit, action="sign", assessment="", plan=" ")

    assert response.status_code == 400
    assert "Write the assessment before signing the note." in response.text
    assert "Write the plan before signing the note." in response.text
    assert NOTE["examination"] in response.text
    assert not ClinicalNote.objects.exists()


def test_a_signed_note_cannot_be_edited_from_the_page(provider_client, provider, flagged_visit):
    save_note(provider_client, flagged_visit, action="sign")
    signed = ClinicalNote.objects.get(visit=flagged_visit)

    response = save_note(provider_client, flagged_visit, plan="Something else entirely.")

    assert response.status_code == 409
    signed_now = ClinicalNote.objects.get(visit=flagged_visit)
    assert (signed_now.plan, signed_now.version) == (signed.plan, signed.version)
    assert "This note was signed after you opened this page" in last_message(response)
    # What was typed is not lost: it waits in the addendum box.
    assert "Plan: Something else entirely." in response.text


def test_a_save_from_a_stale_page_is_refused_and_the_text_typed_kept(
    provider_client, flagged_visit
):
    save_note(provider_client, flagged_visit)  # the other tab saves first: version 1

    response = save_note(provider_client, flagged_visit, version=0, plan="From the stale tab.")

    assert response.status_code == 409
    assert "saved from another page after you opened this one" in response.text
    assert "From the stale tab." in response.text  # the typing, kept
    assert "The note as it is now" in response.text
    note = ClinicalNote.objects.get(visit=flagged_visit)
    assert (note.plan, note.version) == (NOTE["plan"], 1)
    # Saving again from the page that came back is a knowing overwrite.
    assert response.context["note_form"].data["version"] == 1


def test_a_tampered_version_is_refused_without_losing_the_text(provider_client, flagged_visit):
    response = save_note(provider_client, flagged_visit, version=7, plan="Typed here.")

    assert response.status_code == 409
    assert "Typed here." in response.text
    assert not ClinicalNote.objects.exists()


def test_an_over_long_part_is_refused_beside_its_field(provider_client, flagged_visit):
    response = save_note(provider_client, flagged_visit, plan="x" * 10001)

    assert response.status_code == 400
    assert response.context["note_form"].errors["plan"]
    assert not ClinicalNote.objects.exists()


LOCKED = "A signed clinical note cannot change"


def test_the_database_refuses_to_change_or_delete_a_signed_note(provider, flagged_visit):
    note = ClinicalNote.objects.create(visit=flagged_visit, author=provider, plan="Draft")
    ClinicalNote.objects.filter(pk=note.pk).update(plan="Drafts change freely")
    ClinicalNote.objects.filter(pk=note.pk).update(signed_by=provider, signed_at=note.created_at)

    for change in (
        lambda: ClinicalNote.objects.filter(pk=note.pk).update(plan="Rewritten"),
        lambda: ClinicalNote.objects.filter(pk=note.pk)._raw_delete(connection.alias),
    ):
        with pytest.raises(IntegrityError, match=LOCKED), transaction.atomic():
            change()
    assert ClinicalNote.objects.get(pk=note.pk).plan == "Drafts change freely"


def test_the_database_refuses_to_change_or_delete_an_addendum(provider, flagged_visit):
    note = ClinicalNote.objects.create(
        visit=flagged_visit, author=provider, signed_by=provider, signed_at=flagged_visit.created_at
    )
    addendum = NoteAddendum.objects.create(note=note, text="Seen again.", signed_by=provider)

    for change in (
        lambda: NoteAddendum.objects.filter(pk=addendum.pk).update(text="Rewritten"),
        lambda: NoteAddendum.objects.filter(pk=addendum.pk)._raw_delete(connection.alias),
    ):
        with pytest.raises(IntegrityError, match="An addendum cannot change"), transaction.atomic():
            change()


@pytest.mark.django_db(transaction=True)
def test_flush_empties_signed_notes_and_keeps_their_triggers(provider, flagged_visit):
    note = ClinicalNote.objects.create(
        visit=flagged_visit, author=provider, signed_by=provider, signed_at=flagged_visit.created_at
    )
    NoteAddendum.objects.create(note=note, text="Seen again.", signed_by=provider)

    call_command("flush", interactive=False, verbosity=0)

    assert not ClinicalNote.objects.exists()
    assert ClinicalNote.SIGNED.installed(connection)
    assert NoteAddendum.ADDED.installed(connection)


@pytest.mark.django_db(transaction=True)
def test_two_tabs_saving_the_first_draft_at_once_give_one_note_and_one_refusal(
    provider, flagged_visit
):
    if connection.vendor == "sqlite":
        pytest.skip("needs a database whose writers wait for each other")
    both_ready = threading.Barrier(2)
    outcomes = []

    def save(plan):
        try:
            both_ready.wait()
            notes.save_note(
                visit=flagged_visit,
                actor=Actor.for_user(provider),
                parts={**NOTE, "plan": plan},
                expected_version=0,
            )
            outcomes.append("saved")
        except notes.StaleEdit:
            outcomes.append("refused")
        finally:
            connection.close()

    tabs = [threading.Thread(target=save, args=(plan,)) for plan in ("Tab one", "Tab two")]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()

    assert sorted(outcomes) == ["refused", "saved"]
    note = ClinicalNote.objects.get(visit=flagged_visit)
    assert (note.version, note.plan in {"Tab one", "Tab two"}) == (1, True)


# Addenda


def test_an_addendum_to_a_signed_note_is_signed_as_it_is_added(
    provider_client, provider, flagged_visit, clock
):
    save_note(provider_client, flagged_visit, action="sign")
    clock.move(hours=2)

    response = provider_client.post(
        page_url(flagged_visit, "note/addenda/"), {"text": "  Bloods normal.  "}, follow=True
    )

    addendum = NoteAddendum.objects.get()
    assert (addendum.text, addendum.signed_by, addendum.signed_at) == (
        "Bloods normal.",
        provider,
        clock.now,
    )
    assert last_message(response) == "Addendum added and signed."
    assert "Bloods normal." in response.text
    assert f"Signed by {provider.get_full_name()} at 12:30" in response.text
    event = events("intake.noteaddendum")[-1]
    assert (event.action, event.patient_id) == ("create", flagged_visit.patient_id)


def test_an_addendum_before_the_note_is_signed_is_refused(provider_client, flagged_visit):
    save_note(provider_client, flagged_visit)

    response = provider_client.post(
        page_url(flagged_visit, "note/addenda/"), {"text": "Too early."}, follow=True
    )

    assert not NoteAddendum.objects.exists()
    assert last_message(response) == (
        "Addenda are for signed notes: change the note itself while it is a draft."
    )


def test_an_empty_addendum_is_refused_beside_its_field(provider_client, flagged_visit):
    save_note(provider_client, flagged_visit, action="sign")

    response = provider_client.post(page_url(flagged_visit, "note/addenda/"), {"text": "  "})

    assert response.status_code == 400
    assert "Write the addendum." in response.text
    assert not NoteAddendum.objects.exists()


def test_no_note_is_written_for_a_visit_the_patient_did_not_come_to(provider_client, flagged_visit):
    Visit.objects.filter(pk=flagged_visit.pk).update(
        status=Visit.Status.CANCELLED, cancel_reason="Called"
    )

    response = save_note(provider_client, flagged_visit)

    assert response.status_code == 400
    assert "This visit is cancelled." in response.text
    assert not ClinicalNote.objects.exists()


# Query counts


def test_the_page_takes_as_many_queries_with_many_answers_orders_and_addenda_as_with_few(
    provider_client, provider, flagged_visit, django_assert_num_queries
):
    note = ClinicalNote.objects.create(
        visit=flagged_visit, author=provider, signed_by=provider, signed_at=flagged_visit.created_at
    )

    def add(count):
        for _ in range(count):
            AnswerFactory(visit=flagged_visit)
            TestOrderFactory(visit=flagged_visit, ordered_by=UserFactory())
            NoteAddendum.objects.create(note=note, text="More.", signed_by=UserFactory())

    add(2)
    provider_client.get(review_url(flagged_visit))  # caches filled on first use
    with CaptureQueriesContext(connection) as few:
        small = provider_client.get(review_url(flagged_visit))
    add(30)
    with django_assert_num_queries(len(few)):
        large = provider_client.get(review_url(flagged_visit))

    assert small.text.count("More.") == 2
    assert large.text.count("More.") == 32
    assert len(large.context["orders"]) == 32
