"""The patient's photos page at /v/<token>/photos/: sending a clip or photos of the
twitching, one file at a time, each checked by its content; refusals that say why and
keep every answer; photos kept without their place and camera; removing a file."""

import datetime
import hashlib
import io
import logging
import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from PIL import Image

from audit.actors import Actor
from audit.models import AuditEvent
from intake import links, media_checks
from intake.attachments import add_attachment
from intake.models import Attachment, PreVisitLink

from .media_files import (
    GPS_IFD,
    MAKE,
    MODEL,
    PHONE,
    PLACE,
    attachment_folder,  # noqa: F401 (a fixture)
    jpeg_with_place_and_camera,
    mp4,
    mp4_with_place_and_phone,
    photo,
    upload,
    webm,
)
from .reading import by_id, parse

ANSWERS = {
    "first-noticed": datetime.date(2026, 1, 5),
    "episode-length": (Decimal(5), "seconds"),
    "how-often": "all-the-time",
    "muscles-affected": {"calf-right"},
    "same-place": True,
    "pregnant": False,
    "other-symptoms": {"none-of-these"},
}
pytestmark = pytest.mark.usefixtures("attachment_folder")


@pytest.fixture
def patient(verified_patient, upcoming_visit):
    """The verified patient, with their answers saved (not yet sent)."""
    link = upcoming_visit.previsit_links.get()
    links.save_patient_answers(
        link=link,
        values=ANSWERS,
        expected_version=0,
        actor=Actor.through_link(link),
    )
    return verified_patient


def send(patient, name, data, content_type):
    return patient.post("photos/", {"file": upload(name, data, content_type)})


def answers_shown(patient, form_values):
    values = form_values(patient.get("questions/").text)
    values.pop("intake_version")
    return values


def saved_answers(visit):
    return sorted((a.question_key, a.display) for a in visit.answers.all())


def test_the_photos_page_says_what_to_film_and_takes_photos_and_clips(patient):
    response = patient.get("photos/")

    assert response.status_code == 200
    assert "A clip or photos of the twitching" in response.text
    assert "up to 60 seconds long" in response.text
    field = by_id(parse(response.text))["id_file"]
    assert field.attrs["type"] == "file"
    assert field.attrs["accept"] == "image/*,video/*"
    assert "Back to your questions" in response.text
    assert "no-store" in response["Cache-Control"]


def test_continuing_from_the_questions_leads_to_the_photos_page_then_the_confirm_page(
    patient, form_values
):
    answers = form_values(patient.get("questions/").text)
    response = patient.post("questions/", {**answers, "action": "continue"})

    assert response.status_code == 302
    assert response["Location"] == f"{patient.url}photos/"
    photos = patient.get("photos/")
    assert f'href="{patient.url}confirm/"' in photos.text
    assert "Continue without a file" in photos.text


def test_the_photos_page_asks_for_the_date_of_birth_first(link_patient):
    response = link_patient.get("photos/")

    assert response.status_code == 302
    assert response["Location"] == link_patient.url


def test_a_photo_is_kept_upright_without_its_place_camera_or_comments(patient, upcoming_visit):
    response = send(patient, "IMG_0042 at home.jpg", jpeg_with_place_and_camera(), "image/jpeg")

    assert response.status_code == 302
    assert patient.get("photos/").text.count("Photo 1") == 1
    attachment = upcoming_visit.attachments.get()
    assert attachment.kind == "photo"
    assert attachment.content_type == "image/jpeg"
    assert (attachment.width, attachment.height) == (20, 40)  # turned as the EXIF said
    assert attachment.original_name == "IMG_0042 at home.jpg"
    assert "IMG_0042" not in attachment.file.name
    with attachment.file.open("rb") as stored:
        data = stored.read()
    for words in (b"Acme Phones", b"Twitchcam", b"Kitchen at home", b"Home address", b"Exif"):
        assert words not in data
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    assert MAKE not in exif and MODEL not in exif and GPS_IFD not in exif
    assert "comment" not in image.info and "xmp" not in image.info
    assert len(attachment.sha256) == 64 and attachment.size == len(data)


@pytest.mark.parametrize(
    ("image_format", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_png_and_webp_photos_are_kept_without_their_camera(
    patient, upcoming_visit, image_format, content_type
):
    send(patient, "photo", photo(image_format), "application/octet-stream")

    attachment = upcoming_visit.attachments.get()
    assert attachment.content_type == content_type
    assert attachment.file.name.endswith(attachment.extension)
    with attachment.file.open("rb") as stored:
        assert b"Acme Phones" not in stored.read()


@pytest.mark.parametrize(
    ("name", "data", "content_type", "seconds"),
    [
        ("clip.mp4", mp4(12.4), "video/mp4", 12.4),
        ("IMG_1.MOV", mp4(8, brand=b"qt  "), "video/quicktime", 8),
        ("clip.webm", webm(4.2), "video/webm", 4.2),
        ("recorded.webm", webm(30, with_duration=False), "video/webm", 30),
    ],
)
def test_a_short_clip_is_kept_with_its_length(
    patient, upcoming_visit, name, data, content_type, seconds
):
    response = send(patient, name, data, "application/octet-stream")

    assert response.status_code == 302
    attachment = upcoming_visit.attachments.get()
    assert attachment.kind == "video"
    assert attachment.content_type == content_type
    assert attachment.duration == datetime.timedelta(seconds=seconds)
    with attachment.file.open("rb") as stored:
        assert stored.read() == data
    page = patient.get("photos/").text
    assert "Your file has been sent to the clinic." in page
    assert f"Clip 1 ({round(seconds)} seconds)" in page
    event = AuditEvent.objects.get(record_type="intake.attachment")
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor_label == f"pre-visit link {attachment.link_id}"


def test_a_clip_is_kept_without_its_place_or_phone(patient, upcoming_visit):
    data = mp4_with_place_and_phone(12)

    send(patient, "VID_0042.mp4", data, "video/mp4")

    attachment = upcoming_visit.attachments.get()
    with attachment.file.open("rb") as stored:
        kept = stored.read()
        assert media_checks.mp4_metadata_boxes(stored) == []
        assert media_checks.examine(stored).duration == datetime.timedelta(seconds=12)
    # Blanked in place: the same size, so nothing a player reads has moved.
    assert len(kept) == len(data) == attachment.size
    assert PLACE not in kept and PHONE not in kept
    assert kept.endswith(data[-264:])  # the media data, as sent
    assert attachment.sha256 == hashlib.sha256(kept).hexdigest()


TRUNCATED_JPEG = jpeg_with_place_and_camera(width=400, height=300)
BAD_UPLOADS = {
    "a PDF named as a clip": (
        "clip.mp4",
        b"%PDF-1.4\n1 0 obj << >> endobj\n",
        "video/mp4",
        "This file is not a photo or a video clip we can open.",
    ),
    "a text file named as a photo": (
        "photo.jpg",
        b"just some words",
        "image/jpeg",
        "This file is not a photo or a video clip we can open.",
    ),
    "an empty file": ("clip.mp4", b"", "video/mp4", "This file is empty."),
    "a JPEG cut in half": (
        "photo.jpg",
        TRUNCATED_JPEG[: len(TRUNCATED_JPEG) // 2],
        "image/jpeg",
        "This file is incomplete",
    ),
    "an MP4 whose boxes run past its end": (
        "clip.mp4",
        mp4(5)[:-100],
        "video/mp4",
        "This file is incomplete",
    ),
    "a clip too long": (
        "clip.mp4",
        mp4(61),
        "video/mp4",
        "This clip is 61 seconds long. Send a clip of up to 60 seconds",
    ),
    "a MediaRecorder WebM too long": (
        "clip.webm",
        webm(75, with_duration=False),
        "video/webm",
        "This clip is 75 seconds long.",
    ),
}


@pytest.mark.parametrize(
    ("name", "data", "content_type", "message"), BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys()
)
def test_a_bad_file_is_refused_with_its_reason_and_every_answer_kept(
    patient, upcoming_visit, form_values, name, data, content_type, message
):
    shown_before = answers_shown(patient, form_values)
    saved_before = saved_answers(upcoming_visit)

    response = send(patient, name, data, content_type)

    assert response.status_code == 200
    page = parse(response.text)
    summary = by_id(page)["error-summary"]
    assert message in summary.text
    assert 'href="#id_file"' in response.text
    assert message in by_id(page)["file-error"].text
    assert by_id(page)["id_file"].attrs["aria-invalid"] == "true"
    assert "file-error" in by_id(page)["id_file"].attrs["aria-describedby"]
    assert "<title>Error:" in response.text
    assert not Attachment.objects.exists()
    assert saved_answers(upcoming_visit) == saved_before
    assert answers_shown(patient, form_values) == shown_before


def test_a_file_too_large_is_not_read_and_is_refused_in_words(
    patient, upcoming_visit, form_values, settings
):
    settings.ATTACHMENT_MAX_BYTES = 1000
    shown_before = answers_shown(patient, form_values)

    response = send(patient, "clip.mp4", mp4(5) + b"\0" * 2000, "video/mp4")

    assert response.status_code == 200
    assert "This file is larger than 1000\xa0bytes." in response.text
    assert "Choose a photo or clip to send." not in response.text  # only what is wrong
    assert not Attachment.objects.exists()
    assert answers_shown(patient, form_values) == shown_before


def test_sending_with_no_file_chosen_asks_for_one(patient):
    response = patient.post("photos/", {})

    assert "Choose a photo or clip to send." in response.text
    assert not Attachment.objects.exists()


def test_a_fourth_file_is_refused_until_one_is_removed(patient, upcoming_visit, form_values):
    for seconds in (1, 2, 3):
        assert send(patient, "clip.mp4", mp4(seconds), "video/mp4").status_code == 302
    page = patient.get("photos/").text
    assert "You have sent the most files we can take (3)." in page
    assert 'id="id_file"' not in page

    refused = send(patient, "clip.mp4", mp4(4), "video/mp4")

    assert "You have sent 3 files, the most we can take." in refused.text
    assert upcoming_visit.attachments.count() == 3

    first = upcoming_visit.attachments.first()
    assert patient.post("photos/", {"remove": first.pk}).status_code == 302
    assert "The file has been removed." in patient.get("photos/").text
    assert send(patient, "clip.mp4", mp4(4), "video/mp4").status_code == 302
    assert upcoming_visit.attachments.kept().count() == 3
    first.refresh_from_db()
    assert first.removed_at is not None  # kept for the record, marked removed
    assert answers_shown(patient, form_values)["q_muscles-affected"] == ["calf-right"]


def test_the_limit_of_files_is_a_setting(patient, upcoming_visit, settings):
    settings.ATTACHMENTS_PER_VISIT = 1
    send(patient, "a.mp4", mp4(1), "video/mp4")

    refused = send(patient, "b.mp4", mp4(1), "video/mp4")

    assert "the most we can take" in refused.text
    assert upcoming_visit.attachments.count() == 1


@pytest.mark.parametrize("remove", ["not-a-number", "999999"])
def test_a_remove_naming_no_file_of_this_visit_changes_nothing(patient, upcoming_visit, remove):
    send(patient, "a.mp4", mp4(1), "video/mp4")

    response = patient.post("photos/", {"remove": remove})

    assert response.status_code == 302
    assert upcoming_visit.attachments.kept().count() == 1


def test_nothing_can_be_sent_once_the_answers_are_sent(patient, upcoming_visit):
    PreVisitLink.objects.update(submitted_at=datetime.datetime.now(datetime.UTC))

    response = send(patient, "a.mp4", mp4(1), "video/mp4")

    assert response.status_code in (302, 410)
    assert not Attachment.objects.exists()


def test_the_file_name_is_not_logged_and_files_have_no_public_address(patient, caplog):
    with caplog.at_level(logging.DEBUG):
        send(patient, "Ines Okafor calf.mp4", mp4(2), "video/mp4")

    assert "Okafor" not in caplog.text
    attachment = Attachment.objects.get()
    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018 (no base URL: the storage serves nothing itself)
    assert attachment.get_absolute_url().startswith("/staff/")
    storage = settings.STORAGES["attachments"]
    assert storage["BACKEND"] == "config.storage.PrivateFileSystemStorage"
    location = storage["OPTIONS"]["location"]
    for served in [*settings.STATICFILES_DIRS, settings.BASE_DIR / "staticfiles"]:
        assert not location.is_relative_to(served)


@pytest.mark.django_db(transaction=True)
def test_two_tabs_sending_the_last_file_at_once_keep_only_one(link_token, upcoming_visit, settings):
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared in-memory one, whose table locks fail at
        # once instead of waiting, unlike a database file.
        pytest.skip("needs a database whose writers wait for each other")
    settings.ATTACHMENTS_PER_VISIT = 1
    link = PreVisitLink.objects.get()
    both_ready = threading.Barrier(2)
    outcomes = []

    def send_from_a_tab():
        try:
            both_ready.wait()
            add_attachment(
                link=link,
                upload=upload("a.mp4", mp4(2), "video/mp4"),
                actor=Actor.through_link(link),
            )
            outcomes.append("kept")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    tabs = [threading.Thread(target=send_from_a_tab) for _ in range(2)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()

    assert sorted(outcomes) == ["kept", "too_many"]
    assert upcoming_visit.attachments.count() == 1
