"""Odd and hostile input to every staff page gets an answer, never a server error.

The test client re-raises any exception a view lets through, so a 500 fails the test.
"""

import pytest

from intake.models import Patient, Visit

NUL = "\x00"
LONG = "x" * 10_000


def get(url, **query):
    return ("get", url, query)


def post(url, **data):
    return ("post", url, data)


REQUESTS = [
    get("/staff/", day="9999-12-31"),
    get("/staff/", day="0001-01-01"),
    get("/staff/", day=NUL),
    get("/staff/", day=["2026-01-01", "2026-01-02"]),
    get("/staff/", sort="<script>"),
    post("/staff/patients/", q=NUL),
    post("/staff/patients/", q=LONG),
    post("/staff/patients/", q="%_%", page="-1"),
    post("/staff/patients/", q="Lee", page="abc"),
    post("/staff/patients/", q="Lee", page="9" * 30),
    post("/staff/patients/", q="99999999999"),
    post("/staff/patients/", q="31/02/2001"),
    post("/staff/patients/new/", given_name=NUL, family_name=LONG, date_of_birth="9999-12-31"),
    post("/staff/patients/new/", given_name="A", family_name="B", date_of_birth="0001-01-01"),
    post("/staff/patients/new/", email=LONG + "@example.org", phone=LONG, sex_at_birth=NUL),
    post("/staff/patients/{patient}/visits/new/", scheduled_date="9999-12-31"),
    post("/staff/patients/{patient}/visits/new/", condition=NUL, provider=LONG),
    post("/staff/visits/{visit}/intake/", intake_version="9" * 30, action="complete"),
    post("/staff/visits/{visit}/intake/", intake_version="-1", action="save"),
    post("/staff/visits/{visit}/intake/", intake_version=NUL, **{"q_first-noticed": NUL}),
    post(
        "/staff/visits/{visit}/intake/",
        intake_version="0",
        action="save",
        **{
            "q_first-noticed": "0001-01-01",
            "q_episode-length_amount": "9" * 400,
            "q_episode-length_unit": ["seconds", "days"],
            "q_how-often": ["all-the-time", "about-once-a-day"],
            "q_muscles-affected": [NUL],
        },
    ),
    post("/staff/visits/{visit}/intake/", intake_version="0", action=LONG),
    post("/staff/visits/{visit}/cancel/", reason=NUL),
    post("/staff/visits/{visit}/cancel/", reason=LONG),
]


@pytest.mark.parametrize(("method", "url", "data"), REQUESTS)
def test_odd_input_never_ends_in_a_server_error(desk_client, visit, method, url, data):
    url = url.format(patient=visit.patient_id, visit=visit.pk)

    response = getattr(desk_client, method)(url, data)

    assert response.status_code in (200, 302, 409)
    assert Patient.objects.count() == 1
    visit.refresh_from_db()
    assert visit.status in (Visit.Status.SCHEDULED, Visit.Status.INTAKE_IN_PROGRESS)


@pytest.mark.parametrize("time_zone", ["America/New_York", "Asia/Tokyo"])
def test_a_visit_at_the_end_of_time_is_refused_in_any_time_zone(
    desk_client, visit, settings, time_zone
):
    settings.TIME_ZONE = time_zone
    data = {
        "condition": visit.condition_id,
        "scheduled_date": "9999-12-31",
        "scheduled_time": "23:59",
    }

    response = desk_client.post(f"/staff/patients/{visit.patient_id}/visits/new/", data)

    assert response.status_code == 200
    assert "scheduled_date" in response.context["form"].errors
    assert Visit.objects.count() == 1
    assert desk_client.get("/staff/", {"day": "9999-12-31"}).status_code == 200
    assert desk_client.get("/staff/", {"day": "0001-01-01"}).status_code == 200
