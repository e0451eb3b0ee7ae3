"""How validated headers become wire bytes (dict inference and the block encoder).

A header on the wire is its name's length (1 byte), the name (UTF-8), the type
code (1 byte) and the value.  Everything here takes values that ``types.py``
has already validated and normalised, so nothing here can fail.  A leaf module:
``types.py`` encodes the block of a header dict in the same pass that infers
it, and ``_header_codec.py`` encodes ``Headers`` built any other way.
"""

from __future__ import annotations

import struct
from typing import Any, Dict, List, Tuple

from .limits import DEFAULT_MAX_HEADER_BLOCK, DEFAULT_MAX_HEADER_VALUE, DEFAULT_MAX_HEADERS

EncodedBlock = Tuple[bytes, int, int, bool]
"""A header block's bytes, its longest string or bytes value (in bytes), its number
of headers, and whether those three fit the default limits: what encode() checks."""

# The type code and the fixed-size value (or the length of a variable one) in one pack.
pack_type_i8 = struct.Struct(">Bb").pack
pack_type_i16 = struct.Struct(">Bh").pack
pack_type_i32 = struct.Struct(">Bi").pack
pack_type_i64 = struct.Struct(">Bq").pack  # INT64 and TIMESTAMP
pack_type_length = struct.Struct(">BH").pack  # BYTES and STRING
TYPE_BYTE = tuple(bytes((code,)) for code in range(10))

# One slot: the last header block built or encoded, with its Headers.  A client
# builds a message and encodes it at once, so encode() checks the identity of its
# Headers here before anything else.  The pair is replaced whole (one store into
# the slot, cheaper than a module attribute), so a thread reads a matching pair;
# holding the Headers keeps its identity from being taken over by a new object.
last_encoded: List[Tuple[object, EncodedBlock]] = [((), (b"", 0, 0, True))]

# Name -> length byte + UTF-8 bytes, for names already validated.  Names are the
# protocol's few constants (":event-type", ":date"...), so this holds them all;
# bounded anyway (emptied when full).  Only exact strs are keys (callers check),
# so lookups run str's own hash and equality; entries are immutable bytes.
name_prefixes: Dict[str, bytes] = {}
_NAME_PREFIXES_MAX = 256


def name_prefix(name: str) -> bytes:
    """The length byte and UTF-8 bytes of a validated name (remembered if exact str)."""
    raw = name.encode("utf-8")
    prefix = bytes((len(raw),)) + raw
    if type(name) is str:
        if len(name_prefixes) >= _NAME_PREFIXES_MAX:
            name_prefixes.clear()
        name_prefixes[name] = prefix
    return prefix


def value_bytes(htype: int, value: Any) -> bytes:
    """The type code and value bytes of a validated header value."""
    if htype <= 1:
        return TYPE_BYTE[htype]
    if htype == 7:
        raw = value.encode("utf-8")
        return pack_type_length(7, len(raw)) + raw  # type: ignore[no-any-return]
    if htype == 6:
        return pack_type_length(6, len(value)) + value  # type: ignore[no-any-return]
    if htype == 4:
        return pack_type_i32(4, value)
    if htype == 5 or htype == 8:
        return pack_type_i64(htype, value)
    if htype == 3:
        return pack_type_i16(3, value)
    if htype == 2:
        return pack_type_i8(2, value)
    return TYPE_BYTE[9] + value.bytes  # type: ignore[no-any-return]  # UUID


def block_of(parts: List[bytes], longest: int, count: int) -> EncodedBlock:
    """The encoded block of ``count`` headers from their wire parts."""
    block = b"".join(parts)
    return (
        block,
        longest,
        count,
        len(block) <= DEFAULT_MAX_HEADER_BLOCK
        and longest <= DEFAULT_MAX_HEADER_VALUE
        and count <= DEFAULT_MAX_HEADERS,
    )


def encode_headers(headers: Any) -> EncodedBlock:
    """The encoded block of a sequence of validated ``Header`` objects."""
    parts: List[bytes] = []
    longest = 0
    prefixes = name_prefixes
    for name, htype, value in headers:
        prefix = prefixes.get(name) if type(name) is str else None
        if prefix is None:
            prefix = name_prefix(name)
        if htype == 7:
            raw = value.encode("utf-8")
            size = len(raw)
            parts.append(prefix)
            parts.append(pack_type_length(7, size))
            parts.append(raw)
        elif htype == 6:
            size = len(value)
            parts.append(prefix)
            parts.append(pack_type_length(6, size))
            parts.append(value)
        else:
            parts.append(prefix)
            parts.append(value_bytes(htype, value))
            continue
        if size > longest:
            longest = size
    return block_of(parts, longest, len(headers))
