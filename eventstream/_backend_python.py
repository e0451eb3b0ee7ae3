"""The pure-Python backend: framing, validation and CRC with the standard library.

A backend module exports ``NAME``, ``crc32``, ``decode_frames`` and
``encode_frame`` with the semantics documented on each function here; the C
backend (``_backend_c``) exports the same four with identical results,
faults included.  Everything user-facing (objects, errors, buffering) lives in
shared modules that call these.
"""

from __future__ import annotations

import struct
import zlib
from typing import List, Optional, Tuple, Union

from . import errors as E
from ._header_cache import DecodeCache, remember_block
from .limits import Limits
from .types import (
    HEADER_TYPES,
    Headers,
    Message,
    new_header,
    new_headers,
    new_message,
    uuid_from_bytes,
)

NAME = "python"

Buffer = Union[bytes, bytearray, memoryview]

_unpack_prelude = struct.Struct(">III").unpack_from
_unpack_u32 = struct.Struct(">I").unpack_from
_unpack_u16 = struct.Struct(">H").unpack_from
_unpack_i8 = struct.Struct(">b").unpack_from
_unpack_i16 = struct.Struct(">h").unpack_from
_unpack_i32 = struct.Struct(">i").unpack_from
_unpack_i64 = struct.Struct(">q").unpack_from
_pack_prelude = struct.Struct(">II").pack
_pack_u32 = struct.Struct(">I").pack

_EMPTY_HEADERS = new_headers([])
_BOOL_TRUE, _BOOL_FALSE = HEADER_TYPES[0], HEADER_TYPES[1]

# Size of the fixed-width values, by type code (bools have none).
_FIXED_SIZE = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_FIXED_UNPACK = {2: _unpack_i8, 3: _unpack_i16, 4: _unpack_i32, 5: _unpack_i64, 8: _unpack_i64}


def crc32(data: Buffer, value: int = 0) -> int:
    """CRC32 (IEEE, as zlib) of ``data``, continuing from ``value``."""
    return zlib.crc32(data, value)


class _HeaderFault(Exception):
    """Internal: carries a fault tuple out of the header walk."""

    def __init__(self, fault: E.Fault) -> None:
        super().__init__(fault)
        self.fault = fault


def _parse_header_block(block: bytes, base: int, frame: int, max_value: int) -> Headers:
    """Parse and validate a header block; ``base`` is the offset of ``block[0]``.

    The check order per header (the C core walks in the same order):
    name length 0; name past the block; name UTF-8; type byte missing;
    unknown type; value (or its length prefix) past the block; value length
    over the limit; value past the block; string UTF-8.
    """
    headers = []
    end = len(block)
    p = 0
    while p < end:
        name_len = block[p]
        if name_len == 0:
            raise _HeaderFault((E.FAULT_HEADER_NAME_EMPTY, base + p, frame, 0, 0))
        t = p + 1 + name_len
        if t > end:
            raise _HeaderFault(
                (E.FAULT_HEADER_NAME_OVERRUN, base + p, frame, name_len, end - p - 1)
            )
        try:
            name = block[p + 1 : t].decode("utf-8")
        except UnicodeDecodeError:
            raise _HeaderFault((E.FAULT_HEADER_NAME_UTF8, base + p + 1, frame, 0, 0)) from None
        if t >= end:
            raise _HeaderFault((E.FAULT_HEADER_TYPE_MISSING, base + t, frame, 0, 0))
        code = block[t]
        v = t + 1
        if code <= 1:
            headers.append(new_header(name, HEADER_TYPES[code], code == 0))
            p = v
            continue
        if code > 9:
            raise _HeaderFault((E.FAULT_HEADER_TYPE_UNKNOWN, base + t, frame, code, 0))
        left = end - v
        if code == 6 or code == 7:
            if left < 2:
                raise _HeaderFault((E.FAULT_HEADER_VALUE_OVERRUN, base + v, frame, 2, left))
            size = _unpack_u16(block, v)[0]
            if size > max_value:
                raise _HeaderFault((E.FAULT_HEADER_VALUE_LIMIT, base + v, frame, size, max_value))
            if size + 2 > left:
                raise _HeaderFault((E.FAULT_HEADER_VALUE_OVERRUN, base + v, frame, size + 2, left))
            raw = block[v + 2 : v + 2 + size]
            if code == 7:
                try:
                    value: object = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise _HeaderFault(
                        (E.FAULT_HEADER_VALUE_UTF8, base + v + 2, frame, 0, 0)
                    ) from None
            else:
                value = raw
            p = v + 2 + size
        else:
            size = _FIXED_SIZE[code]
            if size > left:
                raise _HeaderFault((E.FAULT_HEADER_VALUE_OVERRUN, base + v, frame, size, left))
            if code == 9:
                value = uuid_from_bytes(block[v : v + 16])
            else:
                value = _FIXED_UNPACK[code](block, v)[0]
            p = v + size
        headers.append(new_header(name, HEADER_TYPES[code], value))  # type: ignore[arg-type]
    return new_headers(headers)


def decode_frames(
    buf: Buffer,
    pos: int,
    end: int,
    limits: Limits,
    cache: DecodeCache,
    max_frames: int = -1,
) -> Tuple[List[Message], int, Optional[E.Fault]]:
    """Decode the complete messages in ``buf[pos:end]``.

    Stops at the first incomplete message, at the first fault, or after
    ``max_frames`` messages (-1: no bound).  Returns ``(messages, pos,
    fault)``: the messages, the offset just past the last one, and ``None`` or
    the fault of the message starting at ``pos``.  A message is incomplete
    when fewer than 12 bytes, or fewer than ``total_length`` bytes, remain;
    the prelude (CRC, lengths, limits) is checked as soon as its 12 bytes are
    there.  Offsets in faults are offsets into ``buf``.

    ``cache`` maps header-block bytes to :class:`Headers` already validated
    under ``limits.max_header_value``.
    """
    messages: List[Message] = []
    max_payload, max_block, max_value = limits
    as_bytes = type(buf) is bytes
    view = memoryview(buf)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    crc = zlib.crc32
    while end - pos >= 12 and max_frames != 0:
        total, headers_len, prelude_crc = _unpack_prelude(buf, pos)
        actual = crc(view[pos : pos + 8])
        if actual != prelude_crc:
            return messages, pos, (E.FAULT_PRELUDE_CRC, pos + 8, pos, prelude_crc, actual)
        if total < 16:
            return messages, pos, (E.FAULT_MESSAGE_TOO_SHORT, pos, pos, total, 0)
        if headers_len > total - 16:
            return messages, pos, (E.FAULT_HEADERS_LENGTH, pos + 4, pos, headers_len, total)
        if headers_len > max_block:
            return messages, pos, (E.FAULT_HEADERS_LIMIT, pos + 4, pos, headers_len, max_block)
        payload_len = total - 16 - headers_len
        if payload_len > max_payload:
            return messages, pos, (E.FAULT_PAYLOAD_LIMIT, pos, pos, payload_len, max_payload)
        if end - pos < total:
            break
        crc_at = pos + total - 4
        stored = _unpack_u32(buf, crc_at)[0]
        actual = crc(view[pos + 8 : crc_at], prelude_crc)
        if actual != stored:
            return messages, pos, (E.FAULT_MESSAGE_CRC, crc_at, pos, stored, actual)
        start = pos + 12
        payload_at = start + headers_len
        if headers_len:
            block = buf[start:payload_at] if as_bytes else bytes(view[start:payload_at])
            headers = cache.get(block)  # type: ignore[arg-type]
            if headers is None:
                try:
                    headers = _parse_header_block(block, start, pos, max_value)  # type: ignore[arg-type]
                except _HeaderFault as exc:
                    return messages, pos, exc.fault
                remember_block(cache, block, headers)  # type: ignore[arg-type]
        else:
            headers = _EMPTY_HEADERS
        payload = buf[payload_at:crc_at] if as_bytes else bytes(view[payload_at:crc_at])
        messages.append(new_message(headers, payload))  # type: ignore[arg-type]
        pos += total
        max_frames -= 1
    return messages, pos, None


def encode_frame(header_block: bytes, payload: Buffer) -> bytes:
    """The wire bytes of one message from its encoded header block and payload.

    The caller has checked that the total length fits in 32 bits.
    """
    total = 16 + len(header_block) + len(payload)
    prelude = _pack_prelude(total, len(header_block))
    head = prelude + _pack_u32(zlib.crc32(prelude)) + header_block
    message_crc = zlib.crc32(payload, zlib.crc32(head))
    return b"".join((head, payload, _pack_u32(message_crc)))
