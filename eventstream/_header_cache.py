"""The bounded cache of encoded header blocks, and the frame-head memo.

A client sending audio encodes the same headers for every chunk, so the
encoder looks a message's headers up here before encoding them, and starts the
frame of a repeated block from its memoised head.  Entries are immutable values
(a head memo is a one-slot list replaced whole), so sharing them between threads
is safe.  (The decode caches live in :mod:`eventstream._assemble`.)
"""

from __future__ import annotations

import struct
import zlib
from typing import Dict, List

from .types import EncodedBlock, HeadEntry, Headers

# Bounds the memory: at most MAX_ENTRIES blocks of at most MAX_BLOCK bytes and
# MAX_HEADERS headers each.
MAX_ENTRIES = 512
MAX_BLOCK = 2048
MAX_HEADERS = 32

# Headers -> its EncodedBlock: see _header_codec.encode_block
EncodeCache = Dict[Headers, EncodedBlock]

encode_cache: EncodeCache = {}


def remember_encoding(headers: Headers, encoded: EncodedBlock) -> None:
    if len(encoded[0]) <= MAX_BLOCK and len(headers) <= MAX_HEADERS:
        if len(encode_cache) >= MAX_ENTRIES:
            encode_cache.clear()
        encode_cache[headers] = encoded


# ---------------------------------------------------------------- frame heads
# A message is head + payload + message CRC, where the head is the prelude (total
# length, block length, prelude CRC) and the header block.  A client sending audio
# repeats both the block (one header set, whose entry the caches hand out each
# time) and the total (one chunk size), so encode() keeps the head and its CRC in
# the block's entry (EncodedBlock's memo slot) and per message only the payload's
# CRC remains.  The slot holds one immutable HeadEntry, replaced whole, so a
# thread reads a matching set; a block met once (a signed frame's, built from a
# dict of a date and a signature) has no slot and costs no head.

_pack_lengths = struct.Struct(">II").pack
_pack_u32 = struct.Struct(">I").pack
_zlib_crc32 = zlib.crc32


def memo_head(heads: List[HeadEntry], block: bytes, payload_len: int) -> HeadEntry:
    """Make the head of ``block`` for ``payload_len`` and keep it in ``heads``."""
    lengths = _pack_lengths(16 + len(block) + payload_len, len(block))
    head = lengths + _pack_u32(_zlib_crc32(lengths)) + block
    entry = (payload_len, head, _zlib_crc32(head))
    heads[0] = entry
    return entry


def clear() -> None:
    """Empty the encode cache and every decode cache (tests and memory-conscious callers)."""
    from . import _assemble

    encode_cache.clear()
    _assemble.clear()
