"""The FHIR Bulk Data export for API clients and staff: `$export` kicks off a background
task (202 and a status address), the status address reports progress and then the
manifest, and the NDJSON files go only to the one who asked; every download audited."""

import datetime
import json

import pytest
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from interop.clients import create_api_client
from interop.export import run_bulk_export
from interop.models import BulkExport

from .factories import PatientFactory, TestOrderFactory
from .fhir import issue_text, validated

pytestmark = pytest.mark.django_db

STATUS_PREFIX = "http://testserver/fhir/$export-status/"
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.FHIR_EXPORT_ROOT = tmp_path / "exports"
    settings.FHIR_BASE_URL = "http://testserver/fhir"
    return settings.FHIR_EXPORT_ROOT


def _token(clinic_admin, name):
    _, token = create_api_client(
        name=name,
        expires_at=timezone.now() + datetime.timedelta(days=30),
        actor=Actor.for_user(clinic_admin),
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def lab(clinic_admin):
    return _token(clinic_admin, "Valley Lab")


@pytest.fixture
def other_lab(clinic_admin):
    return _token(clinic_admin, "Hill Imaging")


@pytest.fixture
def records(flagged_visit, provider):
    TestOrderFactory(visit=flagged_visit, ordered_by=provider, reviewed=True)
    return flagged_visit


def local(url):
    return url.removeprefix("http://testserver")


@pytest.fixture
def kick_off(client, django_capture_on_commit_callbacks):
    def kick_off(query="", headers=None, *, prefer=True, level="$export"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.get(
                f"/fhir/{level}{query}", headers={**(ASYNC if prefer else {}), **(headers or {})}
            )

    return kick_off


def download(client, url, headers):
    response = client.get(local(url), headers=headers)
    if not response.streaming:
        return response, response.content
    # Reading to the end closes the file, as a WSGI server would.
    return response, b"".join(response.streaming_content)


def test_a_client_exports_polls_and_downloads_valid_ndjson(client, kick_off, records, lab):
    started = kick_off(headers=lab)
    assert started.status_code == 202
    status_url = started["Content-Location"]
    assert status_url.startswith(STATUS_PREFIX)

    status = client.get(local(status_url), headers=lab)
    assert status.status_code == 200
    assert status["Content-Type"] == "application/json"
    manifest = json.loads(status.content)
    export = BulkExport.objects.get()
    assert manifest["request"] == "http://testserver/fhir/$export"
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert manifest["transactionTime"] == export.transaction_time.isoformat(timespec="seconds")
    assert [item["type"] for item in manifest["output"]] == [
        "Patient",
        "Encounter",
        "QuestionnaireResponse",
        "ServiceRequest",
        "Observation",
        "DiagnosticReport",
    ]
    for item in manifest["output"]:
        response, body = download(client, item["url"], lab)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+ndjson"
        lines = [validated(json.loads(line)) for line in body.decode().splitlines()]
        assert len(lines) == item["count"] == 1
        assert lines[0]["resourceType"] == item["type"]
    assert (export.directory / "Patient.ndjson").is_file()


def test_the_export_and_each_download_are_audited(client, kick_off, records, lab):
    status_url = kick_off(headers=lab)["Content-Location"]
    manifest = json.loads(client.get(local(status_url), headers=lab).content)
    done = AuditEvent.objects.get(
        action="export", record_type="interop.bulkexport", detail__has_key="counts"
    )
    assert done.actor_label.startswith("API client")
    assert done.detail["counts"]["ServiceRequest"] == 1
    download(client, manifest["output"][0]["url"], lab)
    fetched = AuditEvent.objects.filter(action="export", detail__file="Patient").get()
    assert fetched.record_id == BulkExport.objects.get().pk
    assert fetched.detail == {"file": "Patient", "count": 1}


def test_the_files_are_written_in_the_private_folder(client, kick_off, records, lab, export_root):
    kick_off(headers=lab)
    export = BulkExport.objects.get()
    assert sorted(path.name for path in (export_root / str(export.pk)).iterdir())[0] == (
        "DiagnosticReport.ndjson"
    )


def test_status_shows_progress_while_the_task_runs(client, kick_off, records, lab, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    status_url = kick_off("?_type=Patient", headers=lab)["Content-Location"]
    waiting = client.get(local(status_url), headers=lab)
    assert waiting.status_code == 202
    assert waiting["X-Progress"] == "queued"
    assert waiting["Retry-After"] == "5"
    export = BulkExport.objects.get()
    BulkExport.objects.filter(pk=export.pk).update(progress="Patient: 1 of 2")
    assert client.get(local(status_url), headers=lab)["X-Progress"] == "Patient: 1 of 2"
    run_bulk_export.call(export.pk)
    assert client.get(local(status_url), headers=lab).status_code == 200


def test_type_and_since_choose_what_is_exported(client, kick_off, records, lab, clock):
    clock.move(days=2)
    recent = PatientFactory()
    since = clock.now.date().isoformat()
    status_url = kick_off(f"?_type=Patient,Encounter&_since={since}", headers=lab)[
        "Content-Location"
    ]
    manifest = json.loads(client.get(local(status_url), headers=lab).content)
    assert manifest["request"].endswith(f"/fhir/$export?_type=Patient%2CEncounter&_since={since}")
    assert [item["type"] for item in manifest["output"]] == ["Patient"]
    _, body = download(client, manifest["output"][0]["url"], lab)
    assert [json.loads(line)["id"] for line in body.decode().splitlines()] == [str(recent.pk)]


def test_patient_level_export_is_offered_too(client, kick_off, records, lab):
    started = kick_off("?_type=Patient", headers=lab, level="Patient/$export")
    assert started.status_code == 202
    assert (
        BulkExport.objects.get().request == "http://testserver/fhir/Patient/$export?_type=Patient"
    )


def test_a_staff_session_exports_as_its_role_allows(client, kick_off, records, provider, sign_in):
    sign_in(client, provider)
    status_url = kick_off("?_type=Patient")["Content-Location"]
    manifest = json.loads(client.get(local(status_url)).content)
    assert download(client, manifest["output"][0]["url"], {})[0].status_code == 200


def test_a_role_without_the_records_cannot_export(client, kick_off, records, editor, sign_in):
    sign_in(client, editor)
    refused = kick_off("?_type=Patient")
    assert refused.status_code == 403
    assert not BulkExport.objects.exists()
    assert AuditEvent.objects.filter(action="deny", record_type="intake.patient").exists()


def test_another_client_or_nobody_cannot_see_the_export(client, kick_off, records, lab, other_lab):
    status_url = kick_off(headers=lab)["Content-Location"]
    manifest = json.loads(client.get(local(status_url), headers=lab).content)
    file_url = manifest["output"][0]["url"]
    for url in (status_url, file_url):
        assert client.get(local(url), headers=other_lab).status_code == 404
        assert client.get(local(url)).status_code == 401
    assert client.delete(local(status_url), headers=other_lab).status_code == 404
    assert not AuditEvent.objects.filter(detail__file__isnull=False).exists()


def test_a_staff_member_cannot_fetch_a_clients_export(
    client, kick_off, records, lab, provider, sign_in
):
    status_url = kick_off(headers=lab)["Content-Location"]
    sign_in(client, provider)
    assert client.get(local(status_url)).status_code == 404


def test_delete_cancels_and_removes_the_files(client, kick_off, records, lab):
    status_url = kick_off(headers=lab)["Content-Location"]
    export = BulkExport.objects.get()
    assert export.directory.exists()
    assert client.delete(local(status_url), headers=lab).status_code == 202
    assert not export.directory.exists()
    assert client.get(local(status_url), headers=lab).status_code == 404
    assert AuditEvent.objects.filter(action="cancel", record_type="interop.bulkexport").exists()


def test_an_export_cancelled_before_it_runs_writes_nothing(
    client, kick_off, records, lab, settings
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    status_url = kick_off(headers=lab)["Content-Location"]
    client.delete(local(status_url), headers=lab)
    export = BulkExport.objects.get()
    run_bulk_export.call(export.pk)
    assert not export.directory.exists()
    assert BulkExport.objects.get().status == BulkExport.Status.CANCELLED


def test_an_export_that_fails_says_so_on_its_status(client, kick_off, records, lab, settings):
    blocker = settings.FHIR_EXPORT_ROOT.parent / "not-a-folder"
    blocker.write_text("")
    settings.FHIR_EXPORT_ROOT = blocker  # the task cannot make its folder here
    started = kick_off(headers=lab)
    assert started.status_code == 202
    failed = client.get(local(started["Content-Location"]), headers=lab)
    assert failed.status_code == 500
    failed.resource = validated(json.loads(failed.content))
    assert issue_text(failed) == "The export failed; ask for it again."
    assert BulkExport.objects.get().status == BulkExport.Status.FAILED


@pytest.mark.parametrize(
    ("query", "prefer", "message"),
    [
        ("", False, "send Prefer: respond-async"),
        ("?_type=Patient,Practitioner", True, "Cannot export Practitioner"),
        ("?_since=last-week", True, "_since “last-week” is not a date"),
        ("?_since=2026-11-30T10:00:00", True, "is not a date"),
        ("?_outputFormat=text/csv", True, "application/fhir+ndjson only"),
        ("?_typeFilter=Patient%3Factive%3Dtrue", True, "$export does not take _typeFilter"),
    ],
)
def test_bad_parameters_are_a_400_outcome(client, kick_off, lab, query, prefer, message):
    response = kick_off(query, headers=lab, prefer=prefer)
    assert response.status_code == 400
    response.resource = validated(json.loads(response.content))
    assert message in issue_text(response)
    assert not BulkExport.objects.exists()


def test_the_capability_statement_offers_export(client):
    response = client.get("/fhir/metadata")
    operations = json.loads(response.content)["rest"][0]["operation"]
    assert [operation["name"] for operation in operations] == ["export"]


def test_other_methods_are_refused(client, lab, records):
    assert client.post("/fhir/$export", headers={**lab, **ASYNC}).status_code == 405
