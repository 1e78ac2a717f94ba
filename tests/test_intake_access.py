"""Who may open each staff page, the audit trail of reads, and no patient data in URLs."""

import datetime
import re

import pytest
from django.test import Client

from audit.models import AuditEvent
from intake.models import Patient, Visit

from .factories import PatientFactory


@pytest.fixture
def record(visit):
    """A patient with distinctive details and a visit of theirs, for the pages to show."""
    Patient.objects.filter(pk=visit.patient_id).update(
        given_name="Zebulon",
        family_name="Quagmire",
        date_of_birth=datetime.date(1977, 7, 17),
        email="zq@example.org",
        phone="+1 555 0177",
    )
    visit.patient.refresh_from_db()
    return visit


def pages(visit):
    """Every staff page of this issue, as a GET."""
    return [
        "/staff/",
        "/staff/patients/",
        "/staff/patients/new/",
        f"/staff/patients/{visit.patient_id}/",
        f"/staff/patients/{visit.patient_id}/visits/new/",
        f"/staff/visits/{visit.pk}/",
        f"/staff/visits/{visit.pk}/intake/",
    ]


def posts(visit, intake_data):
    """Every staff form that changes or looks up records, with valid data."""
    return [
        ("/staff/patients/", {"q": "Quagmire"}),
        (
            "/staff/patients/new/",
            {
                "given_name": "New",
                "family_name": "Person",
                "date_of_birth": "1990-01-01",
                "sex_at_birth": "male",
            },
        ),
        (
            f"/staff/patients/{visit.patient_id}/visits/new/",
            {
                "condition": visit.condition_id,
                "scheduled_date": "2100-01-01",
                "scheduled_time": "09:00",
            },
        ),
        (f"/staff/visits/{visit.pk}/intake/", intake_data(visit)),
        (f"/staff/visits/{visit.pk}/cancel/", {"reason": "Patient called"}),
    ]


def nothing_changed(visit):
    visit.refresh_from_db()
    return (
        Patient.objects.count() == 1
        and Visit.objects.count() == 1
        and visit.status == Visit.Status.SCHEDULED
        and not visit.answers.exists()
    )


def test_anyone_signed_out_is_sent_to_sign_in_from_every_page(client, record, intake_data):
    for url in pages(record):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/accounts/login/?next={url}", url
    for url, data in posts(record, intake_data):
        assert client.post(url, data)["Location"].startswith("/accounts/login/"), url
    assert nothing_changed(record)
    assert not AuditEvent.objects.exists()


def test_a_content_editor_is_refused_every_staff_page(client, editor, record, intake_data):
    client.force_login(editor)

    for url in pages(record):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You do not have access to this page" in response.text
        assert "Quagmire" not in response.text
    for url, data in posts(record, intake_data):
        assert client.post(url, data).status_code == 403, url
    assert nothing_changed(record)
    # Every refusal is audited, and nothing was recorded as read.
    events = AuditEvent.objects.exclude(action=AuditEvent.Action.SIGN_IN)
    assert {(event.action, event.actor_id) for event in events} == {("deny", editor.pk)}
    assert len(events) == len(pages(record)) + len(posts(record, intake_data))
    # A refused record names its patient, so the patient's trail shows the attempt.
    on_record = [event for event in events if event.record_id is not None]
    assert {event.patient_id for event in on_record} == {record.patient_id}
    assert {event.detail["page"] for event in events} >= {"intake:today", "intake:visit-detail"}


@pytest.mark.parametrize("persona", ["front_desk", "provider"])
def test_front_desk_and_providers_may_open_every_staff_page(
    client, record, intake_data, persona, request, sign_in
):
    sign_in(client, request.getfixturevalue(persona))

    for url in pages(record):
        assert client.get(url).status_code == 200, url
    for url, data in posts(record, intake_data):
        assert client.post(url, data).status_code in (200, 302), url
    record.refresh_from_db()
    assert record.status == Visit.Status.CANCELLED
    assert record.answers.count() == 7


@pytest.mark.parametrize("persona", [None, "front_desk", "provider", "editor"])
def test_cancelling_is_only_a_post(client, record, persona, request, sign_in):
    if persona:
        sign_in(client, request.getfixturevalue(persona))

    response = client.get(f"/staff/visits/{record.pk}/cancel/")

    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_unknown_records_are_not_found(desk_client, condition, intake_data):
    missing = 999_999
    for url in [
        f"/staff/patients/{missing}/",
        f"/staff/patients/{missing}/visits/new/",
        f"/staff/visits/{missing}/",
        f"/staff/visits/{missing}/intake/",
    ]:
        assert desk_client.get(url).status_code == 404, url
    for url in [
        f"/staff/patients/{missing}/visits/new/",
        f"/staff/visits/{missing}/intake/",
        f"/staff/visits/{missing}/cancel/",
    ]:
        assert desk_client.post(url, {"reason": "x", "intake_version": 0}).status_code == 404, url
    assert desk_client.get("/staff/patients/abc/").status_code == 404
    assert not AuditEvent.objects.exclude(action=AuditEvent.Action.SIGN_IN).exists()


# The audit trail


def test_viewing_a_patient_page_is_recorded_with_the_patients_id(desk_client, front_desk):
    patient = PatientFactory()

    desk_client.get(f"/staff/patients/{patient.pk}/")

    event = AuditEvent.objects.exclude(action=AuditEvent.Action.SIGN_IN).get()
    assert (event.action, event.record_type, event.record_id) == (
        "view",
        "intake.patient",
        patient.pk,
    )
    assert event.patient_id == patient.pk
    assert (event.actor, event.actor_label) == (front_desk, "fran.frontdesk")
    assert event.remote_addr == "127.0.0.1"


@pytest.mark.parametrize("page", ["", "intake/"])
def test_viewing_a_visit_or_its_intake_is_recorded_with_the_patients_id(
    desk_client, front_desk, visit, page
):
    desk_client.get(f"/staff/visits/{visit.pk}/{page}")

    event = AuditEvent.objects.exclude(action=AuditEvent.Action.SIGN_IN).get()
    assert (event.action, event.record_type, event.record_id) == ("view", "intake.visit", visit.pk)
    assert event.patient_id == visit.patient_id
    assert event.actor == front_desk


def test_the_audit_trail_holds_ids_never_patient_details(desk_client, record, intake_data):
    desk_client.get(f"/staff/patients/{record.patient_id}/")
    desk_client.post(f"/staff/visits/{record.pk}/intake/", intake_data(record))

    for event in AuditEvent.objects.all():
        stored = f"{event.actor_label} {event.record_type} {event.detail}"
        assert "Quagmire" not in stored
        assert "1977" not in stored


# Patient data stays out of URLs


def urls_in(response):
    found = re.findall(r'(?:href|action|src)="([^"]*)"', response.content.decode())
    if response.has_header("Location"):
        found.append(response["Location"])
    return found


def test_no_page_puts_a_patients_details_in_a_url(desk_client, record, intake_data):
    patient = record.patient
    intake = f"/staff/visits/{record.pk}/intake/"
    responses = [desk_client.get(url) for url in pages(record)]
    responses += [
        desk_client.post("/staff/patients/", {"q": "Quagmire"}),
        desk_client.post("/staff/patients/", {"q": patient.mrn}),
        desk_client.post(
            "/staff/patients/new/",
            {
                "given_name": "Zebulon",
                "family_name": "Quagmire",
                "date_of_birth": "1977-07-17",
                "sex_at_birth": "male",
            },
        ),
        desk_client.post(intake, intake_data(record, {"how-often": None})),
        desk_client.post(intake, intake_data(record)),
        desk_client.post(intake, intake_data(record)),  # a conflict, 409
        desk_client.get(f"/staff/visits/{record.pk}/"),
        desk_client.get(f"/staff/patients/{patient.pk}/"),
    ]
    assert {r.status_code for r in responses} == {200, 302, 409}

    for url in (url for response in responses for url in urls_in(response)):
        lowered = url.lower()
        for detail in ("zebulon", "quagmire", "1977", "zq@example.org", "0177"):
            assert detail not in lowered, url


def test_a_signed_out_visitor_learns_nothing_about_the_patient(record):
    response = Client().get(f"/staff/visits/{record.pk}/", follow=True)

    assert "Staff sign in" in response.text
    assert "Quagmire" not in response.text
