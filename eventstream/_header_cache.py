"""Bounded caches of decoded and encoded header blocks.

Consecutive messages in a stream nearly always carry the same header block
(``:message-type``, ``:event-type``, ``:content-type``), so both backends look
a block's bytes up here before parsing it, and the encoder looks a message's
headers up before encoding them.  Entries are immutable values, so sharing
them between messages and threads is safe.
"""

from __future__ import annotations

from typing import Dict

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

DecodeCache = Dict[bytes, Headers]
header_cache: Dict[bytes, Header] = {}
EncodeCache = Dict[Headers, bytes]

# One decode cache per header-value limit: a block is only in the cache of a
# limit it was validated under, so a lookup never skips a check.
_decode_caches: Dict[int, DecodeCache] = {}
encode_cache: EncodeCache = {}


def decode_cache_for(max_header_value: int) -> DecodeCache:
    cache = _decode_caches.get(max_header_value)
    if cache is None:
        cache = _decode_caches.setdefault(max_header_value, {})
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


def remember_encoding(headers: Headers, block: bytes) -> None:
    if len(block) <= MAX_BLOCK and len(headers) <= MAX_HEADERS:
        if len(encode_cache) >= MAX_ENTRIES:
            encode_cache.clear()
        encode_cache[headers] = block


def clear() -> None:
    """Empty every cache (tests and memory-conscious callers)."""
    for cache in _decode_caches.values():
        cache.clear()
    encode_cache.clear()
    header_cache.clear()
