"""The audit trail: who read or changed which patient's records, when and from where.

Events are append-only: the model refuses updates and deletes, the admin is read-only,
and the database's own triggers refuse UPDATE and DELETE from any other path
(append_only.py). Each event is chained by hash to the one before it (chain.py), so
`manage.py verify_audit` shows any event altered, removed or inserted out of order. An
event names records by label and id and never holds their contents.
"""

import json

from django.apps import apps
from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone

from . import append_only, chain

# The PostgreSQL advisory lock that serialises appends to the chain ("audit" in ASCII).
CHAIN_LOCK = 0x6175646974


def _append(events, using):
    """Give `events` their places at the end of the chain, in order, just before they are
    inserted in the same transaction.

    Two requests auditing at once would both read the same last hash and fork the chain,
    so appends are serialised until the inserting transaction ends: on PostgreSQL by an
    advisory lock; on SQLite by the write lock its IMMEDIATE transactions take at BEGIN.
    The lock is held to the end of any outer transaction too: inside one, take row locks
    before the first audit event, or two transactions can wait on each other.
    """
    previous = chain_head(using)
    now = timezone.now()
    address = AuditEvent._meta.get_field("remote_addr")
    for event in events:
        # Hashed exactly as they will read back: the address as the database keeps it
        # (None for none), the detail as JSON gives it back.
        event.at = event.at or now
        event.remote_addr = address.get_prep_value(event.remote_addr) or None
        event.detail = json.loads(json.dumps(event.detail))
        event.prev_hash = previous
        event.hash = previous = chain.event_hash(chain.fields_of(event))


def chain_head(using):
    """The hash of the trail's last event, with appends serialised from here to the end
    of the transaction (see _append): what the next event appended follows."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
    return (
        AuditEvent.objects.using(using).order_by("-pk").values_list("hash", flat=True).first()
        or chain.GENESIS
    )


class AuditEventQuerySet(models.QuerySet):
    def about_patient(self, patient_id):
        """Everything done to one patient's records, and every list that showed them (who
        saw this record). A union of two index lookups: an OR of the two would read the
        whole trail on PostgreSQL."""
        own = self.model._base_manager.filter(patient_id=patient_id).values("pk")
        listed = ListedPatient.objects.filter(patient_id=patient_id).values("event_id")
        return self.filter(pk__in=own.union(listed))

    def done_by(self, user):
        return self.filter(actor=user)

    def between(self, start=None, end=None):
        """Events at or after `start` and before `end`; either may be open."""
        events = self
        if start is not None:
            events = events.filter(at__gte=start)
        if end is not None:
            events = events.filter(at__lt=end)
        return events

    def in_batches(self, size=2000):
        """Every event of this selection, newest first, a batch of `size` per query (by
        id, not offset), so memory stays bounded however long the trail is."""
        events = self.order_by("-pk")
        while batch := list(events[:size]):
            yield from batch
            events = events.filter(pk__lt=batch[-1].pk)

    def bulk_create(self, objs, *args, **kwargs):
        """New events at the end of the chain, inserted in one query (per batch)."""
        objs = list(objs)
        using = self._db or router.db_for_write(self.model)
        with transaction.atomic(using=using, savepoint=False):
            _append(objs, using)
            return super().bulk_create(objs, *args, **kwargs)

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
        MERGE = "merge", "Merged records"
        UNMERGE = "unmerge", "Undid a merge"

    # Set when the event is appended (or given, for an event recorded after the fact).
    at = models.DateTimeField(db_index=True, editable=False)
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

    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(
        max_length=64, editable=False, help_text="SHA-256 of this event and prev_hash."
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.actor_label} {self.action} {self.record_type} {self.record_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Audit events are append-only.")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            _append([self], using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only.")

    @property
    def actor_name(self):
        """Who acted, in words: a user's full name and user name, or the label of the
        link, process or anonymous visitor."""
        if self.actor_id is None:
            return self.actor_label
        full_name = self.actor.get_full_name()
        username = self.actor.get_username()
        return f"{full_name} ({username})" if full_name else username

    @property
    def record_description(self):
        """The record acted on, in words ("Visit 12", "Patients" for a list), or the page
        a refusal was about."""
        try:
            model = apps.get_model(self.record_type)
        except (LookupError, ValueError):
            return f"Page {self.record_type}" if self.record_type else ""
        if self.record_id is None:
            return str(model._meta.verbose_name_plural).capitalize()
        return f"{str(model._meta.verbose_name).capitalize()} {self.record_id}"

    @property
    def detail_text(self):
        """The detail as "name: value" pairs (field names, counts or ids)."""
        return "; ".join(
            f"{name}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
            for name, value in sorted(self.detail.items())
        )


class ListedPatient(models.Model):
    """A patient one listing event showed: the event's own detail holds the ids (and its
    hash covers them); these rows index them, so that "who saw this record" finds the
    lists as quickly as the reads. Append-only, as events are (append_only.py)."""

    # Events are never deleted: their triggers refuse it before anything could cascade.
    event = models.ForeignKey(AuditEvent, on_delete=models.DO_NOTHING, related_name="listed")
    patient_id = models.PositiveBigIntegerField(db_index=True)

    GUARD = append_only.Guard(
        name="audit_listed_patient",
        table="audit_listedpatient",
        message="Listed patients of audit events are append-only",
    )

    def __str__(self):
        return f"patient {self.patient_id} in event {self.event_id}"
