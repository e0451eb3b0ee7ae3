"""Bounded caches of decoded and encoded header blocks.

Consecutive messages in a stream nearly always carry the same header block
(``:message-type``, ``:event-type``, ``:content-type``), so both backends look
a block's bytes up here before parsing it, and the encoder looks a message's
headers up before encoding them.  Entries are immutable values, so sharing
them between messages and threads is safe.
"""

from __future__ import annotations

from typing import Dict, Tuple

from .limits import DEFAULT_LIMITS, Limits
from .types import Header, Headers

# Bounds the memory: at most MAX_ENTRIES blocks of at most MAX_BLOCK bytes and
# MAX_HEADERS headers each.  The header count matters more than the bytes: a 2 KiB
# block of 3-byte headers decodes to ~680 Header objects (~55 KiB), so without it
# 1 MiB of hostile input could pin ~28 MiB here.  Real streams carry a handful.
MAX_ENTRIES = 512
MAX_BLOCK = 2048
MAX_HEADERS = 32

# Single headers by their wire bytes (name length byte to value end), for string,
# bytes and boolean headers of at most MAX_HEADER_BYTES: a block that changes in
# one header (a sequence number, an id) still repeats the others, whose names and
# values then need no decoding.  The bytes decide the Header completely, and a
# header is only looked up here after it passed the checks of the decode at hand,
# so one cache serves every limit.
MAX_HEADER_ENTRIES = 512
MAX_HEADER_BYTES = 128


# Header blocks (their bytes) and their headers, validated under one Limits value:
# one such dict per Limits value (decode_cache_for), so a lookup never skips a
# check.  A plain dict: its lookups are the hot path of every decode.
DecodeCache = Dict[bytes, Headers]


header_cache: Dict[bytes, Header] = {}
# Headers -> (block bytes, longest value, header count): see _header_codec.encode_block
EncodeCache = Dict[Headers, Tuple[bytes, int, int, bool]]

# The decode caches by Limits value.  At most MAX_CACHES are kept here (the oldest
# made is dropped first; a Decoder holding one keeps it for itself), so a process
# that decodes under many distinct limits holds a bounded number of caches.  The
# default limits' cache is always kept (it is made first, and never dropped).
MAX_CACHES = 8
_decode_caches: Dict[Limits, DecodeCache] = {DEFAULT_LIMITS: {}}
encode_cache: EncodeCache = {}


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
        cache = _decode_caches.setdefault(limits, {})
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


def remember_encoding(headers: Headers, encoded: Tuple[bytes, int, int, bool]) -> None:
    if len(encoded[0]) <= MAX_BLOCK and len(headers) <= MAX_HEADERS:
        if len(encode_cache) >= MAX_ENTRIES:
            encode_cache.clear()
        encode_cache[headers] = encoded


def clear() -> None:
    """Empty every cache (tests and memory-conscious callers)."""
    for limits, cache in list(_decode_caches.items()):
        cache.clear()
        if limits is not DEFAULT_LIMITS:
            _decode_caches.pop(limits, None)
    encode_cache.clear()
    header_cache.clear()
