"""Two staff members recording the same intake never overwrite each other unknowingly."""

import threading

import pytest
from django.db import connection
from django.test import Client

from audit.actors import Actor
from audit.models import AuditEvent
from intake.answers import IntakeConflict, save_answers
from intake.models import Visit


def intake_url(visit):
    return f"/staff/visits/{visit.pk}/intake/"


def answers_of(visit):
    return {answer.question_key: answer.value for answer in visit.answers.all()}


@pytest.fixture
def provider_client(provider, sign_in):
    """The provider in a browser of their own, beside the front desk's."""
    return sign_in(Client(), provider)


def test_the_second_of_two_saves_gets_a_conflict_keeps_its_input_and_saves_nothing(
    desk_client, provider_client, visit, intake_data, form_values
):
    # Both open the form while nothing is saved: both forms carry intake version 0.
    for client in (desk_client, provider_client):
        assert form_values(client.get(intake_url(visit)).text)["intake_version"] == ["0"]
    desk_data = intake_data(visit, {"how-often": "about-once-a-day"})
    provider_data = intake_data(
        visit, {"how-often": "all-the-time", "episode-length_amount": "30"}, action="save"
    )
    desk_client.post(intake_url(visit), desk_data)
    saved_by_desk = answers_of(visit)

    response = provider_client.post(intake_url(visit), provider_data)

    assert response.status_code == 409
    assert "Someone else saved this intake while you were working on it." in response.text
    assert "Your answers have not been saved yet." in response.text
    # What the other person saved is shown beside the provider's own answers.
    assert "What is saved now" in response.text
    assert "About once a day" in response.text
    shown = form_values(response.text)
    for name in ("q_how-often", "q_episode-length_amount", "q_first-noticed"):
        assert shown[name] == [provider_data[name]]
    assert answers_of(visit) == saved_by_desk
    visit.refresh_from_db()
    assert (visit.status, visit.intake_version) == (Visit.Status.INTAKE_COMPLETE, 1)
    assert not AuditEvent.objects.filter(action="update").exists()


def test_after_a_conflict_saving_the_kept_answers_again_succeeds(
    desk_client, provider_client, visit, intake_data, form_values
):
    desk_client.post(intake_url(visit), intake_data(visit))
    provider_data = intake_data(visit, {"how-often": "all-the-time"}, action="save")
    conflict = provider_client.post(intake_url(visit), provider_data)

    # The provider submits the form as the 409 page shows it.
    resubmitted = {**form_values(conflict.text), "action": "save"}
    response = provider_client.post(intake_url(visit), resubmitted, follow=True)

    assert "Intake saved as a draft." in response.text
    assert answers_of(visit)["how-often"] == "all-the-time"
    visit.refresh_from_db()
    assert (visit.status, visit.intake_version) == (Visit.Status.INTAKE_IN_PROGRESS, 2)


def test_one_person_saving_twice_from_the_same_page_is_a_conflict_too(
    desk_client, visit, intake_data
):
    data = intake_data(visit, action="save")
    desk_client.post(intake_url(visit), data)

    response = desk_client.post(intake_url(visit), {**data, "q_how-often": "all-the-time"})

    assert response.status_code == 409
    assert visit.answers.get(question_key="how-often").value == "several-times-a-day"


def test_save_answers_writes_nothing_on_a_stale_version(visit, front_desk):
    save_answers(
        visit=visit,
        values={"same-place": True},
        expected_version=0,
        actor=Actor.for_user(front_desk),
    )

    with pytest.raises(IntakeConflict):
        save_answers(
            visit=visit,
            values={"same-place": False},
            expected_version=0,
            actor=Actor.for_user(front_desk),
        )

    assert visit.answers.get(question_key="same-place").value_bool is True
    visit.refresh_from_db()
    assert visit.intake_version == 1


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_the_same_moment_give_one_save_and_one_conflict(visit, front_desk, provider):
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared in-memory one, whose table locks fail at
        # once instead of waiting, unlike a database file.
        pytest.skip("needs a database whose writers wait for each other")
    both_ready = threading.Barrier(2)
    outcomes = []

    def save(user, same_place):
        try:
            both_ready.wait()
            save_answers(
                visit=visit,
                values={"same-place": same_place},
                expected_version=0,
                actor=Actor.for_user(user),
            )
            outcomes.append("saved")
        except IntakeConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    savers = [
        threading.Thread(target=save, args=(front_desk, True)),
        threading.Thread(target=save, args=(provider, False)),
    ]
    for saver in savers:
        saver.start()
    for saver in savers:
        saver.join()

    assert sorted(outcomes) == ["conflict", "saved"]
    assert visit.answers.count() == 1
    visit.refresh_from_db()
    assert visit.intake_version == 1
