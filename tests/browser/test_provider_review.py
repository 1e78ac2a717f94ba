"""The provider's page in a real browser: from Today to the intake review, a clinical note
written, signed and added to, and the suggested tests ordered in one form. Screenshots
and axe-core at desktop and phone width."""

import re

import pytest
from playwright.sync_api import expect

from intake.models import ClinicalNote, TestOrder, Visit

from .test_today import at_both_widths, row_of, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_provider_reviews_the_intake_signs_a_note_and_orders_the_suggested_tests(
    clock, live_server, page, provider, flagged_visit, screenshot, axe_violations, authenticator
):
    provider.first_name, provider.last_name = "Pat", "Provider"
    provider.save()
    Visit.objects.filter(pk=flagged_visit.pk).update(provider=provider)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, provider, device=authenticator(provider))

    row_of(page, "Mara Lindqvist").get_by_role("link", name=re.compile("^Review")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Muscle twitches: provider's review")
    expect(page.locator(".review-flags li")).to_have_count(3)
    expect(page.get_by_text("2 months and 4 weeks before the visit")).to_be_visible()
    at_both_widths(page, screenshot, axe_violations, "provider-review")

    page.get_by_role("button", name="I have reviewed this intake").click()
    expect(page.get_by_role("status")).to_have_text("The intake is marked as reviewed by you.")
    expect(page.get_by_text("by Pat Provider at 10:30")).to_be_visible()

    page.get_by_label("History").fill("Twitching in both calves since September.")
    page.get_by_label("Examination").fill("Power 5/5 throughout. No wasting.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_have_text("Draft saved.")
    page.get_by_label("Assessment").fill("Probably benign fasciculations; sensory change noted.")
    page.get_by_label("Plan").fill("EMG, nerve conduction, bloods and MRI of the spine.")
    page.get_by_role("button", name="Sign the note").click()
    expect(page.get_by_role("status")).to_have_text("Note signed.")
    expect(page.get_by_role("textbox", name="Plan")).to_have_count(0)
    expect(page.locator(".badge", has_text="Seen")).to_be_visible()

    page.get_by_label("Addendum").fill("Patient asked about caffeine: advised to cut down.")
    page.get_by_role("button", name="Add and sign the addendum").click()
    expect(page.get_by_role("status")).to_have_text("Addendum added and signed.")
    expect(page.get_by_text("advised to cut down")).to_be_visible()

    # The suggestions come ticked: one press opens the order form with them chosen.
    page.get_by_role("button", name="Order the ticked tests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Order tests")
    expect(page.locator("fieldset legend")).to_have_count(7)
    page.get_by_role("button", name="Place the orders").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "MRI scan of the spine: Part of the spine: Say which part of the spine to scan."
    )
    expect(page.get_by_role("alert")).to_contain_text(
        "Electromyogram (EMG): Side: Say which side: left, right or both."
    )
    page.get_by_label("Part of the spine").select_option(label="Lumbar spine (lower back)")
    for test_name, side in [("Electromyogram", "Left"), ("Nerve conduction", "Both sides")]:
        line = page.locator("fieldset", has=page.locator("legend", has_text=test_name))
        line.get_by_label("Side").select_option(label=side)
        line.get_by_label("Limb").select_option(label="Leg")
    at_both_widths(page, screenshot, axe_violations, "provider-order-form")
    page.get_by_role("button", name="Place the orders").click()
    expect(page.get_by_role("status")).to_contain_text("Placed 7 orders")
    expect(page.get_by_text("Already ordered")).to_have_count(7)
    at_both_widths(page, screenshot, axe_violations, "provider-review-signed")

    flagged_visit.refresh_from_db()
    assert (flagged_visit.status, flagged_visit.intake_reviewed_by) == ("seen", provider)
    note = ClinicalNote.objects.get(visit=flagged_visit)
    assert (note.signed_by, note.addenda.count()) == (provider, 1)
    assert TestOrder.objects.filter(visit=flagged_visit).count() == 7
    assert TestOrder.objects.get(test__slug="mri-spine").body_site == "lumbar-spine"
    assert (
        TestOrder.objects.get(test__slug="emg").side,
        TestOrder.objects.get(test__slug="emg").limb,
    ) == ("left", "leg")
