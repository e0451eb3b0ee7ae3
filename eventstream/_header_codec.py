"""Encoding a header block from :class:`Headers` (shared by both backends).

Header objects are validated when they are built, so encoding cannot fail
here; the block's size is checked against the limits by the caller.
"""

from __future__ import annotations

import struct
from typing import Tuple

from . import _header_cache
from .limits import DEFAULT_LIMITS
from .types import Headers

_pack_i8 = struct.Struct(">b").pack
_pack_i16 = struct.Struct(">h").pack
_pack_i32 = struct.Struct(">i").pack
_pack_i64 = struct.Struct(">q").pack
_pack_u16 = struct.Struct(">H").pack

# Wire bytes of the type code, indexed by code.
_TYPE_BYTE = [bytes((code,)) for code in range(10)]


def _encode_value(htype: int, value: object) -> bytes:
    if htype <= 1:
        return b""
    if htype == 7:
        data: bytes = value.encode("utf-8")  # type: ignore[attr-defined]
        return _pack_u16(len(data)) + data
    if htype == 6:
        return _pack_u16(len(value)) + value  # type: ignore[arg-type, operator]
    if htype == 4:
        return _pack_i32(value)
    if htype == 5 or htype == 8:
        return _pack_i64(value)
    if htype == 3:
        return _pack_i16(value)
    if htype == 2:
        return _pack_i8(value)
    return value.bytes  # type: ignore[attr-defined, no-any-return]  # 9: UUID


EncodedBlock = Tuple[bytes, int, int, bool]
"""A header block's bytes, its longest string or bytes value (in bytes), its number
of headers, and whether those three fit the default limits: what encode() checks."""

# The last Headers object encoded and its block.  A client sending audio encodes
# the same Headers object again and again, and checking identity costs less than
# hashing it for the cache.  Replaced whole, so threads read a matching pair; it
# holds a reference, so the identity cannot be taken over by a new object.
last_encoded: Tuple[object, EncodedBlock] = ((), (b"", 0, 0, True))


def encode_block(headers: Headers) -> EncodedBlock:
    """The wire bytes of ``headers`` with their longest value and count (cached)."""
    global last_encoded
    last = last_encoded
    if last[0] is headers:
        return last[1]
    encoded = _header_cache.encode_cache.get(headers)
    if encoded is None:
        parts = []
        longest = 0
        for name, htype, value in headers:
            raw_name = name.encode("utf-8")
            raw_value = _encode_value(htype, value)
            if (htype == 6 or htype == 7) and len(raw_value) - 2 > longest:
                longest = len(raw_value) - 2
            parts.append(bytes((len(raw_name),)))
            parts.append(raw_name)
            parts.append(_TYPE_BYTE[htype])
            parts.append(raw_value)
        block = b"".join(parts)
        fits = (
            len(block) <= DEFAULT_LIMITS.max_header_block
            and longest <= DEFAULT_LIMITS.max_header_value
            and len(headers) <= DEFAULT_LIMITS.max_headers
        )
        encoded = (block, longest, len(headers), fits)
        _header_cache.remember_encoding(headers, encoded)
    last_encoded = (headers, encoded)
    return encoded


def encode_header_block(headers: Headers) -> bytes:
    """The wire bytes of ``headers`` (cached for repeated header sets)."""
    return encode_block(headers)[0]
