"""The pure-Python backend: framing, validation and CRC with the standard library.

A backend module satisfies :class:`eventstream._backend.Backend`: bytes in,
plain records out (frame offsets, header descriptors, fault tuples), plus CRC32
and frame encoding.  The C backend (``_backend_c``) gives the same records and
faults.  Objects, caches, errors and buffering live in shared modules above
both (:mod:`eventstream._assemble` builds the messages).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, List, Optional, Tuple, Union

from . import errors as E
from .limits import Limits

NAME = "python"
ZLIB_CRC_BELOW = 1 << 62  # every CRC is zlib's here: the encoder calls it directly

Buffer = Union[bytes, bytearray, memoryview]

_unpack_prelude = struct.Struct(">III").unpack_from
_unpack_u32 = struct.Struct(">I").unpack_from
_unpack_crc_prelude = struct.Struct(">IIII").unpack_from  # a message CRC, the next prelude
_unpack_i8 = struct.Struct(">b").unpack_from
_unpack_i16 = struct.Struct(">h").unpack_from
_unpack_i32 = struct.Struct(">i").unpack_from
_unpack_i64 = struct.Struct(">q").unpack_from
_pack_prelude = struct.Struct(">II").pack
_pack_u32 = struct.Struct(">I").pack

# Below this many bytes a message's CRC runs over a copy (a bytes slice costs
# less than making a memoryview); from it on, over a memoryview (no copy).
_COPY_BELOW = 16384


def crc32(data: Buffer, value: int = 0) -> int:
    """CRC32 (IEEE, as zlib) of ``data``, continuing from ``value``.

    A non-contiguous memoryview (``memoryview(b)[::2]``) is hashed in its
    logical byte order, from a copy.
    """
    try:
        return zlib.crc32(data, value)
    except BufferError:
        return zlib.crc32(memoryview(data).tobytes(), value)


# Value size of the fixed-width types by code (bools: 0; 6 and 7 are variable).
_SIZE_BY_CODE = (0, 0, 1, 2, 4, 8, 0, 0, 8, 16)
_UNPACK_BY_CODE = (None, None, _unpack_i8, _unpack_i16, _unpack_i32, _unpack_i64, None, None,
                   _unpack_i64, None)  # fmt: skip


def walk_headers(
    block: bytes, base: int, frame: int, limits: Limits, start: int = 0, count: int = 0
) -> Union[List[Tuple[int, int, int, int, int]], E.Fault]:
    """The descriptors of a header block's headers from ``start`` (a header
    boundary with ``count`` valid headers before it; 5 ints per header), or the
    block's fault.

    ``base`` is the stream offset of ``block[0]``, ``frame`` that of its message.
    Checks every length, the limits and the type bytes; UTF-8 is left to the
    shared builder's strict decoding (which the names and string values go
    through anyway).  When a header fails a check, the reference walk
    (:mod:`eventstream._reference`) works out which check failed first, in the
    documented order.
    """
    max_value = limits[2]
    d: List[Tuple[int, int, int, int, int]] = []  # d.append: no bound-method local (cheaper)
    end = len(block)
    if start > end:
        raise ValueError("walk_headers: start is past the end of the block")
    p = start
    try:
        while p < end:
            n = p + 1
            t = n + block[p]
            # name length 0, name past the block, or no type byte
            if t >= end or t == n:
                raise IndexError
            code = block[t]
            if code == 7 or code == 6:
                v = t + 3
                q = v + (block[t + 1] << 8 | block[t + 2])
                if q > end or q - v > max_value:
                    raise IndexError
                d.append((n, t, code, v, q))
                p = q
            elif code <= 1:
                p = t + 1
                d.append((n, t, code, 0, 0))
            elif code == 9:
                p = t + 17
                if p > end:
                    raise IndexError
                d.append((n, t, 9, t + 1, p))
            elif code <= 8:
                v = t + 1
                p = v + _SIZE_BY_CODE[code]
                if p > end:
                    raise IndexError
                d.append((n, t, code, _UNPACK_BY_CODE[code](block, v)[0], 0))  # type: ignore[misc]
            else:
                raise IndexError
        # The count limit is checked once, at the end: the walk stays linear in the
        # block (at most max_header_block / 3 headers), and a loop counter costs
        # more per header than it saves on a hostile block.
        if len(d) + count > limits[3]:
            raise IndexError  # more than max_headers headers
    except IndexError:
        from . import _reference  # on a fault only: keeps it out of import eventstream

        fault = _reference.walk(block, limits, base, frame)[1]
        if fault is None:  # the two walks disagree: never seen, tested on arbitrary input
            raise AssertionError(f"fast walk rejected a valid header block {block!r}") from None
        return fault
    return d


def check_one(
    buf: bytes, length: int, max_payload: int, max_header_block: int, same: bytes, same_len: int
) -> int:
    """The payload start (12 + headers_length) if ``buf`` (``length`` bytes) is
    exactly one message whose prelude, lengths, limits and message CRC check,
    else 0 (a fault, too few bytes or bytes after the message); negated when the
    header block is not empty and equals ``same`` (``same_len`` bytes).  The
    header block is not walked.  The fast path of ``decode()``."""
    if length < 16:
        return 0
    total, headers_len, prelude_crc = _unpack_prelude(buf, 0)
    if (
        total != length
        or headers_len > length - 16
        or headers_len > max_header_block
        or length - 16 - headers_len > max_payload
        or zlib.crc32(buf[:8]) != prelude_crc
    ):
        return 0
    crc_at = length - 4
    body = buf[8:crc_at] if length < _COPY_BELOW else memoryview(buf)[8:crc_at]
    if zlib.crc32(body, prelude_crc) != _unpack_u32(buf, crc_at)[0]:
        return 0
    ps: int = 12 + headers_len
    if headers_len == same_len and headers_len and buf[12:ps] == same:
        return -ps
    return ps


def check_next(buf: bytes, total: int, end: int, max_payload: int, max_header_block: int) -> int:
    """``next_total << 32 | payload_start`` if ``buf[:total]`` is exactly one
    message that passes :func:`check_one`, and ``buf[total:end]`` is the
    incomplete start of the next one: fewer than 12 bytes (``next_total`` 0) or a
    prelude that passes every prelude check of a message longer than ``end -
    total``.  Else 0 (a fault, a second complete message, or fewer than
    ``total`` bytes: the caller scans).
    The Decoder's path for a chunk that completes the message it holds."""
    if total > end:
        return 0
    ps = check_one(buf, total, max_payload, max_header_block, b"", 0)
    if not ps or end - total < 12:
        return ps
    following, headers_len, prelude_crc = _unpack_prelude(buf, total)
    if (
        end - total < following
        and 0 <= following - 16 - headers_len <= max_payload
        and headers_len <= max_header_block
        and zlib.crc32(buf[total : total + 8]) == prelude_crc
    ):
        result: int = following << 32 | ps
        return result
    return 0


def _prelude_fault(src: Any, pos: int, limits: Limits) -> E.Fault:
    """The first failed check of the prelude at ``pos`` (one of them failed)."""
    total, headers_len, prelude_crc = _unpack_prelude(src, pos)
    actual = zlib.crc32(src[pos : pos + 8])
    if actual != prelude_crc:
        return (E.FAULT_PRELUDE_CRC, pos + 8, pos, prelude_crc, actual)
    if total < 16:
        return (E.FAULT_MESSAGE_TOO_SHORT, pos, pos, total, 0)
    if headers_len > total - 16:
        return (E.FAULT_HEADERS_LENGTH, pos + 4, pos, headers_len, total)
    if headers_len > limits.max_header_block:
        return (E.FAULT_HEADERS_LIMIT, pos + 4, pos, headers_len, limits.max_header_block)
    payload_len = total - 16 - headers_len
    return (E.FAULT_PAYLOAD_LIMIT, pos, pos, payload_len, limits.max_payload)


def scan_frames(
    buf: Buffer, pos: int, end: int, limits: Limits, max_frames: int = -1, checked: bool = False
) -> Tuple[List[Tuple[int, int, int, int]], int, Optional[E.Fault]]:
    """The complete, CRC-valid messages in ``buf[pos:end]``, as records.

    Returns ``(frames, pos, fault)``: a record per message (header block start,
    payload start, payload end, and ``HEADERS_NOT_WALKED``, or 0 for an empty
    block: no block is walked here, the shared layer looks blocks up first and
    asks :func:`walk_headers` for the others), the offset after the last
    message, and ``None`` or the fault of the message at ``pos``.  Stops at the
    first incomplete message, at the first fault, or after ``max_frames``
    messages (-1: no bound).  A message is incomplete when fewer than 12
    bytes, or fewer than ``total_length`` bytes, remain; the prelude (CRC,
    lengths, limits) is checked as soon as its 12 bytes are there, unless
    ``checked`` says the prelude at ``pos`` passed those checks under ``limits``
    already (the Decoder's held message).  Offsets are offsets into ``buf``.
    """
    frames: List[Tuple[int, int, int, int]] = []
    max_payload, max_block = limits[0], limits[1]
    # bytes are sliced (a copy below _COPY_BELOW bytes costs less than a view),
    # other buffers read through a byte view.
    src: Any = buf
    if type(buf) is not bytes:
        src = memoryview(buf)
        if src.format != "B" or src.ndim != 1:
            src = src.cast("B")
    crc = zlib.crc32
    if end - pos < 12 or max_frames == 0:
        return frames, pos, None
    max_body = max_payload + 16  # total_length - headers_length at most
    last_prelude = end - 12  # the last offset a whole prelude starts at
    bounded = max_frames > 0
    total, headers_len, prelude_crc = _unpack_prelude(src, pos)
    crc_from = pos + 8  # the prelude CRC field: the message CRC covers it on
    check = not checked
    while True:
        if check:
            body_len = total - headers_len
            # Every prelude check in one condition (body_len < 16: a total_length
            # below 16 or a headers_length past it); _prelude_fault says which
            # failed first.
            if (
                crc(src[pos:crc_from]) != prelude_crc
                or body_len < 16
                or body_len > max_body
                or headers_len > max_block
            ):
                return frames, pos, _prelude_fault(src, pos, limits)
        check = True
        # The message at pos has a prelude that passed.
        after = pos + total
        if after > end:
            break  # incomplete
        crc_at = after - 4
        body = src[crc_from:crc_at] if total < _COPY_BELOW else memoryview(src)[crc_from:crc_at]
        if after <= last_prelude:
            # The message CRC and the next message's prelude, read at once.
            stored, total, next_len, next_crc = _unpack_crc_prelude(src, crc_at)
        else:
            stored = _unpack_u32(src, crc_at)[0]
            total = -1  # fewer than 12 bytes follow
        if crc(body, prelude_crc) != stored:
            fault = (E.FAULT_MESSAGE_CRC, crc_at, pos, stored, crc(body, prelude_crc))
            return frames, pos, fault
        start = pos + 12
        # The last slot: -2 (HEADERS_NOT_WALKED: this backend walks no block here), 0 empty.
        frames.append((start, start + headers_len, crc_at, -2 if headers_len else 0))
        pos = after
        if total < 0 or (bounded and len(frames) == max_frames):
            break
        headers_len = next_len
        prelude_crc = next_crc
        crc_from = pos + 8
    return frames, pos, None


_zlib_crc32 = zlib.crc32


def crc32_of_bytes(value: int, data: bytes, length: int) -> int:
    """``crc32(data, value)`` of an exact ``bytes`` of ``length`` bytes."""
    return _zlib_crc32(data, value)


# One slot: (block length, payload length, prelude, CRC of the prelude) of the
# last frame made here.  The prelude (lengths and their CRC) depends on the two
# lengths alone, and the frames that come here (blocks built for one message, such
# as a signer's date and signature around one chunk size) repeat them.  Replaced
# whole, so a thread reads a matching set.
_last_prelude: List[Tuple[int, int, bytes, int]] = [(-1, -1, b"", 0)]


def encode_frame(header_block: bytes, payload: Buffer) -> bytes:
    """The wire bytes of one message from its encoded header block and payload.

    The caller has checked that the total length fits in 32 bits.
    """
    prelude = _last_prelude[0]
    if prelude[0] != len(header_block) or prelude[1] != len(payload):
        lengths = _pack_prelude(16 + len(header_block) + len(payload), len(header_block))
        raw = lengths + _pack_u32(_zlib_crc32(lengths))
        prelude = (len(header_block), len(payload), raw, _zlib_crc32(raw))
        _last_prelude[0] = prelude
    crc = _zlib_crc32(payload, _zlib_crc32(header_block, prelude[3]))
    return b"".join((prelude[2], header_block, payload, _pack_u32(crc)))
