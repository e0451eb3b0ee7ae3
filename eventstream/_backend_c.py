"""The C backend: framing, validation and CRC in the compiled core (csrc/, via cffi).

Same contract and results as :mod:`eventstream._backend_python` (read its
docstrings): the same messages, built with the same fast constructors from
:mod:`eventstream.types`, the same fault tuples, and the same use of the
header-block cache.  Only the byte crunching differs.  A cffi call costs a few
hundred nanoseconds, as much as building a message, so each path makes as few
calls and reads as few results as it can:

* One message from ``bytes`` (``decode_bytes``): ``es_check_one`` checks the
  prelude, lengths, limits and message CRC and that the message fills the
  buffer, in one three-argument call (every cffi argument costs time).  The
  header block is compared with the last one in place, else looked up in the
  cache, and walked (``es_walk_headers``, a second call) only when it is new.
* Everything else: ``es_decode_batch`` checks every complete message of the buffer
  in one call, walks each new header block (UTF-8 included) into an int64
  descriptor array, and marks a block equal to the last non-empty one so it is
  neither walked nor looked up again.  Python reads the result arrays through a
  memoryview.  A header fault counts only if the block is not in the cache, as
  the Python backend never walks a cached block.
* ``bytes`` go to C as they are; bytearray and memoryview through
  ``ffi.from_buffer`` (no copy), released before returning so a bytearray can be
  resized again at once.  Offsets outside the buffer raise ValueError rather than
  let C read past it.
* ``encode_frame``: one call writes a message of up to 64 KiB whole (both CRCs
  in the pass that copies) into a pooled buffer, and ``ffi.unpack`` copies it
  out; a larger one gets its CRCs from one call and ``b"".join`` makes the copy.

Threads: cffi releases the GIL during every C call, so result arrays are never
shared between calls in flight.  Each batch call takes a scratch set from a pool
(``list.pop``/``append`` are atomic) and puts it back when done; the pool grows to
the number of concurrent calls, about 25 KiB each.  The es_limits structs shared
between threads are only read by C.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, Dict, List, Optional, Tuple, Union

from . import errors as E
from ._eventstream_c import ffi, lib
from ._header_cache import (
    DecodeCache,
    header_cache,
    remember_block,
    remember_header,
)
from ._version import __version__
from .limits import DEFAULT_LIMITS, Limits
from .types import (
    HEADER_TYPES,
    Header,
    Headers,
    Message,
    new_headers,
    new_message,
    uuid_from_bytes,
)

NAME = "c"

_built_for = ffi.string(lib.es_module_version()).decode("ascii")
if _built_for != __version__:
    raise ImportError(
        f"eventstream._eventstream_c was built for eventstream {_built_for}, "
        f"but this is eventstream {__version__}: rebuild it (pip install .)"
    )

Buffer = Union[bytes, bytearray, memoryview]

_FRAME_FIELDS = lib.ES_FRAME_FIELDS
_HEADER_FIELDS = lib.ES_HEADER_FIELDS
_FAULT_FIELDS = lib.ES_FAULT_FIELDS
_SAME = lib.ES_HEADERS_SAME
# The loops below unpack records in slot order: check that it is the C contract's.
if (lib.ES_FRAME_BLOCK, lib.ES_FRAME_PAYLOAD, lib.ES_FRAME_PAYLOAD_END, lib.ES_FRAME_HEADERS) != (
    0,
    1,
    2,
    3,
) or (lib.ES_HEADER_NAME, lib.ES_HEADER_NAME_END, lib.ES_HEADER_TYPE, lib.ES_HEADER_VALUE) != (
    0,
    1,
    2,
    3,
):
    raise ImportError("eventstream._eventstream_c: record slots differ from what this module reads")
_DONE = lib.ES_STOP_DONE
_FULL = lib.ES_STOP_FULL
# The fault record: (code, offset, frame offset, a, b) is the package's fault tuple;
# for a header fault, where the block, payload and payload end are.
_FAULT_TUPLE = lib.ES_FAULT_B + 1
_FAULT_BLOCK = lib.ES_FAULT_BLOCK
_FAULT_PAYLOAD = lib.ES_FAULT_PAYLOAD
_FAULT_PAYLOAD_END = lib.ES_FAULT_PAYLOAD_END

# Messages and header descriptors one call can report; more means another call.
_FRAME_CAP = 128
# Room for every header under the default limits (1,024), so a block the batch call
# could not walk in an empty array only occurs under raised limits.
_HEADER_CAP = 1024
_HEADERS_AT = _FRAME_CAP * _FRAME_FIELDS  # offsets in the scratch array
_FAULT_AT = _HEADERS_AT + _HEADER_CAP * _HEADER_FIELDS

_crc32 = lib.es_crc32
_frame_crcs = lib.es_frame_crcs
_encode_into = lib.es_encode_frame
_decode_batch = lib.es_decode_batch
_check_one = lib.es_check_one
_walk_headers = lib.es_walk_headers
_unpack = ffi.unpack
_from_buffer = ffi.from_buffer
_release = ffi.release
_NULL = ffi.NULL

_pack_prelude = struct.Struct(">III").pack
_pack_u32 = struct.Struct(">I").pack

_EMPTY_HEADERS = new_headers([])
_new = tuple.__new__


_U32 = 0xFFFFFFFF
# Measured crossover of zlib.crc32 and a cffi call into es_crc32 (CPython 3.11, x86-64).
_SMALL_CRC = 512
_zlib_crc32 = zlib.crc32


class _Scratch:
    """One call's ``es_batch`` and its arrays (frames, header descriptors, fault).

    ``ints`` is a memoryview of the arrays as int64: reading it costs a fraction
    of a cdata item read or an ``ffi.unpack``.
    """

    __slots__ = ("batch", "fault_ptr", "headers_ptr", "ints", "keep", "limits")

    def __init__(self) -> None:
        self.keep = ffi.new("int64_t[]", _HEADERS_AT + _HEADER_CAP * _HEADER_FIELDS + _FAULT_FIELDS)
        self.ints = memoryview(ffi.buffer(self.keep)).cast("q")
        batch = self.batch = ffi.new("es_batch *")
        batch.frame_cap = _FRAME_CAP
        batch.header_cap = _HEADER_CAP
        batch.frames = self.keep
        batch.headers = self.headers_ptr = self.keep + _HEADERS_AT
        batch.fault = self.fault_ptr = self.keep + _FAULT_AT
        self.limits: Any = None

    def set_limits(self, limits: Limits) -> None:
        lim = self.batch.limits
        lim.max_payload, lim.max_header_block, lim.max_header_value, lim.max_headers = limits
        self.limits = limits


# es_limits structs by Limits value (read-only once built, so threads share them).
# Limits are validated when built, so every field fits C's uint32.
_limit_structs: Dict[Any, Any] = {}


def _limits_struct(limits: Limits) -> Any:
    """The es_limits for ``limits``."""
    lim = _limit_structs.get(limits)
    if lim is None:
        lim = ffi.new("es_limits *")
        lim.max_payload, lim.max_header_block, lim.max_header_value, lim.max_headers = limits
        if len(_limit_structs) >= 64:
            _limit_structs.clear()
        _limit_structs[limits] = lim
    return lim


_DEFAULT_LIM = _limits_struct(DEFAULT_LIMITS)


_pool: List[_Scratch] = []


def crc32(data: Buffer, value: int = 0) -> int:
    """CRC32 (IEEE, as zlib) of ``data``, continuing from ``value``.

    Below ``_SMALL_CRC`` bytes zlib's table code finishes before a cffi call would
    have started, so short inputs go to ``zlib.crc32`` (same results).
    """
    if type(data) is bytes:
        if len(data) < _SMALL_CRC:
            return _zlib_crc32(data, value)
        return _crc32(value & _U32, data, len(data))  # type: ignore[no-any-return]
    try:
        pinned = _from_buffer("uint8_t[]", data)
    except BufferError:  # a non-contiguous memoryview: its logical bytes, copied
        return crc32(memoryview(data).tobytes(), value)
    with pinned as p:
        return _crc32(value & _U32, p, len(p))  # type: ignore[no-any-return]


def _build_headers(block: bytes, d: List[int]) -> Headers:
    """Headers from the descriptors ``d`` (5 values per header; offsets into ``block``).

    String, bytes and boolean headers come from the single-header cache when
    their wire bytes are there (the walk has validated them already).
    """
    headers: List[Header] = []
    append = headers.append
    cached = header_cache.get
    it = iter(d)
    for ns, ne, code, v1, v2 in zip(it, it, it, it, it):
        if code == 7 or code == 6:
            raw = block[ns - 1 : v2]
            header = cached(raw)
            if header is None:
                value: Any = block[v1:v2].decode("utf-8") if code == 7 else block[v1:v2]
                header = _new(Header, (block[ns:ne].decode("utf-8"), HEADER_TYPES[code], value))
                remember_header(raw, header)
            append(header)
        elif code <= 1:
            raw = block[ns - 1 : ne + 1]
            header = cached(raw)
            if header is None:
                header = _new(Header, (block[ns:ne].decode("utf-8"), HEADER_TYPES[code], code == 0))
                remember_header(raw, header)
            append(header)
        elif code == 9:
            value = uuid_from_bytes(block[v1:v2])
            append(_new(Header, (block[ns:ne].decode("utf-8"), HEADER_TYPES[code], value)))
        else:
            append(_new(Header, (block[ns:ne].decode("utf-8"), HEADER_TYPES[code], v1)))
    return _new(Headers, headers)


def _walk(block: bytes, base: int, frame: int, limits: Limits) -> Union[Headers, E.Fault]:
    """Walk one header block in its own call (once: into a pooled scratch if the
    most headers it can hold fit there, else into an array of that size)."""
    lim = _limits_struct(limits)
    cap = min(len(block) // 3, limits.max_headers)  # always enough (es_max_header_count)
    if cap > _HEADER_CAP:
        d = ffi.new("int64_t[]", cap * _HEADER_FIELDS + _FAULT_FIELDS)
        fault = d + cap * _HEADER_FIELDS
        count = _walk_headers(block, len(block), base, frame, lim, d, cap, fault)
        if count < 0:
            return tuple(_unpack(fault, _FAULT_TUPLE))
        return _build_headers(block, _unpack(d, count * _HEADER_FIELDS))
    try:
        scratch = _pool.pop()
    except IndexError:
        scratch = _Scratch()
    try:
        count = _walk_headers(
            block, len(block), base, frame, lim, scratch.headers_ptr, _HEADER_CAP, scratch.fault_ptr
        )
        if count >= 0:
            descs = scratch.ints[_HEADERS_AT : _HEADERS_AT + count * _HEADER_FIELDS].tolist()
            return _build_headers(block, descs)
        return tuple(scratch.ints[_FAULT_AT : _FAULT_AT + _FAULT_TUPLE].tolist())  # type: ignore[return-value]
    finally:
        _pool.append(scratch)


def decode_bytes(
    buf: bytes, limits: Limits, cache: DecodeCache, copy: bool = True
) -> Message | None:
    """``buf`` as exactly one valid message, else None.

    ``copy=False``: the payload is a read-only memoryview of ``buf`` (no copy).

    The fast path of ``decode()``: one C call (``es_check_one``, three arguments)
    checks the prelude, lengths, limits and message CRC, and that the message
    fills ``buf``.  None means "not exactly one valid message" (a fault, too few
    bytes or trailing bytes, or limits C cannot hold); the caller then takes the
    general path, which says which.
    """
    lim = _DEFAULT_LIM if limits is DEFAULT_LIMITS else _limits_struct(limits)
    n = len(buf)
    h = _check_one(buf, n, lim)  # 1 + headers_length, or 0
    if not h:
        return None
    ps = h + 11
    if ps == 12:
        headers: Optional[Headers] = _EMPTY_HEADERS
    else:
        block = buf[12:ps]
        headers = cache.get(block)
        if headers is None:
            walked = _walk(block, 12, 0, limits)
            if not isinstance(walked, Headers):
                return None  # a header fault: the general path reports it
            headers = walked
            remember_block(cache, block, headers)
    # One slice, one copy with the GIL held.  A GIL-free C copy of big payloads was tried
    # and dropped: it needs a zero-filled bytes(n) first, and a 16 MiB decode went from
    # 1.47 to 2.10 ms in one thread (slower in two as well); copy=False skips the copy.
    if copy:
        return _new(Message, (headers, buf[ps:-4]))
    return _new(Message, (headers, memoryview(buf)[ps:-4]))


def decode_frames(
    buf: Buffer,
    pos: int,
    end: int,
    limits: Limits,
    cache: DecodeCache,
    max_frames: int = -1,
    copy: bool = True,
) -> Tuple[List[Message], int, E.Fault | None]:
    """Decode the complete messages in ``buf[pos:end]``; see ``_backend_python.decode_frames``."""
    messages: List[Message] = []
    if end - pos < 12 or max_frames == 0:
        return messages, pos, None
    view: Any = buf
    if type(buf) is not bytes:
        view = memoryview(buf)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
    if pos < 0 or end > len(view):
        # C reads buf[pos:end] unchecked, so it must lie inside the buffer.
        raise ValueError(f"buf[{pos}:{end}] is outside a buffer of {len(view)} bytes")
    try:
        scratch = _pool.pop()
    except IndexError:
        scratch = _Scratch()
    if scratch.limits is not limits:
        scratch.set_limits(limits)
    # bytes go to C as they are; other buffers through a pinned, zero-copy pointer
    # (released below, so a bytearray can be resized again as soon as we return).
    src: Any = buf
    pinned = None
    if view is not buf:
        src = pinned = _from_buffer("uint8_t[]", view)
    ints = scratch.ints
    batch = scratch.batch
    append = messages.append
    cache_get = cache.get
    last = _EMPTY_HEADERS
    # Payloads of a bytes buffer: slices (copies), or read-only views if not ``copy``.
    sliced: Any = buf if copy or src is not buf else memoryview(buf)
    try:
        while True:
            n = _decode_batch(src, pos, end, max_frames, batch)
            if n:
                di = _HEADERS_AT
                vals = ints[: n * _FRAME_FIELDS].tolist()
                it = iter(vals)
                for bs, ps, pe, info in zip(it, it, it, it):
                    if info == _SAME:  # the bytes of the last non-empty block
                        headers = last
                    elif bs == ps:
                        headers = _EMPTY_HEADERS
                    else:
                        block = buf[bs:ps] if src is buf else bytes(view[bs:ps])
                        cached = cache_get(block)
                        if cached is not None:
                            headers = cached
                        elif info >= 0:
                            descs = ints[di : di + info * _HEADER_FIELDS].tolist()
                            headers = _build_headers(block, descs)
                            remember_block(cache, block, headers)
                        else:
                            walked = _walk(block, bs, bs - 12, limits)
                            if type(walked) is tuple:
                                return messages, bs - 12, walked  # type: ignore[return-value]
                            headers = walked  # type: ignore[assignment]
                            remember_block(cache, block, headers)
                        if info > 0:
                            di += info * _HEADER_FIELDS
                        last = headers
                    append(
                        _new(
                            Message, (headers, sliced[ps:pe] if src is buf else bytes(view[ps:pe]))
                        )
                    )
                pos = pe + 4
                if max_frames > 0:
                    max_frames -= n
            stop = batch.stop
            if stop == _DONE:
                return messages, pos, None
            if stop == _FULL:
                continue
            fault = ints[_FAULT_AT : _FAULT_AT + _FAULT_FIELDS].tolist()
            bs = fault[_FAULT_BLOCK]
            if bs >= 0:
                # A header fault.  The Python backend never walks a block that is
                # in the cache, so neither may this one fail on it.
                ps = fault[_FAULT_PAYLOAD]
                block = buf[bs:ps] if src is buf else bytes(view[bs:ps])
                cached = cache_get(block)
                if cached is not None:
                    pe = fault[_FAULT_PAYLOAD_END]
                    append(new_message(cached, sliced[ps:pe] if src is buf else bytes(view[ps:pe])))
                    pos = pe + 4
                    if max_frames > 0:
                        max_frames -= 1
                        if max_frames == 0:
                            return messages, pos, None
                    continue
            return messages, pos, tuple(fault[:_FAULT_TUPLE])  # type: ignore[return-value]
    finally:
        _pool.append(scratch)
        if pinned is not None:
            _release(pinned)


# Messages up to this size are written whole by C into a pooled scratch buffer and
# copied out once (ffi.unpack): fewer Python steps than packing the prelude and
# joining four parts.  Larger ones keep the join, which copies the payload once too.
_ENCODE_SCRATCH = 65536
_encode_pool: List[Tuple[Any, Any]] = []  # (uint8_t[] for C, char * to unpack)


def _new_encode_scratch() -> Tuple[Any, Any]:
    out = ffi.new("uint8_t[]", _ENCODE_SCRATCH)
    return out, ffi.cast("char *", out)


def encode_frame(header_block: bytes, payload: Buffer) -> bytes:
    """The wire bytes of one message from its encoded header block and payload.

    The caller has checked that the total length fits in 32 bits.  C reads the
    block and payload in place and computes both CRCs in the pass that copies
    them.
    """
    block_len = len(header_block)
    payload_len = len(payload)
    if type(payload) is bytes and 16 + block_len + payload_len <= _ENCODE_SCRATCH:
        try:
            scratch = _encode_pool.pop()
        except IndexError:
            scratch = _new_encode_scratch()
        try:
            n = _encode_into(
                scratch[0], _ENCODE_SCRATCH, header_block, block_len, payload, payload_len
            )
            return _unpack(scratch[1], n)  # type: ignore[no-any-return]
        except TypeError:  # a block that is not bytes: pinned below
            pass
        finally:
            _encode_pool.append(scratch)
    try:
        r = _frame_crcs(header_block, block_len, payload, payload_len)
    except TypeError:  # not bytes (Message payloads always are): pin the buffers
        with _from_buffer("uint8_t[]", header_block) as b, _from_buffer("uint8_t[]", payload) as p:
            block_len = len(b)
            payload_len = len(p)
            r = _frame_crcs(b, block_len, p, payload_len)
    prelude = _pack_prelude(16 + block_len + payload_len, block_len, r >> 32)
    return b"".join((prelude, header_block, payload, _pack_u32(r & _U32)))
