"""An urgent warning sign ticked on the pre-visit link: the patient is told at once to
get help, and staff see the flag at the top of Today."""

import re

import pytest

from conditions.content import save_condition

from .factories import VisitFactory, at_today

TODAY = "/staff/"
WARNING_SIGNS = {
    "key": "warning-signs",
    "wording": "Do you have any of these now?",
    "answer_type": "multiple_choice",
    "choices": ["Chest pain", "Ringing in the ears", "None of these"],
}


@pytest.fixture
def condition(db, demo_document):
    """The demo condition with a warning-signs question: chest pain is urgent."""
    demo_document["questions"].insert(0, WARNING_SIGNS)
    demo_document["red_flags"] += [
        {
            "question": "warning-signs",
            "kind": "answer_includes",
            "choice": "Chest pain",
            "message": "Warning sign now: Chest pain",
            "urgent": True,
        },
        {
            "question": "warning-signs",
            "kind": "answer_includes",
            "choice": "Ringing in the ears",
            "message": "Warning sign now: Ringing in the ears",
        },
    ]
    return save_condition(demo_document, publish=True)


def alert_text(response):
    """The alert region's text, in reading order."""
    region = re.search(r'id="urgent-alert">(.*?)</div>\s*<template', response.text, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", region[1]).split())


def test_the_urgent_choice_is_marked_for_the_pages_script(verified_patient):
    page = verified_patient.get("questions/").text
    assert page.count('data-urgent="chest-pain"') == 3  # on each box of the question
    assert "js/warning-signs.js" in page
    assert alert_text(verified_patient.get("questions/")) == ""


def test_saving_an_urgent_sign_tells_the_patient_to_call_for_help_now(
    verified_patient, upcoming_visit, intake_data, settings
):
    settings.EMERGENCY_NUMBER = "911"
    settings.CLINIC_PHONE = "555-0199"
    data = intake_data(upcoming_visit, {"warning-signs": ["chest-pain"]}, action="save")

    response = verified_patient.post("questions/", data, follow=True)

    text = alert_text(response)
    assert text.startswith("Get help now: do not wait for your visit")
    assert "Call 911 (the emergency number) now" in text
    assert "call the clinic on 555-0199" in text
    upcoming_visit.refresh_from_db()
    assert upcoming_visit.urgent_flags[0]["message"] == "Warning sign now: Chest pain"


def test_a_sign_that_is_not_urgent_gives_no_alert(verified_patient, upcoming_visit, intake_data):
    data = intake_data(upcoming_visit, {"warning-signs": ["ringing-in-the-ears"]}, action="save")
    response = verified_patient.post("questions/", data, follow=True)
    assert "Your answers are saved" in response.text
    assert alert_text(response) == ""


def test_an_urgent_sign_sent_with_a_mistake_elsewhere_still_alerts(
    verified_patient, upcoming_visit, intake_data
):
    data = intake_data(
        upcoming_visit, {"warning-signs": ["chest-pain"], "how-often": None}, action="continue"
    )
    response = verified_patient.post("questions/", data)
    assert response.status_code == 200
    assert "Answer this question." in response.text
    assert "Call 911" in alert_text(response)


def test_sending_an_urgent_sign_alerts_on_the_sent_page(
    verified_patient, upcoming_visit, intake_data
):
    verified_patient.send(intake_data(upcoming_visit, {"warning-signs": ["chest-pain"]}))
    response = verified_patient.get("done/")
    assert "Thank you, your answers have been sent" in response.text
    alert = re.search(r'<div role="alert">(.*?)</div>\s*</div>', response.text, re.S)
    assert "Call 911 (the emergency number) now" in " ".join(
        re.sub(r"<[^>]+>", " ", alert[1]).split()
    )


def test_urgent_flags_come_before_other_flags_of_the_visit(
    verified_patient, upcoming_visit, intake_data
):
    data = intake_data(
        upcoming_visit,
        {"warning-signs": ["chest-pain", "ringing-in-the-ears"], "other-symptoms": ["weakness"]},
        action="save",
    )
    verified_patient.post("questions/", data)
    upcoming_visit.refresh_from_db()
    flags = [(flag["message"], flag["urgent"]) for flag in upcoming_visit.red_flags]
    assert flags[0] == ("Warning sign now: Chest pain", True)
    assert {"Reports weakness", "Warning sign now: Ringing in the ears"} <= {
        message for message, urgent in flags[1:] if not urgent
    }


URGENT = [{"message": "Warning sign now: Chest pain", "reason": "Ticked", "urgent": True}]
FLAG = [{"message": "Reports weakness", "reason": "Ticked", "urgent": False}]


def test_today_shows_urgent_visits_at_the_top_from_any_page(desk_client, condition):
    from intake.views import VISITS_PER_PAGE

    for number in range(VISITS_PER_PAGE):
        VisitFactory(condition=condition, scheduled_at=at_today(7 + number // 60, number % 60))
    late = VisitFactory(condition=condition, scheduled_at=at_today(18), red_flags=URGENT + FLAG)
    VisitFactory(condition=condition, scheduled_at=at_today(17), red_flags=FLAG)

    response = desk_client.get(TODAY)

    assert late not in response.context["visits"]  # on the next page by time
    box = re.search(r'id="urgent-visits"(.*?)</section>', response.text, re.S)[1]
    box = " ".join(re.sub(r"<[^>]+>", " ", box).split())
    assert box.startswith("> Urgent warning signs")
    assert f"{late.patient.full_name} , 18:00: Warning sign now: Chest pain" in box
    assert "Reports weakness" not in box
    assert response.text.index('id="urgent-visits"') < response.text.index("<table")


def test_urgent_visits_come_first_when_flags_are_chosen_first(desk_client, condition):
    flagged = VisitFactory(condition=condition, scheduled_at=at_today(8), red_flags=FLAG)
    urgent = VisitFactory(condition=condition, scheduled_at=at_today(9), red_flags=URGENT)
    plain = VisitFactory(condition=condition, scheduled_at=at_today(7))

    response = desk_client.get(TODAY, {"sort": "flags"})

    assert list(response.context["visits"]) == [urgent, flagged, plain]
    assert "Urgent</span> <strong>Warning sign now: Chest pain" in response.text


def test_a_day_without_urgent_flags_has_no_urgent_box(desk_client, condition):
    VisitFactory(condition=condition, scheduled_at=at_today(8), red_flags=FLAG)
    assert 'id="urgent-visits"' not in desk_client.get(TODAY).text
