"""The HL7 v2 interface in the admin: who configures performers, and reading a received
message (which names a patient) is on the audit trail."""

import pytest
from django.test import Client

from audit.models import AuditEvent
from hl7v2 import receiving
from hl7v2.models import Performer, ReceivedMessage

from .hl7_peers import oru

PERFORMERS = "/admin/hl7v2/performer/"


@pytest.fixture
def admin_client(clinic_admin, sign_in):
    return sign_in(Client(), clinic_admin)


def performer_form(**changes):
    return {
        "name": "City Lab",
        "test_kind": "blood",
        "active": "on",
        "host": "lab.example.org",
        "port": "2575",
        "sending_application": "CLINIC_INTAKE",
        "sending_facility": "CLINIC",
        "receiving_application": "CITYLAB",
        "receiving_facility": "CITYLAB",
        **changes,
    }


def test_a_clinic_administrator_adds_the_performer_for_blood_tests(admin_client):
    response = admin_client.post(f"{PERFORMERS}add/", performer_form())

    assert response.status_code == 302
    performer = Performer.objects.get()
    assert (performer.test_kind, performer.host, performer.port) == (
        "blood",
        "lab.example.org",
        2575,
    )


def test_a_second_active_performer_for_one_kind_is_refused_with_a_message(admin_client):
    admin_client.post(f"{PERFORMERS}add/", performer_form())

    response = admin_client.post(f"{PERFORMERS}add/", performer_form(name="Other Lab"))

    assert response.status_code == 200
    assert "Another active performer already does this kind of test." in response.text
    assert Performer.objects.count() == 1


def test_names_with_hl7_separators_are_refused(admin_client):
    response = admin_client.post(f"{PERFORMERS}add/", performer_form(receiving_facility="CITY|LAB"))

    assert "Use letters, digits, spaces, dots, dashes and underscores only." in response.text
    assert not Performer.objects.exists()


def test_providers_see_performers_but_do_not_change_them(provider_client):
    assert provider_client.get(PERFORMERS).status_code == 200
    assert provider_client.get(f"{PERFORMERS}add/").status_code == 403


def test_the_front_desk_cannot_open_received_messages(client, front_desk):
    client.force_login(front_desk)

    assert client.get("/admin/hl7v2/receivedmessage/").status_code == 302  # not staff


def test_opening_a_received_message_is_an_audited_read(provider, provider_client):
    receiving.receive(oru(placer="424242"))
    held = ReceivedMessage.objects.get()

    page = provider_client.get(f"/admin/hl7v2/receivedmessage/{held.pk}/change/").text

    assert "No order here has the placer number 424242." in page
    assert "Testperson^Synthetic" in page
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, record_id=held.pk, actor=provider
    ).exists()


def test_recording_a_held_result_on_an_unknown_order_says_so(provider_client):
    receiving.receive(oru(placer="424242"))
    held = ReceivedMessage.objects.get()

    response = provider_client.post(
        f"/admin/hl7v2/receivedmessage/{held.pk}/change/", {"order_number": "999999"}
    )

    assert "There is no order with this number." in response.text
    held.refresh_from_db()
    assert held.outcome == ReceivedMessage.Outcome.HELD
