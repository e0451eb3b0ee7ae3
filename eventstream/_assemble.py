"""decode(), the Decoder's decode_frames, and the decode caches.

The backends (:mod:`eventstream._backend`) check bytes and describe what they
found with integers: where each complete message's header block and payload
are, header descriptors, fault tuples.  This module turns those records into
:class:`~eventstream.types.Headers` and :class:`~eventstream.types.Message`
objects, with one header builder for both backends, and owns every decode
cache, so no backend holds state.

The caches.  Consecutive messages nearly always carry the same header block
(``:message-type``, ``:event-type``, ``:content-type``), so a block's bytes are
looked up before the backend is asked to walk them; a block that changes in
one header still repeats the others, whose wire bytes are looked up one by
one.  Entries are immutable values, so messages and threads share them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _active
from . import errors as E
from . import types as _types
from ._sniff import upgrade_not_an_event_stream
from .limits import DEFAULT_LIMITS, PRELUDE_LENGTH, Limits
from .types import HEADER_TYPES, Header, Headers, Message, new_headers

if TYPE_CHECKING:
    from ._backend import Backend

Buffer = Union[bytes, bytearray, memoryview]

# A header block's records, as both backends write them: five ints per header
# (name start, name end, type, then the value or the value's start and end; see
# _reference.HeaderRecord), offsets into the block.
Descriptors = Sequence[Sequence[int]]

# Frame records: four ints per complete, CRC-valid message (header block start,
# payload start, payload end, and what is known of its header block: 0 empty,
# HEADERS_SAME, or HEADERS_NOT_WALKED: look it up, else ask walk_headers).  The
# loops below compare with the literal -1 (a constant costs less than a global).
HEADERS_SAME = -1  # the bytes of the previous non-empty block of the same scan
HEADERS_NOT_WALKED = -2

# ------------------------------------------------------------------ the caches

# Bounds the memory: at most MAX_ENTRIES blocks of at most MAX_BLOCK bytes and
# MAX_HEADERS headers each.  The header count matters more than the bytes: a 2 KiB
# block of 3-byte headers decodes to ~680 Header objects (~55 KiB), so without it
# 1 MiB of hostile input could pin ~28 MiB here.  Real streams carry a handful.
MAX_ENTRIES = 512
MAX_BLOCK = 2048
MAX_HEADERS = 32

# Single headers by their wire bytes (name length byte to value end), for string,
# bytes and boolean headers of at most MAX_HEADER_BYTES.  The bytes decide the
# Header completely, and a header is only looked up after it passed the checks of
# the decode at hand (lengths, limits), so one cache serves every limit; equal bytes
# passed the UTF-8 checks when they were stored.
MAX_HEADER_ENTRIES = 512
MAX_HEADER_BYTES = 128

header_cache: Dict[bytes, Header] = {}

# The lead of the last block built that had one: its string, bytes and boolean
# headers before its first header of another type, as (bytes, length, header
# count, headers, longest value, the Limits it was walked under).  A stream whose
# blocks differ only in a later header (an id, a sequence number) repeats its
# lead: a block that starts with it is walked from the lead's end, if the lead
# passes the limits at hand (its longest value and header count; the rest of its
# checks do not depend on them), and its headers are taken as they are.  Equal
# bytes are equal headers (each header's bytes say where it ends).  Bounded like
# a cached block; replaced whole.
Lead = Tuple[bytes, int, int, Tuple[Header, ...], int, Optional[Limits]]
_NO_LEAD: Lead = (b"", 0, 0, (), 0, None)  # none yet
_last_lead = [_NO_LEAD]

_EMPTY_HEADERS = new_headers([])


class DecodeCache(Dict[bytes, Headers]):
    """Header blocks (their bytes) and their headers, validated under one Limits
    value: one per Limits value (decode_cache_for), so a lookup never skips a check.
    A dict: its lookups are the hot path of every decode.

    ``last``: ``(block, len(block), headers)`` of a block decode() found here.
    ``check_one`` compares a message's block with it in place, so a message that
    repeats it (as a stream's messages do) needs no block slice and no hashing.
    It is set when a lookup hits (a block seen once does not replace it) and
    replaced whole, so a thread reads a matching triple.
    """

    __slots__ = ("last",)

    def __init__(self) -> None:
        super().__init__()
        self.last: Tuple[bytes, int, Headers] = _NO_LAST


# No block yet (check_one never matches an empty block).
_NO_LAST: Tuple[bytes, int, Headers] = (b"", 0, _EMPTY_HEADERS)

# The decode caches by Limits value.  At most MAX_CACHES are kept here (the oldest
# made is dropped first; a Decoder holding one keeps it for itself), so a process
# that decodes under many distinct limits holds a bounded number of caches.  The
# default limits' cache is always kept (it is made first, and never dropped).
MAX_CACHES = 8
_decode_caches: Dict[Limits, DecodeCache] = {DEFAULT_LIMITS: DecodeCache()}


def decode_cache_for(limits: Limits) -> DecodeCache:
    """The decode cache of ``limits`` (made on first use)."""
    if type(limits) is not Limits:
        raise TypeError(f"limits must be a Limits, got {type(limits).__name__}")
    cache = _decode_caches.get(limits)
    if cache is None:
        while len(_decode_caches) >= MAX_CACHES:
            try:
                oldest = list(_decode_caches)[1]  # [0] is the default limits' cache
                dropped = _decode_caches.pop(oldest)
            except (IndexError, KeyError):  # another thread was first
                continue
            # Anyone still holding it keeps a working cache, emptied to free memory
            # at once.
            dropped.clear()
            dropped.last = _NO_LAST
        cache = _decode_caches.setdefault(limits, DecodeCache())
    return cache


def remember_block(cache: DecodeCache, block: bytes, headers: Headers) -> None:
    """Store a validated block's headers, emptying the cache when it is full."""
    if len(block) <= MAX_BLOCK and len(headers) <= MAX_HEADERS:
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[block] = headers


def remember_header(raw: bytes, header: Header) -> None:
    """Store a validated header under its wire bytes, emptying the cache when full."""
    if len(raw) <= MAX_HEADER_BYTES:
        if len(header_cache) >= MAX_HEADER_ENTRIES:
            header_cache.clear()
        header_cache[raw] = header


def clear() -> None:
    """Empty every decode cache (tests and memory-conscious callers)."""
    for limits, cache in list(_decode_caches.items()):
        cache.clear()
        cache.last = _NO_LAST
        if limits is not DEFAULT_LIMITS:
            _decode_caches.pop(limits, None)
    header_cache.clear()
    _last_lead[0] = _NO_LEAD


# ------------------------------------------------------------------ headers from records

_new = tuple.__new__
_object_new = object.__new__
_int_from_bytes = int.from_bytes


def walk_block(
    backend: Backend, block: bytes, base: int, frame: int, limits: Limits
) -> Union[Headers, E.Fault]:
    """The headers of a block no cache holds, or its fault (``base``: the stream
    offset of ``block[0]``, ``frame`` that of its message): the backend's walk,
    then the headers from its descriptors.

    A block that starts with the last lead (``_last_lead``) is walked from the
    lead's end if the lead passes ``limits``, and the lead's headers are taken as
    they are.  Names and string values are decoded strictly here: a backend's
    walk may leave their UTF-8 check to this decoding (see :func:`utf8_fault`).
    String, bytes and boolean headers come from the single-header cache when
    their wire bytes are there.  A lead that is new or longer than the one used
    becomes the last lead.
    """
    lead_bytes, known, count, lead, longest, passed = _last_lead[0]
    if (
        known
        and block[:known] == lead_bytes
        and (passed is limits or (longest <= limits[2] and count <= limits[3]))
    ):
        d = backend.walk_headers(block, base, frame, limits, known, count)
    else:
        d = backend.walk_headers(block, base, frame, limits)
        known, lead, longest = 0, (), 0
    if isinstance(d, tuple):
        return d
    # No bound-method locals (append = headers.append): CPython 3.11 calls
    # headers.append(...) and header_cache.get(...) as specialised method calls,
    # cheaper than making and calling the bound methods for a handful of headers.
    headers: List[Header] = list(lead)
    lead_end = -1  # this block's lead ends at its first header of another type
    lead_count = 0
    try:
        for ns, ne, code, v1, v2 in d:
            if code == 7 or code == 6:
                raw = block[ns - 1 : v2]
                header = header_cache.get(raw)
                if header is None:
                    value: Any = block[v1:v2].decode() if code == 7 else block[v1:v2]
                    header = _new(Header, (block[ns:ne].decode(), HEADER_TYPES[code], value))
                    remember_header(raw, header)
            elif code <= 1:
                raw = block[ns - 1 : ne + 1]
                header = header_cache.get(raw)
                if header is None:
                    header = _new(Header, (block[ns:ne].decode(), HEADER_TYPES[code], code == 0))
                    remember_header(raw, header)
            else:
                if lead_end < 0:  # the first header of another type: the lead ends here
                    lead_end = ns - 1
                    lead_count = len(headers)
                if code == 9:
                    # uuid_from_bytes, inlined: the call cost ~5% of a UUID header
                    cls, unknown, set_int, set_safe = (
                        _types._uuid_parts or _types._load_uuid_parts()
                    )
                    value = _object_new(cls)
                    set_int(value, _int_from_bytes(block[v1:v2], "big"))
                    set_safe(value, unknown)
                    header = _new(Header, (block[ns:ne].decode(), HEADER_TYPES[9], value))
                else:
                    header = _new(Header, (block[ns:ne].decode(), HEADER_TYPES[code], v1))
            headers.append(header)
    except UnicodeDecodeError:
        return utf8_fault(block, base, frame, limits)
    if known < lead_end <= MAX_BLOCK and lead_count <= MAX_HEADERS:  # a new or longer lead
        for _, _, _, v1, v2 in d[: lead_count - len(lead)]:
            longest = max(longest, v2 - v1)  # a value's length (booleans: 0 - 0)
        new_lead = tuple(headers[:lead_count])
        _last_lead[0] = (block[:lead_end], lead_end, lead_count, new_lead, longest, limits)
    return _new(Headers, headers)


def utf8_fault(block: bytes, base: int, frame: int, limits: Limits) -> E.Fault:
    """The fault of a block whose walk passed but whose names or strings did not
    decode (a walk that left UTF-8 to the builder): the reference walk names the
    first fault in the documented order."""
    from . import _reference  # on a fault only: keeps it out of import eventstream

    fault = _reference.walk(block, limits, base, frame)[1]
    if fault is None:  # never seen; the property tests run arbitrary input
        raise AssertionError(f"a valid header block failed to decode: {block!r}")
    return fault


# ------------------------------------------------------------------ decoding


_DEFAULT_CACHE = _decode_caches[DEFAULT_LIMITS]  # never dropped (clear() empties it)
_BLOCK_END = 12 + MAX_BLOCK  # decode(): a block of at most MAX_BLOCK bytes ends here
# decode()'s locals for the default limits, in one tuple: the two ints are constants
# (indexing a tuple subclass costs ~200 instructions each), one unpacking sets all.
_DEFAULTS = (DEFAULT_LIMITS, _DEFAULT_CACHE, DEFAULT_LIMITS[0], DEFAULT_LIMITS[1])


def decode(data: Buffer, *, limits: Optional[Limits] = None, copy: bool = True) -> Message:
    """Decode exactly one message from ``data`` (bytes, bytearray or memoryview).

    ``copy=False`` skips the payload copy: the message's payload is then a
    read-only ``memoryview`` of ``data`` (if ``data`` is ``bytes``, which cannot
    change) or of a private copy of it (a bytearray or memoryview is copied
    once, since it could change).  It keeps that buffer alive while it lives.

    Raises a :class:`~eventstream.errors.DecodeError` subclass for invalid
    bytes, :class:`~eventstream.errors.TruncatedStreamError` if the message is
    incomplete and :class:`~eventstream.errors.TrailingDataError` if bytes follow it.
    """
    if limits is None or limits is DEFAULT_LIMITS:
        limits, cache, max_payload, max_block = _DEFAULTS
    else:
        cache = decode_cache_for(limits)
        max_payload, max_block = limits[0], limits[1]
    if type(data) is not bytes:
        data = _immutable_bytes(data)
    # The fast path: exactly one valid message whose block is cached (or walks).
    backend = _active.backend
    same, same_len, same_headers = cache.last
    ps = backend.check_one(data, len(data), max_payload, max_block, same, same_len)
    if ps < 0:  # the block of cache.last
        if copy:
            return _new(Message, (same_headers, data[-ps:-4]))
        return _new(Message, (same_headers, memoryview(data)[-ps:-4]))
    if ps:
        headers: Optional[Headers]
        if ps == 12:
            headers = _EMPTY_HEADERS
        else:
            block: bytes = data[12:ps]
            headers = cache.get(block)
            if headers is None:
                walked = walk_block(backend, block, 12, 0, limits)
                if isinstance(walked, Headers):
                    headers = walked  # remember_block, inlined (its call cost ~1% of this path)
                    if ps <= _BLOCK_END and len(walked) <= MAX_HEADERS:
                        if len(cache) >= MAX_ENTRIES:
                            cache.clear()
                        cache[block] = walked
                # else a fault: the general path reports it
            else:
                # Seen before: the next message may repeat it (a block seen once, as
                # in a stream of distinct blocks, does not replace the last one).
                cache.last = (block, ps - 12, headers)
        if headers is not None:
            # One slice, one copy with the GIL held.  A GIL-free C copy of big payloads
            # was tried and dropped: it needs a zero-filled bytes(n) first, and a 16 MiB
            # decode went from 1.47 to 2.10 ms in one thread; copy=False skips the copy.
            if copy:
                return _new(Message, (headers, data[ps:-4]))
            return _new(Message, (headers, memoryview(data)[ps:-4]))
    return _decode_failed(data, limits, cache, copy)


def _decode_failed(data: bytes, limits: Limits, cache: DecodeCache, copy: bool) -> Message:
    """decode() of bytes that are not exactly one valid message, or whose header
    block did not walk: the general path finds out what is wrong."""
    end = len(data)
    messages, pos, fault = decode_frames(data, 0, end, limits, cache, 1)
    if fault is not None:
        raise upgrade_not_an_event_stream(E.fault_error(fault), data)
    if not messages:
        raise E.fault_error(truncated_fault(data, 0, end))
    if pos != end:
        raise E.fault_error((E.FAULT_TRAILING, pos, pos, end - pos, 0))
    message = messages[0]  # its block was cached since the fast path ran (another thread)
    if not copy:
        view = memoryview(data)[end - 4 - len(message.payload) : -4]
        message = _new(Message, (message.headers, view))
    return message


def _immutable_bytes(data: object) -> bytes:
    """``data``'s bytes as an immutable ``bytes`` object (a copy).

    decode() checks and then uses the bytes it is given; a bytearray or a
    memoryview can change in between (another thread, a memory map), so they are
    copied first and only the copy is checked and used.  ``bytes()`` also reads
    non-contiguous memoryviews (``memoryview(b)[::2]``), in their logical order.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"expected bytes, bytearray or memoryview, got {type(data).__name__}")


def truncated_fault(data: Buffer, start: int, end: int) -> E.Fault:
    """The fault for a message at ``start`` that the input ends inside."""
    present = end - start
    needed = 0
    if present >= PRELUDE_LENGTH:
        # The prelude CRC was verified before the decoder waited for more bytes.
        needed = int.from_bytes(bytes(data[start : start + 4]), "big")
    return (E.FAULT_TRUNCATED, end, start, present, needed)


def decode_whole(
    data: bytes, length: int, limits: Limits, cache: DecodeCache, copy: bool = True
) -> Optional[Message]:
    """The message filling ``data[:length]`` (``length <= len(data)``), or ``None``.

    The Decoder's path for a chunk that completes one message: the backend's
    single-message check (``check_one``, as in :func:`decode`) and a cache
    lookup cost less than a frame scan.  ``None`` when the check fails or the
    header block is not cached: :func:`decode_frames` then walks the block or
    reports the fault.
    """
    last = cache.last
    ps = _active.backend.check_one(data, length, limits[0], limits[1], last[0], last[1])
    if ps < 0:  # the block of cache.last
        headers: Optional[Headers] = last[2]
        ps = -ps
    elif not ps:
        return None
    elif ps == 12:
        headers = _EMPTY_HEADERS
    else:
        block = data[12:ps]
        headers = cache.get(block)
        if headers is None:
            return None
        cache.last = (block, ps - 12, headers)
    if copy:
        return _new(Message, (headers, data[ps : length - 4]))
    return _new(Message, (headers, memoryview(data)[ps : length - 4]))


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
    there.  Offsets in faults are offsets into ``buf``.  ``copy=False`` with a
    ``bytes`` buffer: payloads are read-only views of it.

    ``cache`` maps header-block bytes to :class:`Headers` already validated
    under ``limits``.
    """
    backend = _active.backend
    frames, pos, fault = backend.scan_frames(buf, pos, end, limits, max_frames)
    messages: List[Message] = []
    if not frames:
        return messages, pos, fault
    # bytes cannot change: blocks are slices and payloads slices (copies) or, if
    # not ``copy``, read-only views.  Any other buffer may change once this
    # returns, so both are copied out of a byte view of it.
    is_bytes = type(buf) is bytes
    if is_bytes:
        src: Any = buf if copy else memoryview(buf)
    else:
        src = memoryview(buf)
        if src.format != "B" or src.ndim != 1:
            src = src.cast("B")
    last = _EMPTY_HEADERS
    for bs, ps, pe, info in frames:
        if info == -1:  # HEADERS_SAME
            headers = last
        elif bs == ps:
            headers = _EMPTY_HEADERS
        else:
            block: bytes = buf[bs:ps] if is_bytes else bytes(src[bs:ps])  # type: ignore[assignment]
            cached = cache.get(block)
            if cached is None:
                walked = walk_block(backend, block, bs, bs - 12, limits)
                if not isinstance(walked, Headers):
                    return messages, bs - 12, walked
                cached = walked
                remember_block(cache, block, cached)
            headers = last = cached
        payload = src[ps:pe] if is_bytes else bytes(src[ps:pe])
        messages.append(_new(Message, (headers, payload)))
    return messages, pos, fault
