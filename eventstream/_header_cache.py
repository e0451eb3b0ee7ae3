"""The bounded cache of encoded header blocks, and the frame-head memo.

A client sending audio encodes the same headers for every chunk, so the
encoder looks a message's headers up here before encoding them, and both
backends start the frame of a repeated block from its memoised head.  Entries
are immutable values, so sharing them between threads is safe.  (The decode
caches live in :mod:`eventstream._assemble`.)
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, Dict, List, Optional, Tuple

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


# ---------------------------------------------------------------- frame heads
# A message is head + payload + message CRC, where the head is the prelude (total
# length, block length, prelude CRC) and the header block.  A client sending audio
# repeats both the block (one header set, whose block object the caches above hand
# out each time) and the total (one chunk size), so its head and the CRC of the
# head are made once; per message only the payload's CRC remains.
#
# head_memo[0]: (block, payload length, head, CRC of head) of the last repeated
#   block, found by the block's identity: an exact bytes (immutable) held here,
#   so no other object can take over its identity.  Replaced whole, so a thread
#   reads a matching set.
# head_memo[1], [2]: the last two block objects that missed it (hints only: a
#   head is always made from the block itself).  A block that misses again while
#   still there repeats (a Transcribe client's audio block, with a signed frame's
#   block between two of its messages) and gets a head; a block met once (the
#   signed frame's, new every time) costs no head.
HeadEntry = Tuple[Any, int, bytes, int]
_NO_HEAD: HeadEntry = (None, -1, b"", 0)
head_memo: List[Any] = [_NO_HEAD, None, None]

_pack_lengths = struct.Struct(">II").pack
_pack_u32 = struct.Struct(">I").pack
_zlib_crc32 = zlib.crc32


def memo_head(block: bytes, payload_len: int) -> Optional[HeadEntry]:
    """Make and remember the head of a repeated ``block`` for ``payload_len``
    (``head_memo[0]``); None if the block is not an exact bytes or is too big
    to keep."""
    if type(block) is not bytes or len(block) > MAX_BLOCK:
        return None
    lengths = _pack_lengths(16 + len(block) + payload_len, len(block))
    head = lengths + _pack_u32(_zlib_crc32(lengths)) + block
    entry = (block, payload_len, head, _zlib_crc32(head))
    head_memo[0] = entry
    return entry


def clear() -> None:
    """Empty the encode cache and every decode cache (tests and memory-conscious callers)."""
    from . import _assemble

    encode_cache.clear()
    head_memo[:] = [_NO_HEAD, None, None]
    _assemble.clear()
