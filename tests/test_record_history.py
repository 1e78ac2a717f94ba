"""Every change to a patient's records is kept as a version: who made it, when, what it
was before, and why; the record's pages show them, bulk changes included."""

from django.urls import reverse

from audit.actors import Actor
from intake import orders
from intake.models import Answer, TestOrder, Visit
from intake.patients import register_patient

from .conftest import PreVisitPatient
from .factories import VisitFactory, at_today


def history_rows(response):
    return [
        (change.by, change.record, change.fields, change.reason)
        for change in response.context["record_history"]
    ]


def test_a_registered_patient_shows_who_created_the_record(desk_client, front_desk):
    patient = register_patient(
        actor=Actor.for_user(front_desk),
        given_name="Odile",
        family_name="Brandt",
        date_of_birth="1961-04-09",
        sex_at_birth="female",
    )

    response = desk_client.get(patient.get_absolute_url())

    [created] = response.context["record_history"]
    assert (created.by, created.kind, created.record) == (
        front_desk.get_full_name(),
        "Created",
        "Patient",
    )
    assert "Changes to this record" in response.text


def test_cancelling_a_visit_keeps_the_version_before_with_who_and_why(
    desk_client, front_desk, visit
):
    desk_client.post(
        reverse("intake:visit-cancel", args=[visit.pk]), {"reason": "Patient called to cancel"}
    )

    response = desk_client.get(visit.get_absolute_url())

    assert history_rows(response)[0] == (
        front_desk.get_full_name(),
        "Visit",
        [("Status", "Scheduled", "Cancelled"), ("Cancel reason", "—", "Patient called to cancel")],
        "Patient called to cancel",
    )
    assert "<del>Scheduled</del> → <ins>Cancelled</ins>" in response.text
    [before, after] = visit.history.order_by("history_id")
    assert (before.status, after.status) == ("scheduled", "cancelled")


def test_a_staff_correction_keeps_the_patients_own_answer_as_a_version(
    verified_patient, upcoming_visit, intake_data, desk_client, front_desk
):
    patient_data = intake_data(upcoming_visit, {"same-place": "yes"}, action="save")
    patient_data["form_key"] = verified_patient.client.session["previsit-form-key"]
    verified_patient.client.post(verified_patient.url + "questions/", patient_data)
    upcoming_visit.refresh_from_db()
    desk_client.post(
        reverse("intake:visit-intake", args=[upcoming_visit.pk]),
        intake_data(upcoming_visit, {"same-place": "no"}, action="save"),
    )

    response = desk_client.get(upcoming_visit.get_absolute_url())

    link_label = upcoming_visit.previsit_links.get().actor_label
    rows = history_rows(response)
    wording = "Answer to “Is the twitching always in the same place?”"
    assert (front_desk.get_full_name(), wording, [("Answer", "Yes", "No")], "") in [
        (by, record, [field for field in fields if field[0] == "Answer"], reason)
        for by, record, fields, reason in rows
    ]
    assert (link_label, wording, [], "") in rows
    answer = Answer.objects.get(visit=upcoming_visit, question_key="same-place")
    assert [version.value_bool for version in answer.history.order_by("history_id")] == [
        True,
        False,
    ]


def test_a_bulk_action_keeps_a_version_of_every_visit_it_changed(provider_client, condition):
    visits = [VisitFactory(condition=condition, scheduled_at=at_today(hour)) for hour in (9, 10)]

    provider_client.post(
        reverse("admin:intake_visit_changelist"),
        {"action": "mark_seen_action", "_selected_action": [visit.pk for visit in visits]},
    )

    for visit in visits:
        latest = visit.history.latest("history_id")
        assert (latest.status, latest.history_actor) == (Visit.Status.SEEN, "pat.provider")
        page = provider_client.get(reverse("admin:intake_visit_change", args=[visit.pk]))
        assert "<del>Scheduled</del> → <ins>Seen</ins>" in page.text


def test_an_orders_result_and_review_are_versions_shown_on_its_admin_page(
    provider_client, provider, flagged_visit
):
    actor = Actor.for_user(provider)
    order = orders.place_order(
        visit=flagged_visit,
        test=flagged_visit.condition.tests.get(slug="emg"),
        side="both",
        limb="leg",
        actor=actor,
        reason="Weakness",
    )
    orders.record_result(order=order, actor=actor, text="Fasciculations in both calves.")
    orders.review_result(order=order, actor=actor, comment="Benign.")

    page = provider_client.get(reverse("admin:intake_testorder_change", args=[order.pk]))

    assert [version.status for version in order.history.order_by("history_id")] == [
        TestOrder.Status.ORDERED,
        TestOrder.Status.RESULTED,
        TestOrder.Status.REVIEWED,
    ]
    assert "<del>Ordered</del> → <ins>Resulted</ins>" in page.text
    assert "<del>Resulted</del> → <ins>Reviewed</ins>" in page.text
    assert "Fasciculations in both calves." in page.text


def test_a_patient_answering_through_the_link_is_named_by_the_link(
    link_token, upcoming_visit, client, intake_data
):
    patient = PreVisitPatient(client, link_token)
    patient.confirm_birth_date(upcoming_visit.patient.date_of_birth)
    patient.post("questions/", intake_data(upcoming_visit, action="save"))

    link = upcoming_visit.previsit_links.get()
    actors = set(
        Answer.history.filter(visit_id=upcoming_visit.pk).values_list("history_actor", flat=True)
    )
    assert actors == {link.actor_label}
    assert not Answer.history.filter(history_user__isnull=False).exists()


def test_a_catalog_test_edited_in_the_admin_keeps_its_version_before(client, editor, condition):
    test = condition.tests.get(slug="emg")
    client.force_login(editor)
    page = reverse("admin:conditions_orderabletest_change", args=[test.pk])

    response = client.post(
        page,
        {
            "slug": test.slug,
            "name": "Electromyography (EMG)",
            "kind": test.kind,
            "body_site": test.body_site,
            "code_system": test.code_system,
            "code": test.code,
            "description": test.description,
            "asks_side_and_limb": "on",
        },
    )

    assert response.status_code == 302
    latest = test.history.latest("history_id")
    assert (latest.name, latest.history_user, latest.history_actor) == (
        "Electromyography (EMG)",
        editor,
        "eddie.editor",
    )
    shown = client.get(page).text
    assert "<del>Electromyogram (EMG)</del> → <ins>Electromyography (EMG)</ins>" in shown
