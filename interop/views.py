"""The FHIR R4 API at /fhir/: the CapabilityStatement, reads by id and searches, for
staff sessions and API clients' bearer tokens, and QuestionnaireResponses received from
API clients; every answer application/fhir+json. Bulk exports ($export) are queued here
and written by interop.export.

Every read of patient data goes through intake.access (the role check and the audit
event), every refusal is an audit event, and every failure is an OperationOutcome: 400
for a request it cannot read (a search it cannot run), 401 without valid credentials,
403 for a role without access, 404 for an unknown id or type, 405 for a method the
address does not take, and for answers received 409 (saved by someone else since), 412
(no If-Match where needed), 415 and 422 (items that do not fit the questions).
"""

import functools
import json
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from audit import trail
from audit.actors import Actor, client_address
from audit.models import AuditEvent
from conditions.models import Condition, ConditionVersion
from intake import access, attachment_views
from intake.answers import IntakeConflict
from intake.models import Answer, Visit
from signin.second_factor import must_use_second_factor

from . import export, resources, search
from .clients import client_for_token, permissions_of
from .models import BulkExport
from .questionnaire_responses import (
    ResponseRejected,
    encounter_id,
    receive_questionnaire_response,
)

FHIR_JSON = "application/fhir+json"


def fhir_response(resource, status=200, **headers):
    response = HttpResponse(
        json.dumps(resource), status=status, content_type=f"{FHIR_JSON}; charset=utf-8"
    )
    for name, value in headers.items():
        response[name] = value
    return response


def outcome(status, code, text, **headers):
    """An OperationOutcome with one issue, as the answer to a failed request."""
    return issues_outcome(status, code, [(None, text)], **headers)


def issues_outcome(status, code, issues, **headers):
    """An OperationOutcome with an issue per (linkId or None, message)."""
    return fhir_response(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": code,
                    "diagnostics": text,
                    **({"expression": [f"item.where(linkId='{key}')"]} if key else {}),
                }
                for key, text in issues
            ],
        },
        status=status,
        **headers,
    )


class NotAuthenticated(Exception):
    """No credentials, or ones that do not hold (a 401)."""


class BadRequest(Exception):
    """A request the API cannot read; the message says what to change."""


class Refused(Exception):
    """A request the API understands and will not carry out as sent."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code = status, code


def _actor(request):
    """Who is asking: an API client by its bearer token, or a signed-in staff member who
    has passed the second factor where their role needs it."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        client = client_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            raise NotAuthenticated("The token is unknown, expired or revoked.")
        return Actor.api_client(
            client, permissions=permissions_of(client), address=client_address(request)
        )
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated("Sign in, or send an API client's token as Authorization: Bearer.")
    if must_use_second_factor(user) and not user.is_verified():
        raise NotAuthenticated("Sign in with your authenticator app's code first.")
    return request.actor


def fhir_endpoint(view, *, allowed=("GET", "HEAD")):
    """Authenticates the caller and turns every refusal or failure into an
    OperationOutcome; `allowed`: the methods the address takes."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in allowed:
            return outcome(
                405,
                "not-supported",
                f"This address takes {', '.join(allowed)}.",
                Allow=", ".join(allowed),
            )
        try:
            actor = _actor(request)
        except NotAuthenticated as error:
            trail.record(
                action=AuditEvent.Action.DENY,
                record_type="fhir",
                actor=request.actor,
                page=request.resolver_match.view_name,
            )
            return outcome(401, "login", str(error), **{"WWW-Authenticate": "Bearer"})
        try:
            result = view(request, actor, *args, **kwargs)
        except (search.SearchError, BadRequest) as error:
            return outcome(400, "invalid", str(error))
        except ResponseRejected as error:
            return issues_outcome(422, "invalid", error.issues)
        except Refused as error:
            return outcome(error.status, error.code, str(error))
        except Http404:
            return outcome(404, "not-found", "There is no such resource here.")
        except PermissionDenied as error:
            trail.record(
                action=AuditEvent.Action.DENY,
                record=getattr(error, "record", None),
                record_type="fhir",
                patient_id=getattr(error, "patient_id", None),
                actor=actor,
                page=request.resolver_match.view_name,
            )
            return outcome(403, "forbidden", "Your role does not give access to this record.")
        if isinstance(result, HttpResponseBase):
            return result
        headers = {}
        if version := result.get("meta", {}).get("versionId"):
            headers["ETag"] = f'W/"{version}"'
        return fhir_response(result, **headers)

    return wrapper


def _digits(pk):
    if not pk.isdigit():
        raise Http404
    return int(pk)


def _order_with_result(actor, pk):
    order = access.order_for(actor, _digits(pk))
    if not order.has_result:
        raise Http404
    return order


def _questionnaire_response(actor, pk):
    visit = access.visit_for(actor, _digits(pk), permission="intake.view_answer")
    if visit.content_version_id is None:
        raise Http404
    return _response_of(visit.pk)


def _response_of(visit_pk):
    """The visit's answers as a QuestionnaireResponse (the caller has checked access)."""
    visit = (
        Visit.objects.select_related("content_version__condition")
        .prefetch_related(Prefetch("answers", Answer.objects.order_by("position", "id")))
        .get(pk=visit_pk)
    )
    return resources.questionnaire_response(visit)


def _service_request(actor, pk):
    order = access.order_for(actor, _digits(pk))
    return resources.service_request(
        order, flags=resources.flags_behind(order, order.visit.red_flag_rules())
    )


def questionnaire_versions():
    """The revisions a Questionnaire is served for: the one published now, and every
    one a visit was opened with."""
    published = Condition.objects.filter(published_version__isnull=False)
    return ConditionVersion.objects.filter(
        Q(pk__in=published.values("published_version")) | Q(visits__isnull=False)
    ).distinct()


def _questionnaire(actor, pk):
    """Content, not patient data: any authenticated caller reads it, unaudited."""
    version = get_object_or_404(
        questionnaire_versions().select_related("condition"), pk=_digits(pk)
    )
    return resources.questionnaire(version)


def _audit_event(actor, pk):
    event = get_object_or_404(AuditEvent, pk=_digits(pk))
    access.read(actor, event, patient_id=event.patient_id, permissions=["audit.view_auditevent"])
    return resources.audit_event(event)


def _kept_attachment(actor, pk, *, later_part=False):
    attachment = access.attachment_for(actor, _digits(pk), later_part=later_part)
    if attachment.is_removed:
        raise Http404
    return attachment


def _binary(request, actor, pk):
    """A photo's or clip's own bytes (a Media resource's content.url), with byte ranges."""
    attachment = _kept_attachment(actor, pk, later_part=attachment_views.later_part(request))
    return attachment_views.file_response(request, attachment)


READS = {
    "Patient": lambda actor, pk: resources.patient(access.patient_for(actor, _digits(pk))),
    "Encounter": lambda actor, pk: resources.encounter(access.visit_for(actor, _digits(pk))),
    "Questionnaire": _questionnaire,
    "QuestionnaireResponse": _questionnaire_response,
    "ServiceRequest": _service_request,
    "Observation": lambda actor, pk: resources.observation(_order_with_result(actor, pk)),
    "DiagnosticReport": lambda actor, pk: resources.diagnostic_report(
        _order_with_result(actor, pk)
    ),
    "AuditEvent": _audit_event,
    "Media": lambda actor, pk: resources.media(_kept_attachment(actor, pk)),
}


@fhir_endpoint
def read(request, actor, resource_type, pk):
    if resource_type == "Binary":
        return _binary(request, actor, pk)
    if resource_type not in READS:
        raise Http404
    return READS[resource_type](actor, pk)


def _search(request, actor, resource_type, params):
    if resource_type not in search.SEARCHES:
        if resource_type in READS:
            raise search.SearchError(f"{resource_type} is read by id here, not searched.")
        raise Http404
    return search.run(search.SEARCHES[resource_type], actor=actor, params=params)


# Only an API client's token sends answers here (staff use the intake form), so no
# cookie can carry a request from another site: CSRF does not apply.
@csrf_exempt
@functools.partial(fhir_endpoint, allowed=("GET", "HEAD", "POST"))
def resource_type_view(request, actor, resource_type):
    """A search (GET), or a QuestionnaireResponse received (POST)."""
    if request.method != "POST":
        return _search(request, actor, resource_type, request.GET)
    if resource_type != "QuestionnaireResponse":
        raise Refused(405, "not-supported", f"{resource_type} is read here, not created.")
    return _receive(request, actor)


IF_MATCH = re.compile(r'^W/"(\d+)"$')


def _expected_version(request, visit):
    """The intake version the client last read (If-Match); a visit never answered
    takes answers without one."""
    if_match = request.headers.get("If-Match")
    if if_match is None:
        if visit.intake_version == 0:
            return 0
        raise Refused(
            412,
            "conflict",
            "This visit has answers already: read its QuestionnaireResponse and send its "
            'version as If-Match: W/"<versionId>".',
        )
    if not (match := IF_MATCH.match(if_match.strip())):
        raise BadRequest('If-Match must be W/"<versionId>" of the QuestionnaireResponse.')
    return int(match[1])


def _receive(request, actor):
    """A visit's answers sent as a QuestionnaireResponse: saved as the intake form saves
    them, then the response as saved (201)."""
    if "Authorization" not in request.headers:
        raise Refused(403, "forbidden", "Answers come from API clients; staff use the intake form.")
    if request.content_type not in ("application/fhir+json", "application/json"):
        raise Refused(415, "not-supported", "Send the resource as application/fhir+json.")
    try:
        document = json.loads(request.body)
    except ValueError as error:
        raise BadRequest("The body is not JSON.") from error
    visit = access.visit_for(actor, encounter_id(document), permission="intake.change_answer")
    try:
        receive_questionnaire_response(
            visit=visit,
            document=document,
            expected_version=_expected_version(request, visit),
            actor=actor,
        )
    except IntakeConflict as error:
        raise Refused(409, "conflict", error.messages[0]) from error
    except ValidationError as error:
        raise ResponseRejected([(None, message) for message in error.messages]) from error
    resource = _response_of(visit.pk)
    return fhir_response(
        resource,
        status=201,
        Location=f"{settings.FHIR_BASE_URL}/QuestionnaireResponse/{visit.pk}",
        ETag=f'W/"{resource["meta"]["versionId"]}"',
    )


# A search by POST reads only, and lets a client keep search values (a record number)
# out of addresses and their logs.
@csrf_exempt
@functools.partial(fhir_endpoint, allowed=("POST",))
def search_by_post(request, actor, resource_type):
    return _search(request, actor, resource_type, request.POST)


# Bulk Data export ($export): a kick-off queues the export and answers with its status
# address; only the client or staff member who asked may poll it, fetch its files or
# cancel it.

EXPORT_PARAMS = {"_type", "_since", "_outputFormat"}
NDJSON_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}


def _status_address(export):
    return f"{settings.FHIR_BASE_URL}/$export-status/{export.pk}"


@functools.partial(fhir_endpoint, allowed=("GET",))
def export_kickoff(request, actor):
    """Queue an export of every record of the asked types (`_type`, all by default)
    changed since `_since`; 202 with its status address."""
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise BadRequest("An export runs in the background: send Prefer: respond-async.")
    params = request.GET
    if unknown := sorted(set(params) - EXPORT_PARAMS):
        raise BadRequest(
            f"$export does not take {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(EXPORT_PARAMS))}."
        )
    if any(value not in NDJSON_FORMATS for value in params.getlist("_outputFormat")):
        raise BadRequest("Exports are written as application/fhir+ndjson only.")
    try:
        types = export.types_asked(
            name for value in params.getlist("_type") for name in value.split(",")
        )
        since = params.get("_since")
        since = export.since_moment(since, name="_since") if since else None
    except export.ExportError as error:
        raise BadRequest(str(error)) from error
    export.check_access(actor, types)
    query = f"?{params.urlencode()}" if params else ""
    operation = (
        "Patient/$export" if request.resolver_match.url_name == "patient-export" else "$export"
    )
    started = export.start_bulk_export(
        actor=actor,
        types=types,
        since=since,
        request=f"{settings.FHIR_BASE_URL}/{operation}{query}",
    )
    return HttpResponse(status=202, headers={"Content-Location": _status_address(started)})


def _export_of(actor, pk):
    """The export, to the one who asked for it; 404 to anyone else, or once cancelled."""
    found = BulkExport.objects.filter(pk=pk).exclude(status=BulkExport.Status.CANCELLED).first()
    if found is None or not found.belongs_to(actor):
        raise Http404
    return found


# Only the requester's token or session reaches an export, and a browser sends DELETE to
# another site only after a CORS check this server never passes.
@csrf_exempt
@functools.partial(fhir_endpoint, allowed=("GET", "DELETE"))
def export_status(request, actor, pk):
    """202 with X-Progress while the export runs, then 200 with its manifest; DELETE
    cancels it and removes its files."""
    found = _export_of(actor, pk)
    if request.method == "DELETE":
        export.cancel_bulk_export(found)
        trail.record(action=AuditEvent.Action.CANCEL, record=found, actor=actor)
        return HttpResponse(status=202)
    if found.status == BulkExport.Status.RUNNING:
        return HttpResponse(
            status=202, headers={"X-Progress": found.progress or "queued", "Retry-After": "5"}
        )
    if found.status == BulkExport.Status.FAILED:
        raise Refused(500, "exception", "The export failed; ask for it again.")
    return HttpResponse(json.dumps(export.manifest(found)), content_type="application/json")


@functools.partial(fhir_endpoint, allowed=("GET",))
def export_file(request, actor, pk, resource_type):
    """One NDJSON file of a finished export; each download is audited."""
    found = _export_of(actor, pk)
    if found.status != BulkExport.Status.COMPLETE or not found.counts.get(resource_type):
        raise Http404
    export.check_access(actor, [resource_type])
    trail.record(
        action=AuditEvent.Action.EXPORT,
        record=found,
        actor=actor,
        file=resource_type,
        count=found.counts[resource_type],
    )
    return FileResponse(
        open(found.directory / f"{resource_type}.ndjson", "rb"),
        content_type="application/fhir+ndjson",
    )


def metadata(request):
    """The CapabilityStatement: what this server reads and searches. Open to anyone."""
    if request.method not in ("GET", "HEAD"):
        return outcome(405, "not-supported", "This API only reads.", Allow="GET, HEAD")
    return fhir_response(capability_statement())


def capability_statement():
    def described(resource_type):
        entry = {"type": resource_type, "interaction": [{"code": "read"}]}
        if resource_type == "QuestionnaireResponse":
            entry["interaction"].append({"code": "create"})
        if found := search.SEARCHES.get(resource_type):
            entry["interaction"].append({"code": "search-type"})
            entry["searchParam"] = [
                {"name": name, "type": SEARCH_PARAM_TYPES[name]}
                for name in (*found.params, "_lastUpdated")
            ]
        return entry

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "kind": "instance",
        "software": {"name": "Clinic intake"},
        "implementation": {"description": "Clinic intake FHIR API", "url": settings.FHIR_BASE_URL},
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "A staff session, or an API client's token (read-only, "
                    "expiring, revocable; created by a clinic administrator) sent as "
                    "Authorization: Bearer. Every read of patient data is audited."
                },
                "resource": [described(resource_type) for resource_type in [*READS, "Binary"]],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    }


SEARCH_PARAM_TYPES = {
    "identifier": "token",
    "patient": "reference",
    "encounter": "reference",
    "status": "token",
    "_lastUpdated": "date",
}


def unknown(request, rest=""):
    return outcome(404, "not-found", "There is no such resource type or operation here.")
