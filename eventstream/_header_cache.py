"""The bounded cache of encoded header blocks.

A client sending audio encodes the same headers for every chunk, so the
encoder looks a message's headers up here before encoding them.  Entries are
immutable values, so sharing them between threads is safe.  (The decode caches
live in :mod:`eventstream._assemble`.)
"""

from __future__ import annotations

from typing import Dict, Tuple

from .types import Headers

# Bounds the memory: at most MAX_ENTRIES blocks of at most MAX_BLOCK bytes and
# MAX_HEADERS headers each.
MAX_ENTRIES = 512
MAX_BLOCK = 2048
MAX_HEADERS = 32

# Headers -> (block bytes, longest value, header count): see _header_codec.encode_block
EncodeCache = Dict[Headers, Tuple[bytes, int, int, bool]]

encode_cache: EncodeCache = {}


def remember_encoding(headers: Headers, encoded: Tuple[bytes, int, int, bool]) -> None:
    if len(encoded[0]) <= MAX_BLOCK and len(headers) <= MAX_HEADERS:
        if len(encode_cache) >= MAX_ENTRIES:
            encode_cache.clear()
        encode_cache[headers] = encoded


def clear() -> None:
    """Empty the encode cache and every decode cache (tests and memory-conscious callers)."""
    from . import _assemble

    encode_cache.clear()
    _assemble.clear()
