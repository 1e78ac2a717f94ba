"""Staff seeing the photos and clips a patient sent: on the visit page and the provider's
review, streamed by /staff/attachments/<id>/ with byte ranges, each viewing audited once,
and refused to everyone who may not see the visit."""

import pytest

from audit.actors import Actor
from audit.models import AuditEvent
from intake.attachments import add_attachment, remove_attachment

from .media_files import attachment_folder, jpeg_with_place_and_camera, mp4, upload  # noqa: F401
from .reading import parse

pytestmark = pytest.mark.usefixtures("attachment_folder")
CLIP = mp4(9)


@pytest.fixture
def link(upcoming_visit, link_token):
    return upcoming_visit.previsit_links.get()


@pytest.fixture
def clip(link):
    return add_attachment(
        link=link,
        upload=upload("Ines calf.mp4", CLIP, "video/mp4"),
        actor=Actor.through_link(link),
    )


@pytest.fixture
def photo(link):
    return add_attachment(
        link=link,
        upload=upload("IMG_7.jpg", jpeg_with_place_and_camera(), "image/jpeg"),
        actor=Actor.through_link(link),
    )


def views_of(attachment):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, record_type="intake.attachment", record_id=attachment.pk
    )


def body(response):
    # Reading to the end closes the file, as a WSGI server would.
    return b"".join(response.streaming_content)


def test_a_provider_gets_the_whole_clip_with_safe_headers_and_one_audit_event(
    provider_client, clip
):
    response = provider_client.get(clip.get_absolute_url())

    assert response.status_code == 200
    assert body(response) == CLIP
    assert response["Content-Type"] == "video/mp4"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="video-{clip.pk}.mp4"'
    assert response["Cache-Control"] == "private, no-store"
    assert response["Accept-Ranges"] == "bytes"
    assert views_of(clip).count() == 1
    assert views_of(clip).get().patient_id == clip.visit.patient_id


def test_a_player_gets_parts_of_a_clip_and_one_viewing_is_one_event(provider_client, clip):
    url = clip.get_absolute_url()

    first = provider_client.get(url, headers={"Range": "bytes=0-"})
    middle = provider_client.get(url, headers={"Range": "bytes=10-19"})
    tail = provider_client.get(url, headers={"Range": "bytes=-8"})

    assert first.status_code == middle.status_code == tail.status_code == 206
    assert body(first) == CLIP
    assert first["Content-Range"] == f"bytes 0-{len(CLIP) - 1}/{len(CLIP)}"
    assert body(middle) == CLIP[10:20]
    assert middle["Content-Length"] == "10"
    assert middle["Content-Range"] == f"bytes 10-19/{len(CLIP)}"
    assert body(tail) == CLIP[-8:]
    assert views_of(clip).count() == 1  # the start; the parts that follow within it are not


def test_a_part_asked_for_without_a_viewing_recorded_is_recorded(provider_client, clip, clock):
    url = clip.get_absolute_url()

    body(provider_client.get(url, headers={"Range": "bytes=1-"}))
    body(provider_client.get(url, headers={"Range": "bytes=10-19"}))
    clock.move(minutes=11)
    body(provider_client.get(url, headers={"Range": "bytes=20-29"}))

    # The first (no viewing yet) and the last (the viewing recorded is over ten minutes old).
    assert views_of(clip).count() == 2


def test_a_range_past_the_end_is_refused_with_the_size(provider_client, clip):
    response = provider_client.get(
        clip.get_absolute_url(), headers={"Range": f"bytes={len(CLIP)}-"}
    )

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CLIP)}"


def test_a_photo_is_served_as_the_image_it_is(provider_client, photo):
    response = provider_client.get(photo.get_absolute_url())

    assert response["Content-Type"] == "image/jpeg"
    assert body(response)[:3] == b"\xff\xd8\xff"
    assert response["Content-Disposition"] == f'inline; filename="photo-{photo.pk}.jpg"'


def test_the_front_desk_may_see_the_files_of_visits_it_sees(desk_client, clip):
    response = desk_client.get(clip.get_absolute_url())

    assert response.status_code == 200
    assert body(response) == CLIP


def test_someone_signed_out_is_sent_to_sign_in(client, clip):
    response = client.get(clip.get_absolute_url())

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") or "login" in response["Location"]
    assert not views_of(clip).exists()


def test_a_role_that_may_not_see_visits_is_refused_and_that_is_recorded(
    client, editor, sign_in, clip
):
    sign_in(client, editor)

    response = client.get(clip.get_absolute_url())

    assert response.status_code == 403
    assert not views_of(clip).exists()
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DENY, patient_id=clip.visit.patient_id
    ).exists()


def test_a_file_that_does_not_exist_is_not_found(provider_client, clip):
    assert provider_client.get(f"/staff/attachments/{clip.pk + 1000}/").status_code == 404


def test_the_file_cannot_be_changed_through_its_address(provider_client, clip):
    assert provider_client.post(clip.get_absolute_url()).status_code == 405


def test_the_visit_page_shows_the_photo_and_plays_the_clip(desk_client, clip, photo):
    response = desk_client.get(clip.visit.get_absolute_url())

    page = parse(response.text)
    videos = [e for e in page.iter() if e.tag == "video"]
    assert len(videos) == 1 and "controls" in videos[0].attrs
    (source,) = [e for e in videos[0].iter() if e.tag == "source"]
    assert source.attrs == {"src": clip.get_absolute_url(), "type": "video/mp4"}
    images = [e for e in page.iter() if e.tag == "img"]
    assert [image.attrs["src"] for image in images] == [photo.get_absolute_url()]
    assert "Ines calf.mp4" in response.text  # the patient's file name, for staff only
    assert "9 s" in response.text


def test_a_removed_file_is_shown_marked_to_staff(desk_client, link, clip):
    remove_attachment(link=link, attachment_id=clip.pk, actor=Actor.through_link(link))

    response = desk_client.get(clip.visit.get_absolute_url())

    assert "Removed by the patient" in response.text
    assert "<video" not in response.text


def test_the_provider_review_shows_the_files_beside_the_answers(provider_client, clip):
    response = provider_client.get(f"/staff/visits/{clip.visit_id}/review/")

    assert response.status_code == 200
    assert "Photos and clips from the patient" in response.text
    assert f'src="{clip.get_absolute_url()}"' in response.text


def test_the_staff_pages_allow_media_from_the_site_itself(desk_client, clip):
    response = desk_client.get(clip.visit.get_absolute_url())

    assert "media-src 'self'" in response["Content-Security-Policy"]


def test_the_visit_admin_shows_the_files_beside_the_answers(client, provider, sign_in, clip):
    sign_in(client, provider)

    response = client.get(f"/admin/intake/visit/{clip.visit_id}/change/")

    assert response.status_code == 200
    assert f'<source src="{clip.get_absolute_url()}" type="video/mp4">' in response.text
