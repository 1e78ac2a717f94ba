"""The public condition page in Spanish, at phone width: read, checked with axe-core, and
left for English by its language link."""

import pytest

from .conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def test_spanish_condition_page_at_phone_width(
    live_server, page, condition, screenshot, axe_violations
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/conditions/muscle-twitches/es/")

    assert page.get_by_role("heading", level=1, name="Espasmos musculares").is_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    screenshot("condition-page-spanish-phone")
    assert axe_violations() == []

    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"{live_server.url}/conditions/muscle-twitches/")
    assert page.get_by_role("heading", level=1, name="Muscle twitches").is_visible()
