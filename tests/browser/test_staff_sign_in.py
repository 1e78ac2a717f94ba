"""A provider in a real browser: signing in with a password and an authenticator app,
then the idle warning, staying signed in, and being signed out when left alone.

The idle time is shortened for the test (8 seconds, warned 5 before): the live server
runs in this process, so the `settings` fixture reaches it.
"""

import datetime
import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from audit.models import AuditEvent

from .conftest import DESKTOP, PHONE, app_code

pytestmark = pytest.mark.django_db(transaction=True)

# Long enough for the dialog to open and the session to end on a busy machine.
WAIT = {"timeout": 15_000}


def test_a_provider_sets_up_an_app_then_is_warned_and_signed_out_when_idle(
    live_server, page, provider, settings, screenshot, axe_violations
):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.get_by_label("Username").fill(provider.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    # First sign-in: the admin waits until an authenticator app is set up.
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    assert re.search(r"/accounts/two-factor/set-up/\?next=%2Fadmin%2F$", page.url)
    expect(page.get_by_role("img", name="QR code that sets up the app")).to_be_visible()
    screenshot("signin-set-up-app")
    device = TOTPDevice.objects.get(user=provider)
    page.get_by_label("Code from your app").fill(app_code(device))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    screenshot("signin-recovery-codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    screenshot("signin-admin")

    # A short idle time from here on; the next page counts down from it.
    settings.STAFF_SESSION_IDLE = datetime.timedelta(seconds=8)
    settings.STAFF_SESSION_WARNING = datetime.timedelta(seconds=5)
    page.goto(f"{live_server.url}/admin/intake/visit/")
    dialog = page.get_by_role("alertdialog", name="You will be signed out soon")
    expect(dialog).to_be_visible(**WAIT)
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    screenshot("session-warning")

    # The keyboard answers it: Enter on the focused button keeps the session.
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden(**WAIT)
    assert page.url == f"{live_server.url}/admin/intake/visit/"

    # Warned again at phone width; the dialog fits and passes axe.
    page.set_viewport_size(PHONE)
    expect(dialog).to_be_visible(**WAIT)
    screenshot("session-warning-phone")
    assert axe_violations() == []

    # Left alone, the page goes to the sign-in page, which says why.
    page.wait_for_url(re.compile(r"/accounts/login/\?next=%2Fadmin%2Fintake%2Fvisit%2F$"), **WAIT)
    expect(page.get_by_text("You were signed out after 8 seconds of inactivity.")).to_be_visible()
    page.set_viewport_size(DESKTOP)
    screenshot("session-ended")
    ended = AuditEvent.objects.get(action=AuditEvent.Action.SESSION_ENDED)
    assert (ended.actor, ended.detail["reason"]) == (provider, "idle")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditEvent.Action.ENROL, AuditEvent.Action.SESSION_ENDED} <= actions


def test_a_provider_with_an_app_enters_its_code_and_reaches_the_admin(
    live_server, page, provider, authenticator, screenshot
):
    device = authenticator(provider)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/intake/visit/")
    page.get_by_label("Username").fill(provider.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill("000000" if app_code(device) != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("link", name="Code: That code is not right.")).to_be_visible()
    screenshot("signin-wrong-code")
    # django-otp makes the next try wait a second after a wrong code: let it pass.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)

    page.get_by_label("Code").fill(app_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/admin/intake/visit/")
    expect(page.get_by_role("heading", name="Select visit to change")).to_be_visible()
