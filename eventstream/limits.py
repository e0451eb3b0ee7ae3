"""Format constants and the decode limits, with where each number comes from."""

from __future__ import annotations

from typing import NamedTuple, Tuple

__all__ = [
    "PRELUDE_LENGTH",
    "MESSAGE_CRC_LENGTH",
    "MIN_MESSAGE_LENGTH",
    "MAX_HEADER_NAME_LENGTH",
    "MAX_WIRE_VALUE_LENGTH",
    "MAX_WIRE_MESSAGE_LENGTH",
    "DEFAULT_MAX_PAYLOAD",
    "DEFAULT_MAX_HEADER_BLOCK",
    "DEFAULT_MAX_HEADER_VALUE",
    "DEFAULT_MAX_HEADERS",
    "MAX_WIRE_HEADERS",
    "Limits",
    "DEFAULT_LIMITS",
    "WIRE_LIMITS",
]

# total_length u32 | headers_length u32 | prelude_crc u32
PRELUDE_LENGTH = 12
# the trailing message_crc u32
MESSAGE_CRC_LENGTH = 4
# a message with no headers and no payload is 16 bytes
MIN_MESSAGE_LENGTH = PRELUDE_LENGTH + MESSAGE_CRC_LENGTH
# the name length is one unsigned byte on the wire
MAX_HEADER_NAME_LENGTH = 255
# the length prefix of a bytes/string value is an unsigned 16-bit integer
MAX_WIRE_VALUE_LENGTH = 0xFFFF
# total_length is an unsigned 32-bit integer
MAX_WIRE_MESSAGE_LENGTH = 0xFFFFFFFF

# 24 MiB: the service limit on one message's payload in the Smithy event-stream
# specification (aws/amazon-eventstream); aws-c-event-stream and botocore use it.
DEFAULT_MAX_PAYLOAD = 24 * 1024 * 1024
# 128 KiB: the service limit on the encoded header block in the same specification.
DEFAULT_MAX_HEADER_BLOCK = 128 * 1024
# 32,767 bytes: the specification declares variable values as data<1..2^15-1>, and
# the AWS implementations (aws-c-event-stream, the Java codec) cap them at INT16_MAX.
DEFAULT_MAX_HEADER_VALUE = 0x7FFF


# 1,024 headers: the count aws-c-event-stream allows in one message
# (AWS_EVENT_STREAM_MAX_HEADERS_COUNT); the specification sets no count.  Each
# header becomes a Python object, so this bounds the objects one message builds.
DEFAULT_MAX_HEADERS = 1024
# The most headers the wire can carry: the smallest header is 3 bytes (a 1-byte
# name and a boolean type byte) in a header block of at most 2^32 - 1 bytes.
MAX_WIRE_HEADERS = MAX_WIRE_MESSAGE_LENGTH // 3


class _LimitFields(NamedTuple):
    max_payload: int
    max_header_block: int
    max_header_value: int
    max_headers: int


class Limits(_LimitFields):
    """Bounds a decoder enforces before it buffers or builds anything.

    Immutable and validated when built: every field is an ``int`` from 0 to
    what the wire format can express (``TypeError`` or ``ValueError``
    otherwise), so a decoder never meets limits it cannot enforce.

    The defaults are the service limits of the specification and
    aws-c-event-stream's header count.  The specification also says clients
    should not validate the service limits (they may change); a client that
    wants that passes :data:`WIRE_LIMITS`, which allows everything the wire
    format can express (``max_payload`` and ``max_header_block`` up to 4 GiB,
    ``max_header_value`` up to 65,535, any number of headers).
    """

    __slots__ = ()

    def __new__(
        cls,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_header_block: int = DEFAULT_MAX_HEADER_BLOCK,
        max_header_value: int = DEFAULT_MAX_HEADER_VALUE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> Limits:
        values = (max_payload, max_header_block, max_header_value, max_headers)
        for name, value, top in zip(cls._fields, values, _WIRE_MAXIMA):
            if type(value) is not int:
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if not 0 <= value <= top:
                raise ValueError(f"{name} must be an int from 0 to {top}, got {value!r}")
        return tuple.__new__(cls, values)

    @classmethod
    def checked(
        cls,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_header_block: int = DEFAULT_MAX_HEADER_BLOCK,
        max_header_value: int = DEFAULT_MAX_HEADER_VALUE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> Limits:
        """The same as ``Limits(...)`` (which validates too); kept for existing callers."""
        return cls(max_payload, max_header_block, max_header_value, max_headers)

    def _replace(self, **changes: int) -> Limits:  # validated, unlike NamedTuple's
        return Limits(**{**self._asdict(), **changes})

    def __copy__(self) -> Limits:
        return self

    def __deepcopy__(self, memo: object) -> Limits:
        return self

    def __reduce__(self) -> Tuple[type, Tuple[int, ...]]:
        return (Limits, tuple(self))


_WIRE_MAXIMA = (
    MAX_WIRE_MESSAGE_LENGTH,
    MAX_WIRE_MESSAGE_LENGTH,
    MAX_WIRE_VALUE_LENGTH,
    MAX_WIRE_HEADERS,
)

DEFAULT_LIMITS = Limits()
WIRE_LIMITS = Limits(*_WIRE_MAXIMA)
"""Everything the wire format can express: for clients that follow the
specification's advice not to enforce the service limits."""
