"""The staff pages' query counts do not grow with the number of rows they show.

Each page is counted with 5 rows, then must take exactly as many queries with 50.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.models import Answer, PreVisitLink, Visit

from .factories import AnswerFactory, PatientFactory, UserFactory, VisitFactory, at_today


@pytest.fixture
def same_queries_at_5_and_50(django_assert_num_queries):
    """Load a page with 5 rows and with 50; the second load takes as many queries.

    `add_row(number)` creates the page's `number`th row; `load()` requests the page.
    Returns the responses at 5 and at 50 rows.
    """

    def check(*, add_row, load):
        for number in range(5):
            add_row(number)
        load()  # once first, so caches filled on first use do not count
        with CaptureQueriesContext(connection) as at_5:
            small = load()
        for number in range(5, 50):
            add_row(number)
        with django_assert_num_queries(len(at_5)):
            large = load()
        return small, large

    return check


def test_today_takes_as_many_queries_for_50_visits_as_for_5(
    desk_client, condition, same_queries_at_5_and_50
):
    def add_row(number):
        VisitFactory(
            patient=PatientFactory(),
            provider=UserFactory(),
            scheduled_at=at_today(7 + number % 12, number),
            red_flags=[{"message": f"Flag {number}", "reason": "A reason"}],
            status=Visit.Status.INTAKE_COMPLETE,
        )

    small, large = same_queries_at_5_and_50(
        add_row=add_row, load=lambda: desk_client.get("/staff/")
    )

    assert (small.text.count("Flag "), large.text.count("Flag ")) == (5, 50)


def test_today_with_links_arrivals_and_my_visits_takes_as_many_queries_for_50_as_for_5(
    client, sign_in, provider, condition, same_queries_at_5_and_50
):
    """The provider's own list, each visit at another stage of its day, most with a
    pre-visit link at another stage, and patients' own answers."""
    statuses = list(Visit.Status)

    def add_row(number):
        status = statuses[number % len(statuses)]
        visit = VisitFactory(
            patient=PatientFactory(),
            provider=provider,
            scheduled_at=at_today(7 + number % 12, number),
            red_flags=[{"message": f"Flag {number}", "reason": "A reason"}] * (number % 2),
            status=status,
            cancel_reason="Called" if status == Visit.Status.CANCELLED else "",
            checked_in_at=timezone.now() if status == Visit.Status.CHECKED_IN else None,
            checked_in_by=provider if status == Visit.Status.CHECKED_IN else None,
        )
        if number % 3:
            PreVisitLink.objects.create(
                visit=visit,
                channel=PreVisitLink.Channel.EMAIL,
                created_by=provider,
                expires_at=timezone.now() + datetime.timedelta(hours=1),
                token_hash=f"{number:064d}",
                sent_at=timezone.now(),
                opened_at=timezone.now() if number % 3 == 2 else None,
            )
            AnswerFactory(visit=visit, source=Answer.Source.PATIENT, answered_by=None)

    sign_in(client, provider)
    small, large = same_queries_at_5_and_50(
        add_row=add_row, load=lambda: client.get("/staff/", {"provider": "mine"})
    )

    assert (len(small.context["visits"]), len(large.context["visits"])) == (5, 50)
    assert "Pre-visit link: </span>Started</td>" in large.text
    assert "Arrived" in large.text


def test_patient_search_takes_as_many_queries_for_50_matches_as_for_5(
    desk_client, same_queries_at_5_and_50
):
    small, large = same_queries_at_5_and_50(
        add_row=lambda number: PatientFactory(family_name="Lee"),
        load=lambda: desk_client.post("/staff/patients/", {"q": "Lee"}),
    )

    assert small.context["page"].paginator.count == 5
    assert large.context["page"].paginator.count == 50
    assert len(large.context["page"].object_list) == 25


def test_the_patient_page_takes_as_many_queries_for_50_visits_as_for_5(
    desk_client, condition, same_queries_at_5_and_50
):
    patient = PatientFactory()

    _, large = same_queries_at_5_and_50(
        add_row=lambda number: VisitFactory(
            patient=patient, provider=UserFactory(), scheduled_at=at_today(9, days=-number)
        ),
        load=lambda: desk_client.get(f"/staff/patients/{patient.pk}/"),
    )

    assert large.text.count('href="/staff/visits/') == 50


def test_the_visit_page_takes_as_many_queries_for_50_answers_as_for_5(
    desk_client, visit, same_queries_at_5_and_50
):
    small, large = same_queries_at_5_and_50(
        add_row=lambda number: AnswerFactory(visit=visit, answered_by=UserFactory()),
        load=lambda: desk_client.get(f"/staff/visits/{visit.pk}/"),
    )

    assert (len(small.context["answers"]), len(large.context["answers"])) == (5, 50)
    # The changes shown: the visit's creation and each answer's, up to the page's limit.
    assert (len(small.context["record_history"]), len(large.context["record_history"])) == (6, 50)


def test_saving_every_answer_takes_as_many_queries_as_saving_one(
    desk_client, condition, intake_data, django_assert_num_queries
):
    """New and changed answers and their versions are written in bulk."""
    one, every = VisitFactory(), VisitFactory()
    only_how_often = {
        name: None for name in intake_data(one) if name.startswith("q_") and name != "q_how-often"
    }
    data = {name: value for name, value in intake_data(one, action="save").items()}
    for name in only_how_often:
        data.pop(name)
    with CaptureQueriesContext(connection) as saving_one:
        assert desk_client.post(f"/staff/visits/{one.pk}/intake/", data).status_code == 302

    with django_assert_num_queries(len(saving_one)):
        response = desk_client.post(
            f"/staff/visits/{every.pk}/intake/", intake_data(every, action="save")
        )

    assert response.status_code == 302
    assert one.answers.count() == 1
    assert every.answers.count() == len(every.questions()) > 1
    assert every.answers.get(question_key="how-often").history.count() == 1
