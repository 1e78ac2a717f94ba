"""The kept versions of records: who changed what, when, and what it was.

Patients, visits, answers, test orders and the test catalog keep every version of
themselves in a historical table (django-simple-history), bulk changes included, since
each workflow saves record by record. Workflows save with `save_by(actor)`, so each
version names the staff member, the patient's link or the system that made it. `changes`
turns versions into the rows a record's page shows; `table` renders them for the admin.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

# How many of the latest changes a record's page shows.
PAGE_ROWS = 50
# Columns that change with every save and say nothing a reader needs.
BOOKKEEPING = {"id", "updated_at", "intake_version", "position", "question", "red_flags"}


class RecordVersion(models.Model):
    """What each kept version adds to simple-history's own columns."""

    history_actor = models.CharField(
        "changed by", max_length=150, blank=True, help_text="The user, link or process."
    )

    class Meta:
        abstract = True


def kept_versions():
    """The `history` of a patient record: every version, who made it and why."""
    return HistoricalRecords(
        bases=[RecordVersion], history_change_reason_field=models.TextField(null=True)
    )


class KeepsHistory:
    """For models with HistoricalRecords: save as an Actor, so the version says who."""

    def save_by(self, actor, *, reason="", **kwargs):
        self._history_user = actor.user
        self._history_actor = actor.label
        self._change_reason = reason
        self.save(**kwargs)


@receiver(pre_create_historical_record)
def _name_the_actor(sender, instance, history_instance, history_user, **kwargs):
    if not hasattr(history_instance, "history_actor"):
        return
    label = getattr(instance, "_history_actor", "")
    if not label:
        label = history_user.get_username() if history_user else "system"
    history_instance.history_actor = label


@dataclass
class Change:
    """One row of a record's history as a page shows it."""

    at: object
    by: str
    record: str
    kind: str
    fields: list = field(default_factory=list)  # (label, before, after)
    reason: str = ""


def changes(*histories, limit=PAGE_ROWS):
    """The latest `limit` versions of the records in `histories` (historical querysets),
    newest first, each with what it changed from the version before.

    Queries: one per history given, one for the users named, and one per kind of record
    a changed relation points at (a visit's patient, after a merge); versions are diffed
    in memory.
    """
    versions = []
    for history in histories:
        rows = list(history.order_by("history_date", "history_id"))
        previous = {}
        for row in rows:
            versions.append((row, previous.get(row.id)))
            previous[row.id] = row
    versions.sort(key=lambda pair: (pair[0].history_date, pair[0].history_id), reverse=True)
    versions = versions[:limit]
    named = _users_named(versions) | _records_named(versions)
    return [_change(row, before, named) for row, before in versions]


def _users_named(versions):
    """The users the versions name, by (user model, id), in one query."""
    ids = set()
    for row, _ in versions:
        ids.add(row.history_user_id)
        for model_field in row.instance_type._meta.concrete_fields:
            if _is_user_field(model_field):
                ids.add(getattr(row, model_field.attname))
    ids.discard(None)
    User = get_user_model()
    return {(User, user.pk): user for user in User.objects.filter(pk__in=ids)}


def _is_user_field(model_field):
    return model_field.is_relation and model_field.related_model is get_user_model()


def _records_named(versions):
    """The other records a change points a relation at (a visit moved to another patient
    when two records were merged), by (model, id): one query per kind of record, and
    none while no such relation changed."""
    wanted = {}
    for row, before in versions:
        if before is None:
            continue
        changed = set(row.diff_against(before).changed_fields) - BOOKKEEPING
        for model_field in row.instance_type._meta.concrete_fields:
            if (
                model_field.name in changed
                and model_field.is_relation
                and not _is_user_field(model_field)
            ):
                ids = wanted.setdefault(model_field.related_model, set())
                ids.update(
                    {getattr(row, model_field.attname), getattr(before, model_field.attname)}
                )
    named = {}
    for model, ids in wanted.items():
        ids.discard(None)
        for record in model._default_manager.filter(pk__in=ids):
            named[model, record.pk] = record
    return named


def _change(row, before, named):
    kind = {"+": "Created", "~": "Changed", "-": "Deleted"}[row.history_type]
    user = named.get((get_user_model(), row.history_user_id))
    change = Change(
        at=row.history_date,
        by=_name(user) if user else row.history_actor or "system",
        record=_label(row),
        kind=kind,
        reason=row.history_change_reason or "",
    )
    if before is not None:
        change.fields = _differences(before, row, named)
    return change


def _name(user):
    return user.get_full_name() or user.get_username()


def _label(row):
    """What the version is of: the record's own `history_label`, or its kind."""
    return getattr(row.instance, "history_label", None) or _kind(row.instance_type)


def _kind(model):
    return str(model._meta.verbose_name).capitalize()


def _differences(before, after, named):
    model = after.instance_type
    changed = set(after.diff_against(before).changed_fields) - BOOKKEEPING
    differences = []
    # A value spread over several columns (an answer's) is one change, shown as displayed.
    value_fields = set(getattr(model, "VALUE_FIELDS", ()))
    if changed & value_fields:
        differences.append((_kind(model), before.instance.display, after.instance.display))
        changed -= value_fields
    for model_field in model._meta.concrete_fields:
        if model_field.name in changed:
            differences.append(
                (
                    str(model_field.verbose_name).capitalize(),
                    _shown(model_field, getattr(before, model_field.attname), named),
                    _shown(model_field, getattr(after, model_field.attname), named),
                )
            )
    return differences


def _shown(model_field, value, named):
    """A column's value as a reader knows it; `named` holds the users and records it
    may point at, by (model, id)."""
    if value in (None, ""):
        return "—"
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if model_field.is_relation:
        record = named.get((model_field.related_model, value))
        if _is_user_field(model_field):
            return _name(record) if record else f"user {value}"
        return str(record) if record else f"{model_field.related_model._meta.verbose_name} {value}"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if hasattr(value, "tzinfo"):
        return date_format(timezone.localtime(value), "j M Y H:i")
    if hasattr(value, "isoformat"):
        return date_format(value, "j M Y")
    return str(value)


def table(*histories):
    """The latest changes to a record, for a read-only field of its admin page."""
    return render_to_string(
        "audit/includes/history_table.html",
        {"record_history": changes(*histories, limit=PAGE_ROWS)},
    )
