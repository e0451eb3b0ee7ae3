"""One-shot encoding and decoding of a single message."""

from __future__ import annotations

from typing import Optional, Union

from . import _active, errors
from ._header_cache import decode_cache_for
from ._header_codec import encode_header_block
from ._sniff import upgrade_not_an_event_stream
from .limits import DEFAULT_LIMITS, PRELUDE_LENGTH, Limits
from .types import Message

Buffer = Union[bytes, bytearray, memoryview]

_DEFAULT_CACHE = decode_cache_for(DEFAULT_LIMITS.max_header_value)
_MAX_BLOCK, _MAX_PAYLOAD = DEFAULT_LIMITS.max_header_block, DEFAULT_LIMITS.max_payload


def _byte_buffer(data: object) -> Buffer:
    if type(data) is bytes or isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, memoryview):
        return data if data.format == "B" and data.ndim == 1 else data.cast("B")
    raise TypeError(f"expected bytes, bytearray or memoryview, got {type(data).__name__}")


def truncated_fault(data: Buffer, start: int, end: int) -> errors.Fault:
    """The fault for a message at ``start`` that the input ends inside."""
    present = end - start
    needed = 0
    if present >= PRELUDE_LENGTH:
        # The prelude CRC was verified before the decoder waited for more bytes.
        needed = int.from_bytes(bytes(data[start : start + 4]), "big")
    return (errors.FAULT_TRUNCATED, end, start, present, needed)


def decode(data: Buffer, *, limits: Optional[Limits] = None) -> Message:
    """Decode exactly one message from ``data`` (bytes, bytearray or memoryview).

    Raises a :class:`~eventstream.errors.DecodeError` subclass for invalid
    bytes, :class:`~eventstream.errors.TruncatedStreamError` if the message is
    incomplete and :class:`~eventstream.errors.TrailingDataError` if bytes follow it.
    """
    if limits:
        cache = decode_cache_for(limits.max_header_value)
    else:
        limits, cache = DEFAULT_LIMITS, _DEFAULT_CACHE
    if type(data) is bytes:
        message = _active.backend.decode_bytes(data, limits, cache)
        if message is not None:
            return message  # type: ignore[no-any-return]
        # Not exactly one valid message: the general path finds out what is wrong.
    buf = data if type(data) is bytes else _byte_buffer(data)
    end = len(buf)
    messages, pos, fault = _active.backend.decode_frames(buf, 0, end, limits, cache, 1)
    if fault is not None:
        raise upgrade_not_an_event_stream(errors.fault_error(fault), buf)
    if not messages:
        raise errors.fault_error(truncated_fault(buf, 0, end))
    if pos != end:
        raise errors.fault_error((errors.FAULT_TRAILING, pos, pos, end - pos, 0))
    return messages[0]  # type: ignore[no-any-return]


def encode(message: Message, *, limits: Optional[Limits] = None) -> bytes:
    """The wire bytes of ``message``.

    The header block and payload must fit ``limits`` (the service limits by
    default), so whatever this encodes, a decoder with the same limits accepts.
    """
    if type(message) is not Message and not isinstance(message, Message):
        raise TypeError(f"encode() takes a Message, got {type(message).__name__}")
    headers, payload = message
    block = encode_header_block(headers)
    max_block, max_payload = (
        (_MAX_BLOCK, _MAX_PAYLOAD)
        if limits is None
        else (limits.max_header_block, limits.max_payload)
    )
    if len(block) > max_block:
        raise errors.HeadersTooLargeError(
            f"header block of {len(block)} bytes exceeds the limit of {max_block}"
        )
    if len(payload) > max_payload:
        raise errors.PayloadTooLargeError(
            f"payload of {len(payload)} bytes exceeds the limit of {max_payload}"
        )
    return _active.backend.encode_frame(block, payload)  # type: ignore[no-any-return]
