"""Staff reading the photos and clips patients sent: streamed from private storage with
HTTP Range support (Django's FileResponse has none), so a browser can play and seek a
clip. Every request goes through intake.access; one viewing is one audit event, and no
part is read without one (intake.access.attachment_for).
"""

import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from . import access

RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 64 * 1024


def requested_range(header, size):
    """(start, end) inclusive for a single byte range, None for the whole file, or
    ValueError for a range that cannot be served. Several ranges are served whole."""
    match = RANGE.fullmatch(header.strip()) if header else None
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
    elif last:
        start, end = max(size - int(last), 0), size - 1
    else:
        return None
    if start >= size or start > end:
        raise ValueError(header)
    return start, end


def later_part(request):
    """Whether the request's Range asks for anything but the file from its start: a
    player's request as it plays on, seeks, or reads an MP4's index at the end."""
    header = request.headers.get("Range")
    match = RANGE.fullmatch(header.strip()) if header else None
    return match is not None and (match[1] or match[2]) != "" and match[1] != "0"


def _part(file, start, length):
    with file:
        file.seek(start)
        while length > 0:
            data = file.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


@login_required
@require_safe
def attachment_file(request, pk):
    """Queries: the attachment with its visit, and the audit event for a viewing."""
    attachment = access.attachment_for(request.actor, pk, later_part=later_part(request))
    return file_response(request, attachment)


def file_response(request, attachment):
    """The file, whole or the byte range asked for, with headers that keep browsers from
    guessing its type, caching it or naming it after the patient."""
    try:
        wanted = requested_range(request.headers.get("Range"), attachment.size)
    except ValueError:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{attachment.size}"
    else:
        file = attachment.file.open("rb")
        if wanted is None:
            response = FileResponse(file, content_type=attachment.content_type)
        else:
            start, end = wanted
            response = StreamingHttpResponse(
                _part(file, start, end - start + 1),
                status=206,
                content_type=attachment.content_type,
            )
            response["Content-Length"] = str(end - start + 1)
            response["Content-Range"] = f"bytes {start}-{end}/{attachment.size}"
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'inline; filename="{attachment.download_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
