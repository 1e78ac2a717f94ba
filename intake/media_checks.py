"""What a file a patient sends really is, found from its content: a JPEG, PNG or WebP
photo, or an MP4, QuickTime or WebM clip with its length read from the container.

The file's name and the content type the browser claims are never trusted. A clip's
length comes from the container itself (MP4's `mvhd` box; WebM's Segment Info
Duration, or, where a recorder left it out, the last block's time), read by seeking
through box and element headers, so no file is read whole and no ffmpeg is needed.
"""

import datetime
import struct
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

WRONG_TYPE = _(
    "This file is not a photo or a video clip we can open. Send a photo (JPEG, PNG or "
    "WebP) or a clip (MP4, MOV or WebM)."
)
INCOMPLETE = _(
    "This file is incomplete: perhaps sending or saving it was cut off. Try sending it again."
)
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# A photo larger than this many pixels is refused rather than decoded (Pillow's own
# warning for a "decompression bomb" starts at about 89 million).
MAX_PHOTO_PIXELS = 50_000_000


@dataclass(frozen=True)
class Examined:
    kind: str  # Attachment.Kind
    content_type: str
    duration: datetime.timedelta | None = None
    width: int | None = None
    height: int | None = None


def examine(file):
    """What `file` (an open binary file, at any position) holds, or ValidationError
    (code "wrong_type" or "incomplete")."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    if head[4:8] == b"ftyp":
        return _examine_mp4(file)
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return _examine_webm(file)
    if head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n" or _is_webp(head):
        return examine_photo(file)[0]
    raise ValidationError(WRONG_TYPE, code="wrong_type")


def _is_webp(head):
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def examine_photo(file):
    """(Examined, the decoded image) for a photo, fully decoded so that a cut-off file
    is found out."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            if image.format not in PHOTO_TYPES:
                raise ValidationError(WRONG_TYPE, code="wrong_type")
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise ValidationError(WRONG_TYPE, code="wrong_type")
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError, UnidentifiedImageError):
        raise ValidationError(WRONG_TYPE, code="wrong_type") from None
    except (OSError, SyntaxError, ValueError, struct.error):
        # Pillow's "image file is truncated" and its decoders' errors on broken data.
        raise ValidationError(INCOMPLETE, code="incomplete") from None
    examined = Examined(
        kind="photo",
        content_type=PHOTO_TYPES[image.format],
        width=image.width,
        height=image.height,
    )
    return examined, image


def _file_size(file):
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def _read_exactly(file, count):
    data = file.read(count)
    if len(data) != count:
        raise ValidationError(INCOMPLETE, code="incomplete")
    return data


# MP4 and QuickTime (ISO base media file format): a sequence of boxes, each a 32-bit size
# (1: a 64-bit size follows the type; 0: to the end of the file) and a four-letter type.


def _mp4_boxes(file, start, end):
    """(box start, type, data start, data end) of each box between `start` and `end`."""
    offset = start
    while offset < end:
        if end - offset < 8:
            raise ValidationError(INCOMPLETE, code="incomplete")
        file.seek(offset)
        size, box_type = struct.unpack(">I4s", _read_exactly(file, 8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", _read_exactly(file, 8))
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            # A box that runs past the end: the file was cut off.
            raise ValidationError(INCOMPLETE, code="incomplete")
        yield offset, box_type, offset + header, offset + size
        offset += size


def _examine_mp4(file):
    size = _file_size(file)
    boxes = {}
    for _offset, box_type, start, end in _mp4_boxes(file, 0, size):
        boxes.setdefault(box_type, (start, end))
    file.seek(boxes[b"ftyp"][0])
    brand = file.read(4)
    if b"moov" not in boxes:
        raise ValidationError(INCOMPLETE, code="incomplete")
    header = None
    for _offset, box_type, start, end in _mp4_boxes(file, *boxes[b"moov"]):
        if box_type == b"mvhd":
            file.seek(start)
            header = file.read(min(end - start, 32))
            break
    if header is None:
        raise ValidationError(INCOMPLETE, code="incomplete")
    try:
        if header[0] == 1:
            timescale, duration = struct.unpack(">IQ", header[20:32])
        else:
            timescale, duration = struct.unpack(">II", header[12:20])
    except struct.error:
        raise ValidationError(INCOMPLETE, code="incomplete") from None
    if not timescale:
        raise ValidationError(INCOMPLETE, code="incomplete")
    return Examined(
        kind="video",
        content_type="video/quicktime" if brand == b"qt  " else "video/mp4",
        duration=datetime.timedelta(seconds=duration / timescale),
    )


# Where MP4 and QuickTime keep what a phone adds about the recording: the place
# (`©xyz`, `loci`, Apple's location key), the make and model, the software and dates.
MP4_METADATA = {b"udta", b"meta"}


def mp4_metadata_boxes(file):
    """(box start, data start, data end) of each user-data and metadata box of the movie
    and of its tracks: the boxes a clip's place and phone are kept in."""
    found = []
    for _offset, box_type, start, end in _mp4_boxes(file, 0, _file_size(file)):
        if box_type != b"moov":
            continue
        for offset, inner_type, inner_start, inner_end in _mp4_boxes(file, start, end):
            if inner_type in MP4_METADATA:
                found.append((offset, inner_start, inner_end))
            elif inner_type == b"trak":
                found += [
                    (track_offset, track_start, track_end)
                    for track_offset, track_type, track_start, track_end in _mp4_boxes(
                        file, inner_start, inner_end
                    )
                    if track_type in MP4_METADATA
                ]
    return found


# WebM (Matroska): EBML elements, each an ID and a size written as variable-length
# integers. A recorder writing as it goes (a browser's MediaRecorder) leaves the size of
# the Segment and its Clusters "unknown" and the Duration out.
EBML = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
INFO = 0x1549A966
TIMECODE_SCALE = 0x2AD7B1
DURATION = 0x4489
CLUSTER = 0x1F43B675
CLUSTER_TIMECODE = 0xE7
BLOCK_GROUP = 0xA0
BLOCK = 0xA1
SIMPLE_BLOCK = 0xA3
# Elements whose children are read in place; every other element is skipped whole.
WEBM_ENTERED = {SEGMENT, INFO, CLUSTER, BLOCK_GROUP}


def _vint(file, *, keep_marker):
    """A variable-length integer and whether all its value bits are ones ("unknown")."""
    first = _read_exactly(file, 1)[0]
    if first == 0:
        raise ValidationError(WRONG_TYPE, code="wrong_type")
    length = 8 - first.bit_length() + 1
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in _read_exactly(file, length - 1):
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, unknown


def _ebml_element(file):
    element_id, _unknown = _vint(file, keep_marker=True)
    size, unknown = _vint(file, keep_marker=False)
    return element_id, None if unknown else size


def _examine_webm(file):
    end = _file_size(file)
    element_id, size = _ebml_element(file)
    if size is None or file.tell() + size > end:
        raise ValidationError(WRONG_TYPE, code="wrong_type")
    header_end = file.tell() + size
    doc_type = None
    while file.tell() < header_end:
        child, child_size = _ebml_element(file)
        data = _read_exactly(file, child_size or 0)
        if child == DOC_TYPE:
            doc_type = data.rstrip(b"\0")
    if doc_type != b"webm":
        raise ValidationError(WRONG_TYPE, code="wrong_type")

    scale, duration, cluster_time, last_time = 1_000_000, None, 0, None
    while file.tell() < end:
        element_id, size = _ebml_element(file)
        if element_id in WEBM_ENTERED:
            if size is not None and file.tell() + size > end:
                raise ValidationError(INCOMPLETE, code="incomplete")
            continue
        if size is None or file.tell() + size > end:
            raise ValidationError(INCOMPLETE, code="incomplete")
        if element_id in (TIMECODE_SCALE, CLUSTER_TIMECODE, DURATION):
            data = _read_exactly(file, size)
            if element_id == DURATION:
                (duration,) = struct.unpack(">f" if size == 4 else ">d", data)
            elif element_id == TIMECODE_SCALE:
                scale = int.from_bytes(data)
            else:
                cluster_time = int.from_bytes(data)
        elif element_id in (SIMPLE_BLOCK, BLOCK):
            block_start = file.tell()
            _vint(file, keep_marker=False)  # the track number
            (relative,) = struct.unpack(">h", _read_exactly(file, 2))
            last_time = max(last_time or 0, cluster_time + relative)
            file.seek(block_start + size)
        else:
            file.seek(file.tell() + size)
    if duration is None and last_time is None:
        raise ValidationError(INCOMPLETE, code="incomplete")
    ticks = duration if duration is not None else last_time
    return Examined(
        kind="video",
        content_type="video/webm",
        duration=datetime.timedelta(microseconds=ticks * scale / 1000),
    )
