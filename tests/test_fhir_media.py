"""The photos and clips patients sent, in the FHIR API: each kept file as an R4 Media
resource (read, searched by patient or encounter, bulk-exported) whose content.url is a
Binary address streaming the file to a caller allowed to see the visit."""

import base64
import datetime
import hashlib
import json

import pytest
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from intake.attachments import add_attachment, remove_attachment
from interop.clients import create_api_client
from interop.export import write_ndjson

from .fhir import FhirClient, entries, validated
from .media_files import attachment_folder, jpeg_with_place_and_camera, mp4, upload  # noqa: F401

pytestmark = pytest.mark.usefixtures("attachment_folder")
CLIP = mp4(9.5)


@pytest.fixture(autouse=True)
def fhir_base(settings):
    settings.FHIR_BASE_URL = "http://testserver/fhir"


@pytest.fixture
def link(upcoming_visit, link_token):
    return upcoming_visit.previsit_links.get()


@pytest.fixture
def clip(link):
    return add_attachment(
        link=link, upload=upload("c.mp4", CLIP, "video/mp4"), actor=Actor.through_link(link)
    )


@pytest.fixture
def photo(link):
    return add_attachment(
        link=link,
        upload=upload("p.jpg", jpeg_with_place_and_camera(), "image/jpeg"),
        actor=Actor.through_link(link),
    )


@pytest.fixture
def fhir(provider_client):
    return FhirClient(provider_client)


@pytest.fixture
def lab_token(clinic_admin):
    _, token = create_api_client(
        name="Valley Lab",
        expires_at=timezone.now() + datetime.timedelta(days=30),
        actor=Actor.for_user(clinic_admin),
    )
    return token


def test_a_clip_is_a_media_resource_of_its_patient_and_encounter(fhir, clip):
    resource = fhir.get(f"Media/{clip.pk}").resource

    assert resource["status"] == "completed"
    assert resource["type"]["coding"][0]["code"] == "video"
    assert resource["subject"] == {"reference": f"Patient/{clip.visit.patient_id}"}
    assert resource["encounter"] == {"reference": f"Encounter/{clip.visit_id}"}
    assert resource["duration"] == 9.5
    content = resource["content"]
    assert content["contentType"] == "video/mp4"
    assert content["size"] == len(CLIP)
    assert content["hash"] == base64.b64encode(hashlib.sha1(CLIP).digest()).decode()  # noqa: S324
    assert content["url"] == f"http://testserver/fhir/Binary/{clip.pk}"
    assert "c.mp4" not in json.dumps(resource)


def test_a_photo_is_an_image_with_its_size(fhir, photo):
    resource = fhir.get(f"Media/{photo.pk}").resource

    assert resource["type"]["coding"][0]["code"] == "image"
    assert (resource["width"], resource["height"]) == (20, 40)
    assert "duration" not in resource


def test_media_are_searched_by_patient_and_by_encounter(fhir, clip, photo):
    by_patient = fhir.get("Media", {"patient": f"Patient/{clip.visit.patient_id}"}).resource
    by_encounter = fhir.get("Media", {"encounter": str(clip.visit_id)}).resource
    none = fhir.get("Media", {"patient": "Patient/999999"}).resource

    assert [r["id"] for r in entries(by_patient)] == [str(clip.pk), str(photo.pk)]
    assert [r["id"] for r in entries(by_encounter)] == [str(clip.pk), str(photo.pk)]
    assert not none.get("entry")


def test_a_removed_file_is_not_served_as_media(fhir, link, clip):
    remove_attachment(link=link, attachment_id=clip.pk, actor=Actor.through_link(link))

    assert fhir.get(f"Media/{clip.pk}").status_code == 404
    assert not fhir.get("Media", {"encounter": str(clip.visit_id)}).resource.get("entry")


def test_an_api_client_downloads_the_binary_and_it_is_audited(client, lab_token, clip):
    headers = {"Authorization": f"Bearer {lab_token}"}

    response = client.get(f"/fhir/Binary/{clip.pk}", headers=headers)
    part = client.get(f"/fhir/Binary/{clip.pk}", headers={**headers, "Range": "bytes=4-11"})

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content) == CLIP
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == CLIP[4:12]
    views = AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, record_type="intake.attachment", record_id=clip.pk
    )
    assert views.count() == 1
    assert views.get().actor_label.endswith("(Valley Lab)")


def test_the_binary_needs_a_caller(client, clip):
    response = client.get(f"/fhir/Binary/{clip.pk}")

    assert response.status_code == 401


def test_the_capability_statement_offers_media_and_binary(client):
    statement = json.loads(client.get("/fhir/metadata").content)
    validated(statement)
    offered = {entry["type"]: entry for entry in statement["rest"][0]["resource"]}

    assert {"name": "encounter", "type": "reference"} in offered["Media"]["searchParam"]
    assert offered["Binary"]["interaction"] == [{"code": "read"}]


def test_the_bulk_export_writes_each_kept_file_as_media(tmp_path, link, clip, photo):
    remove_attachment(link=link, attachment_id=photo.pk, actor=Actor.through_link(link))

    counts = write_ndjson(tmp_path, types=["Media"])

    lines = (tmp_path / "Media.ndjson").read_text().splitlines()
    assert counts == {"Media": 1}
    assert [validated(json.loads(line))["id"] for line in lines] == [str(clip.pk)]
