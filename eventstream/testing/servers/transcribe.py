"""An offline Amazon Transcribe streaming server: WebSocket (``websockets``) and HTTP/2 (``h2``).

WebSocket, ``GET /stream-transcription-websocket?...`` with a presigned URL: the signature,
scope, expiry (at most 300 s) and clock window are checked against the server's test
credentials, and a bad URL gets HTTP 403 with a JSON error body.  Then each binary message is
one AudioEvent; the answers are TranscriptEvents from the script (see
:mod:`.transcript`).  HTTP/2 (h2c, prior knowledge), ``POST /stream-transcription``: the
request's SigV4 ``Authorization`` and every event's ``:chunk-signature`` are checked, and the
signed empty end frame is required.  Either way the stream ends, and the server closes it,
after the empty AudioEvent (results first) or after an exception frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections import deque
from pathlib import Path
from typing import Callable, Deque, Dict, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qsl, urlsplit

from ...sigv4 import Credentials, presign_url
from ..builders import stream as _encode_all
from ._auth import AuthError, ChainError, EventChain, Verified, check_presigned_url
from ._base import LOOPBACK, ServerBase, ServerLimits, load_script, url_host
from ._session import UNEXPECTED_TEXT_FRAME, Session, StreamFault, StreamParams, parse_params
from ._tls import Certificate

try:
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.datastructures import Headers
    from websockets.exceptions import ConnectionClosed
    from websockets.http11 import Request, Response
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the offline Transcribe server needs the 'server' extra: pip install 'eventstream[server]'"
    ) from exc

__all__ = ["DEFAULT_CREDENTIALS", "DEFAULT_SCRIPT", "TranscribeServer"]

DEFAULT_CREDENTIALS = Credentials(
    "AKIDEVENTSTREAMTEST", "eventstream-test-secret-key-not-a-real-one"
)
DEFAULT_SCRIPT = (
    "Hello from the eventstream test server.",
    "This transcript comes from a script.",
)
WEBSOCKET_PATH = "/stream-transcription-websocket"
SERVICE = "transcribe"


class TranscribeServer(ServerBase):
    """Serve Transcribe streaming on loopback; ``async with`` starts and stops it.

    ``script``: phrases (one final result each) or a text file with one phrase per line.
    ``seconds_per_word``: audio that makes one scripted word heard.  ``audio_timeout``:
    seconds without audio before the timeout exception (the service's 15).  The test
    ``credentials`` and ``region`` are what clients must sign with; ``clock`` is the
    server's time (for expiry tests).  ``sessions`` keeps the last ``history`` streams.
    ``tls=True`` serves ``wss://`` and HTTP/2 over TLS (ALPN ``h2``) with a throwaway
    self-signed certificate (made with the ``openssl`` command); clients trust it through
    :meth:`client_ssl_context`.
    """

    def __init__(
        self,
        script: Union[Sequence[str], str, Path, None] = None,
        *,
        credentials: Optional[Credentials] = None,
        region: str = "us-east-1",
        seconds_per_word: float = 0.25,
        audio_timeout: float = 15.0,
        max_expires: int = 300,
        clock_window: float = 300.0,
        clock: Callable[[], float] = time.time,
        host: str = LOOPBACK,
        port: int = 0,
        http2_port: int = 0,
        limits: Optional[ServerLimits] = None,
        allow_remote: bool = False,
        history: int = 256,
        tls: bool = False,
    ) -> None:
        super().__init__(host=host, limits=limits, allow_remote=allow_remote)
        self.script = load_script(script) or list(DEFAULT_SCRIPT)
        self.credentials = credentials or DEFAULT_CREDENTIALS
        self.region = region
        if seconds_per_word <= 0 or audio_timeout <= 0:
            raise ValueError("seconds_per_word and audio_timeout must be positive")
        self.seconds_per_word = seconds_per_word
        self.audio_timeout = audio_timeout
        self.max_expires = max_expires
        self.clock_window = clock_window
        self.clock = clock
        self.port = port
        self.http2_port = http2_port
        # The last `history` streams served, newest last (bounded, for tests to inspect).
        self.sessions: Deque[Session] = deque(maxlen=history)
        self.tls = tls
        self.certificate: Optional[Certificate] = None
        self._handshakes: Dict[int, Tuple[Verified, StreamParams]] = {}

    # -- addresses

    @property
    def websocket_endpoint(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{url_host(self.host)}:{self.port}"

    @property
    def http2_endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://{url_host(self.host)}:{self.http2_port}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """With ``tls=True``: an SSL context that trusts the server's certificate."""
        if self.certificate is None:
            raise RuntimeError("the server has no certificate: start it with tls=True")
        return self.certificate.client_context()

    def websocket_url(
        self,
        *,
        language_code: str = "en-US",
        media_encoding: str = "pcm",
        sample_rate: int = 16000,
        expires: int = 300,
        credentials: Optional[Credentials] = None,
        **params: Union[str, int, bool],
    ) -> str:
        """A presigned URL for this server (other parameters: ``number_of_channels=2``, ...)."""
        query = {
            "language-code": language_code,
            "media-encoding": media_encoding,
            "sample-rate": str(sample_rate),
        }
        for name, value in params.items():
            query[name.replace("_", "-")] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
        text = "&".join(f"{k}={v}" for k, v in query.items())
        return presign_url(
            f"{self.websocket_endpoint}{WEBSOCKET_PATH}?{text}",
            credentials or self.credentials,
            self.region,
            SERVICE,
            expires=expires,
            clock=self.clock,
        )

    # -- lifecycle

    async def _open(self) -> None:
        limits = self.limits
        if self.tls:
            self.certificate = Certificate(self.host)
        websocket = await serve(
            self._ws_session,
            self.host,
            self.port,
            process_request=self._ws_handshake,
            max_size=limits.max_message_size,
            max_queue=16,
            open_timeout=limits.idle_timeout,
            close_timeout=2,
            ping_interval=None,
            server_header="eventstream-testing",
            ssl=self.certificate.server_context(()) if self.certificate else None,
        )
        self._servers.append(websocket)
        self.port = next(iter(websocket.sockets)).getsockname()[1]
        from .transcribe_h2 import start_http2

        http2 = await start_http2(self)
        self._servers.append(http2)
        self.http2_port = http2.sockets[0].getsockname()[1]

    async def close(self) -> None:
        await super().close()
        if self.certificate is not None:
            self.certificate.remove()

    def new_session(self, transport: str, params: StreamParams) -> Session:
        session = Session(transport, params, self.script, self.seconds_per_word)
        self.sessions.append(session)
        return session

    # -- WebSocket

    def _ws_handshake(self, connection: ServerConnection, request: Request) -> Optional[Response]:
        path = request.path.split("?", 1)[0]
        if path != WEBSOCKET_PATH:
            return _reject(
                connection,
                404,
                "UnknownOperationException",
                f"No operation at {path[:200]}; use {WEBSOCKET_PATH}.",
            )
        if self.connections + len(self._handshakes) >= self.limits.max_connections:
            return _reject(
                connection,
                429,
                "LimitExceededException",
                "You have reached your limit of concurrent streams (test server).",
            )
        try:
            verified = check_presigned_url(
                request.path,
                request.headers.get("Host", ""),
                self.credentials,
                self.region,
                SERVICE,
                now=self.clock(),
                max_expires=self.max_expires,
                window=self.clock_window,
            )
            params = parse_params(_query_getter(request.path))
        except AuthError as exc:
            return _reject(connection, exc.status, exc.error_type, exc.message)
        except StreamFault as fault:
            return _reject(connection, 400, fault.exception_type, fault.message)
        self._handshakes[id(connection)] = (verified, params)
        return None

    async def _ws_session(self, connection: ServerConnection) -> None:
        verified, params = self._handshakes.pop(id(connection))
        if not self._track():
            await connection.close(1013, "too many streams")
            return
        session = self.new_session("websocket", params)
        try:
            await asyncio.wait_for(
                self._ws_stream(connection, session, verified), self.limits.max_duration
            )
        except asyncio.TimeoutError:
            session.outcome = "max_duration"
        except asyncio.CancelledError:
            session.outcome = "server_closed"
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), 2)

    async def _ws_stream(
        self, connection: ServerConnection, session: Session, verified: Verified
    ) -> None:
        chain: Optional[EventChain] = None
        while True:
            try:
                data = await asyncio.wait_for(connection.recv(), self.audio_timeout)
            except asyncio.TimeoutError:
                await connection.send(_encode_all([session.fail(timeout_fault(self))]))
                return
            except ConnectionClosed:
                if session.outcome == "open":
                    session.outcome = "disconnected"
                return
            try:
                if isinstance(data, str):
                    raise StreamFault("BadRequestException", UNEXPECTED_TEXT_FRAME)
                frame, chain = self._ws_unwrap(data, chain, verified)
                # No frame: the signed end frame came, the audio ended.
                replies = session.finish() if frame is None else session.audio_bytes_frame(frame)
            except StreamFault as fault:
                await connection.send(_encode_all([session.fail(fault)]))
                return
            for reply in replies:
                await connection.send(_encode_all([reply]))
            if session.transcriber.finished:
                return

    def _ws_unwrap(
        self, data: bytes, chain: Optional[EventChain], verified: Verified
    ) -> Tuple[Optional[bytes], Optional[EventChain]]:
        """A client may sign its WebSocket events too: check and unwrap them if so."""
        if chain is None and b":chunk-signature" not in data[:128]:
            return data, None
        if chain is None:
            chain = EventChain(
                verified.credentials,
                self.region,
                SERVICE,
                verified.seed_signature,
                clock=self.clock,
                window=self.clock_window,
            )
        try:
            inner = chain.check(data)
        except ChainError as exc:
            raise StreamFault(exc.exception_type, exc.message) from None
        return (None if inner is None else _encode_all([inner])), chain


def timeout_fault(server: TranscribeServer) -> StreamFault:
    seconds = f"{server.audio_timeout:g}"
    return StreamFault(
        "BadRequestException",
        f"Your request timed out because no new audio was received for {seconds} seconds.",
    )


def _query_getter(target: str) -> Callable[[str], Optional[str]]:
    values = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
    return values.get


def error_body(message: str) -> bytes:
    return json.dumps({"message": message}).encode("utf-8")


def _reject(connection: ServerConnection, status: int, error_type: str, message: str) -> Response:
    response = connection.respond(status, "")
    body = error_body(message)
    headers = Headers(
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(body))),
            ("x-amzn-ErrorType", f"{error_type}:"),
            ("Connection", "close"),
        ]
    )
    return Response(status, response.reason_phrase, headers, body)
