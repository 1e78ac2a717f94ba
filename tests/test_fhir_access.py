"""Who may read the FHIR API: staff by role as the staff pages allow, API clients by a
token a clinic administrator made (read-only, expiring, revocable, kept hashed), and
every read, search page and refusal on the audit trail."""

import datetime

import pytest
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from interop.clients import create_api_client, revoke_api_client
from interop.models import ApiClient, token_hash

from .factories import TestOrderFactory
from .fhir import FhirClient, entries, issue_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab_token(clinic_admin):
    _, token = create_api_client(
        name="Valley Lab",
        expires_at=timezone.now() + datetime.timedelta(days=30),
        actor=Actor.for_user(clinic_admin),
    )
    return token


def test_a_token_reads_patients_records_and_is_the_audited_actor(client, lab_token, visit):
    fhir = FhirClient(client, lab_token)
    response = fhir.get(f"Patient/{visit.patient_id}")
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action="view", record_type="intake.patient").get()
    lab = ApiClient.objects.get()
    assert event.actor_id is None
    assert event.actor_label == f"API client {lab.pk} (Valley Lab)"
    assert event.patient_id == visit.patient_id
    assert fhir.get("Encounter", {"patient": visit.patient_id}).status_code == 200


def test_the_token_is_kept_only_as_its_hash(lab_token):
    lab = ApiClient.objects.get()
    assert lab.token_hash == token_hash(lab_token)
    assert lab_token not in {lab.token_hash, lab.token_hint, lab.name}
    assert lab_token.startswith(lab.token_hint)


@pytest.mark.parametrize("header", ["Bearer cit_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer"])
def test_a_wrong_token_is_a_401(client, visit, header):
    response = client.get(f"/fhir/Patient/{visit.patient_id}", headers={"Authorization": header})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert AuditEvent.objects.filter(action="deny").exists()
    assert not AuditEvent.objects.filter(action="view").exists()


def test_an_expired_token_is_a_401(client, lab_token, visit, clock):
    clock.move(days=31)
    response = FhirClient(client, lab_token).get(f"Patient/{visit.patient_id}")
    assert response.status_code == 401
    assert "unknown, expired or revoked" in issue_text(response)


def test_a_revoked_token_is_a_401_at_once(client, lab_token, visit, clinic_admin):
    revoke_api_client(
        client=ApiClient.objects.get(), actor=Actor.for_user(clinic_admin), reason="Contract ended"
    )
    response = FhirClient(client, lab_token).get(f"Patient/{visit.patient_id}")
    assert response.status_code == 401
    assert AuditEvent.objects.filter(action="revoke", record_type="interop.apiclient").exists()


def test_no_credentials_is_a_401(client, visit):
    response = FhirClient(client).get(f"Encounter/{visit.pk}")
    assert response.status_code == 401


def test_a_token_cannot_read_the_audit_trail(client, lab_token, visit):
    response = FhirClient(client, lab_token).get("AuditEvent", {"patient": visit.patient_id})
    assert response.status_code == 403


def test_the_api_only_reads(client, lab_token, visit):
    response = client.put(
        f"/fhir/Patient/{visit.patient_id}", headers={"Authorization": f"Bearer {lab_token}"}
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_front_desk_reads_what_its_staff_pages_show(client, front_desk, sign_in, flagged_visit):
    order = TestOrderFactory(visit=flagged_visit)
    fhir = FhirClient(sign_in(client, front_desk))
    for address in [
        f"Patient/{flagged_visit.patient_id}",
        f"Encounter/{flagged_visit.pk}",
        f"QuestionnaireResponse/{flagged_visit.pk}",
        f"ServiceRequest/{order.pk}",
    ]:
        assert fhir.get(address).status_code == 200, address
    # The audit trail is the clinic administrators'.
    assert fhir.get("AuditEvent", {"patient": flagged_visit.patient_id}).status_code == 403


def test_a_content_editor_is_refused_patient_records_on_the_trail(client, editor, sign_in, visit):
    fhir = FhirClient(sign_in(client, editor))
    response = fhir.get(f"Patient/{visit.patient_id}")
    assert response.status_code == 403
    refusal = AuditEvent.objects.get(action="deny")
    assert (refusal.record_type, refusal.patient_id) == ("intake.patient", visit.patient_id)
    assert fhir.get("Encounter", {"patient": visit.patient_id}).status_code == 403
    # The questionnaire is content, which editors read.
    assert fhir.get(f"Questionnaire/{visit.content_version_id}").status_code == 200


def test_clinic_administrator_reads_a_records_trail_and_that_is_audited(
    client, clinic_admin, sign_in, visit, provider_client
):
    FhirClient(provider_client).get(f"Patient/{visit.patient_id}")
    fhir = FhirClient(sign_in(client, clinic_admin))
    assert fhir.get(f"Patient/{visit.patient_id}").status_code == 403
    bundle = fhir.get("AuditEvent", {"patient": f"Patient/{visit.patient_id}"}).resource
    actions = [event["action"] for event in entries(bundle)]
    assert "R" in actions
    viewed = next(
        event for event in entries(bundle) if event["agent"][0]["who"]["display"] == "pat.provider"
    )
    assert {"what": {"reference": f"Patient/{visit.patient_id}"}} in viewed["entity"]
    read_of_trail = AuditEvent.objects.filter(record_type="audit.auditevent", action="list")
    assert read_of_trail.get().actor == clinic_admin
    one = fhir.get(f"AuditEvent/{viewed['id']}")
    assert one.status_code == 200


def test_a_provider_who_has_not_passed_the_second_factor_is_a_401(client, provider, visit):
    client.force_login(provider)
    response = FhirClient(client).get(f"Patient/{visit.patient_id}")
    assert response.status_code == 401
    assert "authenticator" in issue_text(response)


def test_reading_by_id_is_one_view_event(provider_client, visit):
    FhirClient(provider_client).get(f"Encounter/{visit.pk}")
    (event,) = AuditEvent.objects.filter(action="view")
    assert (event.record_type, event.record_id, event.patient_id) == (
        "intake.visit",
        visit.pk,
        visit.patient_id,
    )


# The admin


def test_clinic_administrator_creates_a_client_and_sees_its_token_once(
    client, clinic_admin, sign_in
):
    sign_in(client, clinic_admin)
    expires = timezone.localtime() + datetime.timedelta(days=90)
    response = client.post(
        "/admin/interop/apiclient/add/",
        {"name": "Hospital EHR", "expires_at_0": expires.date(), "expires_at_1": "12:00"},
    )
    assert response.status_code == 200
    lab = ApiClient.objects.get()
    token = response.context["token"]
    assert token in response.content.decode()
    assert lab.token_hash == token_hash(token)
    page = client.get(f"/admin/interop/apiclient/{lab.pk}/change/")
    assert token not in page.content.decode()
    assert lab.token_hint in page.content.decode()


def test_an_expiry_in_the_past_is_refused_in_the_admin(client, clinic_admin, sign_in):
    sign_in(client, clinic_admin)
    response = client.post(
        "/admin/interop/apiclient/add/",
        {"name": "Hospital EHR", "expires_at_0": "2020-01-01", "expires_at_1": "12:00"},
    )
    assert response.status_code == 200
    assert "Choose a time in the future." in response.content.decode()
    assert not ApiClient.objects.exists()


def test_clinic_administrator_revokes_a_client_with_a_reason(
    client, clinic_admin, sign_in, lab_token, visit
):
    sign_in(client, clinic_admin)
    lab = ApiClient.objects.get()
    response = client.post(
        f"/admin/interop/apiclient/{lab.pk}/change/", {"revoke": "The lab closed."}
    )
    assert response.status_code == 302
    lab.refresh_from_db()
    assert lab.is_revoked
    assert lab.revoke_reason == "The lab closed."
    assert lab.revoked_by == clinic_admin
    assert FhirClient(client, lab_token).get(f"Patient/{visit.patient_id}").status_code == 401


def test_providers_cannot_make_tokens(client, provider_client):
    assert provider_client.get("/admin/interop/apiclient/add/").status_code == 403
