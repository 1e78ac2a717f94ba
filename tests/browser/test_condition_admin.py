"""An editor in a real browser: the condition admin, and what the public page runs."""

import pytest
from django.urls import reverse

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "<script>window.__xss=1</script>"
IMAGE = '<img src=x onerror="window.__xss=2">'


@pytest.fixture
def browser_context_args(browser_context_args):
    # Our CSP would block an inline script on its own; with it bypassed, these tests
    # show that the sanitising alone keeps editors' markup from running.
    return {**browser_context_args, "bypass_csp": True}


def log_in(page, live_server, user, next_url):
    page.goto(f"{live_server.url}/admin/login/?next={next_url}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}{next_url}")


def test_markup_an_editor_types_does_not_run_on_the_public_page(
    live_server, page, editor, condition
):
    # The check can fail: the same markup runs when nothing sanitises it.
    page.set_content(f"<p>{IMAGE}</p>")
    page.wait_for_function("window.__xss === 2")

    change_url = reverse("admin:conditions_condition_change", args=[condition.pk])
    log_in(page, live_server, editor, change_url)
    page.locator("#id_definition_en").fill(f"<p>Twitches are common.</p>{SCRIPT}{IMAGE}")
    page.locator("#id_alternative_names_en").fill(f"Muscle fasciculation\n{IMAGE}")
    page.locator("#id_sections-1-heading_en").fill(f"Common causes {IMAGE}")
    page.locator("#id_sections-1-body_en").fill(f"<p>Often harmless.</p>{SCRIPT}")
    page.locator("#id_sections-1-items_outline").fill(
        f"- Stress {SCRIPT}\n  - Exams {IMAGE}\n- Caffeine"
    )
    page.locator("#id_questions-0-wording_en").fill(f"When did it start? {IMAGE}")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"{live_server.url}/admin/conditions/condition/")
    condition.refresh_from_db()
    assert SCRIPT in condition.definition
    page.goto(f"{live_server.url}{change_url}")
    page.get_by_role("button", name="Publish changes").click()
    page.get_by_text("“Muscle twitches” is published.").wait_for()

    page.goto(f"{live_server.url}/conditions/muscle-twitches/")
    page.wait_for_load_state("load")

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img").count() == 0
    assert page.locator("script:not([src])").count() == 0
    assert page.get_by_text("Twitches are common.").is_visible()
    assert page.locator("li", has_text="Stress").locator("li", has_text="Exams").count() == 1


def test_condition_change_page_and_versions_page_at_desktop_width(
    live_server, page, editor, condition, screenshot, axe_violations
):
    page.set_viewport_size(DESKTOP)
    change_url = reverse("admin:conditions_condition_change", args=[condition.pk])
    log_in(page, live_server, editor, change_url)
    assert page.get_by_role("heading", level=2, name="Muscle twitches").is_visible()
    screenshot("admin-condition-change-desktop")

    page.locator("#id_questions-5-wording_en").fill("Could you be pregnant?")
    page.locator("#id_sections-1-items_outline").fill("- Stress\n- Caffeine and energy drinks")
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_role("link", name="Versions").click()
    page.get_by_role("button", name="Restore version 1").wait_for()
    page.locator("#version-1 ~ details summary").click()
    table = page.locator("#version-1 ~ details .content-changes")
    table.get_by_text("Could", exact=True).wait_for()
    assert table.locator("del").get_by_text("Are", exact=True).is_visible()
    # The side-by-side changes fit the screen: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    screenshot("admin-condition-versions-desktop")
    assert axe_violations() == []
    page.set_viewport_size(PHONE)
    screenshot("admin-condition-versions-phone")
    page.set_viewport_size(DESKTOP)

    page.get_by_role("button", name="Restore version 1").click()
    page.get_by_text("Restored version 1 of “Muscle twitches”.").wait_for()
    assert page.locator("#id_questions-5-wording_en").input_value() == "Are you pregnant?"
