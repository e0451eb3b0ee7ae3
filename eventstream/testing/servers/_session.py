"""One Transcribe stream, independent of the transport: its parameters, the audio it accepts,
the results it produces and the service exceptions it ends with."""

from __future__ import annotations

import time
import uuid
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence

from ..._codec import decode
from ...errors import DecodeError
from ...types import Message
from ..builders import exception
from .transcript import Transcriber

__all__ = ["StreamFault", "StreamParams", "Session", "parse_params"]

UNEXPECTED_TEXT_FRAME = "Unexpected WebSocket frame received."
MISSING_END_FRAME = "A complete signal was sent without the preceding empty frame."
_ENCODINGS = ("pcm", "ogg-opus", "flac")


class StreamFault(Exception):
    """The stream ends with this service exception (sent as an exception frame)."""

    def __init__(self, exception_type: str, message: str) -> None:
        super().__init__(message)
        self.exception_type = exception_type
        self.message = message

    def frame(self) -> Message:
        return exception(self.exception_type, self.message)


class StreamParams(Dict[str, Any]):
    """The stream's settings, from the WebSocket query or the HTTP/2 headers."""


def _flag(value: Optional[str], name: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise StreamFault("BadRequestException", f"{name} must be true or false, got {value!r}.")


def parse_params(get: Callable[[str], Optional[str]]) -> StreamParams:
    """Validate the stream parameters; ``get(name)`` reads e.g. ``sample-rate``."""
    language = get("language-code")
    if not language and not _flag(get("identify-language"), "identify-language"):
        raise StreamFault("BadRequestException", "A language code is required.")
    encoding = get("media-encoding")
    if encoding not in _ENCODINGS:
        raise StreamFault(
            "BadRequestException",
            f"media-encoding must be one of {', '.join(_ENCODINGS)}, got {encoding!r}.",
        )
    try:
        rate = int(get("sample-rate") or "")
    except ValueError:
        raise StreamFault("BadRequestException", "sample-rate must be a whole number.") from None
    if not 8000 <= rate <= 48000:
        raise StreamFault(
            "BadRequestException", f"sample-rate must be 8000 to 48000 Hz, got {rate}."
        )
    identify_channels = _flag(get("enable-channel-identification"), "enable-channel-identification")
    channels_text = get("number-of-channels")
    channels = 1
    if channels_text is not None:
        if channels_text not in ("1", "2"):
            raise StreamFault("BadRequestException", "number-of-channels must be 1 or 2.")
        channels = int(channels_text)
    if identify_channels and channels != 2:
        raise StreamFault(
            "BadRequestException",
            "Channel identification needs number-of-channels set to 2.",
        )
    stabilize = _flag(
        get("enable-partial-results-stabilization"), "enable-partial-results-stabilization"
    )
    stability = get("partial-results-stability")
    if stability is not None and stability not in ("low", "medium", "high"):
        raise StreamFault("BadRequestException", "partial-results-stability: low, medium or high.")
    return StreamParams(
        language_code=language or "en-US",
        media_encoding=encoding,
        sample_rate=rate,
        channels=channels,
        channel_identification=identify_channels,
        stability=(stability or "high") if stabilize else None,
        session_id=get("session-id") or str(uuid.uuid4()),
    )


class Session:
    """What a transport hands over: each received event, and the end of input."""

    def __init__(
        self,
        transport: str,
        params: StreamParams,
        phrases: Sequence[str],
        seconds_per_word: float,
    ) -> None:
        self.transport = transport
        self.params = params
        self.started = time.monotonic()
        # PCM is 16-bit samples; other encodings are counted as if they were PCM.
        bytes_per_second = params["sample_rate"] * 2 * params["channels"]
        self.transcriber = Transcriber(
            phrases,
            bytes_per_second=bytes_per_second,
            seconds_per_word=seconds_per_word,
            channels=params["channels"],
            channel_identification=params["channel_identification"],
            stability=params["stability"],
        )
        self.audio_events = 0
        self.sent_count = 0
        # The last messages sent, for tests to look at (bounded: a stream may run for hours).
        self.sent: Deque[Message] = deque(maxlen=1000)
        self.outcome = "open"  # then "completed", an exception type, or "disconnected"

    @property
    def audio_bytes(self) -> int:
        return self.transcriber.audio_bytes

    def audio(self, message: Message) -> List[Message]:
        """One received event; the results it produces.  An empty AudioEvent ends the
        audio: its results are the last ones."""
        headers = message.headers
        if headers.get(":message-type") != "event" or headers.get(":event-type") != "AudioEvent":
            kind = headers.get(":event-type") or headers.get(":message-type")
            raise StreamFault(
                "BadRequestException",
                f"Expected an AudioEvent, got {kind!r}.",
            )
        self.audio_events += 1
        if not message.payload:
            return self.finish()
        return self._sending(self.transcriber.feed(message.payload))

    def audio_bytes_frame(self, data: bytes) -> List[Message]:
        """A received binary frame that should hold one AudioEvent."""
        try:
            message = decode(data)
        except DecodeError as exc:
            raise StreamFault(
                "BadRequestException", f"Could not decode the AudioEvent message: {exc}"
            ) from None
        return self.audio(message)

    def finish(self) -> List[Message]:
        if self.transcriber.finished:
            return []
        self.outcome = "completed"
        return self._sending(self.transcriber.finish())

    def fail(self, fault: StreamFault) -> Message:
        self.outcome = fault.exception_type
        frame = fault.frame()
        self.sent.append(frame)
        self.sent_count += 1
        return frame

    def _sending(self, events: List[Message]) -> List[Message]:
        self.sent.extend(events)
        self.sent_count += len(events)
        return events
