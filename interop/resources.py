"""Our records as FHIR R4 resources (JSON-ready dicts), one function per resource type.

The mapping is ours; the `fhir.resources` library checks its output in the tests. Codes
come only from the records (the condition's ICD-10-CM and SNOMED CT codes, an order's
copied LOINC or CPT code): where a record has none, a concept is text only.
"""

import base64

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from intake import answer_types
from intake.models import Patient, TestOrder, Visit

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"


def instant(moment):
    """A FHIR instant: UTC, to the second."""
    return timezone.localtime(moment, timezone.UTC).isoformat(timespec="seconds")


def _meta(updated_at):
    return {"lastUpdated": instant(updated_at)}


def _reference(resource_type, pk):
    return {"reference": f"{resource_type}/{pk}"}


def _person(user):
    """Someone on the staff, by name only: the API serves no Practitioner resources."""
    return {"display": user.get_full_name() or user.get_username()}


def condition_concept(condition, *, text=None):
    """The condition as its ICD-10-CM and SNOMED CT codes, those it has."""
    coding = []
    if condition.icd10cm_code:
        coding.append(
            {
                "system": ICD10CM,
                "code": condition.icd10cm_code,
                **({"display": condition.icd10cm_title} if condition.icd10cm_title else {}),
            }
        )
    if condition.snomed_code:
        coding.append({"system": SNOMED, "code": condition.snomed_code})
    return {**({"coding": coding} if coding else {}), "text": text or condition.title}


# Patient


GENDER = {
    Patient.SexAtBirth.FEMALE: "female",
    Patient.SexAtBirth.MALE: "male",
    Patient.SexAtBirth.INTERSEX: "other",
    Patient.SexAtBirth.UNKNOWN: "unknown",
}


def record_number_identifier(mrn):
    return {
        "use": "usual",
        "type": {"coding": [{"system": V2_0203, "code": "MR"}], "text": "Medical record number"},
        "system": settings.FHIR_RECORD_NUMBER_SYSTEM,
        "value": mrn,
    }


def patient(record):
    resource = {
        "resourceType": "Patient",
        "id": str(record.pk),
        "meta": _meta(record.updated_at),
        "identifier": [record_number_identifier(record.mrn)],
        # A record merged into another is kept, pointing at the one in use.
        "active": not record.is_merged,
        "name": [{"use": "official", "family": record.family_name, "given": [record.given_name]}],
        "gender": GENDER[record.sex_at_birth],
        "birthDate": record.date_of_birth.isoformat(),
    }
    telecom = []
    if record.phone:
        telecom.append({"system": "phone", "value": record.phone})
    if record.email:
        telecom.append({"system": "email", "value": record.email})
    if telecom:
        resource["telecom"] = telecom
    if record.preferred_language:
        if record.preferred_language == Patient.Language.OTHER:
            language = {"text": record.other_language}
        else:
            language = {
                "coding": [{"system": "urn:ietf:bcp:47", "code": record.preferred_language}],
                "text": record.get_preferred_language_display(),
            }
        resource["communication"] = [{"language": language, "preferred": True}]
    if record.is_merged:
        resource["link"] = [
            {"other": _reference("Patient", record.merged_into_id), "type": "replaced-by"}
        ]
    return resource


# Encounter


def encounter_status(visit):
    """R4 Encounter.status: it has no "no-show", so a visit not attended is cancelled."""
    arrived = "arrived" if visit.checked_in_at else "planned"
    return {
        Visit.Status.SCHEDULED: "planned",
        Visit.Status.CHECKED_IN: "arrived",
        Visit.Status.INTAKE_IN_PROGRESS: arrived,
        Visit.Status.INTAKE_COMPLETE: arrived,
        Visit.Status.SEEN: "in-progress",
        Visit.Status.CLOSED: "finished",
        Visit.Status.CANCELLED: "cancelled",
        Visit.Status.DID_NOT_ATTEND: "cancelled",
    }[visit.status]


def encounter(visit):
    resource = {
        "resourceType": "Encounter",
        "id": str(visit.pk),
        "meta": _meta(visit.updated_at),
        "status": encounter_status(visit),
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": _reference("Patient", visit.patient_id),
        "period": {"start": instant(visit.checked_in_at or visit.scheduled_at)},
        "reasonCode": [condition_concept(visit.condition)],
    }
    if visit.provider_id:
        resource["participant"] = [{"individual": _person(visit.provider)}]
    return resource


# Questionnaire and QuestionnaireResponse


def questionnaire_url(condition):
    """The questionnaire's canonical URL: the condition's public page; each published
    revision is a version of it."""
    return settings.STAFF_BASE_URL + reverse("conditions:detail", kwargs={"slug": condition.slug})


def questionnaire_canonical(version):
    return f"{questionnaire_url(version.condition)}|{version.number}"


def _question_item(question):
    kind = answer_types.of(question)
    item = {
        "linkId": question.key,
        "text": question.wording,
        "type": kind.fhir_type,
        "required": question.required,
    }
    if kind.repeats:
        item["repeats"] = True
    if options := kind.fhir_options(question):
        item["answerOption"] = options
    if kind.fhir_type == "quantity":
        item["extension"] = [
            {"url": UNIT_OPTION, "valueCoding": {"system": answer_types.UCUM, "code": code}}
            for code in answer_types.DurationAnswer.UCUM_UNITS.values()
        ]
    if question.help_text:
        item["item"] = [
            {"linkId": f"{question.key}.help", "type": "display", "text": question.help_text}
        ]
    return item


def questionnaire(version):
    """A published revision of a condition's questions. Who is asked a question (by sex
    at birth and age) has no place in `enableWhen`, which tests other answers."""
    condition = version.condition
    page = version.page()
    concept = condition_concept(page)
    return {
        "resourceType": "Questionnaire",
        "id": str(version.pk),
        "meta": _meta(version.created_at),
        "url": questionnaire_url(condition),
        "version": str(version.number),
        "title": page.title,
        "status": "active" if condition.published_version_id == version.pk else "retired",
        "subjectType": ["Patient"],
        "date": instant(version.created_at),
        **({"code": concept["coding"]} if "coding" in concept else {}),
        "item": [_question_item(question) for question in version.questions()],
    }


def questionnaire_response_status(visit, answers):
    if any(answer.corrected_at for answer in answers):
        return "amended"
    if visit.status in INTAKE_DONE:
        return "completed"
    if visit.status in {Visit.Status.CANCELLED, Visit.Status.DID_NOT_ATTEND}:
        return "stopped"
    return "in-progress"


INTAKE_DONE = {Visit.Status.INTAKE_COMPLETE, Visit.Status.SEEN, Visit.Status.CLOSED}


def questionnaire_response(visit):
    """A visit's answers, each with the question's wording as asked; `visit.answers` is
    expected prefetched."""
    answers = list(visit.answers.all())
    items = []
    for answer in answers:
        values = answer_types.of(answer).fhir_answers(answer)
        if values:
            items.append({"linkId": answer.question_key, "text": answer.wording, "answer": values})
    authored = max((answer.answered_at for answer in answers), default=visit.created_at)
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(visit.pk),
        # The intake's version: a client sends it back (If-Match) with changed answers.
        "meta": {"versionId": str(visit.intake_version), **_meta(visit.updated_at)},
        "questionnaire": questionnaire_canonical(visit.content_version),
        "status": questionnaire_response_status(visit, answers),
        "subject": _reference("Patient", visit.patient_id),
        "encounter": _reference("Encounter", visit.pk),
        "authored": instant(authored),
        **({"item": items} if items else {}),
    }


# ServiceRequest, Observation, DiagnosticReport


SERVICE_REQUEST_STATUS = {
    TestOrder.Status.ORDERED: "active",
    TestOrder.Status.SCHEDULED: "active",
    TestOrder.Status.RESULTED: "completed",
    TestOrder.Status.REVIEWED: "completed",
    TestOrder.Status.CANCELLED: "revoked",
}
# Our statuses a ServiceRequest?status= search matches, by FHIR status.
STATUSES_FOR_SEARCH = {
    fhir: [ours for ours, theirs in SERVICE_REQUEST_STATUS.items() if theirs == fhir]
    for fhir in set(SERVICE_REQUEST_STATUS.values())
}
PRIORITY = {
    TestOrder.Priority.ROUTINE: "routine",
    TestOrder.Priority.URGENT: "urgent",
    TestOrder.Priority.STAT: "stat",
}
CATEGORY = {"blood": ("LAB", "Laboratory"), "imaging": ("RAD", "Radiology")}


def test_concept(order):
    """The test as ordered, with its copied code; text only when it had none."""
    concept = {"text": order.test_name}
    if order.test_code:
        concept["coding"] = [
            {"system": order.test_code_system, "code": order.test_code, "display": order.test_name}
        ]
    return concept


def flags_behind(order, rules):
    """The visit's raised red flags whose rules (`rules`: those of the visit's content
    version) suggest this order's test."""
    raised = {flag["message"] for flag in order.visit.red_flags}
    return [
        rule.message
        for rule in rules
        if rule.message in raised and order.test.slug in rule.suggested_slugs
    ]


def service_request(order, *, flags=()):
    """A test order; `flags`: the red flags behind it (flags_behind)."""
    visit = order.visit
    resource = {
        "resourceType": "ServiceRequest",
        "id": str(order.pk),
        "meta": _meta(order.updated_at),
        "status": SERVICE_REQUEST_STATUS[order.status],
        "intent": "order",
        "priority": PRIORITY[order.priority],
        "code": test_concept(order),
        "subject": _reference("Patient", visit.patient_id),
        "encounter": _reference("Encounter", visit.pk),
        "authoredOn": instant(order.ordered_at),
        "requester": _person(order.ordered_by),
        "reasonCode": [
            condition_concept(visit.condition, text=order.reason),
            *({"text": flag} for flag in flags),
        ],
    }
    if order.site_display:
        resource["bodySite"] = [{"text": order.site_display}]
    if order.notes:
        resource["note"] = [{"text": order.notes}]
    return resource


def _result(resource_type, order):
    """What an order's Observation and DiagnosticReport share: the order, the patient and
    visit, when the result came and who gave it (staff who typed it in, or the lab or
    imaging centre that sent it over HL7 v2)."""
    performer = _person(order.resulted_by) if order.resulted_by else {"display": order.result_from}
    return {
        "resourceType": resource_type,
        "id": str(order.pk),
        "meta": _meta(order.updated_at),
        "basedOn": [_reference("ServiceRequest", order.pk)],
        "status": "final",
        "code": test_concept(order),
        "subject": _reference("Patient", order.visit.patient_id),
        "encounter": _reference("Encounter", order.visit_id),
        "issued": instant(order.resulted_at),
        "performer": [performer],
    }


def observation(order):
    """An order's result."""
    resource = _result("Observation", order)
    if order.performed_on:
        resource["effectiveDateTime"] = order.performed_on.isoformat()
    if order.result_value is not None:
        resource["valueQuantity"] = {
            "value": float(order.result_value),
            "unit": order.result_unit,
        }
        if order.result_text:
            resource["note"] = [{"text": order.result_text}]
    elif order.result_text:
        resource["valueString"] = order.result_text
    if order.abnormal is not None:
        code, display = ("A", "Abnormal") if order.abnormal else ("N", "Normal")
        resource["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": code, "display": display}]}
        ]
    return resource


def diagnostic_report(order):
    """An order's result as a report: the Observation, and the provider who reviewed it."""
    resource = {
        **_result("DiagnosticReport", order),
        "result": [_reference("Observation", order.pk)],
    }
    if category := CATEGORY.get(order.test.kind):
        code, display = category
        resource["category"] = [{"coding": [{"system": V2_0074, "code": code, "display": display}]}]
    if order.performed_on:
        resource["effectiveDateTime"] = order.performed_on.isoformat()
    if order.status == TestOrder.Status.REVIEWED:
        resource["resultsInterpreter"] = [_person(order.reviewed_by)]
        if order.review_comment:
            resource["conclusion"] = order.review_comment
    return resource


# AuditEvent


AUDIT_ACTION = {
    AuditEvent.Action.VIEW: "R",
    AuditEvent.Action.LIST: "R",
    AuditEvent.Action.EXPORT: "R",
    AuditEvent.Action.DENY: "R",
    AuditEvent.Action.CREATE: "C",
}


def audit_event(event):
    """One event of a record's trail: who did what to which record, when and from where."""
    agent = {"who": {"display": event.actor_label}, "requestor": True}
    if event.remote_addr:
        agent["network"] = {"address": event.remote_addr, "type": "2"}
    entity = []
    if event.patient_id is not None:
        entity.append({"what": _reference("Patient", event.patient_id)})
    resource_type = RESOURCE_OF_RECORD.get(event.record_type)
    if resource_type and event.record_id is not None:
        entity.append({"what": _reference(resource_type, event.record_id)})
    return {
        "resourceType": "AuditEvent",
        "id": str(event.pk),
        "meta": _meta(event.at),
        "type": {"system": DICOM, "code": "110110", "display": "Patient Record"},
        "action": AUDIT_ACTION.get(event.action, "U"),
        "recorded": instant(event.at),
        # 4: minor failure, as a refused read is.
        "outcome": "4" if event.action == AuditEvent.Action.DENY else "0",
        "outcomeDesc": event.get_action_display(),
        "agent": [agent],
        "source": {"observer": {"display": "Clinic intake"}},
        **({"entity": entity} if entity else {}),
    }


# Media: a photo or clip the patient sent with the pre-visit link. R4's Media (not
# DocumentReference) is the resource for photos and video taken of the patient, with
# their type, size, duration and dimensions in its own fields.

MEDIA_TYPE = "http://terminology.hl7.org/CodeSystem/media-type"
MEDIA_TYPES = {"photo": ("image", "Image"), "video": ("video", "Video")}


def binary_url(attachment):
    return f"{settings.FHIR_BASE_URL}/Binary/{attachment.pk}"


def media(attachment):
    code, display = MEDIA_TYPES[attachment.kind]
    content = {
        "contentType": attachment.content_type,
        "url": binary_url(attachment),
        "size": attachment.size,
        "hash": base64.b64encode(bytes.fromhex(attachment.sha1)).decode(),
        "creation": instant(attachment.uploaded_at),
    }
    resource = {
        "resourceType": "Media",
        "id": str(attachment.pk),
        "meta": _meta(attachment.updated_at),
        "status": "completed",
        "type": {"coding": [{"system": MEDIA_TYPE, "code": code, "display": display}]},
        "subject": _reference("Patient", attachment.visit.patient_id),
        "encounter": _reference("Encounter", attachment.visit_id),
        "createdDateTime": instant(attachment.uploaded_at),
        "note": [{"text": "Sent by the patient with the pre-visit link."}],
        "content": content,
    }
    if attachment.width:
        resource["width"], resource["height"] = attachment.width, attachment.height
    if attachment.duration is not None:
        resource["duration"] = round(attachment.duration.total_seconds(), 3)
    return resource


# The resource a record of ours is, by the audit trail's record type.
RESOURCE_OF_RECORD = {
    "intake.patient": "Patient",
    "intake.visit": "Encounter",
    "intake.testorder": "ServiceRequest",
    "intake.attachment": "Media",
}
