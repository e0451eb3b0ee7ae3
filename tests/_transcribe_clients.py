"""Clients for the offline Transcribe server written without the server's code: URLs presigned
by botocore's SigV4QueryAuth, WebSocket through ``websockets``, HTTP/2 through ``h2`` with the
request signed by botocore's SigV4Auth and the events by ``amazon_transcribe``'s EventSigner."""

from __future__ import annotations

import asyncio
import datetime
import json
import platform
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import pytest

import eventstream
from eventstream.testing import audio_event

PCM_16K_PER_SECOND = 32000  # 16-bit mono samples at 16 kHz


def presigned_url(
    endpoint: str,
    access_key: str,
    secret_key: str,
    region: str,
    *,
    expires: int = 300,
    query: str = "language-code=en-US&media-encoding=pcm&sample-rate=16000",
) -> str:
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=f"{endpoint}/stream-transcription-websocket?{query}")
    auth = SigV4QueryAuth(Credentials(access_key, secret_key), "transcribe", region, expires)
    auth.add_auth(request)
    return str(request.url)


def results(messages: Sequence[eventstream.Message]) -> List[Dict[str, Any]]:
    out = []
    for message in messages:
        if message.headers.get(":event-type") == "TranscriptEvent":
            out.extend(json.loads(message.payload)["Transcript"]["Results"])
    return out


def transcript(messages: Sequence[eventstream.Message]) -> List[Tuple[bool, str]]:
    return [(r["IsPartial"], r["Alternatives"][0]["Transcript"]) for r in results(messages)]


async def websocket_session(
    url: str,
    frames: Sequence[Union[bytes, str]],
    *,
    timeout: float = 10,
    pause: float = 0.0,
    ssl_context: Any = None,
) -> Tuple[List[eventstream.Message], Optional[int]]:
    """Send ``frames`` (binary or text), then read every message until the server closes."""
    from websockets.asyncio.client import connect

    received: List[eventstream.Message] = []

    async def run() -> Optional[int]:
        options = {} if ssl_context is None else {"ssl": ssl_context}
        async with connect(url, open_timeout=timeout, close_timeout=2, **options) as ws:

            async def send() -> None:
                for frame in frames:
                    await ws.send(frame)
                    if pause:
                        await asyncio.sleep(pause)

            sender = asyncio.ensure_future(send())
            try:
                async for data in ws:
                    assert isinstance(data, bytes), data
                    received.append(eventstream.decode(data))
            finally:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)
            return ws.close_code

    code = await asyncio.wait_for(run(), timeout)
    return received, code


def audio_frames(seconds: float, chunk_seconds: float = 0.1, end: bool = True) -> List[bytes]:
    chunk = b"\x00\x01" * int(PCM_16K_PER_SECOND * chunk_seconds / 2)
    count = round(seconds / chunk_seconds)
    frames = [eventstream.encode(audio_event(chunk)) for _ in range(count)]
    if end:
        frames.append(eventstream.encode(audio_event(b"")))
    return frames


# ---------------------------------------------------------------- HTTP/2


def signed_h2_headers(
    endpoint: str,
    access_key: str,
    secret_key: str,
    region: str,
    extra: Optional[Dict[str, str]] = None,
) -> Tuple[List[Tuple[str, str]], str]:
    """Request headers signed by botocore's SigV4Auth, and the seed signature."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {
        "Content-Type": "application/vnd.amazon.eventstream",
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-EVENTS",
        "x-amzn-transcribe-language-code": "en-US",
        "x-amzn-transcribe-media-encoding": "pcm",
        "x-amzn-transcribe-sample-rate": "16000",
        **(extra or {}),
    }
    request = AWSRequest(method="POST", url=f"{endpoint}/stream-transcription", headers=headers)
    SigV4Auth(Credentials(access_key, secret_key), "transcribe", region).add_auth(request)
    authority = endpoint.split("://", 1)[1]
    pairs = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/stream-transcription"),
        (":authority", authority),
    ]
    pairs += [(name.lower(), value) for name, value in request.headers.items()]
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    return pairs, seed


def transcribe_signer_frames(
    access_key: str,
    secret_key: str,
    region: str,
    seed: str,
    payloads: Sequence[bytes],
    *,
    end: bool = True,
    now: Optional[Callable[[], datetime.datetime]] = None,
) -> List[bytes]:
    """Signed frames made by amazon_transcribe's EventSigner (its default clock has
    milliseconds in :date, as the official SDK sends)."""
    try:
        from amazon_transcribe.auth import Credentials
        from amazon_transcribe.eventstream import EventSigner, EventStreamMessageSerializer
    except ImportError:
        # The test extra installs amazon-transcribe on CPython only (its awscrt has no PyPy
        # wheel and takes minutes to build): elsewhere its absence is a broken install.
        if platform.python_implementation() != "PyPy":
            raise
        pytest.skip("amazon-transcribe is not installed under PyPy (the test extra omits it)")

    signer = EventSigner("transcribe", region, utc_now=now)
    serializer = EventStreamMessageSerializer()
    credentials = Credentials(access_key, secret_key)
    prior = bytes.fromhex(seed)
    frames = []
    for payload in [*payloads, *([b""] if end else [])]:
        headers = signer.sign(payload, prior, credentials)
        frames.append(serializer.serialize(headers, payload))
        prior = headers[":chunk-signature"]  # type: ignore[assignment]
    return frames


async def h2_session(
    endpoint: str,
    headers: List[Tuple[str, str]],
    frames: Sequence[bytes],
    *,
    end_stream: bool = True,
    timeout: float = 10,
    ssl_context: Any = None,
) -> Tuple[Dict[str, str], bytes]:
    """POST with prior-knowledge h2c (or h2 over TLS with ``ssl_context``), send ``frames``
    as DATA, read the whole response."""
    import h2.config
    import h2.connection
    import h2.events

    host, port = endpoint.split("://", 1)[1].rsplit(":", 1)

    async def run() -> Tuple[Dict[str, str], bytes]:
        if ssl_context is not None:
            ssl_context.set_alpn_protocols(["h2"])
        reader, writer = await asyncio.open_connection(host.strip("[]"), int(port), ssl=ssl_context)
        if ssl_context is not None:
            assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        conn.initiate_connection()
        stream_id = conn.get_next_available_stream_id()
        conn.send_headers(stream_id, headers)
        for frame in frames:
            conn.send_data(stream_id, frame)
        if end_stream:
            conn.end_stream(stream_id)
        writer.write(conn.data_to_send())
        response: Dict[str, str] = {}
        body = bytearray()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived):
                        response = {str(k): str(v) for k, v in event.headers}
                    elif isinstance(event, h2.events.DataReceived):
                        body.extend(event.data)
                        conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                    elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                        return response, bytes(body)
                writer.write(conn.data_to_send())
        finally:
            writer.close()
        return response, bytes(body)

    return await asyncio.wait_for(run(), timeout)
