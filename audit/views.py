"""The audit trail's pages: every refused access (403) is an audit event, and the
compliance pages show and export the trail to whoever may view it."""

import csv
import itertools

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import defaults

from . import trail
from .forms import EventFilterForm, RecordNumberForm
from .models import AuditEvent

EVENTS_PER_PAGE = 50


def permission_denied(request, exception):
    """Django's 403 page, after recording who was refused what.

    A refusal from `intake.access` names the record and its patient; any other (a page
    the role may not open at all) names the page by its URL name, never by its path,
    which can hold a pre-visit token.
    """
    record = getattr(exception, "record", None)
    match = request.resolver_match
    page = match.view_name if match else ""
    trail.record(
        action=AuditEvent.Action.DENY,
        record=record,
        record_type=page,
        patient_id=getattr(exception, "patient_id", None),
        actor=request.actor,
        page=page,
    )
    return defaults.permission_denied(request, exception)


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def events(request):
    """Who did what to which record, when and from where: filtered by patient, user,
    action and time, a page at a time. A record number is looked up by POST, so it never
    appears in a URL. Reading the trail is itself an audit event (with the patient, when
    the page is about one).

    Queries: the filter's patient and user when given, the users for its list, the count,
    and one page of events with who acted and the record number joined in: the same
    however many events there are.
    """
    form = EventFilterForm(request.GET)
    lookup = RecordNumberForm(request.POST or None)
    if lookup.is_valid():
        query = request.GET.copy()
        query["patient"] = lookup.cleaned_data["record_number"].pk
        query.pop("page", None)
        return redirect(f"{reverse('audit:events')}?{query.urlencode()}")
    page = None
    if form.is_valid():
        trail.record(
            action=AuditEvent.Action.VIEW,
            record=AuditEvent,
            patient_id=form.patient_id,
            actor=request.actor,
            **form.described(),
        )
        page = Paginator(form.events(), EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "audit/events.html", {"form": form, "lookup": lookup, "page": page})


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def export(request):
    """The events the page's filters choose, as CSV, streamed a batch at a time."""
    form = EventFilterForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "audit/events.html",
            {"form": form, "lookup": RecordNumberForm(), "page": None},
            status=400,
        )
    trail.record(
        action=AuditEvent.Action.EXPORT,
        record=AuditEvent,
        patient_id=form.patient_id,
        actor=request.actor,
        **form.described(),
    )
    rows = itertools.chain([CSV_HEADER], map(_csv_row, form.events().in_batches()))
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{day}.csv"'
    return response


CSV_HEADER = [
    "Event",
    "When",
    "Done by",
    "User name",
    "Action",
    "Record",
    "Record type",
    "Record id",
    "Patient record number",
    "Patient id",
    "From address",
    "Detail",
    "Hash",
]


def _csv_row(event):
    when = timezone.localtime(event.at)
    return [
        _cell(value)
        for value in (
            event.pk,
            when.isoformat(sep=" ", timespec="seconds"),
            event.actor_name,
            event.actor.get_username() if event.actor_id else "",
            event.get_action_display(),
            event.record_description,
            event.record_type,
            event.record_id or "",
            event.patient_mrn or "",
            event.patient_id or "",
            event.remote_addr or "",
            event.detail_text,
            event.hash,
        )
    ]


def _cell(value):
    """A value a spreadsheet shows as text, never runs as a formula (OWASP CSV injection)."""
    value = str(value)
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Echo:
    """A file that hands back what is written to it, for csv.writer to stream through."""

    def write(self, value):
        return value
