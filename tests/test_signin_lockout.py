"""Signing in: lockout after failed tries (by user name, by address, the cool-off), the
locked-out page, the audit trail of signing in and out, and lifting a lockout."""

import datetime
import logging

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent

PASSWORD = "correct-horse-battery"  # UserFactory's
WRONG = "Tr0ub4dor&3-not-it"
LOGIN = "/accounts/login/"


def post_sign_in(client, username, password, address="198.51.100.7", **extra):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def signed_in_as(client):
    return client.session.get(SESSION_KEY)


def actions():
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def clerk(front_desk):
    return front_desk


def test_a_password_signs_in_and_is_audited(client, clerk):
    response = post_sign_in(client, clerk.username, PASSWORD)

    assert response.status_code == 302
    assert signed_in_as(client) == str(clerk.pk)
    [event] = AuditEvent.objects.all()
    assert event.action == AuditEvent.Action.SIGN_IN
    assert (event.actor_id, event.record_type, event.record_id) == (clerk.pk, "auth.user", clerk.pk)
    assert event.remote_addr == "198.51.100.7"


def test_signing_out_is_audited(client, clerk):
    post_sign_in(client, clerk.username, PASSWORD)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert signed_in_as(client) is None
    assert actions() == ["sign_in", "sign_out"]
    assert AuditEvent.objects.get(action="sign_out").actor_id == clerk.pk


def test_a_wrong_password_is_audited_by_account_id_and_an_unknown_name_not_at_all(client, clerk):
    response = post_sign_in(client, clerk.username, WRONG)
    post_sign_in(client, "no.such.person", WRONG)

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    known, unknown = AuditEvent.objects.order_by("id")
    assert (known.action, known.record_id, known.actor_id) == ("sign_in_failed", clerk.pk, None)
    assert known.detail == {"reason": "wrong password"}
    assert (unknown.action, unknown.record_type, unknown.record_id) == (
        "sign_in_failed",
        "auth.user",
        None,
    )
    assert unknown.detail == {"reason": "unknown user name"}
    assert "no.such.person" not in str(AuditEvent.objects.values_list())


def test_thirty_wrong_passwords_then_the_right_one_does_not_sign_in(client, clerk):
    for _ in range(30):
        post_sign_in(client, clerk.username, WRONG)

    response = post_sign_in(client, clerk.username, PASSWORD)

    assert response.status_code == 429
    assert signed_in_as(client) is None
    assert "Signing in is paused" in response.text
    assert actions().count("sign_in_failed") == 31
    assert actions().count("locked_out") == 1
    assert "sign_in" not in actions()


def test_a_user_name_locks_after_five_failures_from_five_addresses(client, clerk, provider):
    responses = [
        post_sign_in(Client(), clerk.username, WRONG, address=f"203.0.113.{n}") for n in range(1, 6)
    ]

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    # The right password from a sixth address is refused; the addresses themselves are
    # not locked: a colleague signs in from the first one.
    assert post_sign_in(client, clerk.username, PASSWORD, address="192.0.2.99").status_code == 429
    assert signed_in_as(client) is None
    other = Client()
    assert (
        post_sign_in(other, provider.username, PASSWORD, address="203.0.113.1").status_code == 302
    )
    [lock] = AuditEvent.objects.filter(action="locked_out")
    assert (lock.record_id, lock.detail) == (clerk.pk, {"locked": ["user name"]})


def test_an_address_locks_after_twenty_failures_on_any_user_names(client, clerk, settings):
    assert settings.SIGNIN_ADDRESS_FAILURE_LIMIT == 20
    for n in range(19):
        assert (
            post_sign_in(Client(), f"guess{n}", WRONG, address="198.51.100.66").status_code == 200
        )

    locking = post_sign_in(Client(), "guess-last", WRONG, address="198.51.100.66")

    assert locking.status_code == 429
    # Anyone's right password from that address is refused; from elsewhere it works.
    assert (
        post_sign_in(client, clerk.username, PASSWORD, address="198.51.100.66").status_code == 429
    )
    assert signed_in_as(client) is None
    assert (
        post_sign_in(client, clerk.username, PASSWORD, address="198.51.100.67").status_code == 302
    )
    [lock] = AuditEvent.objects.filter(action="locked_out")
    assert lock.detail == {"locked": ["address"]}
    assert lock.remote_addr == "198.51.100.66"


def test_the_address_is_the_one_the_trusted_proxy_saw(client, clerk, settings):
    """Behind one proxy, the client's address is the last in X-Forwarded-For: what a
    client writes to its left does not dodge the address limit."""
    settings.TRUSTED_PROXIES = 1
    for n in range(20):
        post_sign_in(
            Client(),
            f"guess{n}",
            WRONG,
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.66",
        )

    blocked = post_sign_in(
        client, clerk.username, PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66"
    )
    allowed = post_sign_in(
        client, clerk.username, PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.67"
    )

    assert (blocked.status_code, allowed.status_code) == (429, 302)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def lock(user):
    for _ in range(5):
        post_sign_in(Client(), user.username, WRONG)


def age_attempts(minutes):
    """Move every failed try `minutes` into the past, as if that much time went by."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - datetime.timedelta(minutes=minutes)
    )


def test_the_locked_out_page_says_when_to_try_again_and_whom_to_call(client, clerk, settings):
    settings.TIME_ZONE = "UTC"
    lock(clerk)
    age_attempts(5)  # the lock lifts 15 minutes after the fifth failure: in 10 minutes
    last_failure = AccessAttempt.objects.get().attempt_time

    response = post_sign_in(client, clerk.username, PASSWORD)

    assert response.status_code == 429
    until = last_failure + datetime.timedelta(minutes=15)
    assert f"paused until <strong>{until:%H:%M}</strong>" in response.text
    assert "(in about 10\xa0minutes)" in response.text or "(in about 9\xa0minutes)" in response.text
    assert "call your clinic administrator" in response.text


def test_a_lockout_ends_after_the_cool_off(client, clerk):
    lock(clerk)

    age_attempts(14)
    assert post_sign_in(client, clerk.username, PASSWORD).status_code == 429
    age_attempts(2)
    response = post_sign_in(client, clerk.username, PASSWORD)

    assert response.status_code == 302
    assert signed_in_as(client) == str(clerk.pk)


def test_tries_during_a_lockout_do_not_extend_it(client, clerk):
    lock(clerk)
    age_attempts(10)
    for _ in range(3):
        post_sign_in(Client(), clerk.username, WRONG)

    age_attempts(6)

    assert post_sign_in(client, clerk.username, PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(detail__reason="locked out").count() == 3


def test_no_password_reaches_the_audit_trail_the_lockout_records_or_the_logs(client, clerk, caplog):
    caplog.set_level(logging.DEBUG)
    for _ in range(6):
        post_sign_in(Client(), clerk.username, WRONG)
    post_sign_in(client, clerk.username, PASSWORD)
    age_attempts(20)
    post_sign_in(client, clerk.username, PASSWORD)
    client.post("/accounts/logout/")

    assert set(actions()) == {"sign_in_failed", "locked_out", "sign_in", "sign_out"}
    stored = str(list(AuditEvent.objects.values_list())) + str(
        list(AccessAttempt.objects.values_list())
    )
    for password in (WRONG, PASSWORD):
        assert password not in stored
        assert password not in caplog.text


# Lifting a lockout: clinic administrators, in the admin

ATTEMPTS = "/admin/axes/accessattempt/"


def test_a_clinic_administrator_sees_a_lockout_and_lifts_it(client, clerk, clinic_admin, sign_in):
    for n in range(1, 6):
        post_sign_in(Client(), clerk.username, WRONG, address=f"203.0.113.{n}")
    admin = sign_in(Client(), clinic_admin)

    listing = admin.get(ATTEMPTS, {"locked": "yes"})

    assert listing.status_code == 200
    assert listing.text.count(clerk.username) == 5
    assert "User name" in listing.text
    response = admin.post(
        ATTEMPTS,
        {
            "action": "lift_lockout",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    unlocks = AuditEvent.objects.filter(action="unlock")
    assert len(unlocks) == 5
    assert {(e.actor_id, e.record_type, e.detail["user_id"]) for e in unlocks} == {
        (clinic_admin.pk, "axes.accessattempt", clerk.pk)
    }
    assert post_sign_in(client, clerk.username, PASSWORD).status_code == 302


def test_deleting_one_failed_try_from_its_page_is_an_audited_lift(clerk, clinic_admin, sign_in):
    lock(clerk)
    attempt = AccessAttempt.objects.get()
    admin = sign_in(Client(), clinic_admin)

    response = admin.post(f"{ATTEMPTS}{attempt.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AuditEvent.objects.get(action="unlock").record_id == attempt.pk


@pytest.mark.parametrize("persona", ["front_desk", "provider", "editor"])
def test_other_roles_cannot_see_or_lift_lockouts(clerk, persona, request, sign_in):
    lock(clerk)
    other = sign_in(Client(), request.getfixturevalue(persona))
    attempt = AccessAttempt.objects.get()

    listing = other.get(ATTEMPTS)
    lifting = other.post(ATTEMPTS, {"action": "lift_lockout", "_selected_action": [attempt.pk]})

    # The front desk does not use the admin at all (sign-in page); the others are refused.
    expected = 302 if persona == "front_desk" else 403
    assert (listing.status_code, lifting.status_code) == (expected, expected)
    assert AccessAttempt.objects.exists()
    assert not AuditEvent.objects.filter(action="unlock").exists()


def test_the_admin_sign_in_page_is_locked_too(client, clerk):
    lock(clerk)

    response = client.post(
        "/admin/login/", {"username": clerk.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.5"
    )

    assert response.status_code == 429
    assert signed_in_as(client) is None


def test_the_lockout_list_takes_as_many_queries_for_20_rows_as_for_2(clinic_admin, sign_in):
    admin = sign_in(Client(), clinic_admin)

    def queries_for(rows):
        AccessAttempt.objects.all().delete()
        for n in range(rows):
            post_sign_in(Client(), f"guess{n}", WRONG, address=f"203.0.113.{n}")
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(ATTEMPTS).status_code == 200
        return len(queries)

    assert queries_for(2) == queries_for(20)
