"""Each record as its FHIR resource: what it says, its codes and its references, every
resource checked against the R4B models (tests/fhir.py)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from audit.actors import Actor
from intake.models import Patient
from intake.orders import record_result, review_result

from .factories import PatientFactory, TestOrderFactory
from .fhir import FhirClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def fhir(provider_client):
    return FhirClient(provider_client)


@pytest.fixture
def emg(flagged_visit, provider):
    """An EMG of both legs for the flagged visit, ordered by the provider."""
    return TestOrderFactory(visit=flagged_visit, ordered_by=provider)


def test_patient_has_record_number_name_and_birth_date(fhir, visit, settings):
    patient = visit.patient
    resource = fhir.get(f"Patient/{patient.pk}").resource
    assert resource["identifier"][0]["system"] == settings.FHIR_RECORD_NUMBER_SYSTEM
    assert resource["identifier"][0]["value"] == patient.mrn
    assert resource["name"] == [{"use": "official", "family": "Lindqvist", "given": ["Mara"]}]
    assert resource["gender"] == "female"
    assert resource["birthDate"] == patient.date_of_birth.isoformat()
    assert resource["active"] is True


def test_encounter_points_to_its_patient_with_the_condition_codes(fhir, visit):
    resource = fhir.get(f"Encounter/{visit.pk}").resource
    assert resource["status"] == "planned"
    assert resource["subject"] == {"reference": f"Patient/{visit.patient_id}"}
    assert resource["reasonCode"][0]["coding"] == [
        {
            "system": "http://hl7.org/fhir/sid/icd-10-cm",
            "code": "R25.3",
            "display": "Fasciculation",
        },
        {"system": "http://snomed.info/sct", "code": "82470000"},
    ]
    assert resource["reasonCode"][0]["text"] == "Muscle twitches"


def test_questionnaire_gives_each_question_its_item_type_and_options(fhir, visit):
    version = visit.content_version
    resource = fhir.get(f"Questionnaire/{version.pk}").resource
    assert resource["version"] == str(version.number)
    assert resource["status"] == "active"
    items = {item["linkId"]: item for item in resource["item"]}
    assert items["first-noticed"]["type"] == "date"
    assert items["episode-length"]["type"] == "quantity"
    assert items["same-place"]["type"] == "boolean"
    assert items["how-often"]["type"] == "choice"
    assert "repeats" not in items["how-often"]
    assert items["how-often"]["answerOption"][0] == {
        "valueCoding": {"code": "all-the-time", "display": "All the time"}
    }
    assert items["other-symptoms"]["repeats"] is True
    assert items["muscles-affected"]["repeats"] is True
    assert {"valueCoding": {"code": "calf-left", "display": "Calf (left)"}} in items[
        "muscles-affected"
    ]["answerOption"]
    # Who is asked (here by sex at birth) is not an enableWhen: that tests answers.
    assert all("enableWhen" not in item for item in resource["item"])


def test_questionnaire_response_points_to_its_questionnaire_encounter_and_patient(
    fhir, flagged_visit
):
    visit = flagged_visit
    response = fhir.get(f"QuestionnaireResponse/{visit.pk}").resource
    assert response["subject"] == {"reference": f"Patient/{visit.patient_id}"}
    assert response["encounter"] == {"reference": f"Encounter/{visit.pk}"}
    url, _, version = response["questionnaire"].partition("|")
    questionnaire = fhir.get(f"Questionnaire/{visit.content_version_id}").resource
    assert (url, version) == (questionnaire["url"], questionnaire["version"])
    patient = fhir.get(response["subject"]["reference"]).resource
    encounter = fhir.get(response["encounter"]["reference"]).resource
    assert encounter["subject"]["reference"] == f"Patient/{patient['id']}"
    # Every answer is to one of the questionnaire's items, of its type.
    item_types = {item["linkId"]: item["type"] for item in questionnaire["item"]}
    answers = {item["linkId"]: item["answer"] for item in response["item"]}
    assert set(answers) <= set(item_types)
    assert answers["episode-length"] == [
        {
            "valueQuantity": {
                "value": 5.0,
                "unit": "seconds",
                "system": "http://unitsofmeasure.org",
                "code": "s",
            }
        }
    ]
    assert answers["same-place"] == [{"valueBoolean": False}]
    assert {"valueCoding": {"code": "weakness", "display": "Weakness"}} in answers["other-symptoms"]
    assert response["status"] == "completed"


def test_service_request_carries_code_priority_site_and_the_flags_behind_it(
    fhir, flagged_visit, provider
):
    visit = flagged_visit
    mri = TestOrderFactory(
        visit=visit,
        ordered_by=provider,
        test=visit.condition.tests.get(slug="mri-spine"),
        body_site="lumbar-spine",
        priority="urgent",
    )
    resource = fhir.get(f"ServiceRequest/{mri.pk}").resource
    assert resource["status"] == "active"
    assert resource["intent"] == "order"
    assert resource["priority"] == "urgent"
    # The catalog has no sure code for a spine MRI: text only, never an invented code.
    assert resource["code"] == {"text": "MRI scan of the spine"}
    assert resource["bodySite"] == [{"text": "Lumbar spine (lower back)"}]
    reasons = [concept["text"] for concept in resource["reasonCode"]]
    assert reasons[0] == mri.reason
    assert "Reports loss of or change in sensation" in reasons
    assert resource["subject"] == {"reference": f"Patient/{visit.patient_id}"}
    assert resource["encounter"] == {"reference": f"Encounter/{visit.pk}"}


def test_service_request_names_side_and_limb_and_the_copied_cpt_code(fhir, emg):
    resource = fhir.get(f"ServiceRequest/{emg.pk}").resource
    assert resource["bodySite"] == [{"text": "Both legs"}]
    assert resource["code"]["coding"] == [
        {"system": "http://www.ama-assn.org/go/cpt", "code": "95860", "display": emg.test_name}
    ]


def test_result_is_an_observation_and_a_report_with_its_reviewer(fhir, emg, provider):
    actor = Actor.for_user(provider)
    record_result(
        order=emg,
        actor=actor,
        text="Fasciculations in both calves; no denervation.",
        value=Decimal("3.5"),
        unit="mV",
        abnormal=False,
        performed_on=timezone.localdate(),
    )
    observation = fhir.get(f"Observation/{emg.pk}").resource
    assert observation["valueQuantity"] == {"value": 3.5, "unit": "mV"}
    assert observation["interpretation"][0]["coding"][0]["code"] == "N"
    assert observation["basedOn"] == [{"reference": f"ServiceRequest/{emg.pk}"}]
    report = fhir.get(f"DiagnosticReport/{emg.pk}").resource
    assert "resultsInterpreter" not in report
    emg.refresh_from_db()
    review_result(order=emg, actor=actor, comment="Benign fasciculations.")
    report = fhir.get(f"DiagnosticReport/{emg.pk}").resource
    assert report["resultsInterpreter"] == [{"display": provider.get_full_name()}]
    assert report["conclusion"] == "Benign fasciculations."
    assert report["result"] == [{"reference": f"Observation/{emg.pk}"}]
    assert fhir.get(f"ServiceRequest/{emg.pk}").resource["status"] == "completed"


def test_an_order_without_a_result_has_no_observation(fhir, emg):
    response = fhir.get(f"Observation/{emg.pk}")
    assert response.status_code == 404
    assert response.resource["resourceType"] == "OperationOutcome"


def test_capability_statement_lists_what_is_read_and_searched(client):
    response = FhirClient(client).get("metadata")
    assert response.status_code == 200
    resource = response.resource
    assert resource["fhirVersion"] == "4.0.1"
    by_type = {entry["type"]: entry for entry in resource["rest"][0]["resource"]}
    assert {"name": "identifier", "type": "token"} in by_type["Patient"]["searchParam"]
    assert [i["code"] for i in by_type["Observation"]["interaction"]] == ["read"]


def test_merged_patient_points_to_the_record_in_use(fhir, visit):
    other = PatientFactory()
    Patient.objects.filter(pk=other.pk).update(merged_into=visit.patient)
    resource = fhir.get(f"Patient/{other.pk}").resource
    assert resource["active"] is False
    assert resource["link"] == [
        {"other": {"reference": f"Patient/{visit.patient_id}"}, "type": "replaced-by"}
    ]


def test_unknown_id_is_a_404_operation_outcome(fhir, db):
    for address in ["Patient/999999", "Encounter/abc", "Questionnaire/424242", "Flag/1"]:
        response = fhir.get(address)
        assert response.status_code == 404, address
        assert response.resource["resourceType"] == "OperationOutcome"


def test_a_result_sent_over_hl7_names_its_sender_as_performer(fhir, emg):
    record_result(
        order=emg,
        actor=Actor.system("hl7"),
        text="Benign fasciculations.",
        sent_by="Riverside Neurophysiology Lab",
    )

    for resource_type in ("Observation", "DiagnosticReport"):
        resource = fhir.get(f"{resource_type}/{emg.pk}").resource
        assert resource["performer"] == [{"display": "Riverside Neurophysiology Lab"}]
