"""What the decoder accepts as input: chunks, files, iterables, async sources.

Turns each kind of source into a stream of bytes-like chunks, reading with
partial reads so that a message is decoded as soon as its last byte arrives,
and rejects everything else with a ``TypeError`` that names what was passed
and the call to use instead.
"""

from __future__ import annotations

import inspect
import io
import os
import select
import time
from typing import Any, AsyncIterator, Iterator, Union

DEFAULT_CHUNK_SIZE = 64 * 1024

Chunk = Union[bytes, bytearray, memoryview]

# How long to sleep between polls of a source that says "no data yet" (read()
# returned None) and has no file descriptor to wait on.
_POLL_SECONDS = 0.005

_ACCEPTS_SYNC = (
    "a binary file-like object (open(path, 'rb'), sock.makefile('rb'), proc.stdout, "
    "sys.stdin.buffer) or an iterable of bytes-like chunks"
)
_ACCEPTS_ASYNC = (
    "an asyncio.StreamReader, aiohttp's resp.content, an async iterable of bytes-like "
    "chunks (httpx's resp.aiter_bytes(), a websockets connection) or an iterable of chunks"
)


def _name(obj: object) -> str:
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


# ---------------------------------------------------------------- one chunk


def as_chunk(chunk: object, where: str) -> Chunk:
    """``chunk`` as bytes, a bytearray or a flat byte memoryview; else TypeError."""
    if isinstance(chunk, (bytes, bytearray)):
        return chunk
    if not isinstance(chunk, memoryview):
        if isinstance(chunk, (str, int, float)) or chunk is None:
            raise TypeError(_not_bytes(chunk, where))
        try:
            chunk = memoryview(chunk)  # type: ignore[arg-type]  # array.array, mmap, numpy arrays, ...
        except TypeError:
            raise TypeError(_not_bytes(chunk, where)) from None
    if not chunk.c_contiguous:
        return chunk.tobytes()  # e.g. memoryview(b)[::2]: copy the bytes it shows
    if chunk.ndim != 1 or chunk.format != "B":
        return chunk.cast("B")
    return chunk


def _not_bytes(chunk: object, where: str) -> str:
    hint = ""
    if isinstance(chunk, str):
        hint = "; read the source in binary mode ('rb'), or encode the text first"
    elif isinstance(chunk, bool) or chunk is None:
        hint = "; a source that returns None has no data yet"
    elif isinstance(chunk, int):
        hint = f" (iterating bytes gives ints; pass bytes([{chunk}]) for one byte)"
    return f"{where} takes bytes, bytearray or memoryview, got {_name(chunk)}{hint}"


# ---------------------------------------------------------------- sync sources


def _response_hint(source: object, asynchronous: bool) -> str:
    """The call to make for a known HTTP response object, or ''."""
    if hasattr(source, "iter_bytes") and hasattr(source, "aiter_bytes"):  # httpx.Response
        return (
            "pass resp.aiter_bytes() (httpx)" if asynchronous else "pass resp.iter_bytes() (httpx)"
        )
    if hasattr(source, "iter_content"):  # requests.Response
        return "pass resp.iter_content(chunk_size=None) (requests, with stream=True)"
    content = getattr(source, "content", None)
    if content is not None and hasattr(content, "readany"):  # aiohttp.ClientResponse
        return "pass resp.content to aiter_messages (aiohttp)"
    return ""


def _is_async_read(read: Any) -> bool:
    return inspect.iscoroutinefunction(read) or inspect.iscoroutinefunction(
        getattr(read, "__func__", None)
    )


def classify_sync(source: object) -> str:
    """``"file"`` or ``"iterable"`` for what iter_messages accepts; else TypeError."""
    where = "iter_messages()"
    if isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{where} takes {_ACCEPTS_SYNC}, got {_name(source)}: for bytes in memory use "
            "eventstream.Decoder().feed(data) then .close(), eventstream.decode(data) for "
            "exactly one message, or iter_messages([data])"
        )
    if isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"{where} takes {_ACCEPTS_SYNC}, got {_name(source)}: to read a file pass "
            "open(path, 'rb')"
        )
    hint = _response_hint(source, asynchronous=False)
    if hint:
        raise TypeError(f"{where} cannot read {_name(source)} itself: {hint}")
    if hasattr(source, "read"):
        check_sync_file(source, where)
        return "file"
    check_sync_iterable(source, where)
    return "iterable"


def check_sync_file(source: Any, where: str) -> None:
    if isinstance(source, io.TextIOBase):
        raise TypeError(
            f"{where} needs a binary file, got the text-mode {_name(source)}: open it with "
            "open(path, 'rb') (or pass its .buffer)"
        )
    if _is_async_read(getattr(source, "read", None)):
        raise TypeError(
            f"{where} got {_name(source)}, whose read() is async: use "
            "`async for message in eventstream.aiter_messages(source)`"
        )


def check_sync_iterable(source: object, where: str) -> None:
    if isinstance(source, (bytes, bytearray, memoryview, str)):
        raise TypeError(
            f"{where} takes an iterable of chunks, got {_name(source)} (iterating it gives "
            "ints or characters): pass [data], or feed it with Decoder().feed(data)"
        )
    if hasattr(source, "__aiter__") and not hasattr(source, "__iter__"):
        raise TypeError(
            f"{where} got the async iterable {_name(source)}: use "
            "`async for message in eventstream.aiter_messages(source)`"
        )
    if not hasattr(source, "__iter__"):
        raise TypeError(f"{where} takes {_ACCEPTS_SYNC}, got {_name(source)}")


def _non_blocking(source: Any) -> bool:
    try:
        return not os.get_blocking(source.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _wait_readable(source: Any) -> None:
    """Block until ``source`` has data (or EOF); poll if it has no descriptor."""
    try:
        fd = source.fileno()
    except (AttributeError, OSError, ValueError):
        time.sleep(_POLL_SECONDS)
        return
    try:
        select.select([fd], [], [])
    except (OSError, ValueError):  # select() cannot wait on it (a pipe on Windows)
        time.sleep(_POLL_SECONDS)


def file_chunks(source: Any, chunk_size: int) -> Iterator[Chunk]:
    """The chunks of a binary file-like object, each as soon as it arrives.

    ``read1`` returns what one underlying read gives (a socket's, a pipe's
    available bytes) where ``read(n)`` would wait for ``n`` bytes.  A read
    that returns ``None``, or ``b""`` from a non-blocking file, means "no data
    yet": wait until the source is readable and read again; an empty read
    after that wait is the end.
    """
    if type(chunk_size) is not int or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    read = getattr(source, "read1", None) or source.read
    waited = False
    non_blocking = None
    while True:
        chunk = read(chunk_size)
        if chunk:
            waited = False
            yield chunk
            continue
        if chunk is not None:
            if non_blocking is None:
                non_blocking = _non_blocking(source)
            if not non_blocking or waited:
                return  # b"" from a blocking file, or from a readable non-blocking one: EOF
        _wait_readable(source)
        waited = True


# ---------------------------------------------------------------- async sources


def classify_async(source: object) -> None:
    """Raise TypeError for what aiter_messages cannot read."""
    where = "aiter_messages()"
    if isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)):
        raise TypeError(
            f"{where} takes {_ACCEPTS_ASYNC}, got {_name(source)}: for bytes in memory use "
            "eventstream.Decoder().feed(data), for a file iter_messages(open(path, 'rb'))"
        )
    hint = _response_hint(source, asynchronous=True)
    if hint:
        raise TypeError(f"{where} cannot read {_name(source)} itself: {hint}")
    read = getattr(source, "read", None)
    if read is not None:
        if isinstance(source, io.IOBase):
            raise TypeError(_blocking_file(source, where))
        return
    if not hasattr(source, "__aiter__") and not hasattr(source, "__iter__"):
        raise TypeError(f"{where} takes {_ACCEPTS_ASYNC}, got {_name(source)}")


def _blocking_file(source: object, where: str) -> str:
    return (
        f"{where} got the blocking file {_name(source)}, whose read() is not awaitable: use "
        "eventstream.iter_messages(f) (in asyncio, in a thread: asyncio.to_thread), or pass "
        "an asyncio.StreamReader"
    )


async def async_chunks(source: Any, chunk_size: int, where: str) -> AsyncIterator[Any]:
    """The chunks of an async source (see :func:`classify_async`)."""
    classify_async(source)
    read = getattr(source, "read", None)
    if read is not None:
        # asyncio's and aiohttp's StreamReader.read(n) return what is buffered
        # (up to n) as soon as there is any; their async iteration splits lines.
        while True:
            pending = read(chunk_size)
            if not inspect.isawaitable(pending):
                raise TypeError(_blocking_file(source, where))
            chunk = await pending
            if chunk is None:  # "no data yet"
                import asyncio  # only here: `import eventstream` must not load asyncio

                await asyncio.sleep(_POLL_SECONDS)
                continue
            if not chunk:
                return
            yield chunk
    elif hasattr(source, "__aiter__"):
        async for chunk in source:
            yield chunk
    else:
        for chunk in source:
            yield chunk
