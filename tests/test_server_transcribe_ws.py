"""The offline Transcribe server over WebSocket, driven by a `websockets` client with URLs
presigned by botocore: accepted, refused with 403, transcripts in the service's shape, and
the service's failures."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, Awaitable, List, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from _transcribe_clients import (
    audio_frames,
    presigned_url,
    results,
    transcript,
    websocket_session,
)

import eventstream
from eventstream.testing import audio_event, event
from eventstream.testing.servers import ServerLimits
from eventstream.testing.servers.transcribe import TranscribeServer

T = TypeVar("T")
CAPTURE = Path(__file__).parent / "captures" / "transcribe-ws-exception-BadRequest.bin"


def run(coroutine: Awaitable[T], timeout: float = 30) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))  # type: ignore[arg-type]


def botocore_url(server: TranscribeServer, **options: Any) -> str:
    secret = options.pop("secret", server.credentials.secret_key)
    return presigned_url(
        server.websocket_endpoint, server.credentials.access_key, secret, server.region, **options
    )


async def http_status(url: str) -> tuple:
    """Status and body of a refused WebSocket handshake."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info:
        async with connect(url, open_timeout=5):
            pass
    response = info.value.response
    return response.status_code, json.loads(response.body), response.headers["x-amzn-ErrorType"]


def test_botocore_presigned_url_is_accepted_and_transcribed() -> None:
    async def scenario() -> Any:
        script = ["The Amazon is a river.", "Hello world"]
        async with TranscribeServer(script, seconds_per_word=0.1) as server:
            messages, code = await websocket_session(botocore_url(server), audio_frames(1.0))
            return messages, code, server.sessions[-1]

    messages, code, session = run(scenario())
    assert code == 1000
    assert transcript(messages) == [
        (True, "The"),
        (True, "The Amazon"),
        (True, "The Amazon is"),
        (True, "The Amazon is a"),
        (False, "The Amazon is a river."),
        (True, "Hello"),
        (False, "Hello world"),
    ]
    first = results(messages)
    assert (
        len({r["ResultId"] for r in first[:5]}) == 1
        and first[5]["ResultId"] != first[0]["ResultId"]
    )
    assert first[4]["StartTime"] == 0.0 and first[4]["EndTime"] == 0.5
    assert all(
        "ChannelId" not in r and "Stable" not in r["Alternatives"][0]["Items"][0] for r in first
    )
    for message in messages:
        assert message.headers.names() == [":event-type", ":content-type", ":message-type"]
    assert session.outcome == "completed" and session.audio_bytes == 32000


def test_empty_audio_event_finalises_a_phrase_heard_in_part() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(["one two three four"], seconds_per_word=0.25) as server:
            return await websocket_session(server.websocket_url(), audio_frames(0.5))

    messages, code = run(scenario())
    assert transcript(messages) == [(True, "one"), (True, "one two"), (False, "one two")]
    assert code == 1000


def test_stabilization_and_two_channels() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(["a b c", "d e"], seconds_per_word=0.1) as server:
            url = server.websocket_url(
                enable_partial_results_stabilization=True,
                partial_results_stability="high",
                enable_channel_identification=True,
                number_of_channels=2,
            )
            # Two channels of 16-bit samples: 64000 bytes per second.
            return await websocket_session(url, audio_frames(1.0, chunk_seconds=0.05))

    messages, _ = run(scenario())
    got = results(messages)
    assert [r["ChannelId"] for r in got if not r["IsPartial"]] == ["ch_0", "ch_1"]
    partial = next(r for r in got if r["Alternatives"][0]["Transcript"] == "a b")
    assert [i["Stable"] for i in partial["Alternatives"][0]["Items"]] == [True, False]
    final = next(r for r in got if not r["IsPartial"])
    assert all(i["Stable"] for i in final["Alternatives"][0]["Items"])


def test_script_file_and_seconds_per_word(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("First line.\n\nSecond line\n", encoding="utf-8")

    async def scenario() -> Any:
        async with TranscribeServer(str(script), seconds_per_word=0.5) as server:
            return await websocket_session(server.websocket_url(), audio_frames(2.0))

    messages, _ = run(scenario())
    finals = [text for partial, text in transcript(messages) if not partial]
    assert finals == ["First line.", "Second line"]


def test_text_frame_gets_the_captured_exception() -> None:
    async def scenario() -> Any:
        async with TranscribeServer() as server:
            frames: List[Any] = [audio_frames(0.1, end=False)[0], "hello"]
            return await websocket_session(server.websocket_url(), frames), server.sessions[-1]

    (messages, code), session = run(scenario())
    assert eventstream.encode(messages[-1]) == CAPTURE.read_bytes()
    assert code == 1000 and session.outcome == "BadRequestException"


def test_no_audio_times_out() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(audio_timeout=0.3) as server:
            return await websocket_session(server.websocket_url(), [])

    messages, code = run(scenario())
    assert code == 1000
    (last,) = messages
    assert last.headers[":message-type"] == "exception"
    assert last.headers[":exception-type"] == "BadRequestException"
    assert json.loads(last.payload) == {
        "Message": "Your request timed out because no new audio was received for 0.3 seconds."
    }


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        (b"\x00\x00\x00\x10" + b"\x00" * 12, "Could not decode the AudioEvent message"),
        (b"not an event stream at all", "Could not decode the AudioEvent message"),
        (eventstream.encode(event("ConfigurationEvent", {})), "Expected an AudioEvent"),
    ],
)
def test_malformed_frame_gets_an_exception(frame: bytes, says: str) -> None:
    async def scenario() -> Any:
        async with TranscribeServer() as server:
            return await websocket_session(server.websocket_url(), [frame])

    messages, code = run(scenario())
    assert messages[-1].headers[":exception-type"] == "BadRequestException"
    assert json.loads(messages[-1].payload)["Message"].startswith(says)
    assert code == 1000


def test_wrong_secret_expired_and_tampered_urls_get_403() -> None:
    async def scenario() -> List[Any]:
        out = []
        async with TranscribeServer() as server:
            out.append(await http_status(botocore_url(server, secret="not-the-secret")))
            good = botocore_url(server)
            parts = urlsplit(good)
            query = dict(parse_qsl(parts.query))
            query["sample-rate"] = "8000"  # tampered after signing
            out.append(await http_status(urlunsplit(parts._replace(query=urlencode(query)))))
            short = botocore_url(server, expires=1)
            await asyncio.sleep(0)
            server.clock = lambda: time.time() + 5  # the URL's 1 s are over
            out.append(await http_status(short))
            server.clock = time.time
            out.append(await http_status(botocore_url(server, expires=301)))
            server.clock = lambda: time.time() - 400  # the URL is from the server's future
            out.append(await http_status(botocore_url(server)))
        return out

    wrong, tampered, expired, too_long, future = run(scenario())
    for status, body, error_type in (wrong, tampered):
        assert status == 403 and error_type.startswith("InvalidSignatureException")
        assert body["message"].startswith("The request signature we calculated does not match")
    assert expired[0] == 403 and expired[1]["message"].startswith("Signature expired")
    assert too_long[0] == 403 and "between 1 and 300 seconds" in too_long[1]["message"]
    assert future[0] == 403 and "not yet current" in future[1]["message"]


def test_unknown_key_path_and_parameters() -> None:
    async def scenario() -> List[Any]:
        async with TranscribeServer() as server:
            other = presigned_url(server.websocket_endpoint, "AKIDOTHER", "x", server.region)
            bad_rate = botocore_url(
                server, query="language-code=en-US&media-encoding=pcm&sample-rate=100"
            )
            wrong_region = presigned_url(
                server.websocket_endpoint,
                server.credentials.access_key,
                server.credentials.secret_key,
                "eu-west-1",
            )
            unsigned = server.websocket_endpoint + "/stream-transcription-websocket?a=b"
            return [await http_status(u) for u in (other, bad_rate, wrong_region, unsigned)]

    other, bad_rate, wrong_region, unsigned = run(scenario())
    assert other[0] == 403 and other[2].startswith("UnrecognizedClientException")
    assert bad_rate[0] == 400 and "sample-rate" in bad_rate[1]["message"]
    assert wrong_region[0] == 403 and "region" in wrong_region[1]["message"]
    assert unsigned[0] == 403 and unsigned[2].startswith("MissingAuthenticationToken")


def test_signed_websocket_events_are_checked() -> None:
    from eventstream.sigv4 import EventSigner

    async def scenario() -> Any:
        async with TranscribeServer(["alpha beta"], seconds_per_word=0.1) as server:
            url = server.websocket_url()
            seed = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
            signer = EventSigner(server.credentials, server.region, "transcribe", seed)
            audio = eventstream.encode(audio_event(b"\x00" * 6400))
            good = [signer.sign(audio), signer.end()]
            ok = await websocket_session(url, good)
            url = server.websocket_url()
            seed = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
            signer = EventSigner(server.credentials, server.region, "transcribe", seed)
            first, second = signer.sign(audio), signer.sign(audio)
            bad = await websocket_session(url, [second, first])
            return ok, bad

    (ok, _), (bad, _) = run(scenario())
    assert transcript(ok)[-1] == (False, "alpha beta")
    assert json.loads(bad[-1].payload)["Message"].startswith("The request signature")


def test_bounds_connections_and_message_size() -> None:
    async def scenario() -> Any:
        limits = ServerLimits(max_connections=1, max_message_size=1024)
        async with TranscribeServer(limits=limits, audio_timeout=2) as server:
            from websockets.asyncio.client import connect
            from websockets.exceptions import ConnectionClosedError

            async with connect(server.websocket_url()) as first:
                await asyncio.sleep(0.05)
                full = await http_status(server.websocket_url())
                await first.send(eventstream.encode(audio_event(b"\x00" * 2048)))
                with pytest.raises(ConnectionClosedError) as info:
                    await asyncio.wait_for(first.recv(), 5)
            await asyncio.sleep(0.05)
            return full, info.value.rcvd.code if info.value.rcvd else None, server.connections

    full, close_code, open_after = run(scenario())
    assert full[0] == 429 and full[2].startswith("LimitExceededException")
    assert close_code == 1009  # message too big
    assert open_after == 0


def test_loopback_by_default_and_clean_close() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        TranscribeServer(host="192.0.2.1")

    async def scenario() -> Any:
        server = TranscribeServer()
        async with server:
            from websockets.asyncio.client import connect

            ws = await connect(server.websocket_url())
            await asyncio.sleep(0.05)
            assert server.connections == 1
        # Leaving the block closed the open stream too.
        await asyncio.wait_for(ws.wait_closed(), 5)
        return server.connections, server.sessions[-1].outcome

    assert run(scenario()) == (0, "server_closed")


def test_wss_with_a_generated_certificate() -> None:
    async def scenario() -> Any:
        async with TranscribeServer(["over tls"], seconds_per_word=0.1, tls=True) as server:
            assert server.websocket_endpoint.startswith("wss://")
            return await websocket_session(
                botocore_url(server), audio_frames(0.3), ssl_context=server.client_ssl_context()
            )

    messages, code = run(scenario())
    assert transcript(messages)[-1] == (False, "over tls") and code == 1000
    with pytest.raises(RuntimeError, match="tls=True"):
        TranscribeServer().client_ssl_context()
