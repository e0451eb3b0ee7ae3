"""The pure-Python backend: framing, validation and CRC with the standard library.

A backend module exports ``NAME``, ``crc32``, ``decode_bytes``, ``decode_frames``
and ``encode_frame`` with the semantics documented on each function here; the C
backend (``_backend_c``) exports the same five with identical results,
faults included.  Everything user-facing (objects, errors, buffering) lives in
shared modules that call these.
"""

from __future__ import annotations

import struct
import zlib
from itertools import repeat as _repeat
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _reference
from . import errors as E
from ._header_cache import (
    DecodeCache,
    header_cache,
    remember_block,
    remember_header,
)
from .limits import Limits
from .types import (
    HEADER_TYPES,
    Header,
    Headers,
    Message,
    new_headers,
    uuid_from_bytes,
)

NAME = "python"

Buffer = Union[bytes, bytearray, memoryview]

_unpack_prelude = struct.Struct(">III").unpack_from
_unpack_u32 = struct.Struct(">I").unpack_from
_unpack_i8 = struct.Struct(">b").unpack_from
_unpack_i16 = struct.Struct(">h").unpack_from
_unpack_i32 = struct.Struct(">i").unpack_from
_unpack_i64 = struct.Struct(">q").unpack_from
_pack_prelude = struct.Struct(">II").pack
_pack_u32 = struct.Struct(">I").pack

_EMPTY_HEADERS = new_headers([])

# Below this many bytes a message's CRC runs over a copy (a bytes slice costs
# less than making a memoryview); from it on, over a memoryview (no copy).
_COPY_BELOW = 16384
_BOOL_TRUE, _BOOL_FALSE = HEADER_TYPES[0], HEADER_TYPES[1]


def crc32(data: Buffer, value: int = 0) -> int:
    """CRC32 (IEEE, as zlib) of ``data``, continuing from ``value``.

    A non-contiguous memoryview (``memoryview(b)[::2]``) is hashed in its
    logical byte order, from a copy.
    """
    try:
        return zlib.crc32(data, value)
    except BufferError:
        return zlib.crc32(memoryview(data).tobytes(), value)


class _HeaderFault(Exception):
    """Internal: carries a fault tuple out of the header walk."""

    def __init__(self, fault: E.Fault) -> None:
        super().__init__(fault)
        self.fault = fault


# Value size of the fixed-width types by code (bools: 0; 6 and 7 are variable).
_SIZE_BY_CODE = (0, 0, 1, 2, 4, 8, 0, 0, 8, 16)
_UNPACK_BY_CODE = (None, None, _unpack_i8, _unpack_i16, _unpack_i32, _unpack_i64, None, None,
                   _unpack_i64, None)  # fmt: skip
_UUID = HEADER_TYPES[9]
_new = tuple.__new__


def _parse_header_block(block: bytes, base: int, frame: int, limits: Limits) -> Headers:
    """Parse and validate a header block; ``base`` is the offset of ``block[0]``.

    The walk takes every well-formed header at full speed; when a header fails
    any check, the reference walk (:mod:`eventstream._reference`) works out
    which check failed first, in the documented order.
    """
    max_value = limits[2]
    max_headers = limits[3]
    headers: List[Header] = []
    append = headers.append
    cached = header_cache.get
    end = len(block)
    p = 0
    try:
        for _ in _repeat(None, max_headers):
            if p >= end:
                break
            t = p + 1 + block[p]
            # name length 0, name past the block, or no type byte
            if t >= end or t == p + 1:
                raise IndexError
            code = block[t]
            if code == 7 or code == 6:
                v = t + 3
                q = v + (block[t + 1] << 8 | block[t + 2])
                if q > end or q - v > max_value:
                    raise IndexError
                # Checked so far: lengths and limit.  Equal bytes passed the UTF-8
                # checks before if they are in the cache.
                raw = block[p:q]
                header = cached(raw)
                if header is None:
                    name = block[p + 1 : t].decode()  # UTF-8, strict
                    value: Any = block[v:q].decode() if code == 7 else block[v:q]
                    header = _new(Header, (name, HEADER_TYPES[code], value))
                    remember_header(raw, header)
                append(header)
                p = q
                continue
            name = block[p + 1 : t].decode()  # UTF-8, strict
            if code <= 1:
                append(_new(Header, (name, HEADER_TYPES[code], code == 0)))
                p = t + 1
            elif code == 9:
                v = t + 1
                p = t + 17
                if p > end:
                    raise IndexError
                append(_new(Header, (name, _UUID, uuid_from_bytes(block[v:p]))))
            elif code <= 9:
                v = t + 1
                p = v + _SIZE_BY_CODE[code]
                if p > end:
                    raise IndexError
                append(_new(Header, (name, HEADER_TYPES[code], _UNPACK_BY_CODE[code](block, v)[0])))  # type: ignore[misc]
            else:
                raise IndexError
        else:
            if p < end:
                raise IndexError  # more than max_headers headers
    except (IndexError, UnicodeDecodeError):
        fault = _reference.walk(block, limits, base, frame)[1]
        if fault is None:  # the two walks disagree: never seen, tested on arbitrary input
            raise AssertionError(f"fast walk rejected a valid header block {block!r}") from None
        raise _HeaderFault(fault) from None
    return _new(Headers, headers)


def decode_bytes(
    buf: bytes, limits: Limits, cache: DecodeCache, copy: bool = True
) -> Optional[Message]:
    """``buf`` as exactly one valid message, else None.

    ``copy=False``: the payload is a read-only memoryview of ``buf`` (no copy).

    The fast path of ``decode()``, with the checks of :func:`decode_frames`.
    None means "not exactly one valid message" (a fault, too few bytes or
    trailing bytes); the caller then takes the general path, which says which.
    """
    end = len(buf)
    if end < 16:
        return None
    max_payload, max_block = limits[0], limits[1]
    total, headers_len, prelude_crc = _unpack_prelude(buf, 0)
    if (
        total != end
        or headers_len > end - 16
        or headers_len > max_block
        or end - 16 - headers_len > max_payload
        or zlib.crc32(buf[:8]) != prelude_crc
    ):
        return None
    crc_at = end - 4
    body = buf[8:crc_at] if end < _COPY_BELOW else memoryview(buf)[8:crc_at]
    if zlib.crc32(body, prelude_crc) != _unpack_u32(buf, crc_at)[0]:
        return None
    ps = 12 + headers_len
    if ps == 12:
        headers = _EMPTY_HEADERS
    else:
        block = buf[12:ps]
        headers = cache.get(block)  # type: ignore[assignment]
        if headers is None:
            try:
                headers = _parse_header_block(block, 12, 0, limits)
            except _HeaderFault:
                return None
            remember_block(cache, block, headers)
    return _new(Message, (headers, buf[ps:crc_at] if copy else memoryview(buf)[ps:crc_at]))


def decode_frames(
    buf: Buffer,
    pos: int,
    end: int,
    limits: Limits,
    cache: DecodeCache,
    max_frames: int = -1,
    copy: bool = True,
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
    append = messages.append
    max_payload, max_block = limits[0], limits[1]
    data: bytes = buf  # type: ignore[assignment]  # only read when buf is bytes
    if type(buf) is bytes:
        # Slices of bytes are bytes: no memoryview, no second copy.
        view = None
    else:
        view = memoryview(buf)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
    # Payloads of a bytes buffer: slices (copies), or read-only views if not ``copy``.
    sliced: Buffer = data if copy or view is not None else memoryview(data)
    crc = zlib.crc32
    while end - pos >= 12 and max_frames != 0:
        total, headers_len, prelude_crc = _unpack_prelude(buf, pos)
        actual = crc(data[pos : pos + 8] if view is None else view[pos : pos + 8])
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
        if view is not None:
            body: Buffer = view[pos + 8 : crc_at]
        elif total < _COPY_BELOW:
            body = data[pos + 8 : crc_at]
        else:
            body = memoryview(data)[pos + 8 : crc_at]
        actual = crc(body, prelude_crc)
        if actual != stored:
            return messages, pos, (E.FAULT_MESSAGE_CRC, crc_at, pos, stored, actual)
        start = pos + 12
        payload_at = start + headers_len
        if headers_len:
            block = data[start:payload_at] if view is None else bytes(view[start:payload_at])
            headers = cache.get(block)
            if headers is None:
                try:
                    headers = _parse_header_block(block, start, pos, limits)
                except _HeaderFault as exc:
                    return messages, pos, exc.fault
                remember_block(cache, block, headers)
        else:
            headers = _EMPTY_HEADERS
        payload = sliced[payload_at:crc_at] if view is None else bytes(view[payload_at:crc_at])
        append(_new(Message, (headers, payload)))
        pos += total
        max_frames -= 1
    return messages, pos, None


# The first 12 + len(block) bytes of a message and their CRC, by (total length,
# header block): a client sending audio repeats both (one header set, one chunk
# size), so its prelude, prelude CRC and the message CRC's start are computed
# once.  Only exact bytes blocks are keys (their equality is bytes'); bounded,
# emptied when full.  Entries are immutable, so threads can share them.
_HEADS: Dict[Tuple[int, bytes], Tuple[bytes, int]] = {}
_HEADS_MAX_ENTRIES = 64
_HEADS_MAX_BLOCK = 2048
_zlib_crc32 = zlib.crc32
# One slot: the last repeated head's block (an exact bytes, kept alive so that its
# identity is not reused), payload length, bytes and CRC.  Encoding a dict's message
# passes the same block object each time, so identity finds it without hashing a
# key; a head seen once (a signed frame's) does not replace it.  Replaced whole,
# so a thread reads a matching set.
_last_head: List[Tuple[bytes, int, bytes, int]] = [(b"", -1, b"", 0)]


def encode_frame(header_block: bytes, payload: Buffer) -> bytes:
    """The wire bytes of one message from its encoded header block and payload.

    The caller has checked that the total length fits in 32 bits.
    """
    last = _last_head[0]
    if last[0] is header_block and last[1] == len(payload):
        return b"".join((last[2], payload, _pack_u32(_zlib_crc32(payload, last[3]))))
    total = 16 + len(header_block) + len(payload)
    key = (total, header_block)
    head = _HEADS.get(key) if type(header_block) is bytes else None
    if head is None:
        prelude = _pack_prelude(total, len(header_block))
        raw = prelude + _pack_u32(_zlib_crc32(prelude)) + header_block
        head = (raw, _zlib_crc32(raw))
        if type(header_block) is bytes and len(header_block) <= _HEADS_MAX_BLOCK:
            if len(_HEADS) >= _HEADS_MAX_ENTRIES:
                _HEADS.clear()
            _HEADS[key] = head
    else:  # a repeated head (so an exact bytes block): the next message may repeat it too
        _last_head[0] = (header_block, len(payload), head[0], head[1])
    return b"".join((head[0], payload, _pack_u32(_zlib_crc32(payload, head[1]))))
