"""Encode and decode AWS event-stream messages (``application/vnd.amazon.eventstream``).

``eventstream.BACKEND`` names the active backend: ``"c"`` (the compiled core)
or ``"python"``; ``eventstream.BACKEND_REASON`` says why C is not in use.
"""

from __future__ import annotations

from . import _active
from ._codec import decode, encode
from ._decoder import Decoder, aiter_messages, iter_messages
from ._version import __version__
from .errors import (
    ChecksumError,
    DecodeError,
    DecoderStateError,
    EncodeError,
    EventStreamError,
    HeadersTooLargeError,
    InvalidHeaderError,
    InvalidLengthError,
    LimitExceededError,
    MalformedHeaderError,
    MessageChecksumError,
    NameTooLongError,
    PayloadTooLargeError,
    PreludeChecksumError,
    TrailingDataError,
    TruncatedStreamError,
    UnknownHeaderTypeError,
    ValueOutOfRangeError,
    ValueTooLongError,
)
from .limits import DEFAULT_LIMITS, WIRE_LIMITS, Limits
from .types import (
    Header,
    Headers,
    HeaderType,
    Message,
    datetime_from_timestamp,
    timestamp_from_datetime,
)

BACKEND: str = _active.backend.NAME
"""The backend chosen at import: ``"c"`` or ``"python"``."""
BACKEND_REASON = _active.fallback_reason
"""Why the C backend is not active (``None`` when it is)."""


def crc32(data: bytes | bytearray | memoryview, value: int = 0) -> int:
    """CRC32 (IEEE 802.3, as ``zlib.crc32``) of ``data``, continuing from ``value``."""
    return _active.backend.crc32(data, value)


__all__ = [
    "BACKEND",
    "BACKEND_REASON",
    "ChecksumError",
    "DEFAULT_LIMITS",
    "WIRE_LIMITS",
    "DecodeError",
    "Decoder",
    "DecoderStateError",
    "EncodeError",
    "EventStreamError",
    "Header",
    "HeaderType",
    "Headers",
    "HeadersTooLargeError",
    "InvalidHeaderError",
    "InvalidLengthError",
    "LimitExceededError",
    "Limits",
    "MalformedHeaderError",
    "Message",
    "MessageChecksumError",
    "NameTooLongError",
    "PayloadTooLargeError",
    "PreludeChecksumError",
    "TrailingDataError",
    "TruncatedStreamError",
    "UnknownHeaderTypeError",
    "ValueOutOfRangeError",
    "ValueTooLongError",
    "__version__",
    "aiter_messages",
    "crc32",
    "datetime_from_timestamp",
    "decode",
    "encode",
    "iter_messages",
    "timestamp_from_datetime",
]
