"""The functions every read and change of patient data goes through to be audited."""

import ipaddress

from django.conf import settings

from .models import AuditEvent


def client_address(request):
    """The client's IP address: REMOTE_ADDR, or, behind TRUSTED_PROXIES reverse proxies,
    the address the outermost of them saw (taken from the right of X-Forwarded-For,
    since a client can put anything on its left)."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # a proxy that appends "host:port", or no address at all
        return None


def record(*, action, record, patient_id, request=None, actor=None, actor_label="", **detail):
    """Append an audit event for `record` (a model instance, or a model class for lists).

    The actor is the signed-in user of `request` unless given; a pre-visit link passes
    its own `actor_label`.
    """
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    is_instance = not isinstance(record, type)
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else "system"),
        action=action,
        record_type=record._meta.label_lower,
        record_id=record.pk if is_instance else None,
        patient_id=patient_id,
        remote_addr=client_address(request) if request is not None else None,
        detail=detail,
    )


def record_listing(*, record_type, patient_ids, request):
    """One event per patient shown in a list (a search, a day's visits), in one query."""
    actor = request.user if request.user.is_authenticated else None
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            actor_label=actor.get_username() if actor else "anonymous",
            action=AuditEvent.Action.LIST,
            record_type=record_type._meta.label_lower,
            patient_id=patient_id,
            remote_addr=client_address(request),
        )
        for patient_id in sorted(set(patient_ids))
    )
