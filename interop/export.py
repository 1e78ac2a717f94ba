"""FHIR bulk export: every record of the asked types written as NDJSON, one file per
resource type, by `manage.py export_fhir` and by the Bulk Data `$export` operation alike.

Records are read by keyset (id order, `FHIR_EXPORT_BATCH_SIZE` rows per query, their
relations joined or prefetched per batch), so memory stays bounded by the batch size and
the queries per batch stay the same however many records there are. An export is one
audit event naming the types and counts: a system export reads every patient, so it is
not also an event per patient.
"""

import json
import shutil
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.tasks import task
from django.utils import timezone

from audit import trail
from audit.actors import Actor
from audit.models import AuditEvent
from intake import access
from intake.models import Answer, Attachment, Patient, TestOrder, Visit

from . import resources
from .models import BulkExport
from .search import SearchError, moment_span


@dataclass(frozen=True)
class ExportType:
    """One resource type an export writes: the records it comes from and the permission
    reading them takes."""

    permission: str
    records: Any  # () -> QuerySet
    to_resource: Any  # (record, cache) -> dict


def _service_request(order, cache):
    # The red-flag rules are read once per content version for the whole export.
    version = order.visit.content_version_id
    if version not in cache:
        cache[version] = order.visit.red_flag_rules()
    return resources.service_request(order, flags=resources.flags_behind(order, cache[version]))


# A content version's document is read once per export (the red-flag rules), not once per
# row: decoded for every row, it outweighs the rows themselves.
def _orders():
    return TestOrder.objects.with_visit().defer("visit__content_version__content")


def _resulted_orders():
    return _orders().filter(status__in=TestOrder.HAS_RESULT)


TYPES = {
    "Patient": ExportType(
        "intake.view_patient", Patient.objects.all, lambda record, cache: resources.patient(record)
    ),
    "Encounter": ExportType(
        "intake.view_visit",
        lambda: Visit.objects.select_related("condition", "provider"),
        lambda visit, cache: resources.encounter(visit),
    ),
    "QuestionnaireResponse": ExportType(
        "intake.view_answer",
        lambda: (
            Visit.objects.filter(content_version__isnull=False)
            .select_related("content_version__condition")
            .defer("content_version__content")
            .prefetch_related(Prefetch("answers", Answer.objects.order_by("position", "id")))
        ),
        lambda visit, cache: resources.questionnaire_response(visit),
    ),
    "ServiceRequest": ExportType("intake.view_testorder", _orders, _service_request),
    "Observation": ExportType(
        "intake.view_testorder",
        _resulted_orders,
        lambda order, cache: resources.observation(order),
    ),
    "DiagnosticReport": ExportType(
        "intake.view_testorder",
        _resulted_orders,
        lambda order, cache: resources.diagnostic_report(order),
    ),
    "Media": ExportType(
        "intake.view_visit",
        lambda: Attachment.objects.kept().select_related("visit"),
        lambda attachment, cache: resources.media(attachment),
    ),
}


class ExportError(ValueError):
    """Export parameters that cannot be run; the message says what to change."""


class ExportCancelled(Exception):
    """The export was cancelled while it ran."""


def types_asked(names):
    """The resource types named (all of them for none), in the order they are written."""
    names = [name.strip() for name in names if name.strip()]
    if unknown := sorted(set(names) - set(TYPES)):
        raise ExportError(f"Cannot export {', '.join(unknown)}: the types are {', '.join(TYPES)}.")
    return [name for name in TYPES if name in names or not names]


def since_moment(text, *, name):
    """The moment a `since` parameter names: a date (its midnight, UTC) or a date and
    time with its zone."""
    try:
        return moment_span(text.strip(), name=name)[0]
    except SearchError as error:
        raise ExportError(str(error)) from error


def check_access(actor, types):
    """Refuse (AccessDenied) an actor whose role may not read every type asked for."""
    for name in types:
        access.may_search(actor, TYPES[name].records().model, permission=TYPES[name].permission)


def _batches(records, size):
    """The records a batch at a time, by id: each batch is one query (and one per
    prefetched relation)."""
    records = records.order_by("pk")
    last = None
    while True:
        batch = list(records.filter(pk__gt=last)[:size] if last else records[:size])
        if batch:
            yield batch
        if len(batch) < size:
            return
        last = batch[-1].pk


def write_ndjson(directory, *, types, since=None, batch_size=None, on_batch=None):
    """Write `<Type>.ndjson` in `directory` for each type: one resource a line, of the
    records changed at or after `since`. `on_batch(type, written, total)` is called after
    each batch. Returns {type: resources written}."""
    batch_size = batch_size or settings.FHIR_EXPORT_BATCH_SIZE
    directory.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in types:
        kind = TYPES[name]
        records = kind.records()
        if since is not None:
            records = records.filter(updated_at__gte=since)
        total = records.count()
        written, cache = 0, {}
        with open(directory / f"{name}.ndjson", "w", encoding="utf-8") as out:
            for batch in _batches(records, batch_size):
                for record in batch:
                    resource = kind.to_resource(record, cache)
                    out.write(json.dumps(resource, separators=(",", ":")) + "\n")
                written += len(batch)
                if on_batch:
                    on_batch(name, written, total)
        counts[name] = written
    return counts


def audit_export(*, actor, counts, since, record=None):
    """The one audit event of an export: the types and how many of each were written."""
    trail.record(
        action=AuditEvent.Action.EXPORT,
        record=record,
        record_type="fhir.bulk-export",
        actor=actor,
        counts=counts,
        since=since.isoformat() if since else None,
    )


# The Bulk Data operation


def start_bulk_export(*, actor, types, since, request):
    """Record the export `actor` asked for and queue the task that writes it; `request`:
    the kick-off address. The caller has checked access (check_access)."""
    export = BulkExport.objects.create(
        api_client_id=actor.api_client_id,
        requested_by=actor.user if actor.api_client_id is None else None,
        actor_label=actor.label,
        remote_addr=actor.address,
        request=request[:500],
        types=types,
        since=since,
    )
    transaction.on_commit(lambda: run_bulk_export.enqueue(export.pk))
    return export


@task
def run_bulk_export(export_id):
    """Write an export's files, keeping its progress for the status address; stops at
    the next batch once the export is cancelled."""
    export = BulkExport.objects.select_related("requested_by").get(pk=export_id)
    if export.status != BulkExport.Status.RUNNING:
        return
    started = timezone.now()
    BulkExport.objects.filter(pk=export.pk).update(transaction_time=started)

    def on_batch(name, written, total):
        # One query per batch keeps the progress and learns of a cancellation.
        progress = f"{name}: {written} of {total}"
        running = BulkExport.objects.filter(pk=export.pk, status=BulkExport.Status.RUNNING)
        if not running.update(progress=progress):
            raise ExportCancelled

    try:
        counts = write_ndjson(
            export.directory, types=export.types, since=export.since, on_batch=on_batch
        )
    except ExportCancelled:
        shutil.rmtree(export.directory, ignore_errors=True)
        return
    except Exception:
        BulkExport.objects.filter(pk=export.pk).update(
            status=BulkExport.Status.FAILED, finished_at=timezone.now()
        )
        shutil.rmtree(export.directory, ignore_errors=True)
        raise
    finished = BulkExport.objects.filter(pk=export.pk, status=BulkExport.Status.RUNNING).update(
        status=BulkExport.Status.COMPLETE,
        counts=counts,
        progress="",
        finished_at=timezone.now(),
    )
    if not finished:  # cancelled after the last batch
        shutil.rmtree(export.directory, ignore_errors=True)
        return
    requester = Actor(
        user=export.requested_by, label=export.actor_label, address=export.remote_addr
    )
    audit_export(actor=requester, counts=counts, since=export.since, record=export)


def cancel_bulk_export(export):
    """Stop the export if it runs and remove its files; its row stays, as cancelled."""
    BulkExport.objects.filter(pk=export.pk).exclude(status=BulkExport.Status.CANCELLED).update(
        status=BulkExport.Status.CANCELLED, finished_at=timezone.now()
    )
    shutil.rmtree(export.directory, ignore_errors=True)


def manifest(export):
    """The Bulk Data manifest of a finished export: a file address per type written."""
    base = f"{settings.FHIR_BASE_URL}/$export-status/{export.pk}"
    return {
        "transactionTime": resources.instant(export.transaction_time),
        "request": export.request,
        "requiresAccessToken": True,
        "output": [
            {"type": name, "url": f"{base}/{name}.ndjson", "count": export.counts[name]}
            for name in export.types
            if export.counts.get(name)
        ],
        "error": [],
    }
