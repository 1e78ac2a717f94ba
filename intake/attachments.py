"""Photos and clips a patient sends with their pre-visit link: checking, storing and
removing them.

A file is checked by its content (intake/media_checks.py) and stored under a random
name in the private `attachments` storage; a photo is re-encoded without its metadata
(place, camera, comments), and an MP4 or QuickTime clip has its metadata boxes blanked.
At most ATTACHMENTS_PER_VISIT files are kept per visit.
"""

import hashlib
import io
import shutil
import tempfile
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ImageOps

from audit import trail
from audit.models import AuditEvent

from . import links, media_checks
from .models import Attachment

# Re-encoding a JPEG loses a little; this keeps the twitching visible.
JPEG_QUALITY = 90


def too_large_message():
    return _("This file is larger than %(limit)s. Send a shorter clip, or a photo instead.") % {
        "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)
    }


def check_upload(upload):
    """What `upload` holds, or ValidationError with a message for the patient."""
    if upload.size == 0:
        raise ValidationError(
            _("This file is empty. Choose the photo or clip again."), code="empty"
        )
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(too_large_message(), code="too_large")
    examined = media_checks.examine(upload)
    limit = settings.ATTACHMENT_MAX_SECONDS
    if examined.duration is not None and examined.duration.total_seconds() > limit:
        raise ValidationError(
            _(
                "This clip is %(seconds)d seconds long. Send a clip of up to %(limit)d "
                "seconds: a short one showing the twitching is enough."
            )
            % {"seconds": round(examined.duration.total_seconds()), "limit": limit},
            code="too_long",
        )
    return examined


def _without_metadata(upload):
    """The photo re-encoded, turned upright first as its EXIF orientation says, with no
    EXIF (place, camera, times), XMP, IPTC or comments left."""
    upload.seek(0)
    _examined, image = media_checks.examine_photo(upload)
    image_format = image.format
    upright = ImageOps.exif_transpose(image)
    # Pillow copies comments, XMP and EXIF from `info` when saving; only the colour
    # profile is kept.
    upright.info = {key: value for key, value in image.info.items() if key == "icc_profile"}
    out = io.BytesIO()
    options = {"icc_profile": upright.info.get("icc_profile")}
    if image_format == "JPEG":
        options["quality"] = JPEG_QUALITY
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
    upright.save(out, image_format, **{k: v for k, v in options.items() if v is not None})
    return out.getvalue(), upright.size


def _digests(file):
    sha256, sha1 = hashlib.sha256(), hashlib.sha1()  # noqa: S324 (FHIR's hash is SHA-1)
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        sha256.update(chunk)
        sha1.update(chunk)
    file.seek(0)
    return sha256.hexdigest(), sha1.hexdigest()


def add_attachment(*, link, upload, actor):
    """Check and keep a file the patient sent through `link`; returns the Attachment.

    Raises ValidationError (a message for the patient) or links.LinkNotUsable."""
    examined = check_upload(upload)
    with _as_kept(upload, examined) as (stored, width, height):
        return _keep(
            link=link,
            upload=upload,
            examined=examined,
            stored=stored,
            width=width,
            height=height,
            actor=actor,
        )


@contextmanager
def _as_kept(upload, examined):
    """(the file as it is to be kept, its width, its height): a photo re-encoded without
    its metadata, an MP4 or QuickTime clip with its metadata boxes blanked, else as sent."""
    if examined.kind == Attachment.Kind.PHOTO:
        data, (width, height) = _without_metadata(upload)
        yield ContentFile(data), width, height
    elif examined.content_type in ("video/mp4", "video/quicktime"):
        with tempfile.TemporaryFile() as copy:
            yield File(_clip_without_metadata(upload, copy)), None, None
    else:
        yield File(upload), None, None


def _clip_without_metadata(upload, copy):
    """`upload` copied into `copy` with each user-data and metadata box (the place, the
    phone's make and model) renamed `free` and its content zeroed: sizes stay as they
    were, so no offset a player reads moves."""
    upload.seek(0)
    shutil.copyfileobj(upload, copy)
    for offset, start, end in media_checks.mp4_metadata_boxes(copy):
        copy.seek(offset + 4)
        copy.write(b"free")
        copy.seek(start)
        for at in range(start, end, 64 * 1024):
            copy.write(bytes(min(64 * 1024, end - at)))
    copy.seek(0)
    return copy


def _keep(*, link, upload, examined, stored, width, height, actor):
    sha256, sha1 = _digests(stored)
    with transaction.atomic():
        # Two tabs sending at once: each waits for the other here, then counts the files
        # the other kept.
        link = links.lock_active_link(link)
        if link.visit.attachments.kept().count() >= settings.ATTACHMENTS_PER_VISIT:
            raise ValidationError(
                _(
                    "You have sent %(count)d files, the most we can take. Remove one to "
                    "send another."
                )
                % {"count": settings.ATTACHMENTS_PER_VISIT},
                code="too_many",
            )
        attachment = Attachment(
            visit=link.visit,
            link=link,
            kind=examined.kind,
            content_type=examined.content_type,
            size=stored.size,
            duration=examined.duration,
            width=width,
            height=height,
            sha256=sha256,
            sha1=sha1,
            original_name=(upload.name or "")[:255],
            uploaded_by_label=actor.label,
        )
        attachment.file.save("upload", stored, save=False)
        try:
            attachment.full_clean(exclude=["file"])
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)
            raise
        trail.record(
            action=AuditEvent.Action.CREATE,
            record=attachment,
            patient_id=link.visit.patient_id,
            actor=actor,
            kind=attachment.kind,
            size=attachment.size,
        )
    return attachment


def remove_attachment(*, link, attachment_id, actor):
    """Mark a file the patient sent through `link` removed; it stays for the record."""
    with transaction.atomic():
        link = links.lock_active_link(link)
        attachment = link.visit.attachments.kept().filter(pk=attachment_id).first()
        if attachment is None:
            return None
        attachment.removed_at = timezone.now()
        attachment.save(update_fields=["removed_at"])
        trail.record(
            action=AuditEvent.Action.UPDATE,
            record=attachment,
            patient_id=link.visit.patient_id,
            actor=actor,
            fields=["removed_at"],
        )
    return attachment


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file once it passes ATTACHMENT_MAX_BYTES, so that an
    over-large upload is neither kept in memory nor written to a temporary file; the
    rest of the request is read and dropped, and the view finds
    `request.upload_too_large` set and says so in words."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.ATTACHMENT_MAX_BYTES:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
