"""A QuestionnaireResponse sent by an API client (a kiosk, a patient app): checked against
the visit's questions as the intake form checks anyone's, saved by the same workflow with
the same conflict rule, raising the same red flags; bad input named item by item."""

import copy
import datetime

import pytest
from django.utils import timezone

from audit.actors import Actor
from audit.models import AuditEvent
from interop.clients import create_api_client

from .fhir import FhirClient, issue_text, issues_by_item

pytestmark = pytest.mark.django_db


def _token(clinic_admin, *, submits_answers):
    _, token = create_api_client(
        name="Waiting-room kiosk" if submits_answers else "Valley Lab",
        expires_at=timezone.now() + datetime.timedelta(days=30),
        submits_answers=submits_answers,
        actor=Actor.for_user(clinic_admin),
    )
    return token


@pytest.fixture
def kiosk(client, clinic_admin):
    return FhirClient(client, _token(clinic_admin, submits_answers=True))


ANSWERS = {
    "first-noticed": lambda: [
        {"valueDate": (timezone.localdate() - datetime.timedelta(days=90)).isoformat()}
    ],
    "episode-length": lambda: [
        {
            "valueQuantity": {
                "value": 5,
                "unit": "seconds",
                "system": "http://unitsofmeasure.org",
                "code": "s",
            }
        }
    ],
    "how-often": lambda: [{"valueCoding": {"code": "several-times-a-day"}}],
    "muscles-affected": lambda: [
        {"valueCoding": {"code": "calf-left"}},
        {"valueCoding": {"code": "thigh-right"}},
    ],
    "same-place": lambda: [{"valueBoolean": False}],
    "pregnant": lambda: [{"valueBoolean": False}],
    "other-symptoms": lambda: [
        {"valueCoding": {"code": "weakness"}},
        {"valueCoding": {"code": "loss-of-feeling-or-a-change-in-how-things-feel"}},
    ],
}


@pytest.fixture
def response_for(kiosk):
    """A completed response to the visit's questionnaire, as a client builds it from the
    Questionnaire it read: every question answered, with weakness and a change in
    sensation (as the flagged_visit fixture's answers)."""

    def build(visit, **changes):
        questionnaire = kiosk.get(f"Questionnaire/{visit.content_version_id}").resource
        items = []
        for item in questionnaire["item"]:
            answer = changes.get(item["linkId"], ANSWERS[item["linkId"]]())
            if answer is not None:
                items.append({"linkId": item["linkId"], "answer": answer})
        return {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": f"{questionnaire['url']}|{questionnaire['version']}",
            "status": "completed",
            "subject": {"reference": f"Patient/{visit.patient_id}"},
            "encounter": {"reference": f"Encounter/{visit.pk}"},
            "item": items,
        }

    return build


def test_a_response_becomes_the_visits_answers_and_red_flags(
    kiosk, response_for, upcoming_visit, flagged_visit
):
    """The round trip: the muscle-twitches Questionnaire, answered by a client, makes the
    answers and raises the flags that the same answers raise through the staff form
    (flagged_visit)."""
    visit = upcoming_visit
    response = kiosk.create(
        "QuestionnaireResponse", response_for(visit), if_match=f'W/"{visit.intake_version}"'
    )
    assert response.status_code == 201, response.resource
    assert response["Location"].endswith(f"/fhir/QuestionnaireResponse/{visit.pk}")
    visit.refresh_from_db()
    assert visit.status == "intake_complete"
    assert len(visit.red_flags) == 3
    assert [flag["message"] for flag in visit.red_flags] == [
        flag["message"] for flag in flagged_visit.red_flags
    ]
    assert {answer.question_key for answer in visit.answers.all()} == set(ANSWERS)
    # A kiosk or a patient's app: the patient answered.
    assert {answer.source for answer in visit.answers.all()} == {"patient"}
    submitted = AuditEvent.objects.filter(action="submit", record_type="intake.visit").latest("pk")
    assert submitted.actor_label.startswith("API client")
    # What the client gets back is what a read gives.
    saved = response.resource
    assert saved == kiosk.get(f"QuestionnaireResponse/{visit.pk}").resource
    assert saved["questionnaire"] == response_for(visit)["questionnaire"]


def test_a_first_response_needs_no_version(kiosk, response_for, visit):
    response = kiosk.create("QuestionnaireResponse", response_for(visit))
    assert response.status_code == 201
    assert response["ETag"] == 'W/"1"'
    visit.refresh_from_db()
    assert len(visit.red_flags) == 3


def test_answers_already_there_need_the_version_read(kiosk, response_for, visit):
    assert kiosk.create("QuestionnaireResponse", response_for(visit)).status_code == 201
    again = kiosk.create("QuestionnaireResponse", response_for(visit))
    assert again.status_code == 412
    etag = kiosk.get(f"QuestionnaireResponse/{visit.pk}")["ETag"]
    changed = response_for(visit, **{"same-place": [{"valueBoolean": True}]})
    assert kiosk.create("QuestionnaireResponse", changed, if_match=etag).status_code == 201
    stale = kiosk.create("QuestionnaireResponse", changed, if_match=etag)
    assert stale.status_code == 409
    assert "Someone else saved this intake" in issue_text(stale)


def test_bad_answers_are_named_item_by_item_and_nothing_is_saved(kiosk, response_for, visit):
    document = response_for(
        visit,
        **{
            "same-place": [{"valueString": "yes"}],
            "how-often": [{"valueCoding": {"code": "sometimes"}}],
            "first-noticed": [
                {"valueDate": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()}
            ],
        },
    )
    document["item"].append({"linkId": "favourite-colour", "answer": [{"valueString": "blue"}]})
    response = kiosk.create("QuestionnaireResponse", document)
    assert response.status_code == 422
    assert issues_by_item(response) == {
        "same-place": ["Answer with valueBoolean."],
        "favourite-colour": ["“favourite-colour” is not a question of this visit's questionnaire."],
    }
    assert not visit.answers.exists()
    document = response_for(
        visit,
        **{
            "how-often": [{"valueCoding": {"code": "sometimes"}}],
            "first-noticed": [
                {"valueDate": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()}
            ],
            "episode-length": [{"valueQuantity": {"value": 5, "code": "fortnights"}}],
        },
    )
    response = kiosk.create("QuestionnaireResponse", document)
    assert response.status_code == 422
    assert issues_by_item(response) == {
        "episode-length": ["Give the unit as a UCUM code: s, min, h, d."],
    }
    document = response_for(
        visit,
        **{
            "how-often": [{"valueCoding": {"code": "sometimes"}}],
            "first-noticed": [
                {"valueDate": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()}
            ],
            "pregnant": None,
        },
    )
    response = kiosk.create("QuestionnaireResponse", document)
    assert response.status_code == 422
    assert issues_by_item(response) == {
        "how-often": ["Choose one of the answers shown."],
        "first-noticed": ["This date is in the future."],
        "pregnant": ["Answer this question."],
    }
    assert not visit.answers.exists()


def test_a_draft_may_leave_required_questions_unanswered(kiosk, response_for, visit):
    document = response_for(visit, pregnant=None)
    document["status"] = "in-progress"
    assert kiosk.create("QuestionnaireResponse", document).status_code == 201
    visit.refresh_from_db()
    assert visit.status == "intake_in_progress"


def test_another_questionnaire_or_patient_is_refused(kiosk, response_for, visit):
    document = response_for(visit)
    document["questionnaire"] = document["questionnaire"].replace("|", "|9")
    document["subject"] = {"reference": "Patient/999999"}
    response = kiosk.create("QuestionnaireResponse", document)
    assert response.status_code == 422
    messages = issues_by_item(response)[None]
    assert messages[0].startswith("The questionnaire is not this visit's")
    assert messages[1] == "The subject is not this visit's patient."


def test_malformed_bodies_are_a_400_or_422_never_a_500(kiosk, response_for, visit):
    assert kiosk.create("QuestionnaireResponse", None, body="{not json").status_code == 400
    broken = copy.deepcopy(response_for(visit))
    broken["item"] = [{"linkId": "how-often", "answer": ["several-times-a-day"]}]
    assert kiosk.create("QuestionnaireResponse", broken).status_code == 422
    assert kiosk.create("QuestionnaireResponse", {"resourceType": "Patient"}).status_code == 422
    broken["encounter"] = {"reference": "Encounter/999999"}
    assert kiosk.create("QuestionnaireResponse", broken).status_code == 404


def test_a_read_only_token_cannot_send_answers(client, clinic_admin, response_for, visit):
    lab = FhirClient(client, _token(clinic_admin, submits_answers=False))
    response = lab.create("QuestionnaireResponse", response_for(visit))
    assert response.status_code == 403
    assert not visit.answers.exists()


def test_staff_sessions_send_answers_with_the_intake_form(desk_client, response_for, visit):
    response = FhirClient(desk_client).create("QuestionnaireResponse", response_for(visit))
    assert response.status_code == 403
    assert "staff use the intake form" in issue_text(response)


def test_other_resources_are_not_created(kiosk, visit):
    response = kiosk.create("Patient", {"resourceType": "Patient"})
    assert response.status_code == 405
