"""The front desk in a real browser: correcting a misspelt name (with its reason), and
merging two records of the same person after comparing them side by side."""

import datetime

import pytest
from playwright.sync_api import expect

from audit.actors import Actor
from intake.links import show_previsit_link
from intake.merges import merge_patients, merge_stamp
from intake.models import Patient, PatientMerge

from ..factories import AnswerFactory, PatientFactory, TestOrderFactory, VisitFactory, at_today
from .conftest import DESKTOP, PHONE, app_code

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, live_server, user, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}{next_url}")


def at_both_widths(page, screenshot, axe_violations, name):
    """Screenshots at phone and desktop width, each checked by axe; left at desktop width."""
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        screenshot(f"{name}-{size_name}")
        assert axe_violations() == [], f"{name} at {size_name} width"


@pytest.fixture
def jon(condition, front_desk):
    return PatientFactory(
        given_name="Jon",
        family_name="Smtih",
        date_of_birth=datetime.date(1980, 5, 17),
        sex_at_birth="male",
        email="jon@example.org",
        phone="+1 555 0123",
    )


def test_the_front_desk_corrects_a_misspelt_name_giving_a_reason(
    live_server, page, front_desk, jon, screenshot, axe_violations
):
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, front_desk, jon.get_absolute_url())

    page.get_by_role("link", name="Correct details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Correct details")
    page.get_by_label("Last name").fill("Smith")
    page.get_by_label("Preferred language").select_option(label="Spanish")
    page.get_by_role("group", name="Text messages may be used").get_by_label("Yes").check()
    page.get_by_role("button", name="Save changes").click()

    # A new name needs a reason: the summary says so and leads to the field.
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Last name")).to_have_value("Smith")
    at_both_widths(page, screenshot, axe_violations, "patient-edit-errors")
    summary.get_by_role("link", name="Give a reason for changing the name").click()
    expect(page.get_by_label("Reason for the change")).to_be_focused()
    page.get_by_label("Reason for the change").fill("Misspelt at registration")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text("Details corrected.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jon Smith")
    page.get_by_text("Changes to this record").click()
    history = page.get_by_role("region", name="Changes to this record")
    expect(history).to_contain_text("Last name: Smtih → Smith")
    expect(history).to_contain_text("Preferred language: — → Spanish")
    expect(history).to_contain_text("Reason: Misspelt at registration")
    at_both_widths(page, screenshot, axe_violations, "patient-edit-saved")
    jon.refresh_from_db()
    assert (jon.family_name, jon.preferred_language, jon.sms_allowed) == ("Smith", "es", True)


def test_the_front_desk_merges_two_records_after_comparing_them(
    live_server, page, front_desk, provider, jon, screenshot, axe_violations
):
    john = PatientFactory(
        given_name="John",
        family_name="Smith",
        date_of_birth=datetime.date(1980, 5, 17),
        sex_at_birth="male",
        email="john.smith@example.org",
        phone="+1 555 0123",
    )
    VisitFactory(patient=john, scheduled_at=at_today(11, days=-60))
    past = VisitFactory(patient=jon, scheduled_at=at_today(9, days=-30))
    AnswerFactory.create_batch(3, visit=past)
    TestOrderFactory(visit=past, ordered_by=provider)
    coming = VisitFactory(patient=jon, scheduled_at=at_today(10, days=3))
    show_previsit_link(visit=coming, actor=Actor.for_user(provider))
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, front_desk, jon.get_absolute_url())

    page.get_by_role("link", name="Merge with another record…").click()
    page.get_by_label("Record number of the other record").fill(john.mrn)
    page.get_by_label("The other record: this record is merged into it").check()
    at_both_widths(page, screenshot, axe_violations, "patient-merge-choose")
    page.get_by_role("button", name="Compare the records").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Merge these records?")
    assert jon.mrn not in page.url and john.mrn not in page.url
    compare = page.get_by_role("region", name="The two records")
    expect(compare.get_by_role("row", name="Name Differs Jon Smtih John Smith")).to_be_visible()
    moves = page.get_by_role("region", name=f"What moves to record {john.mrn}")
    expect(moves).to_contain_text("2 visits, with 3 answers, 1 test order and 1 pre-visit link.")
    at_both_widths(page, screenshot, axe_violations, "patient-merge-confirm")

    page.get_by_role("button", name="Merge the records").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text(
        "Give a reason for merging these records."
    )
    page.get_by_label("Reason for merging").fill("Registered twice: same phone and birthday")
    page.get_by_role("button", name="Merge the records").click()

    expect(page.get_by_text(f"Record {jon.mrn} was merged into this record.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("John Smith")
    expect(page.locator('a[href^="/staff/visits/"]')).to_have_count(3)
    at_both_widths(page, screenshot, axe_violations, "patient-merge-survivor")

    page.get_by_role("link", name=f"Jon Smtih, record number {jon.mrn}").click()
    expect(page.get_by_role("status").filter(has_text="This record was merged")).to_contain_text(
        f"John Smith, record number {john.mrn}"
    )
    expect(page.get_by_role("link", name="Correct details")).to_have_count(0)
    at_both_widths(page, screenshot, axe_violations, "patient-merge-merged")
    merge = PatientMerge.objects.get()
    assert (merge.merged, merge.survivor, merge.merged_by) == (jon, john, front_desk)
    assert Patient.objects.get(pk=jon.pk).merged_into == john


def test_a_clinic_administrator_undoes_a_merge(
    live_server, page, front_desk, clinic_admin, jon, authenticator, screenshot, axe_violations
):
    john = PatientFactory(given_name="John", family_name="Smith", date_of_birth=jon.date_of_birth)
    VisitFactory(patient=jon, scheduled_at=at_today(9, days=-30))
    merge_patients(
        merged=jon,
        survivor=john,
        reason="Registered twice",
        expected_stamp=merge_stamp(
            merged=jon,
            survivor=john,
            visit_ids=jon.visits.values_list("pk", flat=True),
            earlier_ids=[],
        ),
        actor=Actor.for_user(front_desk),
    )
    VisitFactory(patient=john, scheduled_at=at_today(14, days=2))  # opened after the merge
    device = authenticator(clinic_admin)
    page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/accounts/login/?next=/staff/merges/")
    page.get_by_label("Username").fill(clinic_admin.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(app_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merged records")
    at_both_widths(page, screenshot, axe_violations, "merge-list")

    page.get_by_role("link", name=f"Undo… the merge of {jon.mrn} into {john.mrn}").click()
    expect(page.get_by_role("region", name=f"Going back to record {jon.mrn}")).to_contain_text(
        "Muscle twitches"
    )
    expect(page.get_by_role("region", name=f"Staying with record {john.mrn}")).to_contain_text(
        "Opened on record"
    )
    page.get_by_label("Reason for undoing the merge").fill("Two different people: checked ID")
    at_both_widths(page, screenshot, axe_violations, "merge-undo")
    page.get_by_role("button", name="Undo the merge").click()

    expect(page.get_by_text(f"The merge was undone: record {jon.mrn}")).to_be_visible()
    expect(page.get_by_text("Undone", exact=True)).to_be_visible()
    jon.refresh_from_db()
    assert jon.merged_into is None
    assert (jon.visits.count(), john.visits.count()) == (1, 1)
