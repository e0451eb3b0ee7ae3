"""Format constants and the decode limits, with where each number comes from."""

from __future__ import annotations

from typing import NamedTuple

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
    "Limits",
    "DEFAULT_LIMITS",
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


class Limits(NamedTuple):
    """Bounds a decoder enforces before it buffers or builds anything.

    The defaults are the service limits of the specification.  A client that
    must accept bigger messages (the specification says clients need not
    enforce them) raises them; the wire format itself caps ``max_payload`` and
    ``max_header_block`` at 4 GiB and ``max_header_value`` at 65,535.
    """

    max_payload: int = DEFAULT_MAX_PAYLOAD
    max_header_block: int = DEFAULT_MAX_HEADER_BLOCK
    max_header_value: int = DEFAULT_MAX_HEADER_VALUE

    @classmethod
    def checked(
        cls,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_header_block: int = DEFAULT_MAX_HEADER_BLOCK,
        max_header_value: int = DEFAULT_MAX_HEADER_VALUE,
    ) -> Limits:
        """Build limits, rejecting values outside what the wire format can express."""
        for name, value, top in (
            ("max_payload", max_payload, MAX_WIRE_MESSAGE_LENGTH),
            ("max_header_block", max_header_block, MAX_WIRE_MESSAGE_LENGTH),
            ("max_header_value", max_header_value, MAX_WIRE_VALUE_LENGTH),
        ):
            if type(value) is not int or not 0 <= value <= top:
                raise ValueError(f"{name} must be an int from 0 to {top}, got {value!r}")
        return cls(max_payload, max_header_block, max_header_value)


DEFAULT_LIMITS = Limits()
