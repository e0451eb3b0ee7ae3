"""The offline Transcribe server over HTTP/2 (h2c), driven by an `h2` client whose request is
signed by botocore's SigV4Auth and whose events are signed by amazon_transcribe's
EventSigner: accepted; reordered, altered and end-frame-less chains refused with the
service's messages."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any, Awaitable, Dict, List, Tuple, TypeVar

import pytest
from _transcribe_clients import (
    h2_session,
    signed_h2_headers,
    transcribe_signer_frames,
    transcript,
)

import eventstream
from eventstream.testing import audio_event
from eventstream.testing.servers.transcribe import TranscribeServer

T = TypeVar("T")
AUDIO = [eventstream.encode(audio_event(b"\x00\x01" * 1600)) for _ in range(5)]  # 0.5 s


def run(coroutine: Awaitable[T], timeout: float = 30) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))  # type: ignore[arg-type]


def decode_all(body: bytes) -> List[eventstream.Message]:
    return list(eventstream.iter_messages([body]))


async def session(
    server: TranscribeServer,
    arrange: Any = None,
    *,
    end: bool = True,
    secret: str = "",
    extra: Any = None,
    now: Any = None,
) -> Tuple[Dict[str, str], bytes]:
    creds = server.credentials
    headers, seed = signed_h2_headers(
        server.http2_endpoint, creds.access_key, secret or creds.secret_key, server.region, extra
    )
    frames = transcribe_signer_frames(
        creds.access_key, creds.secret_key, server.region, seed, AUDIO, end=end, now=now
    )
    if arrange is not None:
        frames = arrange(frames)
    return await h2_session(server.http2_endpoint, headers, frames)


def with_milliseconds() -> datetime.datetime:
    # What the SDK's default clock gives: a :date with milliseconds, which the service takes.
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=123456)


def test_signed_stream_is_accepted_and_transcribed() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(["one two three", "four"], seconds_per_word=0.1) as server:
            return await session(server, now=with_milliseconds), server.sessions[-1]

    (response, body), record = run(scenario())
    assert response[":status"] == "200"
    assert response["content-type"] == "application/vnd.amazon.eventstream"
    assert response["x-amzn-transcribe-sample-rate"] == "16000"
    assert transcript(decode_all(body)) == [
        (True, "one"),
        (True, "one two"),
        (False, "one two three"),
        (False, "four"),
    ]
    assert record.transport == "http2" and record.outcome == "completed"


def exception_message(body: bytes) -> Tuple[str, str]:
    last = decode_all(body)[-1]
    assert last.headers[":message-type"] == "exception"
    return last.headers[":exception-type"], json.loads(last.payload)["Message"]


def test_missing_end_frame() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(["x"]) as server:
            return await session(server, end=False)

    response, body = run(scenario())
    assert response[":status"] == "200"
    assert exception_message(body) == (
        "BadRequestException",
        "A complete signal was sent without the preceding empty frame.",
    )


def swap(frames: List[bytes]) -> List[bytes]:
    return [frames[0], frames[2], frames[1], *frames[3:]]


def alter(frames: List[bytes]) -> List[bytes]:
    # Another AudioEvent under the same signature: the payload no longer matches.
    message = eventstream.decode(frames[1])
    forged = eventstream.Message(message.headers, eventstream.encode(audio_event(b"\xff" * 3200)))
    return [frames[0], eventstream.encode(forged), *frames[2:]]


@pytest.mark.parametrize("arrange", [swap, alter], ids=["reordered", "altered"])
def test_broken_chains_are_refused(arrange: Any) -> None:
    async def scenario() -> Any:
        async with TranscribeServer(["a b c d e f g"], seconds_per_word=0.1) as server:
            return await session(server, arrange), server.sessions[-1]

    (_, body), record = run(scenario())
    kind, message = exception_message(body)
    assert kind == "BadRequestException"
    assert message.startswith("The request signature we calculated does not match")
    # Only the frame before the broken one was heard.
    assert transcript(decode_all(body)) == [(True, "a")]
    assert record.outcome == "BadRequestException"


def test_bad_request_signature_gets_403_json() -> None:
    async def scenario() -> Any:
        async with TranscribeServer() as server:
            return await session(server, secret="wrong-secret")

    wrong, body = run(scenario())
    assert wrong[":status"] == "403"
    assert wrong["x-amzn-errortype"].startswith("InvalidSignatureException")
    assert json.loads(body)["message"].startswith("The request signature we calculated")


def test_altered_request_header_gets_403() -> None:
    async def scenario() -> Any:
        async with TranscribeServer() as server:
            creds = server.credentials
            headers, _ = signed_h2_headers(
                server.http2_endpoint, creds.access_key, creds.secret_key, server.region
            )
            headers = [
                (k, "8000" if k == "x-amzn-transcribe-sample-rate" else v) for k, v in headers
            ]
            return await h2_session(server.http2_endpoint, headers, [])

    response, body = run(scenario())
    assert response[":status"] == "403"
    assert json.loads(body)["message"].startswith("The request signature we calculated")


def test_no_audio_times_out_and_unknown_path() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(audio_timeout=0.3) as server:
            creds = server.credentials
            headers, _ = signed_h2_headers(
                server.http2_endpoint, creds.access_key, creds.secret_key, server.region
            )
            quiet = await h2_session(server.http2_endpoint, headers, [], end_stream=False)
            elsewhere = [(k, "/other" if k == ":path" else v) for k, v in headers]
            missing = await h2_session(server.http2_endpoint, elsewhere, [])
            return quiet, missing

    (quiet, body), (missing, _) = run(scenario())
    assert quiet[":status"] == "200"
    assert exception_message(body)[1].startswith("Your request timed out because no new audio")
    assert missing[":status"] == "404"


def test_tls_with_a_generated_certificate() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(["secure words"], seconds_per_word=0.1, tls=True) as server:
            assert server.http2_endpoint.startswith("https://")
            creds = server.credentials
            headers, seed = signed_h2_headers(
                server.http2_endpoint, creds.access_key, creds.secret_key, server.region
            )
            headers = [(k, "https" if k == ":scheme" else v) for k, v in headers]
            frames = transcribe_signer_frames(
                creds.access_key, creds.secret_key, server.region, seed, AUDIO
            )
            return await h2_session(
                server.http2_endpoint, headers, frames, ssl_context=server.client_ssl_context()
            )

    response, body = run(scenario())
    assert response[":status"] == "200"
    assert transcript(decode_all(body))[-1] == (False, "secure words")


def test_bounds_idle_connections_and_frame_size() -> None:
    from eventstream.testing.servers import ServerLimits

    async def scenario() -> Any:
        limits = ServerLimits(max_connections=1, max_message_size=1024, idle_timeout=0.3)
        async with TranscribeServer(limits=limits) as server:
            host, port = server.host, server.http2_port
            # A connection that says nothing is dropped after idle_timeout.
            reader, writer = await asyncio.open_connection(host, port)
            started = asyncio.get_running_loop().time()
            while await asyncio.wait_for(reader.read(65536), 5):
                pass
            idle_for = asyncio.get_running_loop().time() - started
            writer.close()
            await asyncio.sleep(0.05)
            # While one connection is open, a second one is closed at once.
            first = await asyncio.open_connection(host, port)
            await asyncio.sleep(0.05)
            reader2, writer2 = await asyncio.open_connection(host, port)
            while await asyncio.wait_for(reader2.read(65536), 2):  # times out unless closed
                pass
            refused_open = server.connections
            writer2.close()
            first[1].close()
            await asyncio.sleep(0.05)
            # A signed frame above max_message_size ends the stream with an exception.
            creds = server.credentials
            headers, seed = signed_h2_headers(
                server.http2_endpoint, creds.access_key, creds.secret_key, server.region
            )
            big = [eventstream.encode(audio_event(b"\x00" * 4096))]
            frames = transcribe_signer_frames(
                creds.access_key, creds.secret_key, server.region, seed, big
            )
            too_big = await h2_session(server.http2_endpoint, headers, frames)
            return idle_for, refused_open, too_big

    idle_for, open_then, (_, body) = run(scenario())
    assert 0.25 < idle_for < 3
    assert open_then == 1  # the first connection stayed open; only the second was refused
    kind, message = exception_message(body)
    assert kind == "BadRequestException" and "Could not decode" in message
