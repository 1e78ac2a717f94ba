"""Creating and revoking API clients' tokens, and finding the client a token belongs to.

The admin calls these, so every token is made, shown and revoked the same way, on the
audit trail.
"""

import datetime
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit import trail
from audit.models import AuditEvent

from .models import ApiClient, token_hash

# A token reads what the FHIR API serves of patients' records; one that submits answers
# may also send a visit's intake answers, and change nothing else.
READ_PERMISSIONS = [
    "intake.view_patient",
    "intake.view_visit",
    "intake.view_answer",
    "intake.view_testorder",
]
SUBMIT_PERMISSIONS = ["intake.change_answer"]
LONGEST_LIFE = datetime.timedelta(days=366)
TOKEN_PREFIX = "cit_"  # noqa: S105 (a marker that says what the token is, not a secret)


def _require_manager(actor):
    if not actor.has_perm("interop.add_apiclient"):
        raise PermissionDenied("Only clinic administrators manage API clients.")


def check_expiry(expires_at):
    """Refuse an expiry in the past or more than a year ahead."""
    now = timezone.now()
    if expires_at <= now:
        raise ValidationError({"expires_at": "Choose a time in the future."})
    if expires_at > now + LONGEST_LIFE:
        raise ValidationError(
            {"expires_at": "A token lasts a year at most; choose an earlier time."}
        )


def permissions_of(client):
    """What the client's token allows."""
    return READ_PERMISSIONS + (SUBMIT_PERMISSIONS if client.submits_answers else [])


def create_api_client(*, name, expires_at, actor, submits_answers=False):
    """A new client and its token; the token exists only in the return value."""
    _require_manager(actor)
    check_expiry(expires_at)
    now = timezone.now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=" ".join(name.split()),
        token_hash=token_hash(token),
        token_hint=token[:10],
        created_by=actor.user,
        created_at=now,
        expires_at=expires_at,
        submits_answers=submits_answers,
    )
    client.full_clean()
    with transaction.atomic():
        client.save()
        trail.record(action=AuditEvent.Action.CREATE, record=client, actor=actor)
    return client, token


def revoke_api_client(*, client, actor, reason):
    """Stop the client's token working at once; does nothing if it is revoked already."""
    _require_manager(actor)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"revoke_reason": "Say why the token is revoked."})
    with transaction.atomic():
        # Two administrators revoking at once: the second finds it revoked.
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        if client.is_revoked:
            return client
        client.revoked_at = timezone.now()
        client.revoked_by = actor.user
        client.revoke_reason = reason[:200]
        client.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        trail.record(action=AuditEvent.Action.REVOKE, record=client, actor=actor)
    return client


def client_for_token(token):
    """The usable client holding this token, or None (unknown, expired or revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    return ApiClient.objects.usable().filter(token_hash=token_hash(token)).first()
