"""FHIR searches: the parameters each resource type takes, and searchset Bundles paged by
keyset (a signed cursor naming the last row sent), so a page costs the same queries
however deep it is.

Anything a search does not know (a parameter, a modifier, a sort key, a value it cannot
read) is a SearchError, which the API answers with a 400 OperationOutcome.
"""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit import trail
from audit.models import AuditEvent
from intake import access
from intake.models import Answer, Attachment, Patient, TestOrder, Visit

from . import resources

DEFAULT_COUNT = 20
MAX_COUNT = 100
# Parameters every search takes; _format is accepted for JSON only.
COMMON = {"_count", "_lastUpdated", "_sort", "_cursor", "_format"}
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
SORT_KEYS = {"_id", "-_id", "_lastUpdated", "-_lastUpdated"}
CURSOR_SALT = "interop.search.cursor"


class SearchError(Exception):
    """A search the API cannot run as asked; the message says what to change."""


def _one(params, name):
    values = params.getlist(name)
    if len(values) > 1:
        raise SearchError(f"Give {name} once.")
    value = values[0].strip()
    if not value:
        raise SearchError(f"{name} has no value.")
    return value


def reference_id(value, resource_type):
    """The id in a reference parameter: "12", "Patient/12" or the full address."""
    for prefix in (f"{settings.FHIR_BASE_URL}/{resource_type}/", f"{resource_type}/"):
        if value.startswith(prefix):
            value = value.removeprefix(prefix)
            break
    if not value.isdigit():
        raise SearchError(f"“{value}” is not a {resource_type} reference.")
    return int(value)


def moment_span(text, *, name="_lastUpdated"):
    """A FHIR date or dateTime as the [start, end) it covers; a time needs its zone.
    `name`: the parameter it came in, for the message."""
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            start = datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)
            return start, start + datetime.timedelta(days=1)
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise SearchError(
            f"{name} “{text}” is not a date (2026-11-30) or a date and time with its "
            "zone (2026-11-30T10:00:00Z)."
        )
    return moment, moment + datetime.timedelta(seconds=1)


LAST_UPDATED_PREFIXES = ["ge", "gt", "le", "lt", "eq"]


def last_updated(field, values):
    """_lastUpdated=[prefix]date, as often as given (all must hold)."""
    condition = Q()
    for value in values:
        prefix = value[:2] if value[:2] in LAST_UPDATED_PREFIXES else "eq"
        start, end = moment_span(value.removeprefix(prefix) if value[:2] == prefix else value)
        condition &= {
            "ge": Q(**{f"{field}__gte": start}),
            "gt": Q(**{f"{field}__gte": end}),
            "le": Q(**{f"{field}__lt": end}),
            "lt": Q(**{f"{field}__lt": start}),
            "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
        }[prefix]
    return condition


class Search:
    """One resource type's search: its records, parameters and the resources they make."""

    resource_type = None
    permission = None
    updated_field = "updated_at"
    params = ()
    required = None  # a parameter the search cannot do without

    def records(self):
        raise NotImplementedError

    def filter(self, records, name, value):
        raise NotImplementedError

    def to_resources(self, records):
        raise NotImplementedError

    def audit(self, actor, records, page):
        access.listed(actor, records, page=page)


class PatientSearch(Search):
    resource_type = "Patient"
    permission = "intake.view_patient"
    params = ("identifier",)

    def records(self):
        return Patient.objects.all()

    def filter(self, records, name, value):
        system, _, mrn = value.rpartition("|")
        if system and system != settings.FHIR_RECORD_NUMBER_SYSTEM:
            return records.none()
        return records.filter(mrn=mrn)

    def to_resources(self, records):
        return [resources.patient(record) for record in records]


class EncounterSearch(Search):
    resource_type = "Encounter"
    permission = "intake.view_visit"
    params = ("patient",)

    def records(self):
        return Visit.objects.select_related("condition", "provider")

    def filter(self, records, name, value):
        return records.filter(patient_id=reference_id(value, "Patient"))

    def to_resources(self, records):
        return [resources.encounter(visit) for visit in records]


class QuestionnaireResponseSearch(Search):
    resource_type = "QuestionnaireResponse"
    permission = "intake.view_answer"
    params = ("encounter", "patient")

    def records(self):
        return (
            Visit.objects.filter(content_version__isnull=False)
            .select_related("content_version__condition")
            .prefetch_related(Prefetch("answers", Answer.objects.order_by("position", "id")))
        )

    def filter(self, records, name, value):
        if name == "encounter":
            return records.filter(pk=reference_id(value, "Encounter"))
        return records.filter(patient_id=reference_id(value, "Patient"))

    def to_resources(self, records):
        return [resources.questionnaire_response(visit) for visit in records]


class ServiceRequestSearch(Search):
    resource_type = "ServiceRequest"
    permission = "intake.view_testorder"
    params = ("patient", "status")

    def records(self):
        return TestOrder.objects.with_visit()

    def filter(self, records, name, value):
        if name == "patient":
            return records.filter(visit__patient_id=reference_id(value, "Patient"))
        statuses = []
        for code in value.split(","):
            if code not in resources.STATUSES_FOR_SEARCH:
                known = ", ".join(sorted(resources.STATUSES_FOR_SEARCH))
                raise SearchError(f"status “{code}” is not one of {known}.")
            statuses += resources.STATUSES_FOR_SEARCH[code]
        return records.filter(status__in=statuses)

    def to_resources(self, records):
        rules = {}  # read once per content version on the page
        found = []
        for order in records:
            visit = order.visit
            if visit.content_version_id not in rules:
                rules[visit.content_version_id] = visit.red_flag_rules()
            flags = resources.flags_behind(order, rules[visit.content_version_id])
            found.append(resources.service_request(order, flags=flags))
        return found


class AuditEventSearch(Search):
    """A patient's record's own trail; reading it is itself on the trail."""

    resource_type = "AuditEvent"
    permission = "audit.view_auditevent"
    updated_field = "at"
    params = ("patient",)
    required = "patient"

    def records(self):
        return AuditEvent.objects.all()

    def filter(self, records, name, value):
        return records.filter(patient_id=reference_id(value, "Patient"))

    def to_resources(self, records):
        return [resources.audit_event(event) for event in records]

    def audit(self, actor, records, page):
        if records:
            trail.record_listing(
                record_type=AuditEvent,
                record_ids=[event.pk for event in records],
                patient_ids=[event.patient_id for event in records],
                actor=actor,
                page=page,
            )


class MediaSearch(Search):
    resource_type = "Media"
    permission = "intake.view_visit"
    params = ("encounter", "patient")

    def records(self):
        return Attachment.objects.kept().select_related("visit")

    def filter(self, records, name, value):
        if name == "encounter":
            return records.filter(visit_id=reference_id(value, "Encounter"))
        return records.filter(visit__patient_id=reference_id(value, "Patient"))

    def to_resources(self, records):
        return [resources.media(attachment) for attachment in records]


SEARCHES = {
    search.resource_type: search
    for search in (
        PatientSearch,
        EncounterSearch,
        QuestionnaireResponseSearch,
        ServiceRequestSearch,
        AuditEventSearch,
        MediaSearch,
    )
}


def _count(params):
    if "_count" not in params:
        return DEFAULT_COUNT
    value = _one(params, "_count")
    if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
        raise SearchError(f"_count must be a whole number from 1 to {MAX_COUNT}.")
    return int(value)


def _sort(params):
    if "_sort" not in params:
        return "_id"
    value = _one(params, "_sort")
    if value not in SORT_KEYS:
        raise SearchError(f"_sort “{value}” is not one of {', '.join(sorted(SORT_KEYS))}.")
    return value


def _order(search, sort):
    """The columns a sort orders by (the id last, so the order is total), and whether
    it descends."""
    field = search.updated_field if sort.lstrip("-") == "_lastUpdated" else None
    return ([field, "pk"] if field else ["pk"]), sort.startswith("-")


def _after(fields, descending, key):
    """Rows after the keyset `key` (one value per field), in this order."""
    lookup = "lt" if descending else "gt"
    condition, equal = Q(), {}
    for field, value in zip(fields, key, strict=True):
        condition |= Q(**equal, **{f"{field}__{lookup}": value})
        equal[field] = value
    return condition


def _key(record, fields):
    return [
        value.isoformat() if isinstance(value, datetime.datetime) else value
        for value in (getattr(record, field) for field in fields)
    ]


def _unkey(fields, key):
    return [
        datetime.datetime.fromisoformat(value) if field != "pk" else value
        for field, value in zip(fields, key, strict=True)
    ]


def _search_signature(resource_type, params):
    """What a cursor belongs to: the search it continues, with the same parameters."""
    pairs = sorted([name, sorted(values)] for name, values in params.lists() if name != "_cursor")
    return [resource_type, pairs]


def run(search_class, *, actor, params):
    """One page of a search as a searchset Bundle; its records are audited."""
    search = search_class()
    access.may_search(actor, search.records().model, permission=search.permission)
    unknown = set(params) - COMMON - set(search.params)
    if unknown:
        raise SearchError(
            f"{search.resource_type} cannot be searched by {', '.join(sorted(unknown))}; it "
            f"takes {', '.join(sorted(set(search.params) | COMMON - {'_cursor'}))}."
        )
    if search.required and search.required not in params:
        raise SearchError(f"Searching {search.resource_type} needs {search.required}.")
    if "_format" in params and _one(params, "_format") not in JSON_FORMATS:
        raise SearchError("This server answers in JSON only.")
    count, sort = _count(params), _sort(params)
    records = search.records()
    for name in search.params:
        if name in params:
            records = search.filter(records, name, _one(params, name))
    if "_lastUpdated" in params:
        records = records.filter(last_updated(search.updated_field, params.getlist("_lastUpdated")))
    fields, descending = _order(search, sort)
    signature = _search_signature(search.resource_type, params)
    page_number = 1
    if "_cursor" in params:
        try:
            cursor = signing.loads(_one(params, "_cursor"), salt=CURSOR_SALT)
        except signing.BadSignature as error:
            raise SearchError("The _cursor is not one this server gave for this search.") from error
        if cursor["search"] != signature:
            raise SearchError("The _cursor belongs to another search: follow the next link.")
        records = records.filter(_after(fields, descending, _unkey(fields, cursor["after"])))
        page_number = cursor["page"] + 1
    ordering = [f"-{field}" if descending else field for field in fields]
    page = list(records.order_by(*ordering)[: count + 1])
    more, page = len(page) > count, page[:count]
    search.audit(actor, page, page_number)
    query = [(name, value) for name, values in signature[1] for value in values]
    links = [{"relation": "self", "url": _address(search.resource_type, query)}]
    if more:
        cursor = signing.dumps(
            {"search": signature, "after": _key(page[-1], fields), "page": page_number},
            salt=CURSOR_SALT,
        )
        links.append(
            {
                "relation": "next",
                "url": _address(search.resource_type, [*query, ("_cursor", cursor)]),
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{settings.FHIR_BASE_URL}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in search.to_resources(page)
        ],
    }


def _address(resource_type, query):
    address = f"{settings.FHIR_BASE_URL}/{resource_type}"
    return f"{address}?{urlencode(query)}" if query else address
