"""Encoding a header block from :class:`Headers` (shared by both backends).

Header objects are validated when they are built, so encoding cannot fail
here; the block's size is checked against the limits by the caller.  The wire
form of each header is in ``types`` (the wire form section); this module
remembers blocks.
"""

from __future__ import annotations

from . import _header_cache
from .types import EncodedBlock, Headers, encode_headers
from .types import last_encoded as _last_encoded

__all__ = ["EncodedBlock", "encode_block", "encode_header_block"]


def encode_block(headers: Headers) -> EncodedBlock:
    """The wire bytes of ``headers`` with their longest value and count (cached).

    The last block built or encoded is checked first (by identity), then the
    bounded cache of blocks by Headers value.
    """
    last = _last_encoded[0]
    if last[0] is headers:
        return last[1]
    encoded = _header_cache.encode_cache.get(headers)
    if encoded is None:
        encoded = encode_headers(headers)
        _header_cache.remember_encoding(headers, encoded)
    _last_encoded[0] = (headers, encoded)
    return encoded


def encode_header_block(headers: Headers) -> bytes:
    """The wire bytes of ``headers`` (cached for repeated header sets)."""
    return encode_block(headers)[0]
