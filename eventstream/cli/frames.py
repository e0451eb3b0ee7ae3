"""Decoded messages paired with their raw frame bytes.

The public decoder returns :class:`eventstream.Message` objects; a debugging
tool also wants each message's position and the length and CRC fields as they
are on the wire.  :class:`FrameReader` feeds an :class:`eventstream.Decoder`
and keeps the bytes it was given until the decoder has consumed them, so each
message comes back with its exact frame bytes.
"""

from __future__ import annotations

import struct
from typing import Iterable, List, NamedTuple, Optional, Tuple

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


class FrameReader:
    """Incremental decoding that yields :class:`Frame` objects.

    ``feed`` returns the frames a chunk completed and, if the chunk hit a
    fault, the :class:`eventstream.DecodeError`; after a fault ``pending``
    holds the bytes from the faulty message on.
    """

    def __init__(self, limits: Optional[Limits] = None) -> None:
        self.decoder = eventstream.Decoder(limits)
        self._raw = bytearray()
        self.offset = 0  # stream offset of self._raw[0]
        self.count = 0  # frames returned so far
        self.error: Optional[DecodeError] = None

    @property
    def position(self) -> int:
        """Bytes fed so far."""
        return self.offset + len(self._raw)

    @property
    def pending(self) -> bytes:
        """Bytes fed but not part of a returned frame."""
        return bytes(self._raw)

    def _take(self, messages: Iterable[Message]) -> List[Frame]:
        frames = []
        for message in messages:
            total = _U32.unpack_from(self._raw)[0]
            raw = bytes(self._raw[:total])
            del self._raw[:total]
            frames.append(Frame(self.count, self.offset, raw, message))
            self.offset += total
            self.count += 1
        return frames

    def feed(self, chunk: bytes) -> Tuple[List[Frame], Optional[DecodeError]]:
        self._raw += chunk
        try:
            messages = self.decoder.feed(chunk)
        except DecodeError as exc:
            self.error = exc
            return self._take(exc.messages), exc
        return self._take(messages), None

    def close(self) -> Optional[DecodeError]:
        """The truncation error if the input ended inside a message."""
        if self.error is not None:
            return self.error
        try:
            self.decoder.close()
        except DecodeError as exc:
            self.error = exc
        return self.error


def read_frames(
    chunks: Iterable[bytes], limits: Optional[Limits] = None
) -> Tuple[List[Frame], Optional[DecodeError], FrameReader]:
    """Decode every chunk; stops at the first fault."""
    reader = FrameReader(limits)
    frames: List[Frame] = []
    for chunk in chunks:
        got, error = reader.feed(chunk)
        frames.extend(got)
        if error is not None:
            return frames, error, reader
    return frames, reader.close(), reader
