"""Encode and decode AWS event-stream messages (``application/vnd.amazon.eventstream``).

``eventstream.BACKEND`` names the active backend: ``"c"`` (the compiled core)
or ``"python"``; ``eventstream.BACKEND_REASON`` says why C is not in use.
"""

from __future__ import annotations

from . import _active
from ._codec import decode, encode
from ._decoder import Decoder, aiter_messages, iter_messages
from ._sniff import SniffResult, sniff
from ._version import __version__
from .errors import (
    ChecksumError,
    DecodeError,
    DecoderStateError,
    EncodeError,
    EventStreamError,
    HeadersTooLargeError,
    HeaderTypeMismatchError,
    InvalidHeaderError,
    InvalidLengthError,
    InvalidPayloadError,
    LimitExceededError,
    MalformedHeaderError,
    MessageChecksumError,
    NameTooLongError,
    NotAnEventStreamError,
    PayloadTooLargeError,
    PreludeChecksumError,
    StreamInterruptedError,
    TrailingDataError,
    TruncatedStreamError,
    UnknownHeaderTypeError,
    ValueOutOfRangeError,
    ValueTooLongError,
)
from .events import (
    Event,
    EventPayloadError,
    IncompleteStreamError,
    ServiceError,
    ServiceException,
    ServiceFault,
    UnknownMessageTypeError,
    aiter_events,
    interpret,
    iter_events,
    unwrap_bedrock_chunk,
)
from .exception_types import EXCEPTION_TYPES, ExceptionType, exception_type_info
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
    "HeaderTypeMismatchError",
    "InvalidPayloadError",
    "StreamInterruptedError",
    # The message layer (events.py, exception_types.py) and the sniffer (_sniff.py):
    "EXCEPTION_TYPES",
    "Event",
    "EventPayloadError",
    "ExceptionType",
    "IncompleteStreamError",
    "NotAnEventStreamError",
    "ServiceError",
    "ServiceException",
    "ServiceFault",
    "SniffResult",
    "UnknownMessageTypeError",
    "aiter_events",
    "exception_type_info",
    "interpret",
    "iter_events",
    "sniff",
    "unwrap_bedrock_chunk",
]
