"""The second factor: who must use one, setting up an authenticator app, codes from the
app and recovery codes, replays and throttling, and a clinic administrator's reset."""

import datetime
import re
import time
from base64 import b32encode

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from intake.roles import CLINIC_ADMIN, FRONT_DESK, PROVIDER

from .factories import UserFactory

SET_UP = "/accounts/two-factor/set-up/"
VERIFY = "/accounts/two-factor/"
RECOVERY = "/accounts/two-factor/recovery-codes/"
DEVICES = "/admin/otp_totp/totpdevice/"


def code(device, *, steps_ahead=0):
    """The code the person's app shows now (or `steps_ahead` time steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device):
    """Six digits that none of the accepted time steps would show."""
    accepted = {code(device, steps_ahead=steps) for steps in (-2, -1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in accepted)


def app_of(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def events(action):
    return AuditEvent.objects.filter(action=action)


@pytest.fixture
def clinic_admin(db):
    user = UserFactory(username="cleo.clinicadmin", is_staff=True)
    user.groups.add(Group.objects.get(name=CLINIC_ADMIN))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="sam.superuser", is_staff=True, is_superuser=True)


# Who is asked


@pytest.mark.parametrize("persona", ["provider", "clinic_admin", "superuser"])
@pytest.mark.parametrize("url", ["/admin/", "/staff/", "/staff/patients/new/"])
def test_providers_administrators_and_superusers_are_sent_to_set_up_an_app(
    client, request, persona, url
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{SET_UP}?next={url.replace('/', '%2F')}"


@pytest.mark.parametrize("persona", ["provider", "clinic_admin"])
def test_with_an_app_they_are_asked_for_its_code_and_refused_the_page_until_then(
    client, request, persona
):
    user = request.getfixturevalue(persona)
    app_of(user)
    client.force_login(user)

    for url in ("/admin/", "/staff/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(f"{VERIFY}?next=")
    assert client.post("/admin/intake/visit/add/", {}).url == VERIFY


def test_a_post_to_a_staff_page_without_the_code_changes_nothing(client, provider, visit):
    app_of(provider)
    client.force_login(provider)

    response = client.post(f"/staff/visits/{visit.pk}/cancel/", {"reason": "No show"})

    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    visit.refresh_from_db()
    assert visit.status != "cancelled"


def test_front_desk_reach_the_staff_pages_with_a_password_alone(client, front_desk):
    client.force_login(front_desk)

    assert client.get("/staff/").status_code == 200
    assert client.get(SET_UP).status_code == 404


def test_a_setting_makes_the_front_desk_use_it_too(client, front_desk, settings):
    settings.SECOND_FACTOR_ROLES = [PROVIDER, FRONT_DESK]
    client.force_login(front_desk)

    response = client.get("/staff/")

    assert response.url == f"{SET_UP}?next=%2Fstaff%2F"


def test_a_setting_can_leave_providers_with_a_password_alone(client, provider, settings):
    settings.SECOND_FACTOR_ROLES = []
    client.force_login(provider)

    assert client.get("/staff/").status_code == 200


def test_signing_in_and_out_and_the_public_patient_and_health_pages_stay_open(
    client, provider, condition, link_token
):
    client.force_login(provider)

    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/admin/login/").status_code == 302  # the admin's: already signed in
    assert client.get(f"/conditions/{condition.slug}/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get(f"/v/{link_token}/").status_code == 200
    response = client.post("/accounts/logout/")
    assert (response.status_code, response.url) == (302, "/")


# Setting up the app


def test_the_set_up_page_shows_a_qr_code_and_the_key_as_text(client, provider):
    client.force_login(provider)

    response = client.get(f"{SET_UP}?next=/admin/")

    device = TOTPDevice.objects.get(user=provider)
    assert not device.confirmed
    assert re.search(r'<img class="qr-code[^>]* src="data:image/svg\+xml', response.text)
    key = b32encode(device.bin_key).decode()
    typed = re.search(r'id="secret-key">([A-Z2-7 ]+)<', response.text).group(1)
    assert typed.replace(" ", "") == key
    # Reloading keeps the same key, so the QR code the person scanned stays good.
    client.get(SET_UP)
    assert TOTPDevice.objects.get(user=provider).key == device.key


def test_a_wrong_first_code_is_refused_and_the_app_stays_unconfirmed(client, provider):
    client.force_login(provider)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=provider)

    response = client.post(SET_UP, {"code": wrong_code(device), "next": "/admin/"})

    assert response.status_code == 200
    assert "That code is not right" in response.text
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/admin/").url.startswith(SET_UP)
    [event] = events(AuditEvent.Action.SECOND_FACTOR_FAILED)
    assert event.detail == {"reason": "wrong code", "stage": "enrol"}


def test_the_right_first_code_confirms_the_app_and_shows_ten_recovery_codes_once(client, provider):
    client.force_login(provider)
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=provider)

    response = client.post(SET_UP, {"code": code(device), "next": "/admin/"})

    assert response.status_code == 200
    shown = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.text)
    assert len(set(shown)) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(shown)
    assert 'href="/admin/"' in response.text
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200
    assert events(AuditEvent.Action.ENROL).get().record_id == device.pk
    # Shown once: the recovery page only counts them.
    page = client.get(RECOVERY).text
    assert "You have 10 unused recovery codes" in page
    assert shown[0] not in page


def test_with_an_app_set_up_another_needs_its_code_first(client, provider):
    app_of(provider)
    client.force_login(provider)

    response = client.get(f"{SET_UP}?next=/admin/")

    assert response.url == f"{VERIFY}?next=%2Fadmin%2F"
    assert TOTPDevice.objects.filter(user=provider).count() == 1


# Codes at sign-in


def test_the_apps_code_takes_the_provider_where_they_were_going(client, provider):
    device = app_of(provider)
    client.force_login(provider)
    page = client.get("/admin/intake/visit/").url

    response = client.post(page, {"code": code(device), "next": "/admin/intake/visit/"})

    assert response.url == "/admin/intake/visit/"
    assert client.get("/admin/intake/visit/").status_code == 200
    event = events(AuditEvent.Action.SECOND_FACTOR).get()
    assert (event.actor, event.detail) == (provider, {"method": "totp"})


def test_passing_the_second_factor_gives_a_new_session_key(client, provider):
    device = app_of(provider)
    client.force_login(provider)
    before = client.session.session_key

    client.post(VERIFY, {"code": code(device)})

    assert client.session.session_key != before


def test_a_next_address_on_another_site_is_ignored(client, provider):
    device = app_of(provider)
    client.force_login(provider)

    response = client.post(VERIFY, {"code": code(device), "next": "https://evil.example/"})

    assert response.url == "/admin/"


def test_the_app_refuses_a_code_already_used(provider):
    device = app_of(provider)
    token = code(device)

    assert device.verify_token(token)
    assert not device.verify_token(token)


def test_a_replayed_code_is_refused_in_another_browser(client, provider):
    device = app_of(provider)
    token = code(device)
    client.force_login(provider)
    assert client.post(VERIFY, {"code": token}).status_code == 302
    attacker = Client()
    attacker.force_login(provider)

    response = attacker.post(VERIFY, {"code": token, "next": "/admin/"})

    assert response.status_code == 200
    assert "That code is not right" in response.text
    assert attacker.get("/admin/").url.startswith(VERIFY)
    # A later code from the app still works, once the throttle's second has passed.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - datetime.timedelta(seconds=2)
    )
    assert attacker.post(VERIFY, {"code": code(device, steps_ahead=1)}).status_code == 302


def test_a_recovery_code_works_once(client, provider):
    device = app_of(provider)
    static = StaticDevice.objects.create(user=provider, name="Recovery codes")
    static.token_set.create(token="abcd2345")
    static.token_set.create(token="efgh6789")
    client.force_login(provider)

    response = client.post(VERIFY, {"code": "ABCD 2345", "next": "/staff/"}, follow=True)

    assert response.redirect_chain[0][0] == "/staff/"
    assert "You used a recovery code; 1 of them are left." in response.text
    assert events(AuditEvent.Action.SECOND_FACTOR).get().detail == {"method": "recovery code"}
    elsewhere = Client()
    elsewhere.force_login(provider)
    again = elsewhere.post(VERIFY, {"code": "abcd2345"})
    assert "That recovery code is not right, or it has been used already." in again.text
    assert elsewhere.get("/staff/").url.startswith(VERIFY)
    assert device.throttling_failure_count == 0


def test_wrong_codes_are_throttled_even_when_the_right_one_follows(client, provider):
    device = app_of(provider)
    client.force_login(provider)

    first = client.post(VERIFY, {"code": wrong_code(device)})
    assert "That code is not right" in first.text
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Twenty wrong codes in a row: the next try must wait 2^19 seconds (six days).
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=20, throttling_failure_timestamp=timezone.now()
    )

    response = client.post(VERIFY, {"code": code(device)})

    assert "Too many wrong codes. Wait until" in response.text
    assert client.get("/admin/").url.startswith(VERIFY)
    reasons = [e.detail["reason"] for e in events(AuditEvent.Action.SECOND_FACTOR_FAILED)]
    assert sorted(reasons) == ["throttled", "wrong code"]
    # Once the wait is over, the right code works.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - datetime.timedelta(days=7)
    )
    assert client.post(VERIFY, {"code": code(device)}).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(provider_client, provider):
    StaticDevice.objects.create(user=provider, name="Recovery codes").token_set.create(
        token="oldcode2"
    )

    response = provider_client.post(RECOVERY)

    shown = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.text)
    assert len(shown) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(shown)
    assert events(AuditEvent.Action.ENROL).get().detail == {"kind": "recovery codes"}


# A lost phone


def test_a_clinic_administrator_resets_a_providers_lost_app(
    client, clinic_admin, provider, sign_in
):
    device = app_of(provider)
    StaticDevice.objects.create(user=provider, name="Recovery codes")
    sign_in(client, clinic_admin)
    assert "pat.provider" in client.get(DEVICES).text

    response = client.post(
        DEVICES, {"action": "reset", "_selected_action": [device.pk]}, follow=True
    )

    assert "Reset for pat.provider." in response.text
    assert not TOTPDevice.objects.filter(user=provider).exists()
    assert not StaticDevice.objects.filter(user=provider).exists()
    event = events(AuditEvent.Action.UPDATE).get(record_type="auth.user")
    assert (event.actor, event.record_id, event.detail) == (
        clinic_admin,
        provider.pk,
        {"second_factor": "reset"},
    )
    client.force_login(provider)
    assert client.get("/admin/").url.startswith(SET_UP)


def test_a_clinic_administrator_cannot_reset_a_superusers_app(
    client, clinic_admin, superuser, sign_in
):
    device = app_of(superuser)
    sign_in(client, clinic_admin)

    response = client.post(
        DEVICES, {"action": "reset", "_selected_action": [device.pk]}, follow=True
    )

    assert "Only a superuser can reset sam.superuser" in response.text
    assert TOTPDevice.objects.filter(user=superuser).exists()


def test_the_admin_never_shows_a_key_and_cannot_add_or_edit_apps(
    client, clinic_admin, provider, sign_in
):
    device = app_of(provider)
    sign_in(client, clinic_admin)

    page = client.get(f"{DEVICES}{device.pk}/change/")

    assert page.status_code == 200
    assert device.key not in page.text
    assert b32encode(device.bin_key).decode() not in page.text
    assert client.get(f"{DEVICES}add/").status_code == 403
    assert client.post(f"{DEVICES}{device.pk}/delete/").status_code == 403


def test_providers_cannot_see_or_reset_other_peoples_apps(client, provider_client, clinic_admin):
    device = app_of(clinic_admin)

    assert provider_client.get(DEVICES).status_code == 403
    provider_client.post(DEVICES, {"action": "reset", "_selected_action": [device.pk]})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
