"""Building raw frames byte by byte, valid or deliberately broken, for tests."""

from __future__ import annotations

import struct
import zlib
from typing import Optional


def frame(
    header_block: bytes = b"",
    payload: bytes = b"",
    *,
    total_length: Optional[int] = None,
    headers_length: Optional[int] = None,
    prelude_crc: Optional[int] = None,
    message_crc: Optional[int] = None,
) -> bytes:
    """A frame whose fields default to the correct values; override any to break it."""
    if total_length is None:
        total_length = 16 + len(header_block) + len(payload)
    if headers_length is None:
        headers_length = len(header_block)
    prelude = struct.pack(">II", total_length, headers_length)
    if prelude_crc is None:
        prelude_crc = zlib.crc32(prelude)
    body = prelude + struct.pack(">I", prelude_crc) + header_block + payload
    if message_crc is None:
        message_crc = zlib.crc32(body)
    return body + struct.pack(">I", message_crc)


def fix_crcs(raw: bytes) -> bytes:
    """Recompute both CRCs of the frame at the start of ``raw`` (from its total_length)."""
    total = struct.unpack_from(">I", raw)[0]
    body = bytearray(raw[: total - 4])
    body[8:12] = struct.pack(">I", zlib.crc32(bytes(body[:8])))
    return bytes(body) + struct.pack(">I", zlib.crc32(bytes(body)))


def header(name: bytes, type_code: int, value: bytes = b"") -> bytes:
    """Raw bytes of one header (no validation: for building broken blocks too)."""
    return bytes([len(name)]) + name + bytes([type_code]) + value


def string_value(data: bytes) -> bytes:
    return struct.pack(">H", len(data)) + data
