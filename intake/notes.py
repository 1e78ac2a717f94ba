"""The provider's part of a visit: marking its intake reviewed, writing the clinical note
as a draft, signing it, and adding signed addenda.

Each function locks the visit's row first (a provider working in two tabs, or a provider
reviewing while the patient changes an answer, is the race it stops), then writes and
audits. A signed note and its addenda are final: the database refuses to change them
(ClinicalNote.SIGNED, NoteAddendum.ADDED).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit import trail
from audit.models import AuditEvent

from .models import ClinicalNote, NoteAddendum, Visit

# Visits the patient never came to have no intake to review and no note to write.
NOT_SEEN = {Visit.Status.CANCELLED, Visit.Status.DID_NOT_ATTEND}


class StaleEdit(ValidationError):
    """The record changed after the page the edit came from was loaded."""


def _require(actor, permission, message):
    if not actor.has_perm(permission):
        raise PermissionDenied(message)


def _locked_visit(visit):
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if visit.status in NOT_SEEN:
        raise ValidationError(f"This visit is {visit.get_status_display().lower()}.")
    return visit


def review_intake(*, visit, actor, expected_intake_version):
    """Record that `actor` has read the intake as it stood at `expected_intake_version`
    (the version the page showed); refused if the answers were saved again since."""
    _require(actor, "intake.review_visit", "Only providers mark an intake as reviewed.")
    with transaction.atomic():
        visit = _locked_visit(visit)
        if visit.intake_version != expected_intake_version:
            raise StaleEdit(
                "The answers were saved again after you opened this page. Nothing was "
                "recorded: read them as they are now, then mark them reviewed."
            )
        if not visit.answers.exists():
            raise ValidationError("There are no answers to review yet.")
        visit.intake_reviewed_by = actor.user
        visit.intake_reviewed_at = timezone.now()
        visit.save_by(
            actor, update_fields=["intake_reviewed_by", "intake_reviewed_at", "updated_at"]
        )
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=visit,
            patient_id=visit.patient_id,
            actor=actor,
            fields=["intake_reviewed_by", "intake_reviewed_at"],
        )
    return visit


def save_note(*, visit, actor, parts, expected_version, sign=False):
    """Save the visit's clinical note (`parts`: history, examination, assessment and plan
    by ClinicalNote.PARTS name) as a draft, or with `sign`, save and sign it.

    `expected_version` is the note's version the page was loaded with (0 for no note
    yet): if the note was saved since, nothing is written and StaleEdit is raised.
    Signing moves a visit not yet seen to "seen" where its workflow allows.
    """
    _require(actor, "intake.change_clinicalnote", "Only providers write clinical notes.")
    if sign:
        _require(actor, "intake.sign_clinicalnote", "Only providers sign clinical notes.")
    parts = {name: parts.get(name, "").strip() for name in ClinicalNote.PARTS}
    with transaction.atomic():
        # Two tabs (or two providers) saving the same note: the visit's row lock orders
        # them, and the second finds a version it did not load.
        visit = _locked_visit(visit)
        note = ClinicalNote.objects.filter(visit=visit).first()
        if note is not None and note.is_signed:
            raise StaleEdit(
                "This note was signed after you opened this page, and can no longer "
                "change. Nothing was saved: add what you wrote as an addendum."
            )
        if (note.version if note else 0) != expected_version:
            raise StaleEdit(
                "This note was saved from another page after you opened this one. "
                "Nothing was saved: your text is below, beside the note as it is now."
            )
        action = AuditEvent.Action.UPDATE
        if note is None:
            note = ClinicalNote(
                visit=visit, author=actor.user, version=0, created_at=timezone.now()
            )
            action = AuditEvent.Action.CREATE
        changed = [name for name in ClinicalNote.PARTS if getattr(note, name) != parts[name]]
        for name, text in parts.items():
            setattr(note, name, text)
        if sign:
            missing = {
                name: f"Write the {ClinicalNote._meta.get_field(name).verbose_name} "
                "before signing the note."
                for name in ("assessment", "plan")
                if not parts[name]
            }
            if missing:
                raise ValidationError(missing)
            note.signed_by = actor.user
            note.signed_at = timezone.now()
        note.version += 1
        note.updated_at = timezone.now()
        note.full_clean()
        note.save()
        if sign and visit.status != Visit.Status.SEEN and visit.can_move_to(Visit.Status.SEEN):
            visit.move_to(Visit.Status.SEEN)
            visit.save_by(
                actor, reason="Clinical note signed", update_fields=["status", "updated_at"]
            )
            trail.record(
                action=AuditEvent.Action.UPDATE,
                record=visit,
                patient_id=visit.patient_id,
                actor=actor,
                status=visit.status,
            )
        trail.record(
            action=action,
            record=note,
            patient_id=visit.patient_id,
            actor=actor,
            fields=changed,
            **({"signed": True} if sign else {}),
        )
    return note


def add_addendum(*, visit, actor, text):
    """Add a signed addendum to the visit's signed clinical note."""
    _require(actor, "intake.add_noteaddendum", "Only providers add to clinical notes.")
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the addendum."})
    with transaction.atomic():
        # An addendum added while the note is being signed in another tab: the visit's
        # row lock orders them, so an addendum never lands on an unsigned note.
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        note = ClinicalNote.objects.filter(visit=visit).first()
        if note is None or not note.is_signed:
            raise ValidationError(
                "Addenda are for signed notes: change the note itself while it is a draft."
            )
        addendum = NoteAddendum(
            note=note, text=text, signed_by=actor.user, signed_at=timezone.now()
        )
        addendum.full_clean()
        addendum.save()
        trail.record(
            action=AuditEvent.Action.CREATE,
            record=addendum,
            patient_id=visit.patient_id,
            actor=actor,
            note=note.pk,
        )
    return addendum
