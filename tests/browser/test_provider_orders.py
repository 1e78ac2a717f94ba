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
from intake.orders import place_order, record_result

from .conftest import DESKTOP, PHONE, SCREENSHOTS, app_code

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
    page.locator("#id_test_orders-1-side").select_option(label="Left")
    page.locator("#id_test_orders-1-limb").select_option(label="Leg")
    # The EMG's side and limb are forgotten at first: the page says so beside them.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Say which side: left, right or both.")).to_be_visible()
    expect(page.get_by_text("Say which limb: arm or leg.")).to_be_visible()
    assert not TestOrder.objects.exists()
    page.locator("#id_test_orders-0-side").select_option(label="Both sides")
    page.locator("#id_test_orders-0-limb").select_option(label="Leg")
    # Every column in view, without scrolling the orders sideways.
    rows = page.locator("#test_orders-group .wrapper")
    assert rows.evaluate("rows => rows.scrollWidth <= rows.clientWidth")
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


def test_a_printed_requisition_says_side_and_limb_and_takes_a_page_of_its_own(
    live_server, page, provider, flagged_visit, screenshot, authenticator, axe_violations
):
    actor = Actor.for_user(provider)
    emg, ncs = (
        place_order(
            visit=flagged_visit,
            test=flagged_visit.condition.tests.get(slug=slug),
            actor=actor,
            reason="Weakness and twitching in the left calf for three months",
            side="left",
            limb="leg",
        )
        for slug in ("emg", "nerve-conduction-studies")
    )
    record_result(order=ncs, actor=actor, text="Normal sural and peroneal conduction.")
    print_url = reverse("intake:visit-print", args=[flagged_visit.pk])
    log_in(page, live_server, provider, print_url, authenticator(provider))
    # The Print button's window.print(), counted instead of opening the dialog.
    page.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    page.reload()

    requisition = page.locator("section.requisition")
    expect(requisition).to_have_count(1)  # the nerve studies have their result
    expect(requisition.get_by_role("row", name="Side Left")).to_be_visible()
    expect(requisition.get_by_role("row", name="Limb Leg")).to_be_visible()
    expect(requisition.get_by_text("R25.3")).to_be_visible()
    expect(requisition.locator(".results-so-far")).to_contain_text("Normal sural")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.printed") == 1
    assert axe_violations() == []
    for size, viewport in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(viewport)
        screenshot(f"provider-print-screen-{size}")
        # Nothing wider than the screen: wide tables scroll in their own box.
        assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"]

    page.set_viewport_size(DESKTOP)
    page.emulate_media(media="print")
    expect(page.locator("header.site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_text("Riverside Neurology Clinic").first).to_be_visible()
    screenshot("provider-print-media")
    pdf = SCREENSHOTS / "provider-requisitions.pdf"
    page.pdf(path=pdf, format="A4")

    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the pages are not read")
    text = subprocess.run(  # noqa: S603
        [pdftotext, "-layout", pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    # The summary (as long as it needs), then the requisition on a page of its own.
    *summary, requisition_page = pages
    assert "Visit summary" in summary[0]
    assert not any("Test requisition" in page for page in summary)
    assert "Visit summary" not in requisition_page
    assert "Test requisition" in requisition_page
    assert re.search(r"Side\s+Left", requisition_page)
    assert re.search(r"Limb\s+Leg", requisition_page)
    assert re.search(r"Reason code\s+R25\.3 Fasciculation", requisition_page)
    assert emg.test_name in requisition_page
    assert "Staff sign in" not in text and "Sign out" not in text
