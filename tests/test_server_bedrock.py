"""The Bedrock-style server, read by independent HTTP clients (httpx, aiohttp) through
eventstream.iter_events / aiter_events: every injected fault reaches the client as the right
typed error."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, Awaitable, Iterator, List, TypeVar

import aiohttp
import httpx
import pytest

import eventstream
from eventstream import (
    Event,
    IncompleteStreamError,
    NotAnEventStreamError,
    ServiceError,
    ServiceException,
    TruncatedStreamError,
    unwrap_bedrock_chunk,
)
from eventstream.testing.servers._base import ServerLimits
from eventstream.testing.servers._thread import ServerThread
from eventstream.testing.servers.bedrock import BedrockServer, parse_fault

T = TypeVar("T")
CONVERSE = {"messages": [{"role": "user", "content": [{"text": "hello there"}]}]}
TERMINAL = {"messageStop", "metadata"}


def run(coroutine: Awaitable[T], timeout: float = 20) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))  # type: ignore[arg-type]


def kinds(events: List[Event]) -> List[Any]:
    return [e.event_type for e in events]


def delta_text(events: List[Event]) -> str:
    return "".join(e.json()["delta"]["text"] for e in events if e.event_type == "contentBlockDelta")


def read_httpx(url: str, body: Any = CONVERSE, **options: Any) -> Iterator[Event]:
    """The events of one response, streamed through httpx (sync) and iter_events."""
    with httpx.Client(timeout=10) as client, client.stream("POST", url, json=body) as response:
        yield from eventstream.iter_events(response.iter_bytes(), **options)


def collect(iterator: Iterator[Event], into: List[Event]) -> None:
    for item in iterator:
        into.append(item)


@pytest.fixture
def server_for() -> Iterator[Any]:
    """server_for(**options) -> a running BedrockServer in a background thread."""
    running: List[ServerThread[BedrockServer]] = []

    def start(**options: Any) -> BedrockServer:
        thread = ServerThread(BedrockServer(**options))
        running.append(thread)
        return thread.__enter__()

    yield start
    for thread in running:
        thread.__exit__(None, None, None)


def test_converse_stream_over_httpx(server_for: Any) -> None:
    server = server_for()
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", server.url("m.v1"), json=CONVERSE) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
        assert response.headers["transfer-encoding"] == "chunked"
        events = list(eventstream.iter_events(response.iter_bytes(), terminal=TERMINAL))
    assert kinds(events) == [
        "messageStart",
        *["contentBlockDelta"] * 4,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert delta_text(events) == "You said: hello there"
    assert all("p" in e.json() for e in events)
    assert server.requests == [
        {"model_id": "m.v1", "operation": "converse-stream", "body": CONVERSE}
    ]


def test_invoke_stream_chunks_and_script(server_for: Any, tmp_path: Any) -> None:
    script = tmp_path / "script.txt"
    script.write_text("First answer.\n\nSecond one here.\n", encoding="utf-8")
    server = server_for(script=str(script))
    texts = []
    for _ in range(3):
        events = list(read_httpx(server.url(operation="invoke-with-response-stream"), {}))
        assert set(kinds(events)) == {"chunk"}
        bodies = [unwrap_bedrock_chunk(e) for e in events]
        assert bodies == [json.loads(base64.b64decode(e.json()["bytes"])) for e in events]
        texts.append(
            "".join(b["delta"]["text"] for b in bodies if b["type"] == "content_block_delta")
        )
    assert texts == ["First answer.", "Second one here.", "First answer."]


def test_exception_frame_mid_stream(server_for: Any) -> None:
    server = server_for(fault="exception@3")
    seen: List[Event] = []
    with pytest.raises(ServiceException) as info:
        collect(read_httpx(server.url()), seen)
    assert kinds(seen) == ["messageStart", "contentBlockDelta", "contentBlockDelta"]
    assert info.value.exception_type == "modelStreamErrorException"
    assert info.value.message is not None and "interrupted" in info.value.message


def test_error_frame_mid_stream(server_for: Any) -> None:
    server = server_for(fault="error-frame@1")
    seen: List[Event] = []
    with pytest.raises(ServiceError) as info:
        collect(read_httpx(server.url()), seen)
    assert kinds(seen) == ["messageStart"]
    assert info.value.error_code == "InternalServerException"
    assert info.value.error_message == "Internal server error."


def test_cut_mid_frame_is_truncation_after_the_whole_frames(server_for: Any) -> None:
    server = server_for(fault="cut@2")
    seen: List[Event] = []
    with pytest.raises(TruncatedStreamError, match="stream ended inside a message"):
        collect(read_httpx(server.url(), terminal=TERMINAL), seen)
    assert kinds(seen) == ["messageStart", "contentBlockDelta"]


def test_stop_on_a_boundary_is_an_incomplete_stream(server_for: Any) -> None:
    server = server_for(fault="stop@4")
    seen: List[Event] = []
    with pytest.raises(IncompleteStreamError) as info:
        collect(read_httpx(server.url(), terminal=TERMINAL), seen)
    assert kinds(seen) == ["messageStart", *["contentBlockDelta"] * 3]
    assert info.value.events == 4 and info.value.last_event_type == "contentBlockDelta"


def test_dropped_connection_is_a_transport_error(server_for: Any) -> None:
    server = server_for(fault="drop@1")
    seen: List[Event] = []
    # Mid-message, the transport's error is the cause of the decoder's (issue 11).
    with pytest.raises(eventstream.StreamInterruptedError) as caught:
        collect(read_httpx(server.url()), seen)
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)
    assert kinds(seen) == ["messageStart"]


@pytest.mark.parametrize(
    ("fault", "status", "error_type", "content_type", "kind"),
    [
        ("json-error", 400, "ValidationException", "application/json", "json"),
        ("throttle", 429, "ThrottlingException", "application/json", "json"),
        ("html", 502, None, "text/html", "html"),
    ],
)
def test_error_bodies(
    server_for: Any, fault: str, status: int, error_type: Any, content_type: str, kind: str
) -> None:
    server = server_for(fault=fault)
    with httpx.Client(timeout=10) as client:
        response = client.post(server.url(), json=CONVERSE)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    if error_type is not None:
        assert response.headers["x-amzn-errortype"].startswith(error_type + ":")
        assert response.json()["message"]
    # A client that decodes the body anyway learns what it is, not a bare checksum error.
    with pytest.raises(NotAnEventStreamError) as info:
        list(eventstream.iter_events([response.content]))
    assert info.value.kind == kind
    if kind == "json":
        assert response.json()["message"] in str(info.value)


def test_trickle_decodes_the_same(server_for: Any) -> None:
    plain = list(read_httpx(server_for().url(), terminal=TERMINAL))
    trickled = list(read_httpx(server_for(fault="trickle").url(), terminal=TERMINAL))
    assert [e.message for e in trickled] == [e.message for e in plain]


def test_aiohttp_client_sees_every_fault() -> None:
    async def read(fault: Any) -> List[Any]:
        seen: List[Any] = []
        async with BedrockServer(fault=fault) as server, aiohttp.ClientSession() as session:
            response = await session.post(server.url(), json=CONVERSE)
            seen.append(response.status)
            try:
                async for item in eventstream.aiter_events(response.content, terminal=TERMINAL):
                    seen.append(item.event_type)
            except (
                eventstream.DecodeError,
                eventstream.IncompleteStreamError,
                eventstream.ServiceFault,
                aiohttp.ClientPayloadError,
            ) as exc:
                seen.append(type(exc).__name__)
            finally:
                response.release()
        return seen

    assert run(read(None))[-2:] == ["messageStop", "metadata"]
    assert run(read("exception@1")) == [200, "messageStart", "ServiceException"]
    assert run(read("error-frame@1")) == [200, "messageStart", "ServiceError"]
    assert run(read("cut@1")) == [200, "messageStart", "TruncatedStreamError"]
    assert run(read("stop@1")) == [200, "messageStart", "IncompleteStreamError"]
    assert run(read("drop@1")) == [200, "messageStart", "StreamInterruptedError"]
    assert run(read("json-error")) == [400, "NotAnEventStreamError"]
    assert run(read("html")) == [502, "NotAnEventStreamError"]
    assert run(read("trickle"))[-2:] == ["messageStop", "metadata"]


def test_bounds_and_bad_requests() -> None:
    async def scenario() -> None:
        limits = ServerLimits(max_connections=1, max_message_size=64, idle_timeout=0.3)
        async with BedrockServer(limits=limits) as server:
            async with httpx.AsyncClient(timeout=5) as client:
                too_big = await client.post(server.url(), json={"x": "y" * 100})
                assert too_big.status_code == 413
                assert "at most 64" in too_big.json()["message"]
                missing = await client.post(server.endpoint + "/model/x/nope", json={})
                assert missing.status_code == 404
                not_json = await client.post(server.url(), content=b"{nope")
                assert not_json.status_code == 400
            # An idle client is dropped; while it holds the only slot, others get 503.
            reader, writer = await asyncio.open_connection(server.host, server.port)
            await asyncio.sleep(0.05)
            async with httpx.AsyncClient(timeout=5) as client:
                full = await client.post(server.url(), json={})
                assert full.status_code == 503
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()
            assert server.connections == 0

    run(scenario())


def test_loopback_only_unless_asked() -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        BedrockServer(host="0.0.0.0")
    assert BedrockServer(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert BedrockServer(host="::1").endpoint.startswith("http://[::1]:")


def test_parse_fault() -> None:
    assert parse_fault("cut@3").after == 3 and parse_fault("html").kind == "html"
    with pytest.raises(ValueError, match="unknown fault 'boom'"):
        parse_fault("boom")
    with pytest.raises(ValueError, match="frame count"):
        parse_fault("cut@x")


def test_botocore_bedrock_runtime_client_reads_the_server(server_for: Any) -> None:
    """The official SDK's own parser (botocore) against the server: every event shape and
    fault arrives as botocore reports the real service's."""
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ClientError, EventStreamError

    session = botocore.session.get_session()  # one session: the service model loads once

    def client(server: BedrockServer) -> Any:
        return session.create_client(
            "bedrock-runtime",
            region_name="us-east-1",
            endpoint_url=server.endpoint,
            aws_access_key_id="AKIDTEST",
            aws_secret_access_key="test-secret",
            config=Config(retries={"total_max_attempts": 1}),
        )

    plain = client(server_for(script=["Hello from offline."]))
    messages = [{"role": "user", "content": [{"text": "hi"}]}]
    events = list(plain.converse_stream(modelId="m", messages=messages)["stream"])
    assert [next(iter(e)) for e in events] == [
        "messageStart",
        *["contentBlockDelta"] * 3,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in events[1:4]) == (
        "Hello from offline."
    )
    chunks = list(plain.invoke_model_with_response_stream(modelId="m", body=b"{}")["body"])
    assert json.loads(chunks[-1]["chunk"]["bytes"]) == {"type": "message_stop"}

    failing = client(server_for(fault="exception@2"))
    seen = []
    with pytest.raises(EventStreamError) as info:
        for item in failing.converse_stream(modelId="m", messages=messages)["stream"]:
            seen.append(item)
    assert len(seen) == 2
    assert info.value.response["Error"]["Code"] == "modelStreamErrorException"

    refused = client(server_for(fault="json-error"))
    with pytest.raises(ClientError) as error:
        refused.converse_stream(modelId="m", messages=messages)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
