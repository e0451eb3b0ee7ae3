"""An S3-Select-style response body, read with aiohttp and with httpx (sync and async).

A local aiohttp server on 127.0.0.1 sends Records events (CSV rows), a Stats
event and an End event, the shape of S3 SelectObjectContent's body.  With
``--corrupt N`` message N has a bad CRC: every record before it is processed,
then the error is raised, however the body was chunked on the way.

    python examples/s3_select_body.py
    python examples/s3_select_body.py --corrupt 120
"""

from __future__ import annotations

import argparse
import asyncio
import threading
from typing import Iterable, List, Optional

import aiohttp
import httpx
from aiohttp import web

import eventstream

ROWS = 200


def event(event_type: str, payload: bytes = b"") -> eventstream.Message:
    headers = {":message-type": "event", ":event-type": event_type}
    if payload:
        headers[":content-type"] = "application/octet-stream"
    return eventstream.Message(headers, payload)


def select_body(corrupt: Optional[int]) -> bytes:
    messages = [event("Records", b"%d,row %d\n" % (i, i)) for i in range(ROWS)]
    messages.append(event("Stats", b"<Stats><BytesReturned>1</BytesReturned></Stats>"))
    messages.append(event("End"))
    frames = [bytearray(eventstream.encode(m)) for m in messages]
    if corrupt is not None:
        frames[corrupt][-1] ^= 0xFF  # the message CRC
    return b"".join(frames)


# ---------------------------------------------------------------- the clients


def handle(message: eventstream.Message, records: List[bytes]) -> None:
    kind = message.headers.get_str(":event-type")
    if kind == "Records":
        records.append(message.payload)


async def with_aiohttp(url: str) -> List[bytes]:
    records: List[bytes] = []
    async with aiohttp.ClientSession() as session, session.post(url) as resp:
        try:
            async for message in eventstream.aiter_messages(resp.content):
                handle(message, records)
        except eventstream.DecodeError as error:
            print(f"aiohttp: {len(records)} records, then {type(error).__name__}: {error}")
    return records


def with_httpx(url: str) -> List[bytes]:
    records: List[bytes] = []
    with httpx.Client() as client, client.stream("POST", url) as resp:
        try:
            for message in eventstream.iter_messages(resp.iter_bytes()):
                handle(message, records)
        except eventstream.DecodeError as error:
            print(f"httpx: {len(records)} records, then {type(error).__name__}: {error}")
    return records


async def with_httpx_async(url: str) -> List[bytes]:
    records: List[bytes] = []
    async with httpx.AsyncClient() as client, client.stream("POST", url) as resp:
        try:
            async for message in eventstream.aiter_messages(resp.aiter_bytes()):
                handle(message, records)
        except eventstream.DecodeError as error:
            print(f"httpx async: {len(records)} records, then {type(error).__name__}")
    return records


# ---------------------------------------------------------------- a stand-in server


def serve_in_thread(body: bytes) -> Iterable[str]:
    """Start the server in a thread; yields its URL, stops it after."""
    ready = threading.Event()
    state = {}

    async def select(request: web.Request) -> web.Response:
        # One write, as a small result arrives: how the chunks fall is up to the network.
        return web.Response(body=body, content_type="application/vnd.amazon.eventstream")

    async def run() -> None:
        app = web.Application()
        app.router.add_post("/bucket/key", select)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["port"] = runner.addresses[0][1]
        state["stop"] = asyncio.Event()
        state["loop"] = asyncio.get_running_loop()
        ready.set()
        await state["stop"].wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{state['port']}/bucket/key"
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corrupt", type=int, help="give message N (0-based) a bad CRC")
    args = parser.parse_args()
    expected = ROWS if args.corrupt is None else min(args.corrupt, ROWS)
    for url in serve_in_thread(select_body(args.corrupt)):
        results = {
            "aiohttp": asyncio.run(with_aiohttp(url)),
            "httpx": with_httpx(url),
            "httpx async": asyncio.run(with_httpx_async(url)),
        }
    for client, records in results.items():
        print(f"{client}: {len(records)} records processed")
        assert len(records) == expected, (client, len(records))


if __name__ == "__main__":
    main()
