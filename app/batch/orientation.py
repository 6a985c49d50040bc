"""EXIF orientation where OpenCV does not apply it: it turns JPEG, PNG and TIFF upright as it decodes them, but not
WebP, whose phone and web exports carry the tag too, so such a photo's face would be read lying on its side."""

from __future__ import annotations

import io

import numpy as np

WEBP_MAGIC = (b"RIFF", b"WEBP")  # bytes 0-3 and 8-11 of every WebP file
EXIF_ORIENTATION_TAG = 0x0112
UPRIGHT = 1


def webp_orientation(data: bytes) -> int:
    """The EXIF orientation (1-8) of a WebP file's bytes; UPRIGHT for any other file, or where the tag is missing or
    unreadable (the pixels are then shown as stored, as every viewer shows them)."""
    if data[:4] != WEBP_MAGIC[0] or data[8:12] != WEBP_MAGIC[1]:
        return UPRIGHT
    from PIL import Image  # Pillow parses WebP's RIFF chunks and their EXIF; imported only for WebP

    try:
        with Image.open(io.BytesIO(data)) as image:
            value = image.getexif().get(EXIF_ORIENTATION_TAG, UPRIGHT)
    except Exception:  # Pillow raises many types for a damaged header; OpenCV has decoded the pixels already
        return UPRIGHT
    return value if isinstance(value, int) and 1 <= value <= 8 else UPRIGHT


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels turned as EXIF orientation `orientation` says the picture is to be shown (1: as stored; 2-8:
    mirrored and/or turned by a multiple of 90 degrees, in the standard's numbering)."""
    if orientation in (5, 6, 7, 8):  # the stored rows are the shown columns
        image = np.rot90(image, k=-1 if orientation in (5, 6) else 1)  # 6: turn clockwise, 8: anticlockwise
        mirror = orientation in (5, 7)
    else:
        image = np.rot90(image, k=2) if orientation in (3, 4) else image
        mirror = orientation in (2, 4)
    return np.ascontiguousarray(image[:, ::-1] if mirror else image)
