"""The event-stream format, walked the plain way: a whole message, field by field.

This is where the format and the order of its faults are written for reading.
It is the reference the fast walks are held to: ``tests/test_reference_walk.py``
checks the Python backend's header walk and the C core's ``es_walk_headers``
against :func:`walk`, and ``tests/test_reference_frame.py`` checks
:func:`walk_frame` against ``eventstream.decode`` on both backends.  The Python
backend reports its header faults with :func:`walk`, and the CLI's ``inspect``
(``eventstream/cli/walk.py``) annotates bytes from :func:`walk_frame`.  It is
written to be read next to the format, not to be fast.

A message (all integers big-endian)::

    total_length   u32   the whole message, these 4 bytes and the message_crc included
    headers_length u32   the header block's bytes
    prelude_crc    u32   CRC-32 of the 8 bytes before it
    header block         headers_length bytes
    payload              total_length - 16 - headers_length bytes
    message_crc    u32   CRC-32 of every byte of the message before it

A header block is a sequence of headers::

    name_length u8 | name (name_length bytes, UTF-8) | type u8 | value

where the value depends on the type: nothing for the booleans, a big-endian
signed integer of 1, 2, 4 or 8 bytes, a timestamp (signed 64-bit milliseconds),
16 UUID bytes, or a u16 length followed by that many bytes (bytes) or UTF-8
(string).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, Dict, List, NamedTuple, Optional, Tuple, Union

from . import errors as E
from .limits import DEFAULT_LIMITS, Limits

# The message's fixed parts.
PRELUDE_LENGTH = 12  # total_length, headers_length, prelude_crc
MESSAGE_CRC_LENGTH = 4
MIN_TOTAL_LENGTH = PRELUDE_LENGTH + MESSAGE_CRC_LENGTH  # no headers, no payload

# Header value types, by their wire code.
TYPE_BOOL_TRUE = 0
TYPE_BOOL_FALSE = 1
TYPE_BYTE = 2
TYPE_INT16 = 3
TYPE_INT32 = 4
TYPE_INT64 = 5
TYPE_BYTES = 6
TYPE_STRING = 7
TYPE_TIMESTAMP = 8
TYPE_UUID = 9
TYPE_COUNT = 10

# Bytes of the value of each fixed-width type.
FIXED_VALUE_SIZE: Dict[int, int] = {
    TYPE_BOOL_TRUE: 0,
    TYPE_BOOL_FALSE: 0,
    TYPE_BYTE: 1,
    TYPE_INT16: 2,
    TYPE_INT32: 4,
    TYPE_INT64: 8,
    TYPE_TIMESTAMP: 8,
    TYPE_UUID: 16,
}
# Types whose value is a u16 length and that many bytes.
LENGTH_PREFIXED = (TYPE_BYTES, TYPE_STRING)

Buffer = Union[bytes, bytearray, memoryview]

HeaderRecord = Tuple[int, int, int, int, int]
"""One header as the C core describes it (offsets into the block): name start, name
end, type, and then for integers and timestamps (value, 0), for bytes, strings and
UUIDs (value start, value end), for booleans (0, 0)."""


class Field(NamedTuple):
    """One field of a message as the walk found it.

    ``name`` is the format's: ``total_length``, ``headers_length``,
    ``prelude_crc``, ``payload``, ``message_crc``; a header's ``name_length``,
    ``name``, ``type``, ``value_length`` (bytes and strings) and ``value``
    (booleans too, with no bytes); and where the walk stops early, ``prelude``
    or ``header_block`` (the input ends inside them) or ``header`` (a header
    over ``limits.max_headers``: the rest of the block).
    """

    name: str
    offset: int  # stream offset of its first byte
    length: int  # its bytes that are there (fewer than the format's if cut short)
    value: Any = None  # its decoded value; None when cut short, not UTF-8, or the payload
    fault: Optional[E.Fault] = None  # the fault found in this field
    header: int = -1  # the index of the header it belongs to (-1: a field of the message)
    missing: int = 0  # bytes its block or the input lacks for it (or for the value it sizes)


class FrameWalk(NamedTuple):
    fields: List[Field]  # in byte order; the headers' up to the header block's first fault
    fault: Optional[E.Fault]  # the first fault in the order decode() checks: what it raises
    header_fault: Optional[E.Fault]  # the header block's own first fault, found even when
    # the input ends later in the message or the message CRC fails (which come first)
    total_length: Optional[int]  # None: the prelude is incomplete or fails its CRC


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def walk_headers(
    block: bytes, limits: Limits, base: int = 0, frame: int = 0
) -> Tuple[List[Field], Optional[E.Fault]]:
    """The fields of the headers of ``block`` up to the first invalid one, and its fault.

    ``block[0]`` is at stream offset ``base`` in the message at ``frame``; field
    and fault offsets are stream offsets.  Each header is checked in this order
    (the order both backends report):

    1. it would be header number ``limits.max_headers + 1``;
    2. its name length is 0;
    3. its name runs past the block;
    4. its name is not UTF-8;
    5. the block ends before its type byte;
    6. its type byte is not 0-9;
    7. its value (or the u16 length of a bytes/string value) runs past the block;
    8. a bytes/string length is above ``limits.max_header_value``;
    9. that many bytes run past the block;
    10. a string value is not UTF-8.
    """
    fields: List[Field] = []
    end = len(block)
    index = 0  # of the header being walked
    p = 0

    def field(name: str, at: int, length: int, value: Any) -> None:
        fields.append(Field(name, base + at, length, value, None, index))

    def fault(
        name: str,
        at: int,
        length: int,
        code: int,
        a: int = 0,
        b: int = 0,
        *,
        value: Any = None,
        missing: int = 0,
    ) -> Tuple[List[Field], E.Fault]:
        """Stop at field ``name``: the fault ``code`` (details ``a``, ``b``) is there."""
        found = (code, base + at, frame, a, b)
        fields.append(Field(name, base + at, length, value, found, index, missing))
        return fields, found

    while p < end:
        if index == limits.max_headers:
            return fault("header", p, end - p, E.FAULT_HEADER_COUNT_LIMIT, index + 1, index)
        name_length = block[p]
        name_start = p + 1
        name_end = name_start + name_length
        if name_length == 0:
            return fault("name_length", p, 1, E.FAULT_HEADER_NAME_EMPTY, value=0)
        if name_end > end:
            left = end - name_start
            return fault(
                "name_length",
                p,
                1,
                E.FAULT_HEADER_NAME_OVERRUN,
                name_length,
                left,
                value=name_length,
                missing=name_length - left,
            )
        field("name_length", p, 1, name_length)
        name = block[name_start:name_end]
        if not _is_utf8(name):
            return fault("name", name_start, name_length, E.FAULT_HEADER_NAME_UTF8)
        field("name", name_start, name_length, name.decode("utf-8"))
        if name_end == end:
            return fault("type", name_end, 0, E.FAULT_HEADER_TYPE_MISSING)
        value_type = block[name_end]
        if value_type >= TYPE_COUNT:
            return fault(
                "type", name_end, 1, E.FAULT_HEADER_TYPE_UNKNOWN, value_type, value=value_type
            )
        field("type", name_end, 1, value_type)
        value_at = name_end + 1
        left = end - value_at
        if value_type in LENGTH_PREFIXED:
            if left < 2:
                return fault(
                    "value_length", value_at, left, E.FAULT_HEADER_VALUE_OVERRUN, 2, left,
                    missing=2 - left,
                )  # fmt: skip
            length = int.from_bytes(block[value_at : value_at + 2], "big")
            if length > limits.max_header_value:
                limit = limits.max_header_value
                return fault(
                    "value_length", value_at, 2, E.FAULT_HEADER_VALUE_LIMIT, length, limit,
                    value=length,
                )  # fmt: skip
            if 2 + length > left:
                return fault(
                    "value_length", value_at, 2, E.FAULT_HEADER_VALUE_OVERRUN, 2 + length, left,
                    value=length, missing=2 + length - left,
                )  # fmt: skip
            field("value_length", value_at, 2, length)
            value_start, value_end = value_at + 2, value_at + 2 + length
            raw = block[value_start:value_end]
            if value_type == TYPE_STRING and not _is_utf8(raw):
                return fault("value", value_start, length, E.FAULT_HEADER_VALUE_UTF8)
            field(
                "value",
                value_start,
                length,
                raw.decode("utf-8") if value_type == TYPE_STRING else raw,
            )
            p = value_end
        else:
            size = FIXED_VALUE_SIZE[value_type]
            if size > left:
                return fault(
                    "value", value_at, left, E.FAULT_HEADER_VALUE_OVERRUN, size, left,
                    missing=size - left,
                )  # fmt: skip
            raw = block[value_at : value_at + size]
            if value_type == TYPE_UUID:
                import uuid  # on use: import eventstream loads no uuid

                value: Any = uuid.UUID(bytes=raw)
            elif size:
                value = int.from_bytes(raw, "big", signed=True)
            else:
                value = value_type == TYPE_BOOL_TRUE
            field("value", value_at, size, value)
            p = value_at + size
        index += 1
    return fields, None


def walk(
    block: bytes, limits: Limits, base: int = 0, frame: int = 0
) -> Tuple[List[HeaderRecord], Optional[E.Fault]]:
    """The headers of ``block`` up to the first invalid one, and its fault (or None).

    :func:`walk_headers` in the shape of the C core's records (offsets into
    ``block``); fault offsets are stream offsets.
    """
    fields, fault = walk_headers(block, limits, base, frame)
    records: List[HeaderRecord] = []
    name_start = name_end = value_type = 0
    for f in fields:
        start = f.offset - base
        if f.fault is not None:
            break
        if f.name == "name":
            name_start, name_end = start, start + f.length
        elif f.name == "type":
            value_type = f.value
        elif f.name == "value":
            if value_type in LENGTH_PREFIXED or value_type == TYPE_UUID:
                v1, v2 = start, start + f.length
            elif f.length:
                v1, v2 = f.value, 0
            else:
                v1 = v2 = 0
            records.append((name_start, name_end, value_type, v1, v2))
    return records, fault


_PRELUDE = struct.Struct(">III")
_U32 = struct.Struct(">I")


def _prelude_fault(
    total_length: int, headers_length: int, limits: Limits, frame: int
) -> Optional[Tuple[str, E.Fault]]:
    """The field and fault of the first length or limit a CRC-valid prelude breaks."""
    payload_length = total_length - MIN_TOTAL_LENGTH - headers_length
    if total_length < MIN_TOTAL_LENGTH:
        return "total_length", (E.FAULT_MESSAGE_TOO_SHORT, frame, frame, total_length, 0)
    if headers_length > total_length - MIN_TOTAL_LENGTH:
        fault = (E.FAULT_HEADERS_LENGTH, frame + 4, frame, headers_length, total_length)
        return "headers_length", fault
    if headers_length > limits.max_header_block:
        limit = limits.max_header_block
        return "headers_length", (E.FAULT_HEADERS_LIMIT, frame + 4, frame, headers_length, limit)
    if payload_length > limits.max_payload:
        limit = limits.max_payload
        return "total_length", (E.FAULT_PAYLOAD_LIMIT, frame, frame, payload_length, limit)
    return None


def _message_crc(view: memoryview) -> int:
    """CRC32 of a message's bytes before its CRC field, by the active backend.

    Not zlib here: PyPy's ``zlib.crc32`` copies a memoryview into a new string
    first (all of a message that ``inspect`` walks, per message, kept until its
    collector runs), while both backends' ``crc32`` read it in place (the Python
    backend's is zlib's, so this is still zlib's CRC; tests hold them equal).
    """
    from . import _active  # not at import: the Python backend imports this module

    return _active.backend.crc32(view)


def walk_frame(data: Buffer, limits: Limits = DEFAULT_LIMITS, base: int = 0) -> FrameWalk:
    """The fields of the message at the start of ``data``, and its faults.

    ``data[0]`` is at stream offset ``base`` (the message's offset); bytes after
    the message are not looked at.  The message is checked in the order
    ``decode()`` reports (and a ``Decoder``, which checks the prelude as soon as
    its 12 bytes are there):

    1. the input ends inside the 12-byte prelude;
    2. the prelude CRC does not match (its lengths cannot be trusted: the walk
       stops);
    3. total_length is below 16;
    4. headers_length is above total_length - 16;
    5. headers_length is above ``limits.max_header_block``;
    6. the payload length is above ``limits.max_payload``;
    7. the input ends inside the message;
    8. the message CRC does not match;
    9. a header is invalid (:func:`walk_headers`, in its own order).

    After 7 and 8 the walk goes on through what is there: the header block's
    first fault, which those hide from a decoder, is ``header_fault``.  The
    payload is not copied: its field has no value (its bytes are
    ``data[offset - base:][:length]``).
    """
    frame = memoryview(data)
    if frame.format != "B" or frame.ndim != 1:
        # Only when needed: on PyPy a cast view of a slice has no address of its
        # own, so zlib and cffi copy it byte by byte (~90 ms per MiB).
        frame = frame.cast("B")
    present = len(frame)
    fields: List[Field] = []

    def field(
        name: str, at: int, length: int, value: Any = None, fault: Optional[E.Fault] = None
    ) -> None:
        fields.append(Field(name, base + at, length, value, fault))

    def cut_short(name: str, at: int, size: int, fault: E.Fault) -> None:
        have = max(0, min(size, present - at))
        fields.append(Field(name, base + at, have, None, fault, -1, size - have))

    if present < PRELUDE_LENGTH:
        ended = (E.FAULT_TRUNCATED, base + present, base, present, 0)
        cut_short("prelude", 0, PRELUDE_LENGTH, ended)
        return FrameWalk(fields, ended, None, None)
    total_length, headers_length, prelude_crc = _PRELUDE.unpack_from(frame)
    computed = zlib.crc32(frame[:8])
    field("total_length", 0, 4, total_length)
    field("headers_length", 4, 4, headers_length)
    if prelude_crc != computed:
        fault = (E.FAULT_PRELUDE_CRC, base + 8, base, prelude_crc, computed)
        field("prelude_crc", 8, 4, prelude_crc, fault)
        return FrameWalk(fields, fault, None, None)
    field("prelude_crc", 8, 4, prelude_crc)
    broken = _prelude_fault(total_length, headers_length, limits, base)
    if broken is not None:
        name, fault = broken
        at = 0 if name == "total_length" else 1
        fields[at] = fields[at]._replace(fault=fault)
        return FrameWalk(fields, fault, None, total_length)

    block_at = PRELUDE_LENGTH
    payload_at = block_at + headers_length
    crc_at = total_length - MESSAGE_CRC_LENGTH
    truncated: Optional[E.Fault] = None
    if present < total_length:
        truncated = (E.FAULT_TRUNCATED, base + present, base, present, total_length)
    if present < payload_at:
        assert truncated is not None
        cut_short("header_block", block_at, headers_length, truncated)
        return FrameWalk(fields, truncated, None, total_length)
    block = bytes(frame[block_at:payload_at])
    header_fields, header_fault = walk_headers(block, limits, base + block_at, base)
    fields.extend(header_fields)
    if present < crc_at:
        assert truncated is not None
        cut_short("payload", payload_at, crc_at - payload_at, truncated)
        return FrameWalk(fields, truncated, header_fault, total_length)
    field("payload", payload_at, crc_at - payload_at)
    if truncated is not None:
        cut_short("message_crc", crc_at, MESSAGE_CRC_LENGTH, truncated)
        return FrameWalk(fields, truncated, header_fault, total_length)
    stored = _U32.unpack_from(frame, crc_at)[0]
    computed = _message_crc(frame[:crc_at])
    crc_fault: Optional[E.Fault] = None
    if stored != computed:
        crc_fault = (E.FAULT_MESSAGE_CRC, base + crc_at, base, stored, computed)
    field("message_crc", crc_at, MESSAGE_CRC_LENGTH, stored, crc_fault)
    return FrameWalk(fields, crc_fault or header_fault, header_fault, total_length)
