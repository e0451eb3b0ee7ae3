"""The incremental decoder and the iteration helpers built on it."""

from __future__ import annotations

import threading
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    BinaryIO,
    Iterable,
    Iterator,
    List,
    Optional,
    Union,
)

from . import _active, errors
from ._codec import Buffer, truncated_fault
from ._header_cache import decode_cache_for
from .limits import DEFAULT_LIMITS, Limits
from .types import Message

DEFAULT_CHUNK_SIZE = 64 * 1024


class Decoder:
    """Decodes a stream of messages from chunks of any size.

    ``feed(chunk)`` returns the messages the chunk completed.  The cost is
    linear in the bytes fed: a partial message is kept in one buffer and
    only it is ever moved.

    After an error
        ``feed`` raises a :class:`~eventstream.errors.DecodeError` whose
        ``messages`` attribute holds the messages that call completed before
        the fault.  The decoder then holds the bytes from the first byte of
        the faulty message on (``pending``), and every later ``feed`` or
        ``close`` raises :class:`~eventstream.errors.DecoderStateError` until
        ``reset()``, which hands those bytes back.  No byte is skipped.

    Threads
        One decoder may not be used from two threads at once; doing so raises
        ``RuntimeError``.  Separate decoders are independent.
    """

    def __init__(self, limits: Optional[Limits] = None) -> None:
        self.limits = limits or DEFAULT_LIMITS
        self._cache = decode_cache_for(self.limits.max_header_value)
        self._buffer = bytearray()
        self._offset = 0  # stream offset of self._buffer[0]
        self._error: Optional[errors.EventStreamError] = None
        self._lock = threading.Lock()

    @property
    def position(self) -> int:
        """Stream offset of the next byte to be fed (bytes fed so far)."""
        return self._offset + len(self._buffer)

    @property
    def pending(self) -> bytes:
        """The bytes held for an incomplete (or, after an error, faulty) message."""
        return bytes(self._buffer)

    @property
    def error(self) -> Optional[errors.EventStreamError]:
        """The error that stopped this decoder, or ``None``."""
        return self._error

    def feed(self, chunk: Buffer) -> List[Message]:
        """Add bytes; return the messages they complete, in stream order."""
        if self._error is not None:
            raise errors.DecoderStateError(
                f"the decoder stopped at an error ({self._error}); call reset() to go on"
            )
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("a Decoder was used from two threads at once")
        try:
            return self._feed(chunk)
        finally:
            self._lock.release()

    def _feed(self, chunk: Buffer) -> List[Message]:
        buffer = self._buffer
        if not buffer:
            # Common case: decode straight from the chunk, keep only its tail.
            data = chunk if type(chunk) is bytes else bytes(chunk)
            end = len(data)
            messages, pos, fault = _active.backend.decode_frames(
                data, 0, end, self.limits, self._cache
            )
            if pos < end:
                buffer += memoryview(data)[pos:]
        else:
            buffer += chunk
            messages, pos, fault = _active.backend.decode_frames(
                buffer, 0, len(buffer), self.limits, self._cache
            )
            if pos:
                del buffer[:pos]
        base = self._offset
        self._offset = base + pos
        if fault is not None:
            self._fail(errors.fault_error(fault, base), messages)
        return messages  # type: ignore[no-any-return]

    def _fail(self, error: errors.DecodeError, messages: List[Message]) -> None:
        error.messages = messages
        self._error = error
        try:
            raise error
        finally:
            # The traceback holds this frame: without this, frame -> error -> traceback
            # -> frame is a cycle that keeps the caller's chunk alive until a gc pass.
            del error

    def close(self) -> None:
        """Declare the end of the stream.

        Raises :class:`~eventstream.errors.TruncatedStreamError` if bytes of
        an incomplete message are left (they stay in ``pending``).
        """
        if self._error is not None:
            raise errors.DecoderStateError(
                f"the decoder stopped at an error ({self._error}); call reset() to go on"
            )
        if self._buffer:
            fault = truncated_fault(self._buffer, 0, len(self._buffer))
            self._fail(errors.fault_error(fault, self._offset), [])

    def reset(self) -> bytes:
        """Clear the error and return the held bytes; offsets keep counting."""
        held = bytes(self._buffer)
        self._offset += len(self._buffer)
        self._buffer = bytearray()
        self._error = None
        return held

    def iter_file(
        self, source: BinaryIO, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[Message]:
        """Decode a binary file-like object to its end, then ``close()``."""
        read = source.read
        while True:
            chunk = read(chunk_size)
            if not chunk:
                break
            yield from self.feed(chunk)
        self.close()

    def iter_chunks(self, chunks: Iterable[Buffer]) -> Iterator[Message]:
        """Decode an iterable of byte chunks to its end, then ``close()``."""
        for chunk in chunks:
            yield from self.feed(chunk)
        self.close()

    async def aiter(
        self, source: Union[AsyncIterable[Buffer], Any], chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[Message]:
        """Decode an async source to its end, then ``close()``.

        ``source`` is an object with an awaitable ``read(n)`` (such as
        ``asyncio.StreamReader``; its own async iteration splits on newlines,
        so it is read with ``read``) or an async iterable of byte chunks.
        """
        read = getattr(source, "read", None)
        if read is not None:
            while True:
                chunk = await read(chunk_size)
                if not chunk:
                    break
                for message in self.feed(chunk):
                    yield message
        else:
            async for chunk in source:
                for message in self.feed(chunk):
                    yield message
        self.close()


def iter_messages(
    source: Union[BinaryIO, Iterable[Buffer]],
    *,
    limits: Optional[Limits] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[Message]:
    """Messages from a binary file-like object or an iterable of byte chunks.

    Raises :class:`~eventstream.errors.TruncatedStreamError` at the end if
    the input stops inside a message.
    """
    decoder = Decoder(limits)
    if hasattr(source, "read"):
        return decoder.iter_file(source, chunk_size)  # type: ignore[arg-type]
    return decoder.iter_chunks(source)


def aiter_messages(
    source: Union[AsyncIterable[Buffer], Any],
    *,
    limits: Optional[Limits] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> AsyncIterator[Message]:
    """Messages from an ``asyncio.StreamReader``-like object or an async iterable of chunks."""
    return Decoder(limits).aiter(source, chunk_size)
