"""The compliance pages: the clinic administrator reads and exports the audit trail by
patient ("who saw this record"), by user, by action and by time, and that reading is
itself audited."""

import csv
import datetime
import html
import io
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.actors import Actor
from audit.models import AuditEvent
from intake import access
from intake.roles import CLINIC_ADMIN, FRONT_DESK

from .factories import PatientFactory, UserFactory
from .test_intake_access import urls_in

URL = "/staff/audit/"
EXPORT = "/staff/audit/export.csv"


@pytest.fixture
def admin_client(client, clinic_admin, sign_in):
    return sign_in(client, clinic_admin)


@pytest.fixture
def morning(visit, front_desk, provider, editor, sign_in):
    """A morning's reads: the front desk opens the visit's patient and the visit at the
    desk, the provider opens another patient in a consulting room (both through the one
    access path the staff pages use), and a content editor is refused the first
    patient's page."""
    for person, name in ((front_desk, "Fran Fairweather"), (provider, "Pat Okoro")):
        person.first_name, person.last_name = name.split()
        person.save()
    editor.first_name = editor.last_name = ""
    editor.save()
    other = PatientFactory()
    desk = Actor.for_user(front_desk, address="10.1.1.20")
    access.patient_for(desk, visit.patient_id)
    access.visit_for(desk, visit.pk)
    access.patient_for(Actor.for_user(provider, address="10.1.2.30"), other.pk)
    refused = sign_in(Client(REMOTE_ADDR="10.1.3.40"), editor)
    assert refused.get(f"/staff/patients/{visit.patient_id}/").status_code == 403
    return visit.patient, other


def rows(response):
    """The events table as lists of cell texts, newest first (without the labels shown
    only on phones, where the cells stack)."""
    body = response.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    body = re.sub(r'<span class="d-md-none[^"]*">[^<]*</span>', "", body)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in body.split("</tr>"))
        if cells
    ]


def csv_rows(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


# Who may see the trail


@pytest.mark.parametrize("url", [URL, EXPORT])
def test_only_those_who_may_view_the_trail_see_it(
    url, client, sign_in, clinic_admin, front_desk, provider, editor
):
    assert sign_in(Client(), clinic_admin).get(url).status_code == 200
    for person in (front_desk, provider, editor):
        assert sign_in(Client(), person).get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_refused_look_at_the_trail_is_itself_audited(client, sign_in, front_desk):
    sign_in(client, front_desk).get(URL)

    event = AuditEvent.objects.get(action=AuditEvent.Action.DENY)
    assert (event.actor, event.record_type) == (front_desk, "audit:events")


# Who saw this record


def test_a_patients_trail_shows_who_did_what_when_and_from_where(
    admin_client, clinic_admin, morning
):
    patient, _ = morning

    response = admin_client.get(URL, {"patient": patient.pk})

    assert f"Patient with record number <strong>{patient.mrn}</strong>" in response.text
    assert [row[1:] for row in rows(response)[1:]] == [
        ["eddie.editor", "Refused access", f"Patient {patient.pk}", patient.mrn,
         "10.1.3.40", "page: intake:patient-detail"],
        ["Fran Fairweather (fran.frontdesk)", "Viewed", f"Visit {patient.visits.get().pk}",
         patient.mrn, "10.1.1.20", ""],
        ["Fran Fairweather (fran.frontdesk)", "Viewed", f"Patient {patient.pk}",
         patient.mrn, "10.1.1.20", ""],
    ]  # fmt: skip
    # The first row is this very look at the trail.
    assert rows(response)[0][1:5] == [
        f"{clinic_admin.get_full_name()} (cleo.clinicadmin)", "Viewed", "Audit events", patient.mrn
    ]  # fmt: skip


def test_a_patients_trail_shows_the_lists_that_showed_them(admin_client, front_desk):
    patient = PatientFactory(family_name="Lindqvist")
    other = PatientFactory(family_name="Lindberg")
    desk = Client()
    desk.force_login(front_desk)
    desk.post("/staff/patients/", {"q": "Lind"})  # one event for both

    shown = rows(admin_client.get(URL, {"patient": patient.pk}))[1:]
    not_shown = rows(admin_client.get(URL, {"patient": PatientFactory().pk}))[1:]

    [listing] = shown
    assert listing[1:4] == [f"{front_desk.get_full_name()} (fran.frontdesk)", "Listed", "Patients"]
    assert (
        f"patient_ids: {', '.join(str(p.pk) for p in sorted([patient, other], key=lambda p: p.pk))}"
        in listing[-1]
    )
    assert not_shown == []


def test_looking_at_a_patients_trail_is_an_audit_event_about_that_patient(
    admin_client, clinic_admin, morning
):
    patient, _ = morning

    admin_client.get(URL, {"patient": patient.pk})
    admin_client.get(EXPORT, {"patient": patient.pk, "action": "view"})

    viewed, exported = AuditEvent.objects.filter(
        actor=clinic_admin, record_type="audit.auditevent"
    ).order_by("pk")
    assert (viewed.action, viewed.record_type, viewed.patient_id) == (
        "view",
        "audit.auditevent",
        patient.pk,
    )
    assert (exported.action, exported.patient_id, exported.detail) == (
        "export",
        patient.pk,
        {"of_action": "view"},
    )


def test_a_record_number_is_posted_and_the_page_then_names_only_the_patients_id(
    admin_client, morning
):
    patient, _ = morning

    response = admin_client.post(f"{URL}?action=view&page=3", {"record_number": patient.mrn})

    assert response.status_code == 302
    assert response["Location"] == f"{URL}?action=view&patient={patient.pk}"
    assert len(rows(admin_client.get(response["Location"]))) == 3  # two reads, and this one


def test_an_unknown_record_number_is_said_so_and_nothing_else_changes(admin_client, morning):
    response = admin_client.post(URL, {"record_number": "9999999"})

    assert response.status_code == 200
    assert "No patient has this record number." in response.text
    assert 'value="9999999"' in response.text


def test_no_url_on_the_compliance_pages_holds_a_record_number(admin_client, morning):
    patient, other = morning
    responses = [
        admin_client.post(URL, {"record_number": patient.mrn}),
        admin_client.get(URL, {"patient": patient.pk}),
        admin_client.get(URL),
        admin_client.post(URL, {"record_number": "0000000"}),
    ]
    export = admin_client.get(EXPORT, {"patient": patient.pk})

    assert patient.mrn in responses[1].text  # shown on the page, not in its links
    urls = [url for response in responses for url in urls_in(response)]
    assert any(f"patient={patient.pk}" in url for url in urls)
    for url in [*urls, export["Content-Disposition"]]:
        assert patient.mrn not in url and other.mrn not in url, url


def test_the_patient_page_links_to_who_saw_the_record_for_those_who_may_see_it(
    client, sign_in, front_desk, visit
):
    link = f'href="{URL}?patient={visit.patient_id}"'
    page = f"/staff/patients/{visit.patient_id}/"
    assert link not in sign_in(client, front_desk).get(page).text

    desk_and_admin = UserFactory(username="dana.deskadmin")
    desk_and_admin.groups.add(*Group.objects.filter(name__in=[FRONT_DESK, CLINIC_ADMIN]))
    assert link in sign_in(Client(), desk_and_admin).get(page).text


# Everything one user did, one action, a time range


def test_the_trail_of_one_user(admin_client, morning, provider):
    response = admin_client.get(URL, {"user": provider.pk})

    assert [row[1:4] for row in rows(response)] == [
        ["Pat Okoro (pat.provider)", "Viewed", f"Patient {morning[1].pk}"]
    ]


def test_the_trail_of_one_action(admin_client, morning):
    response = admin_client.get(URL, {"action": "deny"})

    assert [row[1:3] for row in rows(response)] == [["eddie.editor", "Refused access"]]


@pytest.fixture
def last_week(db, front_desk):
    """An event a day for a week, at 15:30 UTC, recorded as they were appended then."""
    start = datetime.datetime(2026, 3, 1, 15, 30, tzinfo=datetime.UTC)
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=start + datetime.timedelta(days=day),
            actor=front_desk,
            actor_label=front_desk.username,
            action=AuditEvent.Action.VIEW,
            record_type="intake.patient",
            record_id=day + 1,
            patient_id=day + 1,
        )
        for day in range(7)
    )


def test_a_time_range_in_the_clinics_time_zone(admin_client, settings, last_week):
    settings.TIME_ZONE = "America/Chicago"  # 15:30 UTC is 09:30 there in March

    response = admin_client.get(
        URL, {"action": "view", "start": "2026-03-03T09:30", "end": "2026-03-05T09:30"}
    )

    assert [row[0] for row in rows(response)] == ["4 Mar 2026 09:30:00", "3 Mar 2026 09:30:00"]
    assert "America/Chicago" in response.text


def test_a_range_that_ends_before_it_starts_is_refused_with_a_message(admin_client):
    response = admin_client.get(URL, {"start": "2026-03-05T09:30", "end": "2026-03-03T09:30"})

    assert "Until: Choose a time after the start." in html.unescape(response.text)
    assert "<tbody>" not in response.text
    assert not AuditEvent.objects.filter(action="view").exists()


def test_pages_keep_the_filters(admin_client, settings, front_desk):
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=front_desk, actor_label="fran.frontdesk", action="view", record_type="x")
        for _ in range(120)
    )

    first = admin_client.get(URL, {"user": front_desk.pk})
    assert len(rows(first)) == 50
    assert f'href="?user={front_desk.pk}&amp;page=2"' in first.text
    last = admin_client.get(URL, {"user": front_desk.pk, "page": 3})
    assert len(rows(last)) == 20
    assert "Page 3 of 3" in last.text


# CSV


def test_the_export_is_the_pages_selection_as_csv(admin_client, settings, morning):
    settings.TIME_ZONE = "Europe/Berlin"
    patient, _ = morning

    response = admin_client.get(EXPORT, {"patient": patient.pk, "action": "view"})

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="audit-trail-\d{4}-\d\d-\d\d\.csv"',
        response["Content-Disposition"],
    )
    exported = csv_rows(response)
    assert [(row["Done by"], row["Action"], row["Record"]) for row in exported] == [
        ("Fran Fairweather (fran.frontdesk)", "Viewed", f"Visit {patient.visits.get().pk}"),
        ("Fran Fairweather (fran.frontdesk)", "Viewed", f"Patient {patient.pk}"),
    ]
    first = exported[0]
    event = AuditEvent.objects.get(pk=first["Event"])
    assert first["When"] == event.at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin")).isoformat(
        sep=" ", timespec="seconds"
    )
    assert (first["User name"], first["Patient record number"], first["From address"]) == (
        "fran.frontdesk",
        patient.mrn,
        "10.1.1.20",
    )
    assert first["Hash"] == event.hash


def test_the_export_cannot_carry_a_spreadsheet_formula(admin_client, db):
    mallory = UserFactory(username="mallory", first_name="=HYPERLINK(1)", last_name="x")
    access.listed(Actor.for_user(mallory), [PatientFactory()])

    exported = csv_rows(admin_client.get(EXPORT, {"user": mallory.pk}))

    assert exported[0]["Done by"] == "'=HYPERLINK(1) x (mallory)"


def test_the_export_streams_every_event_in_batches(admin_client, front_desk):
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=front_desk, actor_label="fran.frontdesk", action="view", record_type="x")
        for _ in range(4500)
    )

    exported = csv_rows(admin_client.get(EXPORT, {"user": front_desk.pk}))

    assert len(exported) == 4500
    assert [int(row["Event"]) for row in exported] == sorted(
        (int(row["Event"]) for row in exported), reverse=True
    )


# Query cost


@pytest.mark.parametrize("by", ["user", "patient"])
def test_a_page_of_the_trail_takes_as_many_queries_for_50_events_as_for_5(
    admin_client, front_desk, django_assert_num_queries, by
):
    patient = PatientFactory()
    desk = Actor.for_user(front_desk, address="10.1.1.20")

    def add_events(count):
        for _ in range(count):
            access.patient_for(desk, patient.pk)

    params = {"user": front_desk.pk, "action": "view"} if by == "user" else {"patient": patient.pk}
    add_events(5)
    admin_client.get(URL, params)  # once first, so caches filled on first use do not count
    with CaptureQueriesContext(connection) as at_5:
        small = admin_client.get(URL, params)
    add_events(45)
    with django_assert_num_queries(len(at_5)):
        large = admin_client.get(URL, params)

    own_views = 0 if by == "user" else 2  # the administrator's looks at this trail
    assert (len(rows(small)), len(rows(large))) == (5 + own_views, 50)
