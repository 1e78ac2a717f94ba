"""Audit hooks that are views: every refused access (403) is an audit event."""

from django.views import defaults

from . import trail
from .models import AuditEvent


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
