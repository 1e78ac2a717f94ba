import pytest

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def test_public_page_reads_well_at_desktop_and_phone_width(
    live_server, page, condition, screenshot, axe_violations
):
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.goto(f"{live_server.url}/conditions/muscle-twitches/")
        assert page.get_by_role("heading", level=1).inner_text() == "Muscle twitches"
        screenshot(f"condition-page-{name}")
    assert axe_violations() == []
