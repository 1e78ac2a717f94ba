"""A provider in a real browser: ordering tests from a flagged visit, resulting and
reviewing one, and printing the requisitions."""

import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from audit.actors import Actor
from intake.models import TestOrder
from intake.orders import place_order

from .conftest import DESKTOP, SCREENSHOTS, app_code

pytestmark = pytest.mark.django_db(transaction=True)

EMG = "Electromyogram (EMG)"
NCS = "Nerve conduction studies"


def log_in(page, live_server, user, next_url, device):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code").fill(app_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}{next_url}")


def save(page, then):
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(then)


def test_a_provider_orders_tests_results_one_and_signs_it_off(
    live_server, page, provider, flagged_visit, screenshot, authenticator
):
    page.set_viewport_size(DESKTOP)
    visit_url = reverse("admin:intake_visit_change", args=[flagged_visit.pk])
    worklist = f"{live_server.url}{reverse('admin:intake_testorder_changelist')}"
    log_in(page, live_server, provider, visit_url, authenticator(provider))

    # The intake and its flags come first; new rows carry the flags as their reason.
    expect(page.locator(".red-flags li")).to_have_count(3)
    page.get_by_text("Add another Test order").click()
    page.get_by_text("Add another Test order").click()
    page.locator("#id_test_orders-0-test").select_option(label=EMG)
    page.locator("#id_test_orders-0-priority").select_option(label="Urgent")
    page.locator("#id_test_orders-1-test").select_option(label=NCS)
    reason = page.locator("#id_test_orders-1-reason").input_value()
    assert "Reports weakness" in reason
    screenshot("provider-visit-change")
    save(page, f"{live_server.url}{reverse('admin:intake_visit_changelist')}")
    expect(page.get_by_text("Placed 2 order(s).")).to_be_visible()

    page.goto(worklist)
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    screenshot("provider-order-worklist")

    page.get_by_role("link", name=EMG, exact=True).click()
    page.get_by_label("Performed on").fill(f"{flagged_visit.scheduled_at:%Y-%m-%d}")
    page.get_by_label("Result text").fill("Widespread fasciculations; no denervation.")
    page.get_by_label("Abnormal").select_option(label="Yes")
    save(page, worklist)

    page.get_by_role("link", name=EMG, exact=True).click()
    result = page.locator(".field-result_text")
    expect(result.get_by_text("Widespread fasciculations; no denervation.")).to_be_visible()
    page.get_by_label("Review comment (signs off the result)").fill("Benign. Reassured.")
    save(page, worklist)

    emg = TestOrder.objects.get(test_name=EMG)
    assert (emg.status, emg.reviewed_by, emg.priority) == ("reviewed", provider, "urgent")
    assert TestOrder.objects.get(test_name=NCS).status == "ordered"
    page.get_by_role("link", name=EMG, exact=True).click()
    expect(page.locator(".field-review_comment").get_by_text("Benign. Reassured.")).to_be_visible()
    screenshot("provider-reviewed-order")


def test_the_printed_requisitions_take_one_page_each(
    live_server, page, provider, flagged_visit, screenshot, authenticator
):
    for slug in ("emg", "nerve-conduction-studies"):
        place_order(
            visit=flagged_visit,
            test=flagged_visit.condition.tests.get(slug=slug),
            actor=Actor.for_user(provider),
            reason="Weakness",
        )
    print_url = reverse("intake:visit-print", args=[flagged_visit.pk])
    log_in(page, live_server, provider, print_url, authenticator(provider))
    page.set_viewport_size(DESKTOP)
    screenshot("provider-print-screen")
    page.emulate_media(media="print")
    screenshot("provider-print-media")

    pdf = SCREENSHOTS / "provider-requisitions.pdf"
    page.pdf(path=pdf, format="A4")

    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        pytest.skip("pdfinfo (poppler-utils) is not installed: page count not checked")
    info = subprocess.run([pdfinfo, pdf], capture_output=True, text=True, check=True)  # noqa: S603
    assert re.search(r"^Pages:\s+3$", info.stdout, re.M), info.stdout
