"""Merging two records of the same person, and undoing a merge: choosing the records,
the side-by-side confirmation, what moves, concurrent changes refused, the merged
record as a pointer, searches, who may merge and undo, and the queries the
confirmation page takes."""

import datetime
import threading

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.actors import Actor
from audit.models import AuditEvent
from intake.links import show_previsit_link
from intake.merges import MergeConflict, merge_patients, merge_stamp, undo_merge
from intake.models import Patient, PatientMerge, PreVisitLink, TestOrder, Visit
from intake.patients import StaleEdit, update_patient

from .factories import (
    AnswerFactory,
    PatientFactory,
    TestOrderFactory,
    UserFactory,
    VisitFactory,
    at_today,
)

SEARCH = "/staff/patients/"
MERGES = "/staff/merges/"


def merge_url(patient):
    return f"/staff/patients/{patient.pk}/merge/"


def confirm_url(merged, survivor):
    return f"/staff/patients/{merged.pk}/merge/into/{survivor.pk}/"


def undo_url(merge):
    return f"/staff/merges/{merge.pk}/undo/"


@pytest.fixture
def twin(condition, provider):
    """Jon Smtih, the second record of John Smith: a past visit with three answers and an
    EMG ordered, and a coming visit with a pre-visit link."""
    patient = PatientFactory(
        given_name="Jon",
        family_name="Smtih",
        date_of_birth=datetime.date(1980, 5, 17),
        sex_at_birth="male",
        email="jon@example.org",
        phone="+1 555 0123",
    )
    past = VisitFactory(patient=patient, scheduled_at=at_today(9, days=-30))
    AnswerFactory.create_batch(3, visit=past)
    TestOrderFactory(visit=past, ordered_by=provider)
    coming = VisitFactory(patient=patient, scheduled_at=at_today(10, days=3))
    show_previsit_link(visit=coming, actor=Actor.for_user(provider))
    return patient


@pytest.fixture
def kept(condition):
    """John Smith, the record that is kept, with one visit of its own."""
    patient = PatientFactory(
        given_name="John",
        family_name="Smith",
        date_of_birth=datetime.date(1980, 5, 17),
        sex_at_birth="male",
        email="john.smith@example.org",
        phone="+1 555 0123",
    )
    VisitFactory(patient=patient, scheduled_at=at_today(11, days=-60))
    return patient


@pytest.fixture
def admin_client(clinic_admin, sign_in):
    """A clinic administrator in a browser of their own."""
    return sign_in(Client(), clinic_admin)


def stamp_of(client, merged, survivor, form_values):
    """The stamp the confirmation page gives, as the browser would post it back."""
    response = client.get(confirm_url(merged, survivor))
    assert response.status_code == 200
    return form_values(response.text)["stamp"][0]


def merge(client, merged, survivor, form_values, reason="Registered twice at the desk"):
    stamp = stamp_of(client, merged, survivor, form_values)
    return client.post(confirm_url(merged, survivor), {"reason": reason, "stamp": stamp})


def merged_by_workflow(merged, survivor, user, reason="Registered twice"):
    visit_ids = merged.visits.values_list("pk", flat=True)
    earlier_ids = merged.merged_records.values_list("pk", flat=True)
    return merge_patients(
        merged=merged,
        survivor=survivor,
        reason=reason,
        expected_stamp=merge_stamp(
            merged=merged, survivor=survivor, visit_ids=visit_ids, earlier_ids=earlier_ids
        ),
        actor=Actor.for_user(user),
    )


# Choosing the records


def test_the_patient_page_offers_a_merge(desk_client, twin):
    response = desk_client.get(twin.get_absolute_url())

    assert f'href="{merge_url(twin)}">Merge with another record…</a>' in response.text


@pytest.mark.parametrize(
    ("keep", "merged", "survivor"), [("this", "kept", "twin"), ("other", "twin", "kept")]
)
def test_the_other_record_is_found_by_a_posted_number_and_either_can_be_kept(
    desk_client, twin, kept, keep, merged, survivor
):
    records = {"twin": twin, "kept": kept}

    response = desk_client.post(merge_url(twin), {"record_number": kept.mrn, "keep": keep})

    assert response.status_code == 302
    assert response["Location"] == confirm_url(records[merged], records[survivor])
    # Record numbers travel in the posted form only, never in a URL.
    assert kept.mrn not in response["Location"] and twin.mrn not in response["Location"]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "Give the other record's record number."),
        ("12345678", "Check the record number"),
        ("123", "Check the record number"),
        ("own", "This is this patient's own record number"),
        ("unknown", "No patient has this record number."),
        ("merged", "was already merged into record"),
    ],
)
def test_a_wrong_record_number_is_explained_beside_the_field(
    desk_client, twin, kept, front_desk, number, message
):
    gone = PatientFactory()
    merged_by_workflow(gone, kept, front_desk)
    unknown = PatientFactory()
    unknown_number = unknown.mrn
    unknown.delete()
    number = {"own": twin.mrn, "unknown": unknown_number, "merged": gone.mrn}.get(number, number)

    response = desk_client.post(merge_url(twin), {"record_number": number, "keep": "this"})

    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors["record_number"])
    assert 'href="#id_record_number"' in response.text
    assert form["keep"].value() == "this"
    assert not PatientMerge.objects.exclude(merged=gone).exists()


def test_which_record_is_kept_must_be_chosen(desk_client, twin, kept):
    response = desk_client.post(merge_url(twin), {"record_number": kept.mrn})

    assert response.context["form"].errors["keep"] == ["Choose which record is kept."]
    assert response.context["form"]["record_number"].value() == kept.mrn


# The confirmation page


def test_the_confirmation_shows_both_records_side_by_side_and_everything_that_moves(
    desk_client, twin, kept
):
    response = desk_client.get(confirm_url(twin, kept))

    text = response.text
    assert f"Record {twin.mrn} is merged into record {kept.mrn}, which is kept." in text
    assert '<td class="text-break">Jon Smtih</td>' in text
    assert '<td class="text-break">John Smith</td>' in text
    rows = {
        label: (before, after, differs)
        for label, before, after, differs in response.context["details"]
    }
    assert rows["Name"] == ("Jon Smtih", "John Smith", True)
    assert rows["Date of birth"] == ("17 May 1980", "17 May 1980", False)
    assert rows["Phone"] == ("+1 555 0123", "+1 555 0123", False)
    assert rows["E-mail"][2] is True
    assert text.count("Differs</span>") == 2
    assert "2 visits, with 3 answers, 1 test order and 1 pre-visit link." in text
    assert f"Record {kept.mrn} has 1 visit now, and 3 after the merge." in text
    for visit in twin.visits.all():
        assert f'href="{visit.get_absolute_url()}"' in text
    assert "Electromyogram (EMG) (Both legs) (ordered)" in text
    assert "confirms the kept record's date of birth (17 May 1980)" in text
    assert f'href="{confirm_url(kept, twin)}">Keep record {twin.mrn} instead</a>' in text


def test_showing_the_confirmation_audits_reading_both_records(desk_client, front_desk, twin, kept):
    desk_client.get(confirm_url(twin, kept))

    views = AuditEvent.objects.filter(action="view", actor=front_desk)
    assert sorted(event.patient_id for event in views) == sorted([twin.pk, kept.pk])


# Merging


def test_confirming_moves_every_visit_and_leaves_the_merged_record_as_a_pointer(
    desk_client, front_desk, twin, kept, form_values
):
    moving = set(twin.visits.values_list("pk", flat=True))
    kept_visit = kept.visits.get()

    response = merge(desk_client, twin, kept, form_values)

    assert response.status_code == 302
    assert response["Location"] == kept.get_absolute_url()
    twin.refresh_from_db()
    assert twin.merged_into == kept
    assert Patient.objects.filter(pk=twin.pk).exists()  # never deleted
    assert set(kept.visits.values_list("pk", flat=True)) == moving | {kept_visit.pk}
    assert not twin.visits.exists()
    # Answers, orders and links belong to their visits and moved with them.
    assert Visit.objects.filter(pk__in=moving, answers__isnull=False).distinct().count() == 1
    assert TestOrder.objects.get().visit.patient == kept
    assert PreVisitLink.objects.get().visit.patient == kept
    record = PatientMerge.objects.get()
    assert (record.merged, record.survivor, record.merged_by) == (twin, kept, front_desk)
    assert record.reason == "Registered twice at the desk"
    assert set(record.moved_visits.values_list("pk", flat=True)) == moving

    page = desk_client.get(kept.get_absolute_url())
    assert f"Record {twin.mrn} was merged into this record." in page.text
    assert page.text.count('href="/staff/visits/') == 3
    assert f"Jon Smtih, record number {twin.mrn}</a> was merged into this record" in page.text


def test_a_merge_is_audited_on_both_records_with_ids_and_no_patient_details(
    desk_client, front_desk, twin, kept, form_values
):
    moving = sorted(twin.visits.values_list("pk", flat=True))

    merge(desk_client, twin, kept, form_values)

    events = {event.patient_id: event for event in AuditEvent.objects.filter(action="merge")}
    merge_id = PatientMerge.objects.get().pk
    assert events[twin.pk].detail == {"merge": merge_id, "merged_into": kept.pk, "visits": moving}
    assert events[kept.pk].detail == {"merge": merge_id, "merged_from": twin.pk, "visits": moving}
    assert {event.actor for event in events.values()} == {front_desk}
    assert events[twin.pk].get_action_display() == "Merged records"


def test_a_merge_keeps_history_on_the_record_and_on_each_visit_that_moved(
    desk_client, front_desk, twin, kept, form_values
):
    merge(desk_client, twin, kept, form_values)

    merged_page = desk_client.get(twin.get_absolute_url())
    [latest, *_] = merged_page.context["record_history"]
    assert (latest.by, latest.fields, latest.reason) == (
        front_desk.get_full_name(),
        [("Merged into", "—", str(kept))],
        "Registered twice at the desk",
    )
    kept_page = desk_client.get(kept.get_absolute_url())
    [joined, *_] = kept_page.context["record_history"]
    assert (joined.kind, joined.fields, joined.reason) == (
        "Changed",
        [],
        f"Record {twin.mrn} was merged into this record: Registered twice at the desk",
    )
    visit = kept.visits.order_by("scheduled_at").last()
    visit_page = desk_client.get(visit.get_absolute_url())
    moved = visit_page.context["record_history"][0]
    assert moved.fields == [("Patient", str(twin), str(kept))]
    assert moved.reason == (
        f"Moved from record {twin.mrn} to {kept.mrn} in a merge: Registered twice at the desk"
    )


def test_the_merged_records_page_says_where_it_went_and_offers_no_changes(
    desk_client, twin, kept, form_values
):
    merge(desk_client, twin, kept, form_values)

    response = desk_client.get(twin.get_absolute_url())

    assert "This record was merged into another record" in response.text
    link = f'href="{kept.get_absolute_url()}" class="alert-link">John Smith, record number'
    assert f"{link} {kept.mrn}</a>" in response.text
    assert "Reason: Registered twice at the desk" in response.text
    assert "No visits: they moved to the record this one was merged into." in response.text
    for offer in (
        "Correct details",
        "Merge with another record",
        "Open a visit",
        "Undo this merge",
    ):
        assert offer not in response.text


def test_a_merge_needs_a_reason(desk_client, twin, kept, form_values):
    stamp = stamp_of(desk_client, twin, kept, form_values)

    response = desk_client.post(confirm_url(twin, kept), {"reason": "  ", "stamp": stamp})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Give a reason for merging these records."]
    assert 'href="#id_reason"' in response.text
    assert not PatientMerge.objects.exists()
    assert Patient.objects.get(pk=twin.pk).merged_into is None


def test_a_record_cannot_be_merged_into_itself(desk_client, twin, front_desk):
    response = desk_client.get(confirm_url(twin, twin), follow=True)

    assert "A record cannot be merged with itself." in response.text
    with pytest.raises(Exception, match="cannot be merged with itself"):
        merged_by_workflow(twin, twin, front_desk)
    assert not PatientMerge.objects.exists()


def test_an_already_merged_record_cannot_be_merged_again(
    desk_client, front_desk, twin, kept, form_values
):
    other = PatientFactory()
    stamp = stamp_of(desk_client, twin, other, form_values)
    merged_by_workflow(twin, kept, front_desk)

    # From a confirmation page shown before the first merge, and from a fresh one.
    stale = desk_client.post(confirm_url(twin, other), {"reason": "Also him", "stamp": stamp})
    fresh = desk_client.get(confirm_url(twin, other), follow=True)
    into_merged = desk_client.get(confirm_url(other, twin), follow=True)

    assert stale.status_code == 302
    assert f"Record {twin.mrn} was already merged into another record" in fresh.text
    assert "merge into the record it was merged into instead" in into_merged.text
    assert PatientMerge.objects.count() == 1
    assert Patient.objects.get(pk=other.pk).merged_into is None


def test_the_database_refuses_two_active_merges_of_one_record(twin, kept, front_desk):
    PatientMerge.objects.create(merged=twin, survivor=kept, reason="First", merged_by=front_desk)

    with pytest.raises(IntegrityError):
        PatientMerge.objects.create(
            merged=twin, survivor=PatientFactory(), reason="Second", merged_by=front_desk
        )


# Concurrent changes


def test_a_change_to_either_record_after_the_page_was_shown_refuses_the_merge(
    desk_client, provider, twin, kept, form_values
):
    stamp = stamp_of(desk_client, twin, kept, form_values)
    # Meanwhile a provider corrects the kept record's phone number.
    update_patient(
        patient=kept,
        changes={"phone": "+1 555 0999"},
        expected_stamp=kept.edit_stamp,
        actor=Actor.for_user(provider),
    )

    response = desk_client.post(
        confirm_url(twin, kept), {"reason": "Registered twice", "stamp": stamp}
    )

    assert response.status_code == 409
    assert "One of these records changed after this page was shown" in response.text
    assert "Nothing was merged." in response.text
    assert "+1 555 0999" in response.text  # the page shows the records as they are now
    shown = form_values(response.text)
    assert shown["reason"] == ["Registered twice"]
    assert shown["stamp"] != [stamp]
    assert not PatientMerge.objects.exists()
    assert twin.visits.count() == 2

    # Confirming again, from the page as it is now, merges.
    again = desk_client.post(confirm_url(twin, kept), {k: v[0] for k, v in shown.items()})
    assert again.status_code == 302
    assert PatientMerge.objects.get().survivor == kept


def test_a_visit_opened_on_the_merged_record_after_the_page_was_shown_refuses_the_merge(
    desk_client, twin, kept, form_values
):
    stamp = stamp_of(desk_client, twin, kept, form_values)
    VisitFactory(patient=twin, scheduled_at=at_today(15, days=7))

    response = desk_client.post(confirm_url(twin, kept), {"reason": "Twice", "stamp": stamp})

    assert response.status_code == 409
    assert "3 visits, with 3 answers" in response.text
    assert not PatientMerge.objects.exists()


def test_a_correction_from_a_page_loaded_before_the_merge_is_refused(
    desk_client, front_desk, twin, kept, form_values
):
    edit_page = form_values(desk_client.get(f"/staff/patients/{twin.pk}/edit/").text)
    merged_by_workflow(twin, kept, front_desk)

    response = desk_client.post(
        f"/staff/patients/{twin.pk}/edit/",
        {**{k: v[0] for k, v in edit_page.items()}, "phone": "+1 555 0111"},
        follow=True,
    )

    assert "correct the record it was merged into" in response.text
    assert Patient.objects.get(pk=twin.pk).phone == "+1 555 0123"
    with pytest.raises(Exception, match="merged into another one"):
        update_patient(
            patient=twin,
            changes={"phone": "+1 555 0111"},
            expected_stamp=Patient.objects.get(pk=twin.pk).edit_stamp,
            actor=Actor.for_user(front_desk),
        )


def test_no_visit_can_be_opened_on_a_merged_record(desk_client, front_desk, twin, kept, condition):
    merged_by_workflow(twin, kept, front_desk)

    response = desk_client.post(
        f"/staff/patients/{twin.pk}/visits/new/",
        {"condition": condition.pk, "scheduled_date": "2100-01-01", "scheduled_time": "09:00"},
        follow=True,
    )

    assert "This record was merged into another record: open the visit there." in response.text
    assert not twin.visits.exists()


@pytest.mark.django_db(transaction=True)
def test_a_merge_and_a_correction_at_the_same_moment_give_one_change_and_one_refusal(
    condition, front_desk, provider
):
    if connection.vendor == "sqlite":
        pytest.skip("needs a database whose writers wait for each other")
    twin = PatientFactory(phone="+1 555 0123")
    kept = PatientFactory()
    VisitFactory(patient=twin)
    merge_stamp_shown = merge_stamp(
        merged=twin,
        survivor=kept,
        visit_ids=twin.visits.values_list("pk", flat=True),
        earlier_ids=[],
    )
    edit_stamp_shown = twin.edit_stamp
    both_ready = threading.Barrier(2)
    outcomes = []

    def run(name, action):
        try:
            both_ready.wait()
            action()
            outcomes.append(f"{name} done")
        except (MergeConflict, StaleEdit):
            outcomes.append(f"{name} refused as stale")
        except Exception as error:  # the merged record refusing the correction
            outcomes.append(f"{name} refused: {error}")
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=(
                "merge",
                lambda: merge_patients(
                    merged=twin,
                    survivor=kept,
                    reason="Twice",
                    expected_stamp=merge_stamp_shown,
                    actor=Actor.for_user(front_desk),
                ),
            ),
        ),
        threading.Thread(
            target=run,
            args=(
                "correction",
                lambda: update_patient(
                    patient=twin,
                    changes={"phone": "+1 555 0999"},
                    expected_stamp=edit_stamp_shown,
                    actor=Actor.for_user(provider),
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    twin.refresh_from_db()
    done = [outcome for outcome in outcomes if outcome.endswith("done")]
    assert len(done) == 1, outcomes
    if done == ["merge done"]:
        assert (twin.merged_into, twin.phone) == (kept, "+1 555 0123")
    else:
        assert (twin.merged_into, twin.phone) == (None, "+1 555 0999")
        assert not PatientMerge.objects.exists()


# Searches and duplicate warnings


def test_searches_find_the_kept_record_and_never_the_merged_one(
    desk_client, front_desk, twin, kept
):
    merged_by_workflow(twin, kept, front_desk)

    for query in (twin.mrn, "Smtih", "Jon Smtih", "Smith", "1980-05-17", "17/05/1980"):
        response = desk_client.post(SEARCH, {"q": query})
        assert list(response.context["page"].object_list) == [kept], query
    by_number = desk_client.post(SEARCH, {"q": twin.mrn})
    assert f"and {twin.mrn} (merged into it)" in by_number.text
    assert "1 patient found" in by_number.text


def test_registering_the_person_again_warns_of_the_kept_record_only(
    desk_client, front_desk, twin, kept
):
    merged_by_workflow(twin, kept, front_desk)

    response = desk_client.post(
        "/staff/patients/new/",
        {
            "given_name": "Jon",
            "family_name": "Smtih",
            "date_of_birth": "1980-05-17",
            "sex_at_birth": "male",
        },
    )

    assert response.status_code == 302  # the only match was merged away
    warned = desk_client.post(
        "/staff/patients/new/",
        {
            "given_name": "John",
            "family_name": "Smith",
            "date_of_birth": "1980-05-17",
            "sex_at_birth": "male",
        },
    )
    assert [patient.pk for patient in warned.context["form"].duplicates] == [kept.pk]


# Records merged one after another


def test_records_merged_earlier_point_on_to_the_new_survivor_and_undo_in_turn(
    front_desk, clinic_admin, twin, kept
):
    third = PatientFactory()
    first = merged_by_workflow(twin, kept, front_desk)
    kept.refresh_from_db()  # the kept record took a version of its own in the merge
    second = merged_by_workflow(kept, third, front_desk)

    twin.refresh_from_db()
    assert twin.merged_into == third  # a pointer always leads to a record in use
    assert third.visits.count() == 3
    admin = Actor.for_user(clinic_admin)
    with pytest.raises(Exception, match="undo that later merge first"):
        undo_merge(merge=first, reason="Wrong", actor=admin)

    undo_merge(merge=second, reason="Different people", actor=admin)
    twin.refresh_from_db()
    kept.refresh_from_db()
    assert (twin.merged_into, kept.merged_into) == (kept, None)
    assert kept.visits.count() == 3
    undo_merge(merge=first, reason="Different people too", actor=admin)
    twin.refresh_from_db()
    assert twin.merged_into is None
    assert (twin.visits.count(), kept.visits.count(), third.visits.count()) == (2, 1, 0)


# Undoing a merge


def test_an_administrator_finds_the_merge_and_sees_what_goes_back_and_what_stays(
    admin_client, front_desk, twin, kept
):
    record = merged_by_workflow(twin, kept, front_desk)
    VisitFactory(patient=kept, scheduled_at=at_today(14, days=5))  # opened after the merge

    listing = admin_client.get(MERGES)
    page = admin_client.get(undo_url(record))

    assert f'href="{undo_url(record)}">Undo…' in listing.text
    assert twin.mrn in listing.text and kept.mrn in listing.text
    assert page.status_code == 200
    assert f"Going back to record {twin.mrn}" in page.text
    assert page.context["moved"].count() == 2
    assert [visit.scheduled_at for visit in page.context["staying"]] == [at_today(14, days=5)]


def test_undoing_puts_back_exactly_the_visits_that_moved(
    admin_client, clinic_admin, front_desk, twin, kept
):
    moved = set(twin.visits.values_list("pk", flat=True))
    own = set(kept.visits.values_list("pk", flat=True))
    record = merged_by_workflow(twin, kept, front_desk)
    later = VisitFactory(patient=kept, scheduled_at=at_today(14, days=5))

    response = admin_client.post(undo_url(record), {"reason": "Two different people"}, follow=True)

    assert f"The merge was undone: record {twin.mrn} has its own visits again." in response.text
    twin.refresh_from_db()
    assert twin.merged_into is None
    assert set(twin.visits.values_list("pk", flat=True)) == moved
    assert set(kept.visits.values_list("pk", flat=True)) == own | {later.pk}
    record.refresh_from_db()
    assert (record.undone_by, record.undo_reason) == (clinic_admin, "Two different people")
    events = AuditEvent.objects.filter(action="unmerge")
    assert sorted(event.patient_id for event in events) == sorted([twin.pk, kept.pk])
    assert {event.actor for event in events} == {clinic_admin}
    [latest, *_] = twin.history.order_by("-history_id")
    assert (latest.merged_into_id, latest.history_change_reason) == (
        None,
        "Merge undone: Two different people",
    )
    # The record is found by its own searches again.
    assert "Undone" in admin_client.get(MERGES).text


def test_an_undo_needs_a_reason_and_happens_once(admin_client, front_desk, twin, kept):
    record = merged_by_workflow(twin, kept, front_desk)

    missing = admin_client.post(undo_url(record), {"reason": ""})
    admin_client.post(undo_url(record), {"reason": "Wrong merge"})
    again = admin_client.get(undo_url(record))

    assert missing.context["form"].errors["reason"] == ["Give a reason for undoing this merge."]
    assert "This merge was undone on" in again.text
    assert "Undo the merge</button>" not in again.text
    with pytest.raises(Exception, match="already undone"):
        undo_merge(merge=record, reason="Again", actor=Actor.for_user(front_desk))
    assert AuditEvent.objects.filter(action="unmerge").count() == 2


# Who may merge and undo


def test_anyone_signed_out_is_sent_to_sign_in(client, twin, kept):
    for url in (merge_url(twin), confirm_url(twin, kept), MERGES, "/staff/merges/1/undo/"):
        assert client.get(url)["Location"].startswith("/accounts/login/"), url
        assert client.post(url, {"reason": "x"})["Location"].startswith("/accounts/login/"), url
    assert not PatientMerge.objects.exists()


@pytest.mark.parametrize(
    ("persona", "may_merge", "may_undo"),
    [
        ("front_desk", True, False),
        ("provider", True, False),
        ("editor", False, False),
        ("clinic_admin", False, True),
        ("superuser", True, True),
    ],
)
def test_who_may_merge_and_who_may_undo(
    client, sign_in, request, twin, kept, front_desk, form_values, persona, may_merge, may_undo
):
    if persona == "superuser":
        user = UserFactory(username="root", is_superuser=True, is_staff=True)
    else:
        user = request.getfixturevalue(persona)
    sign_in(client, user)
    other = PatientFactory()
    record = merged_by_workflow(other, kept, front_desk)

    merge_pages = [client.get(merge_url(twin)), client.get(confirm_url(twin, kept))]
    undo_pages = [client.get(MERGES), client.get(undo_url(record))]
    assert [page.status_code for page in merge_pages] == [200 if may_merge else 403] * 2
    assert [page.status_code for page in undo_pages] == [200 if may_undo else 403] * 2
    patient_page = client.get(kept.get_absolute_url())
    if patient_page.status_code == 200:
        assert ("Merge with another record" in patient_page.text) == may_merge
        assert ("Undo this merge" in patient_page.text) == may_undo

    if may_merge:
        stamp = form_values(merge_pages[1].text)["stamp"][0]
        merged = client.post(confirm_url(twin, kept), {"reason": "Twice", "stamp": stamp})
        assert merged.status_code == 302
    else:
        refused = client.post(confirm_url(twin, kept), {"reason": "Twice", "stamp": "x"})
        assert refused.status_code == 403
    assert Patient.objects.get(pk=twin.pk).is_merged == may_merge

    undone = client.post(undo_url(record), {"reason": "Wrong"})
    assert undone.status_code == (302 if may_undo else 403)
    assert Patient.objects.get(pk=other.pk).is_merged != may_undo
    if not (may_merge and may_undo):
        assert AuditEvent.objects.filter(action="deny", actor=user).exists()


def test_unknown_records_and_merges_are_not_found(desk_client, admin_client, twin):
    assert desk_client.get(confirm_url(twin, Patient(pk=999999))).status_code == 404
    assert desk_client.get("/staff/patients/999999/merge/").status_code == 404
    assert admin_client.get("/staff/merges/999999/undo/").status_code == 404


# Queries


def test_the_confirmation_takes_as_many_queries_for_50_visits_as_for_5(
    desk_client, provider, kept, django_assert_num_queries
):
    twin = PatientFactory()

    def add_visit(number):
        visit = VisitFactory(patient=twin, scheduled_at=at_today(9, days=-number))
        AnswerFactory.create_batch(2, visit=visit, answered_by=provider)
        TestOrderFactory(visit=visit, ordered_by=provider)
        PreVisitLink.objects.create(
            visit=visit,
            channel=PreVisitLink.Channel.SHOWN,
            created_by=provider,
            expires_at=visit.scheduled_at,
        )

    for number in range(5):
        add_visit(number)
    desk_client.get(confirm_url(twin, kept))  # caches filled on first use do not count
    with CaptureQueriesContext(connection) as at_5:
        small = desk_client.get(confirm_url(twin, kept))
    for number in range(5, 50):
        add_visit(number)
    with django_assert_num_queries(len(at_5)):
        large = desk_client.get(confirm_url(twin, kept))

    assert "5 visits, with 10 answers, 5 test orders and 5 pre-visit links." in small.text
    assert "50 visits, with 100 answers, 50 test orders and 50 pre-visit links." in large.text


def test_the_admin_shows_which_record_a_merged_record_went_into(
    provider_client, front_desk, twin, kept
):
    merged_by_workflow(twin, kept, front_desk)

    page = provider_client.get(f"/admin/intake/patient/{twin.pk}/change/")
    merged_only = provider_client.get("/admin/intake/patient/?merged_into__isempty=0")

    assert page.status_code == 200
    assert str(kept) in page.text
    assert [patient.pk for patient in merged_only.context["cl"].result_list] == [twin.pk]
