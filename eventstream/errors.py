"""The exception hierarchy and the decode fault codes shared by both backends.

Every error the codec raises derives from :class:`EventStreamError` (itself a
``ValueError``).  Decode errors carry the byte offset of the faulty field in the
stream (``offset``) and the offset of the message that contains it
(``frame_offset``).

Both backends report a decode fault as a small tuple ``(code, offset,
frame_offset, a, b)``; :func:`fault_error` turns it into the exception, so the
two backends cannot word an error differently.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple, Type

__all__ = [
    "EventStreamError",
    "DecodeError",
    "ChecksumError",
    "PreludeChecksumError",
    "MessageChecksumError",
    "InvalidLengthError",
    "LimitExceededError",
    "UnknownHeaderTypeError",
    "MalformedHeaderError",
    "TruncatedStreamError",
    "TrailingDataError",
    "DecoderStateError",
    "EncodeError",
    "InvalidHeaderError",
    "ValueOutOfRangeError",
    "NameTooLongError",
    "ValueTooLongError",
    "PayloadTooLargeError",
    "HeadersTooLargeError",
    "InvalidPayloadError",
    "HeaderTypeMismatchError",
    "StreamInterruptedError",
    "NotAnEventStreamError",
]


class EventStreamError(ValueError):
    """Base class of every error raised by this package."""


# ---------------------------------------------------------------- decoding


class DecodeError(EventStreamError):
    """Bytes that are not a valid event stream.

    ``offset`` is the stream offset of the faulty field, ``frame_offset`` the
    offset of the first byte of the message it belongs to.  ``code`` names the
    fault (one of the ``FAULT_*`` names below, lower-cased).  When raised by
    :meth:`eventstream.Decoder.feed`, ``messages`` holds the messages that the
    same call completed before the fault, so none is lost.
    """

    def __init__(
        self,
        message: str,
        *,
        offset: int,
        frame_offset: int,
        code: str = "",
    ) -> None:
        super().__init__(message)
        self.offset = offset
        self.frame_offset = frame_offset
        self.code = code
        self.messages: List[Any] = []


class ChecksumError(DecodeError):
    """A CRC32 field does not match the bytes it covers.

    One meaning throughout the package (as in botocore's ``ChecksumMismatch``):
    ``expected`` is the CRC the sender declared, i.e. the value the CRC field
    holds on the wire; ``actual`` is the CRC computed from the bytes received.
    ``stored`` and ``computed`` name the same two values unambiguously.
    """

    def __init__(
        self, message: str, *, offset: int, frame_offset: int, code: str, expected: int, actual: int
    ) -> None:
        super().__init__(message, offset=offset, frame_offset=frame_offset, code=code)
        self.expected = expected
        self.actual = actual

    @property
    def stored(self) -> int:
        """The value the CRC field holds (same as ``expected``)."""
        return self.expected

    @property
    def computed(self) -> int:
        """The CRC of the bytes received (same as ``actual``)."""
        return self.actual


class PreludeChecksumError(ChecksumError):
    """The prelude CRC does not match the first 8 bytes of the message."""


class MessageChecksumError(ChecksumError):
    """The message CRC does not match the bytes before it."""


class InvalidLengthError(DecodeError):
    """The prelude's length fields contradict each other (and the CRC was right)."""


class LimitExceededError(DecodeError):
    """A length is valid for the format but above a configured limit."""


class UnknownHeaderTypeError(DecodeError):
    """A header's type byte is not one of the ten wire types."""


class MalformedHeaderError(DecodeError):
    """A header does not parse: empty name, field past the header block, bad UTF-8."""


class TruncatedStreamError(DecodeError):
    """The input ended inside a message."""


class StreamInterruptedError(TruncatedStreamError):
    """The source (socket, HTTP body, file) raised while a message was incomplete.

    ``held`` is the number of bytes of the cut message the decoder holds,
    ``needed`` its total length (0 if its prelude had not arrived),
    ``frame_offset`` the stream offset of its first byte and ``offset`` the
    offset where input stopped.  The source's exception is ``__cause__``.
    """

    def __init__(
        self, message: str, *, offset: int, frame_offset: int, held: int, needed: int
    ) -> None:
        super().__init__(message, offset=offset, frame_offset=frame_offset, code="interrupted")
        self.held = held
        self.needed = needed


class TrailingDataError(DecodeError):
    """:func:`eventstream.decode` was given more bytes than one message."""


class DecoderStateError(EventStreamError):
    """A :class:`eventstream.Decoder` that failed was used again without ``reset()``."""


# ---------------------------------------------------------------- encoding


class EncodeError(EventStreamError):
    """A message or header that cannot be encoded."""


class InvalidHeaderError(EncodeError, TypeError):
    """A header whose name or value has the wrong Python type for its wire type."""


class ValueOutOfRangeError(EncodeError):
    """An integer header value does not fit its wire type."""


class NameTooLongError(EncodeError):
    """A header name is empty or longer than 255 UTF-8 bytes."""


class ValueTooLongError(EncodeError):
    """A string or bytes header value is longer than the limit (32,767 bytes)."""


class InvalidPayloadError(EncodeError, TypeError):
    """A message payload that is not bytes-like (``bytes``, ``bytearray``, ``memoryview``)."""


class HeaderTypeMismatchError(EventStreamError, TypeError):
    """A typed getter (``Headers.get_str`` ...) found a header of another wire type."""


class PayloadTooLargeError(EncodeError):
    """The payload is larger than the limit (or than the 32-bit length field allows)."""


class HeadersTooLargeError(EncodeError):
    """The encoded header block is larger than the limit."""


# ---------------------------------------------------------------- fault codes
# Negative integers, the same numbers as the C core's ES_ERR_* status codes.

FAULT_PRELUDE_CRC = -1  # a = stored CRC, b = computed CRC
FAULT_MESSAGE_TOO_SHORT = -2  # a = total_length
FAULT_HEADERS_LENGTH = -3  # a = headers_length, b = total_length
FAULT_HEADERS_LIMIT = -4  # a = headers_length, b = limit
FAULT_PAYLOAD_LIMIT = -5  # a = payload length, b = limit
FAULT_MESSAGE_CRC = -6  # a = stored CRC, b = computed CRC
FAULT_HEADER_NAME_EMPTY = -7
FAULT_HEADER_NAME_OVERRUN = -8  # a = name length, b = bytes left in the block after the length byte
FAULT_HEADER_NAME_UTF8 = -9
FAULT_HEADER_TYPE_MISSING = -10
FAULT_HEADER_TYPE_UNKNOWN = -11  # a = type byte
FAULT_HEADER_VALUE_OVERRUN = -12  # a = bytes the value needs, b = bytes left in the block
FAULT_HEADER_VALUE_LIMIT = -13  # a = value length, b = limit
FAULT_HEADER_VALUE_UTF8 = -14
FAULT_TRUNCATED = -15  # a = bytes present, b = bytes the message needs (0 if unknown)
FAULT_TRAILING = -16  # a = number of trailing bytes
FAULT_HEADER_COUNT_LIMIT = -17  # a = headers so far including this one, b = limit

Fault = Tuple[int, int, int, int, int]
"""``(code, offset, frame_offset, a, b)`` as returned by a backend."""

_FAULTS: Dict[int, Tuple[Type[DecodeError], str, str]] = {
    FAULT_PRELUDE_CRC: (
        PreludeChecksumError,
        "prelude_crc",
        "prelude checksum mismatch: prelude_crc field holds 0x{a:08X}, bytes 0-7 give 0x{b:08X}",
    ),
    FAULT_MESSAGE_TOO_SHORT: (
        InvalidLengthError,
        "message_too_short",
        "total_length {a} is below the 16-byte minimum",
    ),
    FAULT_HEADERS_LENGTH: (
        InvalidLengthError,
        "headers_length",
        "headers_length {a} does not fit in total_length {b} (at most total_length - 16)",
    ),
    FAULT_HEADERS_LIMIT: (
        LimitExceededError,
        "headers_limit",
        "header block of {a} bytes exceeds the limit of {b} bytes",
    ),
    FAULT_PAYLOAD_LIMIT: (
        LimitExceededError,
        "payload_limit",
        "payload of {a} bytes exceeds the limit of {b} bytes",
    ),
    FAULT_MESSAGE_CRC: (
        MessageChecksumError,
        "message_crc",
        "message checksum mismatch: message_crc field holds 0x{a:08X}, the message gives 0x{b:08X}",
    ),
    FAULT_HEADER_NAME_EMPTY: (MalformedHeaderError, "header_name_empty", "header name length is 0"),
    FAULT_HEADER_NAME_OVERRUN: (
        MalformedHeaderError,
        "header_name_overrun",
        "header name of {a} bytes runs past the header block ({b} bytes left)",
    ),
    FAULT_HEADER_NAME_UTF8: (
        MalformedHeaderError,
        "header_name_utf8",
        "header name is not valid UTF-8",
    ),
    FAULT_HEADER_TYPE_MISSING: (
        MalformedHeaderError,
        "header_type_missing",
        "header block ends before the header's type byte",
    ),
    FAULT_HEADER_TYPE_UNKNOWN: (
        UnknownHeaderTypeError,
        "header_type_unknown",
        "unknown header type {a} (0x{a:02X}); valid types are 0-9",
    ),
    FAULT_HEADER_VALUE_OVERRUN: (
        MalformedHeaderError,
        "header_value_overrun",
        "header value needs {a} bytes but the header block has {b} left",
    ),
    FAULT_HEADER_VALUE_LIMIT: (
        LimitExceededError,
        "header_value_limit",
        "header value of {a} bytes exceeds the limit of {b} bytes",
    ),
    FAULT_HEADER_VALUE_UTF8: (
        MalformedHeaderError,
        "header_value_utf8",
        "string header value is not valid UTF-8",
    ),
    FAULT_HEADER_COUNT_LIMIT: (
        LimitExceededError,
        "header_count_limit",
        "header {a} exceeds the limit of {b} headers per message",
    ),
    FAULT_TRUNCATED: (
        TruncatedStreamError,
        "truncated",
        "stream ended inside a message: {a} bytes present{needed}",
    ),
    FAULT_TRAILING: (
        TrailingDataError,
        "trailing_data",
        "{a} bytes follow the message; decode() takes exactly one message",
    ),
}


def fault_error(fault: Fault, base_offset: int = 0) -> DecodeError:
    """Build the exception for a backend fault tuple.

    ``base_offset`` is added to both offsets: it is the stream offset of the
    first byte of the buffer the backend scanned.
    """
    code, offset, frame_offset, a, b = fault
    cls, name, template = _FAULTS[code]
    needed = f" of {b}" if b else ""
    text = template.format(a=a, b=b, needed=needed)
    offset += base_offset
    frame_offset += base_offset
    full = f"{text} (at byte {offset}, in the message starting at byte {frame_offset})"
    if issubclass(cls, ChecksumError):
        return cls(full, offset=offset, frame_offset=frame_offset, code=name, expected=a, actual=b)
    return cls(full, offset=offset, frame_offset=frame_offset, code=name)


FAULT_CODES = tuple(sorted(_FAULTS))


class NotAnEventStreamError(PreludeChecksumError):
    """The input is recognisably something else (a JSON error body, SSE, HTML, gzip...).

    Raised instead of a bare :class:`PreludeChecksumError` when the first
    message of a stream fails its prelude checksum and the bytes are plainly
    another format.  ``kind`` names it (as :func:`eventstream.sniff` does:
    ``json``, ``sse``, ``html``, ``xml``, ``http``, ``gzip``, ``zstd``,
    ``base64``, ``hex``, ``text``), ``preview`` holds the first bytes and
    ``detail`` a short description (for JSON, the error text the body
    carries, which the message repeats).
    """

    def __init__(
        self,
        message: str,
        *,
        offset: int,
        frame_offset: int,
        code: str,
        expected: int,
        actual: int,
        kind: str,
        preview: bytes,
        detail: str,
    ) -> None:
        super().__init__(
            message,
            offset=offset,
            frame_offset=frame_offset,
            code=code,
            expected=expected,
            actual=actual,
        )
        self.kind = kind
        self.preview = preview
        self.detail = detail
        # Set by eventstream._sniff, which can complete a JSON body's detail later.
        self._codec_text = ""
        self._seen = b""
