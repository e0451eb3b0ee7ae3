"""One-shot encoding and decoding of a single message.

``decode`` lives with the rest of the decode layer in :mod:`eventstream._assemble`
(one Python call less per message); it is re-exported here.
"""

from __future__ import annotations

import struct
import zlib
from typing import Optional, Union

from . import _active, errors
from ._assemble import decode, truncated_fault
from ._header_cache import memo_head as _memo_head
from ._header_codec import encode_block
from .limits import (
    DEFAULT_LIMITS,
    MAX_WIRE_MESSAGE_LENGTH,
    MIN_MESSAGE_LENGTH,
    Limits,
)
from .types import Message
from .types import last_encoded as _last_encoded

Buffer = Union[bytes, bytearray, memoryview]

__all__ = ["Buffer", "decode", "encode", "truncated_fault"]

_DEFAULT_MAX_PAYLOAD = DEFAULT_LIMITS.max_payload
_zlib_crc32 = zlib.crc32
_pack_u32 = struct.Struct(">I").pack
_join = b"".join


def encode(message: Message, *, limits: Optional[Limits] = None) -> bytes:
    """The wire bytes of ``message``.

    The message must fit ``limits`` (the service limits by default): header
    block size, longest string or bytes value, number of headers and payload
    size, so whatever this encodes, a decoder with the same limits accepts.  A
    message whose total length would not fit the 32-bit length field raises
    :class:`~eventstream.errors.PayloadTooLargeError` whatever the limits.
    """
    if type(message) is not Message and not isinstance(message, Message):
        raise TypeError(f"encode() takes a Message, got {type(message).__name__}")
    headers, payload = message
    # encode_block's identity check, inlined: a client encodes the message it just
    # built, whose block Message() encoded (from a dict) or found in its cache.
    last = _last_encoded[0]
    encoded = last[1] if last[0] is headers else encode_block(headers)
    if limits is None:
        heads = encoded[4]
        if heads is not None:
            # A block encoded again (see _header_cache): the head kept with it for
            # this payload length was made once the message was checked against the
            # default limits, so only the payload's CRC remains.
            head = heads[0]
            if head[0] != len(payload):
                if not encoded[3] or len(payload) > _DEFAULT_MAX_PAYLOAD:
                    # Raises: the message does not fit the default limits.
                    _check_encode_limits(
                        encoded[0], encoded[1], encoded[2], payload, DEFAULT_LIMITS
                    )
                head = _memo_head(heads, encoded[0], len(payload))
            backend = _active.backend
            if head[0] < backend.ZLIB_CRC_BELOW:
                crc = _zlib_crc32(payload, head[2])
            else:
                crc = backend.crc32_of_bytes(head[2], payload, head[0])
            return _join((head[1], payload, _pack_u32(crc)))
        if encoded[3] and len(payload) <= _DEFAULT_MAX_PAYLOAD:
            # Fits the default limits (which keep the total far below 4 GiB).
            return _active.backend.encode_frame(encoded[0], payload)
    _check_encode_limits(encoded[0], encoded[1], encoded[2], payload, limits or DEFAULT_LIMITS)
    return _active.backend.encode_frame(encoded[0], payload)


def _check_encode_limits(
    block: bytes, longest: int, count: int, payload: Buffer, limits: Limits
) -> None:
    max_payload, max_block, max_value, max_headers = limits
    if len(block) > max_block:
        raise errors.HeadersTooLargeError(
            f"header block of {len(block)} bytes exceeds the limit of {max_block}"
        )
    if longest > max_value:
        raise errors.ValueTooLongError(
            f"a header value of {longest} bytes exceeds the limit of {max_value}"
        )
    if count > max_headers:
        raise errors.HeadersTooLargeError(
            f"{count} headers exceed the limit of {max_headers} headers per message"
        )
    if len(payload) > max_payload:
        raise errors.PayloadTooLargeError(
            f"payload of {len(payload)} bytes exceeds the limit of {max_payload}"
        )
    if MIN_MESSAGE_LENGTH + len(block) + len(payload) > MAX_WIRE_MESSAGE_LENGTH:
        raise errors.PayloadTooLargeError(
            f"a message of {MIN_MESSAGE_LENGTH + len(block) + len(payload)} bytes does not fit"
            f" the 32-bit total_length field (at most {MAX_WIRE_MESSAGE_LENGTH})"
        )
