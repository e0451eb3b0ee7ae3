"""Transcribe audio with the Amazon Transcribe WebSocket API (no SDK, no signing per event).

Usage::

    python examples/transcribe_websocket.py [options] AUDIO
    python examples/transcribe_websocket.py --silence 3 --endpoint ws://127.0.0.1:PORT --pace 0

AUDIO is a ``.wav`` file (16-bit PCM; its rate and channels are used), raw 16-bit
little-endian PCM, or ``-`` for stdin; ``--silence SECONDS`` sends silence instead.

Options (all optional):
  --endpoint URL        server instead of wss://transcribestreaming.REGION.amazonaws.com:8443
                        (e.g. ws://127.0.0.1:PORT, eventstream.testing.TranscribeServer's
                        websocket_endpoint; the path defaults to /stream-transcription-websocket)
  --region REGION       default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1
  --access-key, --secret-key, --session-token
                        default $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY, $AWS_SESSION_TOKEN
  --language-code CODE  default en-US
  --sample-rate HZ      raw PCM and silence only (default 16000)
  --channels N          2 turns on channel identification
  --stability LEVEL     high, medium or low: partial-results stabilization
  --chunk-ms MS         audio per AudioEvent (default 100)
  --pace FACTOR         wait FACTOR x each chunk's duration between chunks (default 1: real
                        time; 0: as fast as possible)

Output: each final segment on its own line of stdout, prefixed ``[ch_0] `` when channel
identification is on.  When stdout is a terminal, the segment in progress is shown on the
current line, replaced in place by each newer partial and then by its final line.
Exit status: 0 on success; 1 when the service sends an exception or error frame or the
connection fails (the message goes to stderr); 2 for bad arguments or credentials.

The protocol: connect to the presigned URL, send each chunk as one binary WebSocket message
holding an encoded AudioEvent, and end with the empty AudioEvent (also binary: a text frame
gets ``BadRequestException``).  Events are not signed one by one; the URL is.  The core,
:func:`transcribe`, is importable: it takes the URL and an iterable of PCM chunks.
Needs the ``websockets`` package (``pip install websockets``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any, Callable, Iterable, List, Optional, TextIO

from transcribe_audio import (
    add_common_arguments,
    credentials_from_args,
    open_audio,
    transcribe_options,
)

from eventstream.errors import EventStreamError
from eventstream.events import ServiceError, ServiceException
from eventstream.sigv4 import SigningError, redact_url
from eventstream.transcribe import (
    Segment,
    TranscribeError,
    TranscriptAssembler,
    audio_event,
    end_of_stream,
    websocket_url,
)

try:
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
except ImportError:  # pragma: no cover - depends on the installation
    sys.exit("this example needs the websockets package: pip install websockets")

Update = Callable[[TranscriptAssembler, List[Segment]], None]


async def _send_audio(ws: Any, chunks: Iterable[bytes], pause: float) -> None:
    """Send every chunk as an AudioEvent, then the empty AudioEvent, whatever happens."""
    try:
        for chunk in chunks:
            if chunk:
                await ws.send(audio_event(chunk))
                if pause:
                    await asyncio.sleep(pause)
    finally:
        # The stream ends with the empty AudioEvent, as a binary message; if the
        # connection is already gone there is nobody left to tell.
        with contextlib.suppress(ConnectionClosed):
            await ws.send(end_of_stream())


async def transcribe(
    url: str,
    chunks: Iterable[bytes],
    *,
    pause: float = 0.0,
    on_update: Optional[Update] = None,
) -> TranscriptAssembler:
    """Stream ``chunks`` (PCM) to the presigned ``url`` and assemble what comes back.

    ``pause`` is the wait after each chunk (seconds).  ``on_update(assembler, finals)`` is
    called after each received TranscriptEvent with the segments it finalised.  Returns the
    assembler (``.finals``) once the server closes the stream.  Raises
    :class:`eventstream.ServiceException` / :class:`eventstream.ServiceError` for the
    service's exception and error frames.
    """
    assembler = TranscriptAssembler()
    async with websockets.connect(url, max_size=2**24) as ws:
        sender = asyncio.ensure_future(_send_audio(ws, chunks, pause))
        try:
            async for message in ws:
                if isinstance(message, str):
                    raise TranscribeError(f"unexpected text frame from the server: {message!r}")
                finals = assembler.feed(message)
                if on_update is not None:
                    on_update(assembler, finals)
        finally:
            if not sender.done():
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    return assembler


class LivePrinter:
    """Prints final segments as lines; on a terminal, the partial one in place too."""

    def __init__(self, out: TextIO, live: Optional[bool] = None) -> None:
        self.out = out
        self.live = out.isatty() if live is None else live
        self._shown = False

    @staticmethod
    def _label(channel: Optional[str]) -> str:
        return f"[{channel}] " if channel is not None else ""

    def __call__(self, assembler: TranscriptAssembler, finals: List[Segment]) -> None:
        if self.live and self._shown:
            self.out.write("\r\x1b[K")  # back to the line start, clear it
            self._shown = False
        for segment in finals:
            self.out.write(f"{self._label(segment.channel)}{segment.text}\n")
        if self.live and assembler.partial:
            self.out.write(
                " | ".join(
                    f"{self._label(channel)}{partial.text}"
                    for channel, partial in sorted(
                        assembler.partial.items(), key=lambda item: str(item[0])
                    )
                )
            )
            self._shown = True
        self.out.flush()


def _refusal_body(exc: BaseException) -> str:
    """The body of a refused handshake (the service says there why, e.g. a bad signature)."""
    body = getattr(getattr(exc, "response", None), "body", None)
    if not body:
        return ""
    return ": " + bytes(body).decode("utf-8", errors="replace")


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    try:
        credentials = credentials_from_args(args)
        audio = open_audio(
            args.audio,
            silence_seconds=args.silence,
            sample_rate=args.sample_rate,
            channels=args.channels,
            chunk_ms=args.chunk_ms,
        )
        url = websocket_url(
            args.region,
            credentials,
            language_code=args.language_code,
            media_encoding="pcm",
            sample_rate=audio.sample_rate,
            endpoint=args.endpoint,
            **transcribe_options(args),
        )
    except (SigningError, ValueError, TypeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    printer = LivePrinter(out)
    try:
        asyncio.run(
            transcribe(url, audio.chunks, pause=args.pace * audio.chunk_seconds, on_update=printer)
        )
    except (ServiceException, ServiceError) as exc:
        print(f"\nservice: {exc}", file=sys.stderr)
        return 1
    except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, EventStreamError) as exc:
        # EventStreamError: a frame that does not decode or is not a transcript.  The
        # client library's errors may quote the presigned URL: hide its token.
        text = redact_url(f"{exc}{_refusal_body(exc)}")
        print(f"\nconnection: {type(exc).__name__}: {text}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
