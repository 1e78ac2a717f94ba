"""API clients: outside systems that read the FHIR API with a token an administrator
created for them."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def token_hash(token):
    """Tokens are long and random, so one SHA-256 pass keeps them safe at rest."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiClientQuerySet(models.QuerySet):
    def usable(self):
        """Clients whose token works now: not revoked and not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiClient(models.Model):
    """An outside system (a lab, a hospital's EHR, a patient app) with a read-only token
    for the FHIR API. Only a hash of the token is kept; the token is shown once, when
    the client is created (interop.clients)."""

    name = models.CharField(max_length=100, help_text="The system, as staff know it.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=12, editable=False, help_text="The token's first characters, to tell it."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    expires_at = models.DateTimeField(help_text="The token stops working then.")
    submits_answers = models.BooleanField(
        "may send intake answers",
        default=False,
        help_text="Besides reading, the client (a kiosk, a patient app) may send a visit's "
        "answers as a QuestionnaireResponse.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    revoke_reason = models.CharField(max_length=200, blank=True, editable=False)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "API client"
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="revoked_api_client_has_reason",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def actor_label(self):
        """Who the audit trail says acted when this client reads."""
        return f"API client {self.pk} ({self.name})"[:150]

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()


class BulkExport(models.Model):
    """A FHIR Bulk Data export an API client or a staff member asked for ($export): its
    NDJSON files are written by a background task into a private folder, and only the one
    who asked may fetch them."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        COMPLETE = "complete", "Complete"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    api_client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.PROTECT, related_name="exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    request = models.CharField(max_length=500, help_text="The kick-off address, as asked.")
    types = models.JSONField(help_text="The resource types asked for.")
    since = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.RUNNING)
    progress = models.CharField(max_length=100, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Resources written, by type.")
    requested_at = models.DateTimeField(default=timezone.now)
    transaction_time = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(api_client__isnull=True) | Q(requested_by__isnull=True),
                name="bulk_export_has_one_requester",
            ),
        ]

    def __str__(self):
        return f"Bulk export {self.pk}"

    @property
    def directory(self):
        return settings.FHIR_EXPORT_ROOT / str(self.pk)

    def belongs_to(self, actor):
        """Whether `actor` is the client or the staff member who asked for it."""
        if self.api_client_id is not None:
            return self.api_client_id == actor.api_client_id
        return (
            actor.api_client_id is None
            and actor.user is not None
            and (actor.user.pk == self.requested_by_id)
        )
