"""Shared fixtures: named personas, the demo condition, and a visit to take an intake for."""

import datetime
import json
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import factory.random
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.actors import Actor
from conditions.content import save_condition
from intake.answers import save_answers
from intake.roles import CLINIC_ADMIN, CONTENT_EDITOR, FRONT_DESK, PROVIDER
from signin.second_factor import APP_NAME, must_use_second_factor

from .factories import PatientFactory, UserFactory, VisitFactory, at_today

ROOT = Path(__file__).resolve().parent.parent
SEED_PAGE = ROOT.parent / "shared" / "seeds" / "muscle-twitches.txt"
DEMO_DOCUMENT = ROOT / "conditions" / "demo" / "muscle-twitches.json"


@pytest.fixture(scope="session", autouse=True)
def test_database_can_be_dropped(django_db_setup, django_db_blocker):
    """On PostgreSQL, end every session still connected to the test database before
    pytest-django drops it.

    A connection can outlive the pool it came from: Django closes and replaces its pool
    whenever a test changes TIME_ZONE, and a connection checked out at that moment (or
    held by a test's thread) stays open, and DROP DATABASE refuses to run beside it.
    """
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        connection.close()
        connection.close_pool()
        with connection._nodb_cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [connection.settings_dict["NAME"]],
            )


@pytest.fixture(autouse=True)
def same_fake_data_every_run():
    """Factories' fake names, dates and e-mail addresses are the same on every run, so a
    test cannot pass or fail by the chance of a name."""
    factory.random.reseed_random("clinic-intake tests")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Personas need a password hash, not its strength: PBKDF2 costs half a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _member_of(role, **fields):
    user = UserFactory(**fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def front_desk(db):
    return _member_of(FRONT_DESK, username="fran.frontdesk")


@pytest.fixture
def provider(db):
    return _member_of(PROVIDER, username="pat.provider", is_staff=True)


@pytest.fixture
def clerk(front_desk):
    """The front-desk clerk, with an e-mail address (for password reset e-mails)."""
    front_desk.email = "fran@example.org"
    front_desk.save()
    return front_desk


@pytest.fixture
def editor(db):
    return _member_of(CONTENT_EDITOR, username="eddie.editor", is_staff=True)


@pytest.fixture
def clinic_admin(db):
    return _member_of(
        CLINIC_ADMIN, username="cleo.clinicadmin", email="cleo@example.org", is_staff=True
    )


@pytest.fixture
def demo_document():
    return json.loads(DEMO_DOCUMENT.read_text(encoding="utf-8"))


@pytest.fixture
def condition(db, demo_document):
    """The demo muscle-twitches condition, published."""
    return save_condition(demo_document, publish=True)


@pytest.fixture
def desk_client(client, front_desk):
    """The test client, signed in as the front-desk clerk."""
    client.force_login(front_desk)
    return client


@pytest.fixture
def visit(condition):
    """A visit today at 09:00 for a 30-year-old woman (so every demo question applies)."""
    today = timezone.localdate()
    patient = PatientFactory(
        given_name="Mara",
        family_name="Lindqvist",
        date_of_birth=today - datetime.timedelta(days=30 * 365 + 40),
        sex_at_birth="female",
    )
    return VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(9))


@pytest.fixture
def intake_data():
    """POST data for the demo intake: every question answered and no red flag raised.

    `changes` maps field names without their "q_" prefix to new values ("how-often",
    "episode-length_unit"); None leaves a field out, as a browser does for an unticked
    radio button.
    """

    def build(visit, changes=None, *, action="complete"):
        fields = {
            "first-noticed": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
            "episode-length_amount": "5",
            "episode-length_unit": "seconds",
            "how-often": "several-times-a-day",
            "muscles-affected": ["eyelid-left"],
            "same-place": "yes",
            "pregnant": "no",
            "other-symptoms": ["none-of-these"],
            **(changes or {}),
        }
        data = {f"q_{name}": value for name, value in fields.items() if value is not None}
        return {**data, "intake_version": visit.intake_version, "action": action}

    return build


class _FormValues(HTMLParser):
    """What a browser would submit from a page's forms: name -> list of values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values = defaultdict(list)
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name].append(attrs.get("value", "on"))
            elif kind not in ("submit", "button"):
                self.values[name].append(attrs.get("value", ""))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select].append(attrs.get("value", ""))
        elif tag == "textarea":
            self._textarea = name
            self.values[name].append("")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea][-1] += data


@pytest.fixture
def form_values():
    """Read a page's form fields back as a browser would submit them (name -> values)."""

    def read(html):
        parser = _FormValues()
        parser.feed(html)
        # A textarea's first newline is not part of its value (HTML parsing rules).
        return {
            name: [value.removeprefix("\n") for value in values]
            for name, values in parser.values.items()
            if name != "csrfmiddlewaretoken"
        }

    return read


@pytest.fixture
def sign_in(db):
    """Sign a persona in on a test client as the sign-in pages leave them: with their
    password and, where they must use one (providers, clinic administrators,
    superusers), an authenticator app whose code this session has passed.

        sign_in(client, provider)
    """

    def sign_in(client, user):
        client.force_login(user)
        if must_use_second_factor(user):
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=True)
            # What django_otp.login records when a code is accepted.
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        return client

    return sign_in


@pytest.fixture
def provider_client(client, provider, sign_in):
    """The test client, signed in as the provider (password and authenticator code)."""
    return sign_in(client, provider)


@pytest.fixture
def flagged_visit(visit, front_desk):
    """The visit with its intake taken: twitching for three months, with weakness and a
    change in sensation, so the condition's rules raise three red flags."""
    return save_answers(
        visit=visit,
        values={
            "first-noticed": timezone.localdate() - datetime.timedelta(days=90),
            "episode-length": (Decimal(5), "seconds"),
            "how-often": "several-times-a-day",
            "muscles-affected": {"calf-left", "thigh-right"},
            "same-place": False,
            "pregnant": False,
            "other-symptoms": {"weakness", "loss-of-feeling-or-a-change-in-how-things-feel"},
        },
        expected_version=visit.intake_version,
        complete=True,
        actor=Actor.for_user(front_desk),
    )


# Pre-visit links


@pytest.fixture
def upcoming_visit(condition):
    """A visit in three days for Ines Okafor, born 27 March 1995, who has an e-mail
    address: a pre-visit link can be sent for it, and every demo question applies."""
    patient = PatientFactory(
        given_name="Ines",
        family_name="Okafor",
        date_of_birth=datetime.date(1995, 3, 27),
        sex_at_birth="female",
        email="ines.okafor@example.org",
    )
    return VisitFactory(patient=patient, condition=condition, scheduled_at=at_today(10, days=3))


@pytest.fixture
def link_token(upcoming_visit, front_desk):
    """The token of a pre-visit link for the upcoming visit, shown to the front desk."""
    from intake.links import show_previsit_link

    _, url = show_previsit_link(visit=upcoming_visit, actor=Actor.for_user(front_desk))
    return url.rstrip("/").rsplit("/", 1)[1]


class PreVisitPatient:
    """A patient at their pre-visit link, in their own browser session (a test client)."""

    def __init__(self, client, token):
        self.client = client
        self.url = f"/v/{token}/"

    def get(self, page="", **extra):
        return self.client.get(self.url + page, **extra)

    def post(self, page="", data=None, **extra):
        """Post as the page's form does, with the form key the pages gave this session."""
        from intake.patient_views import FORM_KEY

        data = {"form_key": self.client.session.get(FORM_KEY, ""), **(data or {})}
        return self.client.post(self.url + page, data, **extra)

    def confirm_birth_date(self, born):
        self.get()
        return self.post(data={"day": born.day, "month": born.month, "year": born.year})

    def send(self, answers, **attestation):
        """Continue from the questions page with `answers`, then send them from the
        confirm page as the patient (or as `attestation` says); the last response."""
        response = self.post("questions/", {**answers, "action": "continue"})
        if response.status_code != 302 or not response.url.endswith("/photos/"):
            return response
        return self.attest(**attestation)

    def attest(self, *, follow=False, **attestation):
        """Send the saved answers from the confirm page, as the patient unless
        `attestation` says otherwise, with the intake version the page would carry."""
        from intake.links import hash_token
        from intake.models import PreVisitLink

        token = self.url.rstrip("/").rsplit("/", 1)[1]
        visit = PreVisitLink.objects.get(token_hash=hash_token(token)).visit
        data = {
            "intake_version": visit.intake_version,
            "respondent": "patient",
            "full_name": "Ines Okafor",
            "confirmed": "on",
            **attestation,
        }
        sent = {name: value for name, value in data.items() if value is not None}
        return self.post("confirm/", sent, follow=follow)


@pytest.fixture
def link_patient(client, link_token, upcoming_visit):
    """The upcoming visit's patient at their link, date of birth not yet given."""
    return PreVisitPatient(client, link_token)


@pytest.fixture
def verified_patient(link_patient, upcoming_visit):
    """The upcoming visit's patient at their link, date of birth given."""
    response = link_patient.confirm_birth_date(upcoming_visit.patient.date_of_birth)
    assert response.status_code == 302
    return link_patient


class Clock:
    """A clock that stands still where a test put it, for every `timezone.now()` call."""

    def __init__(self, monkeypatch, now):
        self.now = now
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def move(self, **delta):
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """Time stands at 10:30 today (the clinic's time) until the test moves it:
    `clock.move(minutes=20)`. The visit fixture's 09:00 has passed; an afternoon visit
    has not."""
    return Clock(monkeypatch, at_today(10, 30))
