"""A Transcribe-style exchange over a local WebSocket, written for ``mypy --strict``.

The client sends audio as AudioEvent messages (a header dict and PCM bytes,
encoded fresh for each chunk) and reads TranscriptEvent messages back, with
the typed header getters.  The server here is a stand-in on 127.0.0.1 that
answers each audio chunk with a partial transcript, like the service.

    python examples/typed_websocket_client.py
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator, Dict, List

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

import eventstream

AUDIO_HEADERS = {
    ":message-type": "event",
    ":event-type": "AudioEvent",
    ":content-type": "application/octet-stream",
}
WORDS = ["hello", "from", "a", "local", "websocket"]


class ServiceError(Exception):
    """An exception event the service sent (``:message-type`` exception)."""


# ---------------------------------------------------------------- the client


def audio_event(pcm: bytes) -> bytes:
    return eventstream.encode(eventstream.Message(AUDIO_HEADERS, pcm))


async def send_audio(ws: ClientConnection, chunks: List[bytes]) -> None:
    for pcm in chunks:
        await ws.send(audio_event(pcm))
    await ws.send(audio_event(b""))  # an empty AudioEvent ends the stream


async def transcripts(ws: ClientConnection) -> AsyncIterator[str]:
    async for message in eventstream.aiter_messages(ws):
        headers = message.headers
        if headers.get_str(":message-type") == "exception":
            raise ServiceError(f"{headers.get_str(':exception-type')}: {message.payload!r}")
        if headers.get_str(":event-type") != "TranscriptEvent":
            continue
        event: Dict[str, Any] = json.loads(message.payload)
        for result in event["Transcript"]["Results"]:
            yield str(result["Alternatives"][0]["Transcript"])


async def transcribe(url: str, chunks: List[bytes]) -> List[str]:
    async with connect(url) as ws:
        sender = asyncio.ensure_future(send_audio(ws, chunks))
        heard = [text async for text in transcripts(ws)]
        await sender
        return heard


# ---------------------------------------------------------------- a stand-in server


def transcript_event(text: str) -> bytes:
    body = {"Transcript": {"Results": [{"Alternatives": [{"Transcript": text}]}]}}
    headers = {
        ":message-type": "event",
        ":event-type": "TranscriptEvent",
        ":content-type": "application/json",
    }
    return eventstream.encode(eventstream.Message(headers, json.dumps(body).encode()))


async def handle(ws: ServerConnection) -> None:
    heard: List[str] = []
    async for message in eventstream.aiter_messages(ws):
        if message.headers.get_str(":event-type") != "AudioEvent":
            continue
        if not message.payload:
            break
        heard.append(WORDS[len(heard) % len(WORDS)])
        await ws.send(transcript_event(" ".join(heard)))
    await ws.close()


async def main() -> None:
    async with serve(handle, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        pcm = [bytes(3200) for _ in WORDS]  # 100 ms of 16 kHz, 16-bit silence each
        heard = await transcribe(f"ws://127.0.0.1:{port}", pcm)
    for text in heard:
        print(text)
    assert heard[-1] == " ".join(WORDS), heard


if __name__ == "__main__":
    asyncio.run(main())
