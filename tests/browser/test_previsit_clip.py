"""A clip of the twitching, in real browsers: the patient sends one from the photos page
on a phone, and the provider plays it on the visit page.

The clip is a real, playable WebM made here by Chromium's own MediaRecorder (a canvas
animation, two seconds), so that the upload check reads what phones' browsers write.
"""

import base64
import datetime

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from intake.links import show_previsit_link
from intake.models import Attachment
from tests.factories import PatientFactory, VisitFactory, at_today
from tests.media_files import attachment_folder  # noqa: F401 (a fixture)

from .conftest import DESKTOP, PHONE, SCREENSHOTS
from .test_today import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("attachment_folder")]
BORN = datetime.date(1990, 6, 2)

RECORD_CLIP = """async (milliseconds) => {
  const canvas = document.createElement("canvas");
  canvas.width = 160; canvas.height = 120;
  const context = canvas.getContext("2d");
  const recorder = new MediaRecorder(canvas.captureStream(25), {mimeType: "video/webm"});
  const parts = [];
  recorder.ondataavailable = (event) => parts.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  let frame = 0;
  const timer = setInterval(() => {
    context.fillStyle = `hsl(${(frame * 12) % 360}, 70%, 50%)`;
    context.fillRect(0, 0, 160, 120);
    context.fillStyle = "white";
    context.fillRect((frame * 4) % 160, 50, 20, 20);
    frame += 1;
  }, 40);
  recorder.start(250);
  await new Promise((resolve) => setTimeout(resolve, milliseconds));
  recorder.stop();
  await stopped;
  clearInterval(timer);
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}"""


@pytest.fixture
def visit(condition):
    patient = PatientFactory(
        given_name="Oren", family_name="Tamsin", date_of_birth=BORN, sex_at_birth="male"
    )
    return VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(9, days=2))


def test_a_patient_sends_a_clip_from_a_phone_and_the_provider_plays_it(
    live_server,
    browser,
    page,
    front_desk,
    provider,
    visit,
    settings,
    authenticator,
    axe_violations,
    screenshot,
):
    settings.PREVISIT_BASE_URL = live_server.url
    _, url = show_previsit_link(visit=visit, actor=Actor.for_user(front_desk))

    # The patient, on a phone: date of birth, then the photos page from the questions.
    page.set_viewport_size(PHONE)
    page.goto(url)
    page.get_by_label("Day").fill(str(BORN.day))
    page.get_by_label("Month").fill(str(BORN.month))
    page.get_by_label("Year").fill(str(BORN.year))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Questions before your visit")
    page.get_by_role("link", name="Add a clip or photos").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A clip or photos of the twitching")
    assert axe_violations() == []

    # A text file named as a clip is refused, in the error summary and at the field.
    page.get_by_label("Photo or clip").set_input_files(
        {"name": "clip.mp4", "mimeType": "video/mp4", "buffer": b"not a clip at all"}
    )
    page.get_by_role("button", name="Send this file").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("This file is not a photo or a video clip we can open.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Photo or clip")).to_have_attribute("aria-invalid", "true")
    assert axe_violations() == []
    screenshot("previsit-photos-refused-phone")

    clip = base64.b64decode(page.evaluate(RECORD_CLIP, 2000))
    page.get_by_label("Photo or clip").set_input_files(
        {"name": "twitch.webm", "mimeType": "video/webm", "buffer": clip}
    )
    # The connection drops on the first try: uploads.js tries once more, in place.
    dropped = []

    def drop_the_first_send(route):
        if route.request.method == "POST" and not dropped:
            dropped.append(route.request.url)
            return route.abort("connectionreset")
        return route.continue_()

    page.route("**/photos/", drop_the_first_send)
    page.evaluate("window.stayedOnThePage = true")
    page.get_by_role("button", name="Send this file").click()
    expect(page.get_by_text("Your file has been sent to the clinic.")).to_be_visible()
    assert dropped and page.evaluate("window.stayedOnThePage") is True
    expect(page.get_by_text("Clip 1 (2 seconds)")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert axe_violations() == []
    screenshot("previsit-photos-phone")
    attachment = Attachment.objects.get()
    assert attachment.content_type == "video/webm"
    assert datetime.timedelta(seconds=1) < attachment.duration < datetime.timedelta(seconds=3)

    # The provider plays it on the visit page.
    staff = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(staff, live_server, provider, device=authenticator(provider))
    staff.goto(f"{live_server.url}/staff/visits/{visit.pk}/")
    video = staff.locator("video")
    expect(video).to_have_count(1)
    video.scroll_into_view_if_needed()
    staff.evaluate("async () => await document.querySelector('video').play()")
    staff.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return v.readyState >= 2 && v.currentTime > 0.3; }",
        timeout=10_000,
    )
    staff.screenshot(path=SCREENSHOTS / "visit-clip-playing.png", full_page=True)
