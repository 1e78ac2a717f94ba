"""The audit trail: who read or changed which patient's records, when and from where.

Events are append-only: the model refuses updates and deletes, and the admin is
read-only. An event names records by label and id and never holds their contents.
"""

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet):
    def delete(self):
        raise TypeError("Audit events are append-only.")

    def update(self, **kwargs):
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        LIST = "list", "Listed"
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        SUBMIT = "submit", "Submitted"
        CANCEL = "cancel", "Cancelled"
        SEND = "send", "Sent"
        REVOKE = "revoke", "Revoked"
        DENY = "deny", "Refused access"
        EXPORT = "export", "Exported"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Failed to sign in"
        SIGN_OUT = "sign_out", "Signed out"
        SESSION_ENDED = "session_ended", "Session ended (idle or too long)"
        LOCKED_OUT = "locked_out", "Locked out"
        UNLOCK = "unlock", "Lifted a lockout"
        SECOND_FACTOR = "second_factor", "Passed the second factor"
        SECOND_FACTOR_FAILED = "second_factor_failed", "Failed the second factor"
        ENROL = "enrol", "Enrolled a second factor"
        PASSWORD_RESET = "password_reset", "Password reset"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(
        max_length=150, help_text="The user name, or the pre-visit link that acted."
    )
    action = models.CharField(max_length=30, choices=Action)
    record_type = models.CharField(max_length=50)
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    patient_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(
        default=dict, blank=True, help_text="Field names or counts; never patient data."
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.actor_label} {self.action} {self.record_type} {self.record_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only.")
