"""The clinic administrator finds who saw a patient's record, in a real browser."""

import csv

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from intake import access

from .conftest import DESKTOP, PHONE, app_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_clinic_administrator_sees_who_saw_a_patients_record_and_downloads_it(
    live_server, page, visit, front_desk, clinic_admin, authenticator, screenshot, axe_violations
):
    front_desk.first_name, front_desk.last_name = "Fran", "Fairweather"
    front_desk.save()
    desk = Actor.for_user(front_desk, address="10.1.1.20")
    access.patient_for(desk, visit.patient_id)
    access.visit_for(desk, visit.pk)
    mrn = visit.patient.mrn
    device = authenticator(clinic_admin)
    page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/accounts/login/?next=/staff/audit/")
    page.get_by_label("Username").fill(clinic_admin.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(app_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")

    # The record number is posted; the page it leads to names the patient by id only.
    page.get_by_label("Record number").fill(mrn)
    page.get_by_role("button", name="Show this patient's trail").click()
    expect(page.get_by_text(f"Patient with record number {mrn}")).to_be_visible()
    assert page.url == f"{live_server.url}/staff/audit/?patient={visit.patient_id}"
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)  # this look at the trail, then the two reads
    expect(rows.nth(1)).to_contain_text("Fran Fairweather (fran.frontdesk)")
    expect(rows.nth(1)).to_contain_text(f"Visit {visit.pk}")
    expect(rows.nth(2)).to_contain_text(f"Patient {visit.patient_id}")
    expect(rows.nth(2)).to_contain_text("10.1.1.20")
    screenshot("audit-trail-one-patient-desktop")
    assert axe_violations() == []
    page.set_viewport_size(PHONE)
    screenshot("audit-trail-one-patient-phone")
    page.set_viewport_size(DESKTOP)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download these events as CSV").click()
    assert mrn not in download.value.suggested_filename
    with open(download.value.path(), newline="", encoding="utf-8") as exported:
        events = list(csv.DictReader(exported))
    # The export is itself an event, the newest it lists.
    assert [event["Action"] for event in events] == ["Exported"] + ["Viewed"] * 3
    assert {event["Patient record number"] for event in events} == {mrn}
