"""The Bedrock-style server, read by independent HTTP clients (httpx, aiohttp) through the
decoder: every injected fault reaches the client as the right typed error."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, Awaitable, Iterator, List, TypeVar

import aiohttp
import httpx
import pytest

import eventstream
from eventstream.errors import DecodeError, TruncatedStreamError
from eventstream.testing.servers._base import ServerLimits
from eventstream.testing.servers._thread import ServerThread
from eventstream.testing.servers.bedrock import BedrockServer, parse_fault

T = TypeVar("T")
CONVERSE = {"messages": [{"role": "user", "content": [{"text": "hello there"}]}]}


def run(coroutine: Awaitable[T], timeout: float = 20) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))  # type: ignore[arg-type]


def kinds(messages: List[eventstream.Message]) -> List[str]:
    out = []
    for m in messages:
        h = m.headers
        out.append(h.get(":event-type") or h.get(":exception-type") or h.get(":error-code"))
    return out


def delta_text(messages: List[eventstream.Message]) -> str:
    return "".join(
        json.loads(m.payload)["delta"]["text"]
        for m in messages
        if m.headers.get(":event-type") == "contentBlockDelta"
    )


def read_httpx(url: str, body: Any = CONVERSE) -> Iterator[eventstream.Message]:
    """The messages of one response, streamed through httpx (sync) and iter_messages."""
    with httpx.Client(timeout=10) as client, client.stream("POST", url, json=body) as response:
        yield from eventstream.iter_messages(response.iter_bytes())


def collect(iterator: Iterator[eventstream.Message], into: List[eventstream.Message]) -> None:
    for message in iterator:
        into.append(message)


@pytest.fixture
def server_for(request: pytest.FixtureRequest) -> Iterator[Any]:
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
        messages = list(eventstream.iter_messages(response.iter_bytes()))
    assert kinds(messages) == [
        "messageStart",
        *["contentBlockDelta"] * 4,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert delta_text(messages) == "You said: hello there"
    assert all("p" in json.loads(m.payload) for m in messages)
    assert server.requests == [
        {"model_id": "m.v1", "operation": "converse-stream", "body": CONVERSE}
    ]


def test_invoke_stream_chunks_and_script(server_for: Any, tmp_path: Any) -> None:
    script = tmp_path / "script.txt"
    script.write_text("First answer.\n\nSecond one here.\n", encoding="utf-8")
    server = server_for(script=str(script))
    texts = []
    for _ in range(3):
        messages = list(read_httpx(server.url(operation="invoke-with-response-stream"), {}))
        assert set(kinds(messages)) == {"chunk"}
        bodies = [json.loads(base64.b64decode(json.loads(m.payload)["bytes"])) for m in messages]
        texts.append(
            "".join(b["delta"]["text"] for b in bodies if b["type"] == "content_block_delta")
        )
    assert texts == ["First answer.", "Second one here.", "First answer."]


def test_exception_frame_mid_stream(server_for: Any) -> None:
    server = server_for(fault="exception@3")
    messages = list(read_httpx(server.url()))
    assert kinds(messages) == ["messageStart", "contentBlockDelta", "contentBlockDelta",
                               "modelStreamErrorException"]  # fmt: skip
    last = messages[-1]
    assert last.headers[":message-type"] == "exception"
    assert "interrupted" in json.loads(last.payload)["message"]


def test_error_frame_mid_stream(server_for: Any) -> None:
    server = server_for(fault="error-frame@1")
    messages = list(read_httpx(server.url()))
    assert messages[-1].headers.to_dict() == {
        ":message-type": "error",
        ":error-code": "InternalServerException",
        ":error-message": "Internal server error.",
    }


def test_cut_mid_frame_is_truncation_after_the_whole_frames(server_for: Any) -> None:
    server = server_for(fault="cut@2")
    seen: List[eventstream.Message] = []
    with pytest.raises(TruncatedStreamError, match="stream ended inside a message"):
        collect(read_httpx(server.url()), seen)
    assert kinds(seen) == ["messageStart", "contentBlockDelta"]


def test_stop_on_a_boundary_loses_the_terminal_events(server_for: Any) -> None:
    server = server_for(fault="stop@4")
    messages = list(read_httpx(server.url()))
    assert kinds(messages) == ["messageStart", *["contentBlockDelta"] * 3]


def test_dropped_connection_is_a_transport_error(server_for: Any) -> None:
    server = server_for(fault="drop@1")
    seen: List[eventstream.Message] = []
    with pytest.raises(httpx.RemoteProtocolError):
        collect(read_httpx(server.url()), seen)
    assert kinds(seen) == ["messageStart"]


@pytest.mark.parametrize(
    ("fault", "status", "error_type", "content_type"),
    [
        ("json-error", 400, "ValidationException", "application/json"),
        ("throttle", 429, "ThrottlingException", "application/json"),
        ("html", 502, None, "text/html"),
    ],
)
def test_error_bodies(
    server_for: Any, fault: str, status: int, error_type: Any, content_type: str
) -> None:
    server = server_for(fault=fault)
    with httpx.Client(timeout=10) as client:
        response = client.post(server.url(), json=CONVERSE)
    assert response.status_code == status
    assert response.headers["content-type"] == content_type
    if error_type is not None:
        assert response.headers["x-amzn-errortype"].startswith(error_type + ":")
        assert response.json()["message"]
    # A client that decodes the body anyway gets a decode error, not a silent empty stream.
    with pytest.raises(DecodeError):
        list(eventstream.iter_messages([response.content]))


def test_trickle_decodes_the_same(server_for: Any) -> None:
    plain = list(read_httpx(server_for().url()))
    trickled = list(read_httpx(server_for(fault="trickle").url()))
    assert trickled == plain


def test_aiohttp_client_sees_every_fault() -> None:
    async def read(fault: Any) -> List[Any]:
        seen: List[Any] = []
        async with BedrockServer(fault=fault) as server, aiohttp.ClientSession() as session:
            response = await session.post(server.url(), json=CONVERSE)
            seen.append(response.status)
            try:
                async for message in eventstream.aiter_messages(response.content):
                    seen.append(kinds([message])[0])
            except (DecodeError, aiohttp.ClientPayloadError) as exc:
                seen.append(type(exc).__name__)
            finally:
                response.release()
        return seen

    assert run(read(None))[-2:] == ["messageStop", "metadata"]
    assert run(read("exception@1")) == [200, "messageStart", "modelStreamErrorException"]
    assert run(read("cut@1")) == [200, "messageStart", "TruncatedStreamError"]
    assert run(read("drop@1")) == [200, "messageStart", "ClientPayloadError"]
    assert run(read("json-error"))[0] == 400
    assert run(read("json-error"))[1] in ("PreludeChecksumError", "NotAnEventStreamError")


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
