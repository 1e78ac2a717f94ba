"""Password reset by e-mail: from the sign-in page to a new password, what the pages and
the mailbox show for an address with no account, the hourly limit, and what a reset
does not lift."""

import logging
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from audit.models import AuditEvent
from config.log_filters import RedactTokensAndSearches, redact_urls
from signin.second_factor import must_use_second_factor

from .factories import UserFactory

OLD_PASSWORD = "correct-horse-battery"  # UserFactory's
NEW_PASSWORD = "a-long-new-pass-phrase-42"
RESET = "/accounts/password_reset/"
FAILING_MAILER = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 5},
    }
}


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """Ask for a reset on the page; the e-mail goes out once the request commits."""

    def ask(email, client=client):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(RESET, {"email": email})

    return ask


def link_in(message):
    return re.search(r"https?://\S+/accounts/reset/\S+/", message.body)[0]


def sign_in(client, user, password):
    client.post("/accounts/login/", {"username": user.username, "password": password})
    return client.session.get(SESSION_KEY) == str(user.pk)


def test_the_sign_in_page_links_to_the_reset_page(client):
    response = client.get("/accounts/login/")

    assert f'<a href="{RESET}">Forgot your password?</a>' in response.text
    assert "Reset your password" in client.get(RESET).text


def test_a_person_resets_their_password_from_the_e_mailed_link(client, clerk, ask, settings):
    settings.STAFF_BASE_URL = "https://intake.clinic.example"
    settings.ALLOWED_HOSTS = ["attacker.example", "testserver"]
    signed_in_elsewhere = Client()
    assert sign_in(signed_in_elsewhere, clerk, OLD_PASSWORD)

    response = ask("Fran@Example.org", client=Client(HTTP_HOST="attacker.example"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    [message] = mail.outbox
    assert message.to == ["fran@example.org"]
    assert clerk.username in message.body
    # The link's address comes from STAFF_BASE_URL, not from the request's Host header.
    link = link_in(message)
    assert link.startswith("https://intake.clinic.example/accounts/reset/")
    path = link.removeprefix("https://intake.clinic.example")

    # Django moves the token out of the address (and any Referer) into the session.
    opened = client.get(path)
    assert opened.status_code == 302
    form_page = client.get(opened["Location"])
    assert "Choose a new password" in form_page.text
    saved = client.post(
        opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert saved["Location"] == "/accounts/reset/done/"
    assert "Your password is saved" in client.get(saved["Location"]).text
    assert client.session.get(SESSION_KEY) is None  # saving it does not sign the person in
    [event] = AuditEvent.objects.filter(action="password_reset")
    assert (event.actor_id, event.record_id, event.detail) == (clerk.pk, clerk.pk, {})
    assert sign_in(Client(), clerk, NEW_PASSWORD)
    assert not sign_in(Client(), clerk, OLD_PASSWORD)
    # The session signed in with the old password has ended; the link works only once.
    assert signed_in_elsewhere.get("/staff/")["Location"].startswith("/accounts/login/")
    assert "This link no longer works" in Client().get(path).text


def test_an_address_without_an_account_gets_the_same_page_and_no_e_mail(client, clerk, ask):
    inactive = UserFactory(email="gone@example.org", is_active=False)

    unknown = ask("nobody@example.org")
    deactivated = ask(inactive.email)
    known = ask(clerk.email)

    assert unknown.status_code == deactivated.status_code == known.status_code == 302
    assert unknown["Location"] == deactivated["Location"] == known["Location"]
    assert [message.to for message in mail.outbox] == [[clerk.email]]
    done = client.get(unknown["Location"])
    assert "If a staff account has that address" in done.text
    assert list(AuditEvent.objects.values_list("action", "record_id")) == [("send", clerk.pk)]


def test_one_account_gets_at_most_three_reset_e_mails_an_hour(client, clerk, ask, settings):
    assert settings.PASSWORD_RESET_EMAILS_PER_HOUR == 3
    responses = [ask(clerk.email) for _ in range(5)]

    assert {response["Location"] for response in responses} == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == 3
    assert AuditEvent.objects.filter(action="send", record_id=clerk.pk).count() == 3


def test_a_tampered_link_is_refused(client, clerk, ask):
    ask(clerk.email)
    path = "/" + link_in(mail.outbox[0]).split("/", 3)[3]
    uid, token = path.split("/")[3:5]

    for wrong in (f"/accounts/reset/{uid}/{token[:-1]}x/", f"/accounts/reset/x{uid}/{token}/"):
        response = client.get(wrong)
        assert response.status_code == 200
        assert "This link no longer works" in response.text
        assert "new_password1" not in response.text


def test_a_reset_lifts_neither_a_lockout_nor_the_second_factor(
    client, provider, ask, django_capture_on_commit_callbacks
):
    provider.email = "pat@example.org"
    provider.save()
    assert must_use_second_factor(provider)
    for _ in range(5):
        Client().post("/accounts/login/", {"username": provider.username, "password": "wrong"})
    ask(provider.email)
    opened = client.get("/" + link_in(mail.outbox[0]).split("/", 3)[3])
    client.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert AuditEvent.objects.filter(action="password_reset").exists()

    locked = client.post(
        "/accounts/login/", {"username": provider.username, "password": NEW_PASSWORD}
    )
    assert locked.status_code == 429
    AccessAttempt.objects.all().delete()  # the lockout ends
    assert sign_in(client, provider, NEW_PASSWORD)
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"].startswith("/accounts/two-factor/")


def test_a_mailer_failure_shows_the_same_page_and_logs_no_address(
    client, clerk, ask, settings, caplog
):
    settings.MAILERS = FAILING_MAILER
    caplog.set_level(logging.WARNING, logger="accounts")

    response = ask(clerk.email)

    assert response["Location"] == "/accounts/password_reset/done/"
    assert f"account {clerk.pk} could not be sent" in caplog.text
    assert clerk.email not in caplog.text


def test_reset_links_are_redacted_from_the_app_s_logs_and_the_access_log():
    line = (
        '127.0.0.1 - - "GET /accounts/reset/MQ/cx1a2b-0f1e2d3c4b5a69788796a5b4c3d2e1f0/ HTTP/1.1"'
    )
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Bad Request: %s",
        ("/accounts/reset/MQ/cx1a2b-0f1e2d3c4b5a69788796a5b4c3d2e1f0/",),
        None,
    )

    assert RedactTokensAndSearches().filter(record)

    assert redact_urls(line) == '127.0.0.1 - - "GET /accounts/reset/[token]/ HTTP/1.1"'
    assert record.getMessage() == "Bad Request: /accounts/reset/[token]/"
    assert redact_urls("GET /accounts/reset/done/") == "GET /accounts/reset/done/"
