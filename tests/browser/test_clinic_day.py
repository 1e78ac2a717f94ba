"""One visit through a whole clinic day in a real browser, every step on the staff pages a
clinic uses: the front desk checks the patient in from Today and takes the intake; the
provider reviews it, writes and signs a note, orders a suggested test, records and
reviews its result, and closes the visit. Screenshots at desktop and phone width at each
step, axe-core on each page."""

import datetime
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from intake.models import ClinicalNote, TestOrder

from .test_today import at_both_widths, row_of, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

EMG = "Electromyogram (EMG)"


def test_a_visit_goes_from_check_in_to_closed(
    clock, live_server, page, front_desk, provider, visit, screenshot, axe_violations, authenticator
):
    front_desk.first_name, front_desk.last_name = "Fran", "Desk"
    front_desk.save()
    provider.first_name, provider.last_name = "Pat", "Provider"
    provider.save()
    visit.provider = provider
    visit.save()

    # 10:30: Mara arrives for her 09:00 visit, without having answered beforehand.
    sign_in(page, live_server, front_desk)
    row_of(page, "Mara Lindqvist").get_by_role("button", name=re.compile("^Check in")).click()
    expect(page.get_by_role("status")).to_have_text("Mara Lindqvist checked in at 10:30.")
    expect(row_of(page, "Mara Lindqvist")).to_contain_text("Checked in")
    at_both_widths(page, screenshot, axe_violations, "day-1-checked-in")

    # The front desk takes the intake with her: a month of twitching and weakness are red
    # flags.
    row_of(page, "Mara Lindqvist").get_by_role("link", name="Mara Lindqvist").click()
    page.get_by_role("link", name="Record intake").click()
    page.get_by_label("When did you first notice the twitching?").fill(
        f"{clock.now - datetime.timedelta(days=30):%Y-%m-%d}"
    )
    page.get_by_label("Number").fill("5")
    page.get_by_label("Unit").select_option("seconds")
    page.get_by_role("group", name="How often do you have twitching?").get_by_label(
        "Several times a day"
    ).check()
    page.get_by_role("group", name="Which muscles are affected?").get_by_label("Calf, left").check()
    page.get_by_role("group", name="Is the twitching always in the same place?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
    page.get_by_role("group", name="Do you have any of these other symptoms?").get_by_label(
        "Weakness"
    ).check()
    at_both_widths(page, screenshot, axe_violations, "day-2-intake")
    page.get_by_role("button", name="Mark intake complete").click()
    expect(page.get_by_role("region", name="Red flags")).to_contain_text("Reports weakness")
    page.get_by_role("button", name="Sign out").click()

    # The provider opens the review from Today: red flag first, then the answers.
    sign_in(page, live_server, provider, device=authenticator(provider))
    expect(row_of(page, "Mara Lindqvist")).to_contain_text("Reports weakness")
    row_of(page, "Mara Lindqvist").get_by_role("link", name=re.compile("^Review")).click()
    expect(page.locator(".review-flags li")).to_have_count(2)
    at_both_widths(page, screenshot, axe_violations, "day-3-review")
    page.get_by_role("button", name="I have reviewed this intake").click()
    expect(page.get_by_text("by Pat Provider at 10:30")).to_be_visible()
    page.get_by_label("History").fill("Calf twitching for some weeks, worse after running.")
    page.get_by_label("Examination").fill("Power 5/5. Reflexes normal. No wasting.")
    page.get_by_label("Assessment").fill("Likely benign fasciculation; weakness not confirmed.")
    page.get_by_label("Plan").fill("EMG of the left leg; review with the result.")
    page.get_by_role("button", name="Sign the note").click()
    expect(page.get_by_role("status")).to_have_text("Note signed.")

    # Of the suggested tests, only the EMG is ordered, on the left leg.
    suggestions = page.locator(
        "form", has=page.get_by_role("button", name="Order the ticked tests")
    )
    for box in suggestions.get_by_role("checkbox").all():
        box.uncheck()
    suggestions.get_by_label(EMG).check()
    suggestions.get_by_role("button", name="Order the ticked tests").click()
    expect(page.locator("fieldset legend")).to_have_count(1)
    page.get_by_label("Side").select_option(label="Left")
    page.get_by_label("Limb").select_option(label="Leg")
    at_both_widths(page, screenshot, axe_violations, "day-4-order")
    page.get_by_role("button", name="Place the orders").click()
    expect(page.get_by_role("status")).to_have_text(f"Placed 1 order: {EMG}.")
    at_both_widths(page, screenshot, axe_violations, "day-5-review-signed")

    # Later that day the result comes in; the provider records it, then signs it off.
    order = TestOrder.objects.get(visit=visit)
    clock.move(hours=4)
    order_page = f"{live_server.url}{reverse('admin:intake_testorder_change', args=[order.pk])}"
    worklist = f"{live_server.url}{reverse('admin:intake_testorder_changelist')}"
    page.goto(order_page)
    page.get_by_label("Performed on").fill(f"{clock.now:%Y-%m-%d}")
    page.get_by_label("Result text").fill("Fasciculations in the left calf; no denervation.")
    page.get_by_label("Abnormal").select_option(label="No")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(worklist)
    page.goto(order_page)
    page.get_by_label("Review comment (signs off the result)").fill("Benign. Reassured.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(worklist)
    expect(page.get_by_role("row").filter(has_text=EMG)).to_contain_text("Reviewed")

    # Every order is reviewed: the visit closes without a reason.
    page.goto(f"{live_server.url}/staff/visits/{visit.pk}/")
    closing = page.get_by_role("region", name="Close the visit")
    expect(closing).to_contain_text("Every test order is reviewed or cancelled.")
    at_both_widths(page, screenshot, axe_violations, "day-6-close")
    closing.get_by_role("button", name="Close visit").click()
    expect(page.get_by_role("status")).to_have_text("Visit closed.")
    at_both_widths(page, screenshot, axe_violations, "day-7-closed")

    visit.refresh_from_db()
    order.refresh_from_db()
    assert (visit.status, visit.close_reason, visit.checked_in_by) == ("closed", "", front_desk)
    assert visit.intake_reviewed_by == provider
    assert ClinicalNote.objects.get(visit=visit).signed_by == provider
    assert (order.side, order.limb, order.status, order.reviewed_by) == (
        "left",
        "leg",
        "reviewed",
        provider,
    )
