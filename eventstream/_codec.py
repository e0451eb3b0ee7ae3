"""One-shot encoding and decoding of a single message."""

from __future__ import annotations

from typing import Optional, Union

from . import _active, _assemble, _header_codec, errors
from ._assemble import decode_cache_for
from ._header_codec import encode_block
from ._sniff import upgrade_not_an_event_stream
from .limits import (
    DEFAULT_LIMITS,
    MAX_WIRE_MESSAGE_LENGTH,
    MIN_MESSAGE_LENGTH,
    PRELUDE_LENGTH,
    Limits,
)
from .types import Message

Buffer = Union[bytes, bytearray, memoryview]

_DEFAULT_CACHE = decode_cache_for(DEFAULT_LIMITS)
_DEFAULT_MAX_PAYLOAD = DEFAULT_LIMITS.max_payload


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


def truncated_fault(data: Buffer, start: int, end: int) -> errors.Fault:
    """The fault for a message at ``start`` that the input ends inside."""
    present = end - start
    needed = 0
    if present >= PRELUDE_LENGTH:
        # The prelude CRC was verified before the decoder waited for more bytes.
        needed = int.from_bytes(bytes(data[start : start + 4]), "big")
    return (errors.FAULT_TRUNCATED, end, start, present, needed)


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
        limits, cache = DEFAULT_LIMITS, _DEFAULT_CACHE
    else:
        cache = decode_cache_for(limits)
    if type(data) is not bytes:
        data = _immutable_bytes(data)
    message = (
        _assemble.decode_bytes(data, limits, cache)
        if copy
        else _assemble.decode_bytes(data, limits, cache, False)
    )
    if message is not None:
        return message
    # Not exactly one valid message: the general path finds out what is wrong.
    end = len(data)
    messages, pos, fault = _assemble.decode_frames(data, 0, end, limits, cache, 1)
    if fault is not None:
        raise upgrade_not_an_event_stream(errors.fault_error(fault), data)
    if not messages:
        raise errors.fault_error(truncated_fault(data, 0, end))
    if pos != end:
        raise errors.fault_error((errors.FAULT_TRAILING, pos, pos, end - pos, 0))
    message = messages[0]
    if not copy:
        view = memoryview(data)[end - 4 - len(message.payload) : -4]
        message = tuple.__new__(Message, (message.headers, view))
    return message


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
    # encode_block's identity check on the last Headers encoded, inlined: a client
    # sending audio encodes the same cached Headers object for every chunk.
    last = _header_codec.last_encoded
    encoded = last[1] if last[0] is headers else encode_block(headers)
    if limits is None and encoded[3] and len(payload) <= _DEFAULT_MAX_PAYLOAD:
        # The common case in two checks (the default limits keep the total far
        # below 4 GiB).
        return _active.backend.encode_frame(encoded[0], payload)
    block, longest, count, _ = encoded
    _check_encode_limits(block, longest, count, payload, limits or DEFAULT_LIMITS)
    return _active.backend.encode_frame(block, payload)


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
