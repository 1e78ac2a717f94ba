"""FHIR searches: what each parameter finds, keyset paging over several pages,
_lastUpdated, refusals of what the server does not know (400 OperationOutcome), and
query counts that do not grow with the page size."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from intake.models import Patient, Visit

from .factories import PatientFactory, TestOrderFactory, VisitFactory, at_today
from .fhir import FhirClient, entries, issue_text, link

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(provider_client):
    return FhirClient(provider_client)


@pytest.fixture
def five_visits(condition):
    """Five visits of one patient, on five days."""
    patient = PatientFactory(given_name="Noor", family_name="Haddad")
    return [
        VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(9, days=day))
        for day in range(5)
    ]


def _all_pages(fhir, first):
    """Every resource of a search, following next links; and the number of pages."""
    found, bundle, pages = [], first.resource, 1
    found += entries(bundle)
    while url := link(bundle, "next"):
        response = fhir.follow(url)
        assert response.status_code == 200
        bundle = response.resource
        found += entries(bundle)
        pages += 1
    return found, pages


def test_patient_by_record_number_with_or_without_its_system(fhir, visit, settings):
    mrn = visit.patient.mrn
    for value in [mrn, f"{settings.FHIR_RECORD_NUMBER_SYSTEM}|{mrn}"]:
        bundle = fhir.get("Patient", {"identifier": value}).resource
        assert bundle["type"] == "searchset"
        assert [patient["id"] for patient in entries(bundle)] == [str(visit.patient_id)]
    other_system = fhir.get("Patient", {"identifier": f"http://example.org/ids|{mrn}"}).resource
    assert entries(other_system) == []


def test_patient_search_by_post_keeps_the_record_number_out_of_the_address(fhir, visit):
    response = fhir.post_search("Patient", {"identifier": visit.patient.mrn})
    assert response.status_code == 200
    assert [patient["id"] for patient in entries(response.resource)] == [str(visit.patient_id)]


def test_encounters_of_a_patient_page_by_page_each_once(fhir, five_visits):
    patient_id = five_visits[0].patient_id
    first = fhir.get("Encounter", {"patient": f"Patient/{patient_id}", "_count": 2})
    assert len(entries(first.resource)) == 2
    found, pages = _all_pages(fhir, first)
    assert pages == 3
    assert [encounter["id"] for encounter in found] == [str(visit.pk) for visit in five_visits]


def test_each_search_page_is_one_audit_event_naming_its_records(fhir, five_visits, provider):
    patient_id = five_visits[0].patient_id
    first = fhir.get("Encounter", {"patient": patient_id, "_count": 3})
    _all_pages(fhir, first)
    events = AuditEvent.objects.filter(action="list", record_type="intake.visit").order_by("pk")
    assert [event.detail for event in events] == [
        {
            "record_ids": [visit.pk for visit in five_visits[:3]],
            "patient_ids": [patient_id],
            "page": 1,
        },
        {
            "record_ids": [visit.pk for visit in five_visits[3:]],
            "patient_ids": [patient_id],
            "page": 2,
        },
    ]
    assert {event.actor_id for event in events} == {provider.pk}
    # Each page is on the patient's own trail.
    assert set(AuditEvent.objects.about_patient(patient_id)) >= set(events)


def test_last_updated_finds_records_changed_in_a_time_range(fhir, five_visits):
    for day, visit in enumerate(five_visits):
        Visit.objects.filter(pk=visit.pk).update(
            updated_at=datetime.datetime(2026, 11, 20 + day, 12, tzinfo=datetime.UTC)
        )
    patient_id = five_visits[0].patient_id

    def found(*last_updated):
        bundle = fhir.get(
            "Encounter", {"patient": patient_id, "_lastUpdated": list(last_updated)}
        ).resource
        return [int(encounter["id"]) for encounter in entries(bundle)]

    ids = [visit.pk for visit in five_visits]
    assert found("ge2026-11-22") == ids[2:]
    assert found("gt2026-11-22") == ids[3:]
    assert found("2026-11-21") == [ids[1]]
    assert found("ge2026-11-21", "lt2026-11-23") == ids[1:3]
    assert found("le2026-11-21T12:00:00Z") == ids[:2]


def test_newest_changes_first_pages_across_equal_times(fhir, five_visits):
    same_time = datetime.datetime(2026, 11, 25, 8, tzinfo=datetime.UTC)
    Visit.objects.filter(pk__in=[visit.pk for visit in five_visits]).update(updated_at=same_time)
    Visit.objects.filter(pk=five_visits[1].pk).update(
        updated_at=same_time + datetime.timedelta(hours=1)
    )
    first = fhir.get(
        "Encounter",
        {"patient": five_visits[0].patient_id, "_sort": "-_lastUpdated", "_count": 2},
    )
    found, pages = _all_pages(fhir, first)
    pks = [visit.pk for visit in five_visits]
    assert [int(encounter["id"]) for encounter in found] == [
        pks[1],
        pks[4],
        pks[3],
        pks[2],
        pks[0],
    ]
    assert pages == 3


def test_questionnaire_response_by_encounter(fhir, flagged_visit):
    bundle = fhir.get(
        "QuestionnaireResponse", {"encounter": f"Encounter/{flagged_visit.pk}"}
    ).resource
    (response,) = entries(bundle)
    assert response["encounter"] == {"reference": f"Encounter/{flagged_visit.pk}"}


def test_service_requests_by_status_and_patient(fhir, flagged_visit, provider):
    active = TestOrderFactory(visit=flagged_visit, ordered_by=provider)
    TestOrderFactory(visit=flagged_visit, ordered_by=provider, cancelled=True)
    TestOrderFactory(ordered_by=provider)  # another patient's
    bundle = fhir.get(
        "ServiceRequest", {"status": "active", "patient": flagged_visit.patient_id}
    ).resource
    assert [order["id"] for order in entries(bundle)] == [str(active.pk)]
    revoked = fhir.get(
        "ServiceRequest", {"status": "revoked,completed", "patient": flagged_visit.patient_id}
    ).resource
    assert [order["status"] for order in entries(revoked)] == ["revoked"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"name": "Haddad"}, "cannot be searched by name"),
        ({"patient:missing": "true"}, "cannot be searched by patient:missing"),
        ({"_sort": "birthdate"}, "_sort “birthdate” is not one of"),
        ({"_count": "0"}, "_count must be a whole number from 1 to 100"),
        ({"_count": "lots"}, "_count must be a whole number"),
        ({"_count": "1000"}, "_count must be a whole number"),
        ({"_lastUpdated": "yesterday"}, "is not a date"),
        ({"_lastUpdated": "ge2026-11-30T10:00:00"}, "with its zone"),
        ({"patient": "Practitioner/3"}, "is not a Patient reference"),
        ({"patient": ["1", "2"]}, "Give patient once"),
        ({"_format": "xml"}, "JSON only"),
        ({"_cursor": "made-up"}, "not one this server gave"),
    ],
)
def test_a_search_the_server_cannot_run_is_a_400_operation_outcome(fhir, db, params, message):
    response = fhir.get("Encounter", params)
    assert response.status_code == 400
    assert message in issue_text(response)


def test_unknown_status_code_is_a_400(fhir, db):
    response = fhir.get("ServiceRequest", {"status": "bogus"})
    assert response.status_code == 400
    assert "status “bogus” is not one of active, completed, revoked" in issue_text(response)


def test_a_cursor_only_continues_its_own_search(fhir, five_visits):
    first = fhir.get("Encounter", {"patient": five_visits[0].patient_id, "_count": 2}).resource
    cursor = parse_qs(urlsplit(link(first, "next")).query)["_cursor"][0]
    response = fhir.get("Encounter", {"patient": five_visits[0].patient_id, "_cursor": cursor})
    assert response.status_code == 400
    assert "belongs to another search" in issue_text(response)


def test_searching_a_type_read_only_by_id_says_so(fhir, db):
    response = fhir.get("Observation", {"code": "x"})
    assert response.status_code == 400
    assert "read by id here" in issue_text(response)


def test_audit_event_search_needs_a_patient(client, clinic_admin, sign_in):
    response = FhirClient(sign_in(client, clinic_admin)).get("AuditEvent")
    assert response.status_code == 400
    assert "needs patient" in issue_text(response)


def _many_visits(condition, provider, count):
    for _ in range(count):
        visit = VisitFactory(condition=condition, provider=provider)
        TestOrderFactory(visit=visit, ordered_by=provider)


@pytest.mark.parametrize(
    ("resource_type", "params"),
    [
        ("Encounter", {}),
        ("Patient", {}),
        ("QuestionnaireResponse", {}),
        ("ServiceRequest", {"status": "active"}),
    ],
)
def test_a_page_costs_the_same_queries_whatever_its_size(
    fhir, condition, provider, resource_type, params
):
    _many_visits(condition, provider, 12)
    counts = []
    for size in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            bundle = fhir.get(resource_type, {**params, "_count": size}).resource
        assert len(entries(bundle)) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Sign-in and roles (6), the page, its related rows, the audit event (2), and the
    # session's activity stamp (3).
    assert counts[0] <= 14


def test_patients_search_lists_every_patient_for_staff(fhir, five_visits, visit):
    bundle = fhir.get("Patient", {"_count": 100}).resource
    ids = {int(patient["id"]) for patient in entries(bundle)}
    assert ids == set(Patient.objects.values_list("pk", flat=True))


def test_times_are_utc_instants(fhir, visit):
    resource = fhir.get(f"Encounter/{visit.pk}").resource
    start = datetime.datetime.fromisoformat(resource["period"]["start"])
    assert start == visit.scheduled_at
    assert start.utcoffset() == datetime.timedelta(0)
    assert timezone.is_aware(start)
