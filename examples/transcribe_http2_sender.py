"""Transcribe audio over HTTP/2, signing every event: the signed sender loop, end to end.

Usage::

    python examples/transcribe_http2_sender.py [options] AUDIO
    python examples/transcribe_http2_sender.py --silence 3 --endpoint http://127.0.0.1:PORT --pace 0

AUDIO, the options, the output and the exit status are those of ``transcribe_websocket.py``
(see its docstring), except that ``--endpoint`` is an ``http://`` URL (HTTP/2 without TLS,
"prior knowledge", as eventstream.testing.TranscribeServer's ``http2_endpoint`` serves) or
an ``https://`` one (TLS with ALPN ``h2``); the default is
``https://transcribestreaming.REGION.amazonaws.com``, path ``/stream-transcription``.  The
segment in progress is not shown (results are read between sends).

What it shows: the request is signed with SigV4 (``x-amz-content-sha256:
STREAMING-AWS4-HMAC-SHA256-EVENTS``); its signature seeds an :class:`EventSigner`, and
the body is ``signer.frames(audio events)``: each AudioEvent inside a frame with ``:date``
and ``:chunk-signature``, then the signed empty end frame, which ``frames`` yields even
when the audio source raises.  The core, :func:`transcribe_http2`, is importable.  Needs
the ``h2`` package (``pip install h2``).
"""

from __future__ import annotations

import argparse
import contextlib
import select
import socket
import ssl
import sys
import time
from typing import Callable, Iterable, List, Optional, TextIO, Tuple
from urllib.parse import urlsplit

from transcribe_audio import (
    add_common_arguments,
    credentials_from_args,
    open_audio,
    transcribe_options,
)

from eventstream import Decoder, Message
from eventstream.errors import EventStreamError
from eventstream.events import ServiceError, ServiceException
from eventstream.sigv4 import SignedRequest, SigningError
from eventstream.transcribe import Segment, TranscriptAssembler, audio_event, http2_request

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
except ImportError:  # pragma: no cover - depends on the installation
    sys.exit("this example needs the h2 package: pip install h2")

Update = Callable[[TranscriptAssembler, List[Segment]], None]


class HTTPStatusError(Exception):
    """The server refused the request (a status other than 200, with its body)."""


class H2Request:
    """One HTTP/2 request on its own connection, with a streamed body (blocking sockets)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"endpoint must be an http:// or https:// URL, got {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        sock = socket.create_connection((parts.hostname, port), timeout=timeout)
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
            if sock.selected_alpn_protocol() != "h2":
                raise ConnectionError(f"{parts.netloc} does not speak HTTP/2")
        self.sock = sock
        self.timeout = timeout
        self.scheme, self.authority = parts.scheme, parts.netloc
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.stream_id = self.conn.get_next_available_stream_id()
        self.status: Optional[int] = None
        self.body = Decoder()
        self.raw_body = bytearray()
        self.closed = False
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def start(self, path: str, headers: Iterable[Tuple[str, str]]) -> None:
        self.conn.send_headers(
            self.stream_id,
            [
                (":method", "POST"),
                (":scheme", self.scheme),
                (":authority", self.authority),
                (":path", path),
                *headers,
            ],
        )
        self._flush()

    def send(self, data: bytes) -> List[Message]:
        """Send body bytes within the flow-control window; the messages received meanwhile."""
        received: List[Message] = []
        view = memoryview(data)
        while view:
            room = min(
                self.conn.local_flow_control_window(self.stream_id),
                self.conn.max_outbound_frame_size,
            )
            if room <= 0:
                if self.closed:
                    raise ConnectionError("the server ended the stream before the body was sent")
                received += self.receive(block=True)
                continue
            self.conn.send_data(self.stream_id, view[:room].tobytes())
            view = view[room:]
            self._flush()
        return received + self.receive(block=False)

    def end(self) -> None:
        self.conn.end_stream(self.stream_id)
        self._flush()

    def receive(self, *, block: bool) -> List[Message]:
        """Read what the server sent (waiting up to the timeout if ``block``)."""
        received: List[Message] = []
        while not self.closed:
            ready, _, _ = select.select([self.sock], [], [], self.timeout if block else 0)
            if not ready:
                if block:
                    raise TimeoutError(f"no answer from {self.authority} in {self.timeout} s")
                break
            data = self.sock.recv(65536)
            if not data:
                self.closed = True
                break
            for event in self.conn.receive_data(data):
                received += self._handle(event)
            self._flush()
            block = False  # one read was enough to make progress
        return received

    def _handle(self, event: object) -> List[Message]:
        if isinstance(event, h2.events.ResponseReceived):
            self.status = int(dict(event.headers)[b":status"])
        elif isinstance(event, h2.events.DataReceived):
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if self.status != 200:
                self.raw_body += event.data
                return []
            messages: List[Message] = self.body.feed(event.data)
            return messages
        elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
            self.closed = True
            if isinstance(event, h2.events.StreamReset):
                raise ConnectionError(f"the server reset the stream (code {event.error_code})")
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.closed = True
        return []

    def body_text(self) -> str:
        """The body of a refused request, as text."""
        return bytes(self.raw_body).decode("utf-8", errors="replace")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close_connection()
            self._flush()
        self.sock.close()


def transcribe_http2(
    url: str,
    signed: SignedRequest,
    chunks: Iterable[bytes],
    *,
    pause: float = 0.0,
    on_update: Optional[Update] = None,
    clock: Optional[Callable[[], float]] = None,
    timeout: float = 30.0,
) -> TranscriptAssembler:
    """POST ``chunks`` (PCM) as signed AudioEvents to ``url``; assemble the transcript.

    ``signed`` comes from :func:`eventstream.transcribe.http2_request` for the same URL.
    Raises :class:`eventstream.ServiceException` for the service's exception frames and
    :class:`HTTPStatusError` when the request is refused.
    """
    assembler = TranscriptAssembler()
    request = H2Request(url, timeout)

    def take(messages: List[Message]) -> None:
        for message in messages:
            finals = assembler.feed(message)
            if on_update is not None:
                on_update(assembler, finals)

    try:
        request.start(urlsplit(url).path, signed.headers.items())
        signer = signed.event_signer(clock=clock)
        # The signed sender loop: frames() yields the end frame after the last event,
        # and also before re-raising an error of the audio source.
        try:
            for frame in signer.frames(audio_event(chunk) for chunk in chunks if chunk):
                if request.closed:
                    break  # the server answered already (a refusal or an exception)
                take(request.send(frame))
                if pause and not signer.ended:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            # A server that refuses a request may answer and close while the body is
            # still on its way: its answer says more than the broken pipe.
            with contextlib.suppress(OSError):
                request.receive(block=True)
            if request.status is not None and request.status != 200:
                raise HTTPStatusError(f"HTTP {request.status}: {request.body_text()}") from None
            raise
        finally:
            if not request.closed:
                with contextlib.suppress(OSError):
                    request.end()
        while not request.closed:
            take(request.receive(block=True))
        if request.status != 200:
            raise HTTPStatusError(f"HTTP {request.status}: {request.body_text()}")
        request.body.close()  # raises if the response stopped inside a message
    finally:
        request.close()
    return assembler


def _print_finals(out: TextIO) -> Update:
    def update(assembler: TranscriptAssembler, finals: List[Segment]) -> None:
        for segment in finals:
            label = f"[{segment.channel}] " if segment.channel is not None else ""
            out.write(f"{label}{segment.text}\n")
        out.flush()

    return update


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
        url, signed = http2_request(
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
    try:
        transcribe_http2(
            url,
            signed,
            audio.chunks,
            pause=args.pace * audio.chunk_seconds,
            on_update=_print_finals(out),
        )
    except (ServiceException, ServiceError) as exc:
        print(f"service: {exc}", file=sys.stderr)
        return 1
    except (OSError, HTTPStatusError, EventStreamError, h2.exceptions.H2Error) as exc:
        print(f"connection: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
