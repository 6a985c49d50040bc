"""Test helper: rewrite an MP4 with its index (moov box) in front, as streamed files are, so that a truncated copy
still opens and plays up to the cut. Only the box types found in ordinary MP4/MOV files are handled."""

from __future__ import annotations

import struct
from collections.abc import Iterator

CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}
HEADER = 8  # size (4 bytes) and type (4 bytes)
LARGE_HEADER = 16  # size 1 means a 64-bit size follows the type


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, int, int, bytes]]:
    """(position, size, header size, type) of each box between start and end."""
    position = start
    while position + HEADER <= end:
        size, kind = struct.unpack(">I4s", data[position : position + HEADER])
        header = HEADER
        if size == 1:
            size = struct.unpack(">Q", data[position + HEADER : position + LARGE_HEADER])[0]
            header = LARGE_HEADER
        elif size == 0:
            size = end - position
        yield position, size, header, kind
        position += size


def _shift_chunk_offsets(moov: bytearray, shift: int, start: int, end: int) -> None:
    for position, size, header, kind in _boxes(moov, start, end):
        if kind in CONTAINER_BOXES:
            _shift_chunk_offsets(moov, shift, position + header, position + size)
        elif kind in (b"stco", b"co64"):
            fmt, width = (">I", 4) if kind == b"stco" else (">Q", 8)
            count = struct.unpack(">I", moov[position + 12 : position + 16])[0]
            for i in range(count):
                at = position + 16 + i * width
                (offset,) = struct.unpack(fmt, moov[at : at + width])
                moov[at : at + width] = struct.pack(fmt, offset + shift)


def faststart(data: bytes) -> bytes:
    """The same MP4 with the moov box moved before the first mdat box and chunk offsets fixed up."""
    top = list(_boxes(data, 0, len(data)))
    moov_position, moov_size, moov_header, _ = next(box for box in top if box[3] == b"moov")
    first_mdat = next(box[0] for box in top if box[3] == b"mdat")
    if moov_position < first_mdat:
        return data
    moov = bytearray(data[moov_position : moov_position + moov_size])
    _shift_chunk_offsets(moov, moov_size, moov_header, moov_size)
    head = b"".join(data[p : p + s] for p, s, _, _ in top if p < first_mdat)
    rest = b"".join(data[p : p + s] for p, s, _, kind in top if p >= first_mdat and kind != b"moov")
    return head + bytes(moov) + rest
