"""Decoded messages paired with their raw frame bytes.

The public decoder returns :class:`eventstream.Message` objects; a debugging
tool also wants each message's position and the length and CRC fields as they
are on the wire.  :class:`eventstream.cli.scan.Scanner` cuts the stream into
:class:`Frame` objects: each message with its exact frame bytes.
"""

from __future__ import annotations

import struct
from typing import NamedTuple, Optional

import eventstream
from eventstream import DecodeError, Limits, Message

_PRELUDE = struct.Struct(">III")
_U32 = struct.Struct(">I")

PRELUDE_LENGTH = 12
MIN_FRAME = 16


class Frame(NamedTuple):
    """One valid message and the bytes it was decoded from."""

    number: int  # 0 for the first message of the stream
    offset: int  # stream offset of the first byte
    raw: bytes
    message: Message

    @property
    def total_length(self) -> int:
        value: int = _PRELUDE.unpack_from(self.raw)[0]
        return value

    @property
    def headers_length(self) -> int:
        value: int = _PRELUDE.unpack_from(self.raw)[1]
        return value

    @property
    def prelude_crc(self) -> int:
        value: int = _PRELUDE.unpack_from(self.raw)[2]
        return value

    @property
    def message_crc(self) -> int:
        value: int = _U32.unpack_from(self.raw, len(self.raw) - 4)[0]
        return value

    @property
    def payload_length(self) -> int:
        return len(self.message.payload)


def decode_single(data: bytes, limits: Optional[Limits] = None) -> Optional[Frame]:
    """The frame if ``data`` is exactly one valid message, else ``None``."""
    if len(data) < MIN_FRAME or _U32.unpack_from(data)[0] != len(data):
        return None
    try:
        message = eventstream.decode(data, limits=limits)
    except DecodeError:
        return None
    return Frame(0, 0, bytes(data), message)
