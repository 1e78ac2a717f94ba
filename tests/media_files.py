"""Tiny synthetic photos and clips for the upload tests, built byte by byte: a JPEG with
a place and a camera in its EXIF, the smallest MP4 and WebM containers that say how long
they last, and broken ones."""

import io
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from config.storage import PrivateFileSystemStorage
from intake.models import Attachment

# EXIF tags: the camera's make and model, the orientation, and the GPS block.
MAKE, MODEL, ORIENTATION, GPS_IFD = 0x010F, 0x0110, 0x0112, 0x8825


def jpeg_with_place_and_camera(*, width=40, height=20):
    """A JPEG whose EXIF names a place and a camera and says "turn 90° to show", with a
    comment and XMP."""
    exif = Image.Exif()
    exif[MAKE] = "Acme Phones"
    exif[MODEL] = "Twitchcam 9"
    exif[ORIENTATION] = 6
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 90)).save(
        out,
        "JPEG",
        exif=exif,
        comment=b"Kitchen at home",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Home address</x:xmpmeta>',
    )
    return out.getvalue()


def photo(image_format):
    """An 8×8 photo in `image_format` ("PNG", "WEBP") whose EXIF names a camera."""
    exif = Image.Exif()
    exif[MAKE] = "Acme Phones"
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, image_format, exif=exif)
    return out.getvalue()


def _box(kind, payload):
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mp4(seconds, *, brand=b"isom", metadata=b""):
    """An MP4 (or with brand b"qt  ", a QuickTime movie) of `seconds` by its `mvhd`, with
    `metadata` (boxes) in its movie box after the header."""
    header = b"\0\0\0\0" + struct.pack(">IIII", 0, 0, 600, round(seconds * 600)) + b"\0" * 80
    return (
        _box(b"ftyp", brand + b"\0\0\2\0" + brand)
        + _box(b"moov", _box(b"mvhd", header) + metadata)
        + _box(b"mdat", b"\0" * 256)
    )


PLACE, PHONE = b"+51.5074-000.1278/", b"Acme Phones X1"


def mp4_with_place_and_phone(seconds):
    """A clip as a phone writes it: the place and the phone in the movie's user data and
    metadata, and the phone again in its track's user data."""
    user_data = _box(b"udta", _box(b"\xa9xyz", PLACE) + _box(b"\xa9mak", PHONE))
    metadata = _box(b"meta", b"\0\0\0\0" + _box(b"ilst", PLACE + PHONE))
    track = _box(b"trak", _box(b"tkhd", b"\0" * 84) + _box(b"udta", _box(b"\xa9mod", PHONE)))
    return mp4(seconds, metadata=user_data + metadata + track)


def _ebml(element_id, payload, *, unknown_size=False):
    if unknown_size:
        size = b"\x01\xff\xff\xff\xff\xff\xff\xff"
    elif len(payload) < 127:
        size = bytes([0x80 | len(payload)])
    else:
        size = b"\x01" + len(payload).to_bytes(7)
    return element_id + size + payload


def webm(seconds, *, with_duration=True):
    """A WebM of `seconds`: with its Info Duration, or, as a browser's MediaRecorder
    writes one, with unknown sizes and no Duration (its blocks every 100 ms say how long
    it is)."""
    header = _ebml(b"\x1a\x45\xdf\xa3", _ebml(b"\x42\x82", b"webm"))
    info = _ebml(b"\x2a\xd7\xb1", (1_000_000).to_bytes(3))
    if with_duration:
        info += _ebml(b"\x44\x89", struct.pack(">d", seconds * 1000))
    clusters = {}  # a cluster every 10 s, as block times are 16-bit offsets from its own
    for ms in range(0, round(seconds * 1000) + 1, 100):
        start = ms // 10_000 * 10_000
        block = b"\x81" + struct.pack(">h", ms - start) + b"\x80" + b"\0" * 8
        clusters.setdefault(start, []).append(_ebml(b"\xa3", block))
    clusters = b"".join(
        _ebml(b"\x1f\x43\xb6\x75", _ebml(b"\xe7", start.to_bytes(4)) + b"".join(blocks))
        for start, blocks in clusters.items()
    )
    segment = _ebml(
        b"\x18\x53\x80\x67", _ebml(b"\x15\x49\xa9\x66", info) + clusters, unknown_size=True
    )
    return header + segment


def upload(name, data, content_type):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def attachment_folder(tmp_path, monkeypatch):
    """Kept files go to a temporary folder (the storage is made when models load)."""
    storage = PrivateFileSystemStorage(location=tmp_path / "attachments")
    monkeypatch.setattr(Attachment._meta.get_field("file"), "storage", storage)
    return tmp_path / "attachments"
