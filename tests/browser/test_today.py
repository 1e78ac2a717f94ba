"""Today in a real browser: the front desk checks a patient in with one press and marks a
no-show; a provider looks at their own visits. Then the visit page: moving a visit to
another time, and closing one with an order open. Screenshots at desktop and phone
width, and axe-core at both."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from audit.actors import Actor
from intake.links import show_previsit_link
from intake.models import Visit
from intake.orders import place_order
from intake.visits import mark_seen

from ..factories import PatientFactory, VisitFactory, at_today
from ..test_intake_today import make_link
from .conftest import DESKTOP, PHONE, app_code

pytestmark = pytest.mark.django_db(transaction=True)


def at_both_widths(page, screenshot, axe_violations, name):
    """Screenshots and an axe-core check at phone and desktop width; left at desktop."""
    for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        screenshot(f"{name}-{size_name}")
        assert axe_violations() == [], size_name


def sign_in(page, live_server, user, *, device=None):
    page.goto(f"{live_server.url}/accounts/login/?next=/staff/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    if device is not None:
        page.get_by_label("Code").fill(app_code(device))
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("isits on")


def row_of(page, name):
    return page.get_by_role("row").filter(has_text=name)


def test_the_front_desk_checks_in_from_today_and_a_provider_sees_their_own_visits(
    clock,
    live_server,
    page,
    front_desk,
    provider,
    flagged_visit,
    screenshot,
    axe_violations,
    authenticator,
):
    front_desk.first_name, front_desk.last_name = "Fran", "Desk"
    front_desk.save()
    provider.first_name, provider.last_name = "Pat", "Provider"
    provider.save()
    # Mara Lindqvist, 09:00, three red flags: she sent her answers back before coming.
    Visit.objects.filter(pk=flagged_visit.pk).update(provider=provider)
    make_link(flagged_visit, opened_at=clock.now, submitted_at=clock.now)

    def visit(given, family, hour, minute=0, **fields):
        patient = PatientFactory(given_name=given, family_name=family)
        return VisitFactory(patient=patient, scheduled_at=at_today(hour, minute), **fields)

    tobias = visit("Tobias", "Okafor", 9)
    ines = visit("Ines", "Vargas", 11, 15, provider=provider)
    make_link(ines, opened_at=clock.now)
    noor = visit("Noor", "Haddad", 14)
    show_previsit_link(visit=noor, actor=Actor.for_user(front_desk))
    visit("Sven", "Aalto", 8, status=Visit.Status.CLOSED)
    visit("Lena", "Brandt", 7, 30, status=Visit.Status.DID_NOT_ATTEND)

    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, front_desk)

    # By time; at 09:00 the flagged visit first; finished visits after the rest.
    names = page.locator("tbody tr td:nth-child(2) a")
    expect(names).to_have_text(
        [
            "Mara Lindqvist",
            "Tobias Okafor",
            "Ines Vargas",
            "Noor Haddad",
            "Lena Brandt",
            "Sven Aalto",
        ]
    )
    expect(row_of(page, "Mara Lindqvist")).to_contain_text("Reports weakness")
    expect(row_of(page, "Mara Lindqvist")).to_contain_text("Sent back")
    expect(row_of(page, "Ines Vargas")).to_contain_text("Opened")
    expect(row_of(page, "Noor Haddad")).to_contain_text("Sent")
    expect(row_of(page, "Tobias Okafor")).to_contain_text("None")
    at_both_widths(page, screenshot, axe_violations, "today")

    # One press checks Mara in; the list comes back as it was, with her arrival.
    row_of(page, "Mara Lindqvist").get_by_role("button", name=re.compile("^Check in")).click()
    expect(page.get_by_role("status")).to_have_text("Mara Lindqvist checked in at 10:30.")
    mara = row_of(page, "Mara Lindqvist")
    expect(mara).to_contain_text("Intake complete")
    expect(mara).to_contain_text("Arrived 10:30")
    expect(mara.get_by_role("button")).to_have_count(0)

    # Tobias's time has passed: one press marks him as not attended.
    row_of(page, "Tobias Okafor").get_by_role("button", name=re.compile("^Did not attend")).click()
    expect(page.get_by_role("status")).to_have_text("Tobias Okafor: marked as not attended.")
    finished = page.locator("tbody.day-list-finished")
    expect(finished.get_by_role("row").filter(has_text="Tobias Okafor")).to_contain_text(
        "Did not attend"
    )
    at_both_widths(page, screenshot, axe_violations, "today-after-check-in")

    flagged_visit.refresh_from_db()
    tobias.refresh_from_db()
    assert (flagged_visit.status, flagged_visit.checked_in_at) == (
        Visit.Status.INTAKE_COMPLETE,
        clock.now,
    )
    assert (flagged_visit.checked_in_by, tobias.status) == (front_desk, "did_not_attend")

    # The provider signs in (password and app code) and keeps to their own visits.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, provider, device=authenticator(provider))
    page.get_by_role("link", name="My visits").click()
    day = timezone.localdate()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"My visits on {day:%A %-d %B %Y}")
    expect(names).to_have_text(["Mara Lindqvist", "Ines Vargas"])
    expect(page.get_by_role("link", name="My visits")).to_have_attribute("aria-current", "page")
    # The choice stays when another order is chosen.
    page.get_by_label("Order").select_option(label="Red flags first")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"provider=mine&sort=flags"))
    expect(names).to_have_text(["Mara Lindqvist", "Ines Vargas"])
    at_both_widths(page, screenshot, axe_violations, "today-my-visits")


def test_a_visit_moves_to_another_time_and_a_provider_closes_one_with_an_order_open(
    clock,
    live_server,
    page,
    front_desk,
    provider,
    flagged_visit,
    screenshot,
    axe_violations,
    authenticator,
):
    later = VisitFactory(
        patient=PatientFactory(given_name="Noor", family_name="Haddad"),
        scheduled_at=at_today(14),
    )
    link, _ = show_previsit_link(visit=later, actor=Actor.for_user(front_desk))
    actor = Actor.for_user(provider)
    mark_seen(visit=flagged_visit, actor=actor)
    place_order(
        visit=flagged_visit,
        test=flagged_visit.condition.tests.get(slug="emg"),
        side="right",
        limb="arm",
        actor=actor,
        reason="Weakness",
    )

    # The front desk moves Noor's visit to tomorrow afternoon.
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server, front_desk)
    page.get_by_role("link", name="Noor Haddad").click()
    expect(page.get_by_role("region", name="Arrival")).to_contain_text("Not checked in yet.")
    page.get_by_text("Move the visit to another time").click()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page.get_by_label("New date").fill(f"{tomorrow:%Y-%m-%d}")
    page.get_by_label("New time").fill("15:30")
    at_both_widths(page, screenshot, axe_violations, "visit-reschedule")
    page.get_by_role("button", name="Move the visit").click()

    # No reason: the form comes back on its own page, the message beside the field.
    expect(page.get_by_role("heading", level=1)).to_have_text("Move the visit")
    expect(page.locator("#error-summary")).to_contain_text("Give a reason for moving the visit.")
    expect(page.get_by_label("New time")).to_have_value("15:30")
    at_both_widths(page, screenshot, axe_violations, "visit-reschedule-error")
    page.get_by_label("Reason for moving the visit").fill("Patient asked for tomorrow")
    page.get_by_role("button", name="Move the visit").click()
    moved = f"Visit moved to {tomorrow:%A %-d %B %Y}, 15:30."
    expect(page.get_by_role("status")).to_have_text(moved)
    later.refresh_from_db()
    link.refresh_from_db()
    assert later.scheduled_at == link.expires_at == at_today(15, 30, days=1)

    # The provider closes Mara's visit, whose EMG has no result yet.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, provider, device=authenticator(provider))
    page.goto(f"{live_server.url}/staff/visits/{flagged_visit.pk}/")
    closing = page.get_by_role("region", name="Close the visit")
    expect(closing).to_contain_text("Electromyogram (EMG) (Right arm): ordered")
    at_both_widths(page, screenshot, axe_violations, "visit-close")
    closing.get_by_role("button", name="Close with orders open").click()
    expect(page.locator("#error-summary")).to_contain_text("Not every test order is reviewed")
    page.get_by_label("Reason for closing with orders open").fill("Results go to the GP")
    page.get_by_role("button", name="Close with orders open").click()
    expect(page.get_by_role("status")).to_have_text("Visit closed.")
    expect(page.get_by_text("Closed with test orders open: Results go to the GP")).to_be_visible()
    at_both_widths(page, screenshot, axe_violations, "visit-closed")
    flagged_visit.refresh_from_db()
    assert (flagged_visit.status, flagged_visit.close_reason) == ("closed", "Results go to the GP")
