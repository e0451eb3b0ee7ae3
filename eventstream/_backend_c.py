"""The C backend: framing, validation and CRC in the compiled core (csrc/, via cffi).

Same contract and records as :mod:`eventstream._backend_python` (see
:class:`eventstream._backend.Backend`): the same frame records and fault tuples,
header descriptors in the same format.  Only the byte crunching differs.  A
cffi call costs a few hundred nanoseconds, as much as building a message, so
each function makes as few calls and reads as few results as it can:

* ``check_one`` (decode()'s fast path) is ``es_check_one`` itself: the prelude,
  lengths, two limits and message CRC, that the message fills the buffer, and
  whether its block is the caller's last one, in one call of plain arguments
  (every cffi argument costs time, and a Python wrapper would cost more).
* ``check_next`` (the Decoder's path for a chunk that completes a held
  message) is ``es_check_next`` itself: ``es_check_one``'s checks of the
  message, and the prelude checks of the next one if its 12 bytes are there, in
  one call; the result packs the next message's length and the payload start.
* ``scan_frames``: ``es_decode_batch`` checks every complete message of the
  buffer in one call and marks a block equal to the previous non-empty one, so
  the shared layer neither slices nor looks it up again.  It walks no block
  (``header_cap`` 0): the shared layer looks each new block up in its cache and
  asks ``walk_headers`` only for one it lacks.  (Walking every new block inside
  the batch, as before, made each call read descriptors back for blocks the
  cache then held: +2,400 instructions per call.)  Python reads the records
  through 2-D memoryviews of the scratch arrays, one ``tolist()`` per call.
* ``walk_headers``: ``es_walk_block`` (``es_walk_headers`` with five arguments,
  UTF-8 included, from a given header boundary) into the scratch descriptor
  array, read back as one list of 5-int lists through premade 2-D views.
* ``bytes`` go to C as they are; bytearray and memoryview through
  ``ffi.from_buffer`` (no copy), released before returning so a bytearray can be
  resized again at once.  Offsets outside the buffer raise ValueError rather than
  let C read past it.
* ``encode_frame``: one call writes a message of up to 64 KiB whole (both CRCs
  in the pass that copies) into a pooled buffer, and ``ffi.unpack`` copies it
  out; a larger one gets its CRCs from one call and ``b"".join`` makes the copy.

Threads: a C call on an input of 64 KiB or more releases the GIL (smaller ones
keep it: the release would cost more than the work; csrc/cffi_gil.h), so calls
can overlap.  Result arrays are never shared between calls in flight: each batch
or walk call takes a scratch set (arrays and an ``es_batch`` holding its
``es_limits``) from a pool (``list.pop``/``append`` are atomic) and puts it back
when done; the pool grows to the number of concurrent calls, about 25 KiB each.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, List, Optional, Tuple, Union

from . import errors as E
from ._eventstream_c import ffi, lib
from ._version import __version__
from .limits import Limits

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
# The frame records' header slot means what eventstream._assemble reads.
if (lib.ES_HEADERS_SAME, lib.ES_HEADERS_NOT_WALKED) != (-1, -2):
    raise ImportError("eventstream._eventstream_c: ES_HEADERS_* differ from what _assemble reads")
# es_batch.stop, as an index of the struct's int32 items.
_STOP_AT = ffi.offsetof("es_batch", "stop") // 4
_DONE = lib.ES_STOP_DONE
_FULL = lib.ES_STOP_FULL
# The fault record's first slots, (code, offset, frame offset, a, b), are the
# package's fault tuple.
_FAULT_TUPLE = lib.ES_FAULT_B + 1

# Messages one batch call can report (more: another call).
_FRAME_CAP = 128
# Descriptors walk_headers writes into the scratch: every header under the default
# limits (1,024); a block that could hold more gets an array of its own.
_HEADER_CAP = 1024
_HEADERS_AT = _FRAME_CAP * _FRAME_FIELDS  # offsets in the scratch array
_ROWS = 33  # header counts with a premade view of their descriptors (up to 32)
_FAULT_AT = _HEADERS_AT + _HEADER_CAP * _HEADER_FIELDS

_crc32 = lib.es_crc32
# The encoder's CRC of a payload after a memoised head: es_crc32 itself, no Python
# call between (see Backend.crc32_of_bytes).
crc32_of_bytes = lib.es_crc32
_frame_crcs = lib.es_frame_crcs
_encode_into = lib.es_encode_frame
_decode_batch = lib.es_decode_batch
_walk_block = lib.es_walk_block
_unpack = ffi.unpack
_from_buffer = ffi.from_buffer
_release = ffi.release

_pack_prelude = struct.Struct(">III").pack
_pack_u32 = struct.Struct(">I").pack


_U32 = 0xFFFFFFFF
# Measured crossover of zlib.crc32 and a cffi call into es_crc32 (CPython 3.11, x86-64).
_SMALL_CRC = 512
ZLIB_CRC_BELOW = _SMALL_CRC
_zlib_crc32 = zlib.crc32


class _Scratch:
    """One call's ``es_batch`` and its arrays (frames, header descriptors, fault).

    ``ints`` is a memoryview of the arrays as int64: reading it costs a fraction
    of a cdata item read or an ``ffi.unpack``.
    """

    __slots__ = ("batch", "descs", "fields", "frames", "ints", "keep", "limits",
                 "rows", "walk")  # fmt: skip

    def __init__(self) -> None:
        self.keep = ffi.new("int64_t[]", _HEADERS_AT + _HEADER_CAP * _HEADER_FIELDS + _FAULT_FIELDS)
        self.ints: Any = memoryview(ffi.buffer(self.keep)).cast("q")
        # The frame records as rows: frames[:n].tolist() is a list of 4-int lists.
        self.frames: Any = self.ints[:_HEADERS_AT].cast("B").cast("q", (_FRAME_CAP, _FRAME_FIELDS))
        # The descriptors as rows, made once: descs[:n].tolist() costs a third less
        # than slicing and casting the flat view for each walk.
        self.descs: Any = (
            self.ints[_HEADERS_AT:_FAULT_AT].cast("B").cast("q", (_HEADER_CAP, _HEADER_FIELDS))
        )
        # rows[n] is descs[:n] for the header counts of real blocks, made once:
        # indexing a list costs a tenth of slicing the view for each walk.
        self.rows: List[Any] = [self.descs[:n] for n in range(_ROWS)]
        batch = self.batch = ffi.new("es_batch *")
        batch.frame_cap = _FRAME_CAP
        # The batch walks no block (header_cap 0): a block is looked up in the shared
        # cache first, and walked (walk_headers) only when it is not there; reading
        # the descriptors of blocks the cache holds cost more than the walk saved.
        batch.header_cap = 0
        batch.frames = self.keep
        batch.headers = self.keep + _HEADERS_AT
        batch.fault = self.keep + _FAULT_AT
        # walk_headers's es_walk_block writes to the same arrays (never in the same call).
        walk = self.walk = ffi.new("es_walk *")
        walk.cap = _HEADER_CAP
        walk.headers = batch.headers
        walk.fault = batch.fault
        # The batch's fields as int32 items (stop is read so: an item read costs a
        # fraction of a cdata attribute read).
        self.fields = memoryview(ffi.buffer(batch)).cast("i")
        self.limits: Any = None

    def set_limits(self, limits: Limits) -> None:
        for lim in (self.batch.limits, self.walk.limits):
            lim.max_payload, lim.max_header_block, lim.max_header_value, lim.max_headers = limits
        self.limits = limits


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


def walk_headers(
    block: bytes, base: int, frame: int, limits: Limits, start: int = 0, count: int = 0
) -> Union[List[List[int]], E.Fault]:
    """The descriptors of a header block's headers from ``start`` (a 5-int list per
    header, UTF-8 checked), or its fault: ``es_walk_block`` into a pooled scratch
    if the most headers the block can hold (``min(len(block) // 3, max_headers)``,
    es_max_header_count) fit there, else into an array of that size."""
    n = len(block)
    if n >= _BIG_BLOCK and limits[3] > _HEADER_CAP:
        return _walk_big(block, base, frame, limits, start, count)
    try:
        scratch = _pool.pop()
    except IndexError:
        scratch = _Scratch()
    try:
        if scratch.limits is not limits:
            scratch.set_limits(limits)
        written = _walk_block(block, n, start, count, scratch.walk)
        if written > 0:
            # One list per header, from the scratch's 2-D view.
            rows = scratch.rows[written] if written < _ROWS else scratch.descs[:written]
            descs: List[List[int]] = rows.tolist()
            return descs
        if written == 0:
            return []
        return _stream_fault(written, scratch.ints, _FAULT_AT, base, frame)
    finally:
        _pool.append(scratch)


# Blocks from this many bytes may hold more headers than the scratch has room for.
_BIG_BLOCK = 3 * (_HEADER_CAP + 1)


def _walk_big(
    block: bytes, base: int, frame: int, limits: Limits, start: int, count: int
) -> Union[List[List[int]], E.Fault]:
    """:func:`walk_headers` of a block that may hold more than ``_HEADER_CAP``
    headers, into an array of its own."""
    cap = min(len(block) // 3, limits.max_headers)
    walk = ffi.new("es_walk *")
    lim = walk.limits
    lim.max_payload, lim.max_header_block, lim.max_header_value, lim.max_headers = limits
    keep = ffi.new("int64_t[]", cap * _HEADER_FIELDS + _FAULT_FIELDS)
    walk.cap = cap
    walk.headers = keep
    walk.fault = keep + cap * _HEADER_FIELDS
    ints: Any = memoryview(ffi.buffer(keep)).cast("q")
    written = _walk_block(block, len(block), start, count, walk)
    if written > 0:
        rows = ints[: written * _HEADER_FIELDS].cast("B").cast("q", (written, _HEADER_FIELDS))
        descs: List[List[int]] = rows.tolist()
        return descs
    if written == 0:
        return []
    return _stream_fault(written, ints, cap * _HEADER_FIELDS, base, frame)


def _stream_fault(status: int, ints: Any, at: int, base: int, frame: int) -> E.Fault:
    """The fault record es_walk_block wrote at ``ints[at:]`` (its offset is an
    offset into the block) as a fault tuple of stream offsets."""
    if status == lib.ES_ERR_BAD_ARGUMENT:
        raise ValueError("walk_headers: start is past the end of the block")
    code, offset, _, a, b = ints[at : at + _FAULT_TUPLE].tolist()
    return (code, offset + base, frame, a, b)


check_one = lib.es_check_one
# The Decoder's path for bytes that complete a held message (see _backend_python.check_next).
check_next = lib.es_check_next


def scan_frames(
    buf: Buffer, pos: int, end: int, limits: Limits, max_frames: int = -1, checked: bool = False
) -> Tuple[List[List[int]], int, Optional[E.Fault]]:
    """The complete, CRC-valid messages in ``buf[pos:end]`` as frame records; see
    ``_backend_python.scan_frames``.  A block whose bytes equal the previous one
    of the call is marked ``ES_HEADERS_SAME``; no block is walked here.  C checks
    every prelude (``checked`` would save it next to nothing)."""
    if end - pos < 12 or max_frames == 0:
        return [], pos, None
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
    rows = scratch.frames
    stop_field = scratch.fields
    batch = scratch.batch
    try:
        n = _decode_batch(src, pos, end, max_frames, batch)
        frames: List[List[int]] = rows[:n].tolist()
        while stop_field[_STOP_AT] == _FULL:  # the frame array filled up: go on
            pos = frames[-1][2] + 4
            if max_frames > 0:
                max_frames -= n
            n = _decode_batch(src, pos, end, max_frames, batch)
            frames += rows[:n].tolist()
        if frames:
            pos = frames[-1][2] + 4
        if stop_field[_STOP_AT] == _DONE:
            return frames, pos, None
        fault: E.Fault = tuple(scratch.ints[_FAULT_AT : _FAULT_AT + _FAULT_TUPLE].tolist())
        return frames, pos, fault
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
    if type(payload) is bytes:  # (Message payloads always are)
        try:
            scratch = _encode_pool.pop()
        except IndexError:
            scratch = _new_encode_scratch()
        try:
            # C checks that the message fits the scratch before it writes; one that
            # does not (n < 0), or a block that is not bytes (TypeError: cffi passes
            # only bytes in place), is framed below.
            n = _encode_into(
                scratch[0], _ENCODE_SCRATCH, header_block, len(header_block), payload, len(payload)
            )
            if n >= 0:
                return _unpack(scratch[1], n)  # type: ignore[no-any-return]
        except TypeError:
            pass
        finally:
            _encode_pool.append(scratch)
    block_len = len(header_block)
    payload_len = len(payload)
    try:
        r = _frame_crcs(header_block, block_len, payload, payload_len)
    except TypeError:  # not bytes (Message payloads always are): pin the buffers
        with _from_buffer("uint8_t[]", header_block) as b, _from_buffer("uint8_t[]", payload) as p:
            block_len = len(b)
            payload_len = len(p)
            r = _frame_crcs(b, block_len, p, payload_len)
    prelude = _pack_prelude(16 + block_len + payload_len, block_len, r >> 32)
    return b"".join((prelude, header_block, payload, _pack_u32(r & _U32)))
