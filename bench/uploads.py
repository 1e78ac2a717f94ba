"""What checking a patient's photo or clip costs, against only hashing and writing it.

    .venv/bin/python bench/uploads.py

Photos (JPEGs of camera noise with a place and a camera in their EXIF, as phones write
them) at 1, 4 and 12 megapixels go through what keeping one does before the database:
the checks (intake.attachments.check_upload: decoded whole by Pillow) and the re-encoding
without metadata. Clips (MP4s whose media data is 5, 20 and 45 MB) go through the checks
(the boxes walked, the length read from `mvhd`), the copy whose metadata boxes are
blanked, and the two hashes kept with them. The
baseline, measured in the same run on the same bytes, is what keeping any file costs at
the least: one SHA-256 and a write to a temporary file. It prints seconds per file, the
ratio to the baseline, and for photos the seconds per megapixel against the smallest
photo's (near 1: time grows with the picture's size, no faster).
"""

import gc
import hashlib
import io
import statistics
import struct
import tempfile
import time
from functools import partial

import environment  # noqa: F401  (sets Django up; must come first)
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from intake.attachments import (
    _clip_without_metadata,
    _digests,
    _without_metadata,
    check_upload,
)
from tests.media_files import GPS_IFD, MAKE, MODEL

PHOTO_SIZES = [(1155, 866), (2309, 1732), (4000, 3000)]
CLIP_MEGABYTES = [5, 20, 45]  # under the 50 MB a file may be
REPEAT = 5


def seconds(action):
    samples = []
    for _ in range(REPEAT):
        gc.collect()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def phone_photo(width, height):
    image = Image.effect_noise((width, height), 64).convert("RGB")
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "Phonemaker", "Phone 12"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def phone_clip(megabytes):
    def box(kind, payload):
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    header = b"\0\0\0\0" + struct.pack(">IIII", 0, 0, 600, 20 * 600) + b"\0" * 80
    return (
        box(b"ftyp", b"isom\0\0\2\0isom")
        + box(b"moov", box(b"mvhd", header))
        + box(b"mdat", b"\1" * (megabytes * 1024 * 1024))
    )


def kept_anyway(data):
    """The baseline: the least keeping any file costs."""
    hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryFile() as file:
        file.write(data)


def keep_photo(data):
    upload = SimpleUploadedFile("IMG_1.jpg", data, "image/jpeg")
    check_upload(upload)
    _without_metadata(upload)


def keep_clip(data):
    upload = SimpleUploadedFile("VID_1.mp4", data, "video/mp4")
    check_upload(upload)
    with tempfile.TemporaryFile() as copy:
        _digests(_clip_without_metadata(upload, copy))


def main():
    print(
        f"{'photo':>10} {'bytes':>11} {'baseline s':>11} {'checked s':>10} {'ratio':>6}"
        f" {'s/MP':>7} {'vs 1 MP':>8}"
    )
    first_per_megapixel = None
    for width, height in PHOTO_SIZES:
        data = phone_photo(width, height)

        baseline = seconds(partial(kept_anyway, data))
        checked = seconds(partial(keep_photo, data))
        per_megapixel = checked / (width * height / 1e6)
        first_per_megapixel = first_per_megapixel or per_megapixel
        print(
            f"{width}x{height:<5} {len(data):>11,} {baseline:>11.4f} {checked:>10.4f}"
            f" {checked / baseline:>6.1f} {per_megapixel:>7.4f}"
            f" {per_megapixel / first_per_megapixel:>8.2f}"
        )

    print(f"\n{'clip':>10} {'bytes':>11} {'baseline s':>11} {'checked s':>10} {'ratio':>6}")
    for megabytes in CLIP_MEGABYTES:
        data = phone_clip(megabytes)

        baseline = seconds(partial(kept_anyway, data))
        checked = seconds(partial(keep_clip, data))
        print(
            f"{megabytes:>7} MB {len(data):>11,} {baseline:>11.4f} {checked:>10.4f}"
            f" {checked / baseline:>6.1f}"
        )


if __name__ == "__main__":
    main()
