"""The HTTP/2 side of the Transcribe server: StartStreamTranscription over h2c (``h2``).

``POST /stream-transcription`` with the stream parameters as ``x-amzn-transcribe-*`` headers
and a SigV4 ``Authorization``; the request body is a chain of signed frames around
AudioEvents, ended by the signed empty frame.  The response is ``200`` with an event stream
of TranscriptEvents, or an exception frame; a refused request gets a status with a JSON body.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ..._codec import encode
from ..._decoder import Decoder
from ...errors import DecodeError
from ...limits import Limits
from ...types import Message
from ._auth import AuthError, ChainError, EventChain, check_signed_request
from ._session import MISSING_END_FRAME, Session, StreamFault, parse_params

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    import h2.settings
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the offline Transcribe server needs the 'server' extra: pip install 'eventstream[server]'"
    ) from exc

if TYPE_CHECKING:
    from .transcribe import TranscribeServer

__all__ = ["start_http2"]

PATH = "/stream-transcription"
_PARAM_PREFIX = "x-amzn-transcribe-"


async def start_http2(server: TranscribeServer) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    context = server.certificate.server_context(("h2",)) if server.certificate else None
    return await loop.create_server(
        lambda: _Http2Connection(server), server.host, server.http2_port, ssl=context
    )


class _Stream:
    """One request stream: its checks, its decoder and what waits to be sent."""

    def __init__(self, session: Session, chain: EventChain, limits: Limits) -> None:
        self.session = session
        self.chain = chain
        self.decoder = Decoder(limits)
        self.outgoing = bytearray()
        self.closing = False  # end the response once `outgoing` is sent
        self.timer: Optional[asyncio.TimerHandle] = None


class _Http2Connection(asyncio.Protocol):
    def __init__(self, server: TranscribeServer) -> None:
        self.server = server
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.transport: Optional[asyncio.Transport] = None
        self.streams: Dict[int, _Stream] = {}
        self.task: Optional[asyncio.Task[None]] = None
        self.idle: Optional[asyncio.TimerHandle] = None
        self.limits = Limits(max_payload=server.limits.max_message_size)

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # The connection counts against the server's limit for as long as it is open.
        self.task = asyncio.get_running_loop().create_task(self._hold())
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 8})
        self._flush()
        self._touch()

    async def _hold(self) -> None:
        if not self.server._track():
            self._abort()
            return
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(self.server.limits.max_duration)
        self._abort()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        for stream in self.streams.values():
            if stream.timer is not None:
                stream.timer.cancel()
            if stream.session.outcome == "open":
                stream.session.outcome = "disconnected"
        self.streams.clear()
        if self.idle is not None:
            self.idle.cancel()
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self._touch()
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            self._abort()
            return
        for event in events:
            self._dispatch(event)
        self._flush()

    # -- HTTP/2 events

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self._request(event.stream_id, event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            self._data(event.stream_id, event.data)
        elif isinstance(event, h2.events.StreamEnded):
            self._ended(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            stream = self.streams.pop(event.stream_id, None)
            if stream is not None and stream.session.outcome == "open":
                stream.session.outcome = "disconnected"
        elif isinstance(event, h2.events.WindowUpdated):
            for stream_id in list(self.streams):
                self._send_pending(stream_id)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self._abort()

    def _request(self, stream_id: int, raw_headers: Any) -> None:
        headers: Dict[str, str] = {}
        for name, value in raw_headers:  # str pairs: the connection decodes them as UTF-8
            headers[str(name).lower()] = str(value)
        server = self.server
        try:
            if headers.get(":method") != "POST" or headers.get(":path") != PATH:
                raise AuthError(
                    404,
                    "UnknownOperationException",
                    f"No operation at {headers.get(':method')} {headers.get(':path', '')[:200]}; "
                    f"use POST {PATH}.",
                )
            verified = check_signed_request(
                "POST",
                headers.get(":authority", ""),
                PATH,
                headers,
                server.credentials,
                server.region,
                "transcribe",
                now=server.clock(),
                window=server.clock_window,
            )
            params = parse_params(lambda name: headers.get(_PARAM_PREFIX + name))
        except AuthError as exc:
            self._refuse(stream_id, exc.status, exc.error_type, exc.message)
            return
        except StreamFault as fault:
            self._refuse(stream_id, 400, fault.exception_type, fault.message)
            return
        session = server.new_session("http2", params)
        chain = EventChain(
            verified.credentials,
            server.region,
            "transcribe",
            verified.seed_signature,
            clock=server.clock,
            window=server.clock_window,
        )
        stream = _Stream(session, chain, self.limits)
        self.streams[stream_id] = stream
        response = [
            (":status", "200"),
            ("content-type", "application/vnd.amazon.eventstream"),
            ("x-amzn-request-id", str(uuid.uuid4())),
            ("x-amzn-transcribe-session-id", params["session_id"]),
            ("x-amzn-transcribe-language-code", params["language_code"]),
            ("x-amzn-transcribe-media-encoding", params["media_encoding"]),
            ("x-amzn-transcribe-sample-rate", str(params["sample_rate"])),
        ]
        self.conn.send_headers(stream_id, response)
        self._arm_timer(stream_id, stream)

    def _data(self, stream_id: int, data: bytes) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.closing:
            return
        self._arm_timer(stream_id, stream)
        try:
            frames = stream.decoder.feed(data)
            for frame in frames:
                self._frame(stream_id, stream, frame)
                if stream.closing:
                    return
        except DecodeError as exc:
            self._fail(
                stream_id,
                stream,
                StreamFault("BadRequestException", f"Could not decode the event stream: {exc}"),
            )
        except StreamFault as fault:
            self._fail(stream_id, stream, fault)

    def _frame(self, stream_id: int, stream: _Stream, frame: Message) -> None:
        try:
            inner = stream.chain.check(frame)
        except ChainError as exc:
            raise StreamFault(exc.exception_type, exc.message) from None
        if inner is None:
            self._queue(stream_id, stream, stream.session.finish())
            stream.closing = True
            self._send_pending(stream_id)
            return
        self._queue(stream_id, stream, stream.session.audio(inner))

    def _ended(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or stream.closing:
            return
        if not stream.chain.ended:
            self._fail(stream_id, stream, StreamFault("BadRequestException", MISSING_END_FRAME))

    def _fail(self, stream_id: int, stream: _Stream, fault: StreamFault) -> None:
        self._queue(stream_id, stream, [stream.session.fail(fault)])
        stream.closing = True
        self._send_pending(stream_id)

    def _refuse(self, stream_id: int, status: int, error_type: str, message: str) -> None:
        body = json.dumps({"message": message}).encode("utf-8")
        self.conn.send_headers(
            stream_id,
            [
                (":status", str(status)),
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amzn-errortype", f"{error_type}:"),
                ("content-length", str(len(body))),
            ],
        )
        self.conn.send_data(stream_id, body, end_stream=True)

    # -- sending, within the flow-control windows

    def _queue(self, stream_id: int, stream: _Stream, messages: List[Message]) -> None:
        for message in messages:
            stream.outgoing += encode(message)
        self._send_pending(stream_id)

    def _send_pending(self, stream_id: int) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        try:
            while stream.outgoing:
                window = min(
                    self.conn.local_flow_control_window(stream_id),
                    self.conn.max_outbound_frame_size,
                )
                if window <= 0:
                    return
                piece = bytes(stream.outgoing[:window])
                del stream.outgoing[:window]
                self.conn.send_data(stream_id, piece)
            if stream.closing:
                self.conn.end_stream(stream_id)
                if stream.timer is not None:
                    stream.timer.cancel()
                del self.streams[stream_id]
        except h2.exceptions.StreamClosedError:
            self.streams.pop(stream_id, None)
        self._flush()

    # -- timers and the transport

    def _arm_timer(self, stream_id: int, stream: _Stream) -> None:
        if stream.timer is not None:
            stream.timer.cancel()
        from .transcribe import timeout_fault

        def expire() -> None:
            if stream_id in self.streams and not stream.closing:
                self._fail(stream_id, stream, timeout_fault(self.server))

        loop = asyncio.get_running_loop()
        stream.timer = loop.call_later(self.server.audio_timeout, expire)

    def _touch(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        loop = asyncio.get_running_loop()
        self.idle = loop.call_later(self.server.limits.idle_timeout, self._idle)

    def _idle(self) -> None:
        if not self.streams:
            self._abort()
        else:
            self._touch()  # a stream waits for audio; its own timer ends it

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.close()
