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
    Tuple,
    Union,
)

from . import _active, errors
from ._codec import Buffer, truncated_fault
from ._header_cache import decode_cache_for
from .limits import DEFAULT_LIMITS, PRELUDE_LENGTH, Limits
from .types import Message

DEFAULT_CHUNK_SIZE = 64 * 1024

# Held bytes and a chunk that completes their message are joined into one bytes
# object up to this size (one backend call, and bytes slice faster than a
# bytearray's views); beyond it the held message is completed in the bytearray,
# so a big payload is copied only once.
_JOIN_AS_BYTES = 64 * 1024


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

    def __init__(self, limits: Optional[Limits] = None, *, copy: bool = True) -> None:
        # copy=False: a message that lies whole in one chunk gets a read-only
        # memoryview of the chunk (bytes) or of a private copy as its payload.
        self._copy = copy
        self.limits = limits or DEFAULT_LIMITS
        self._cache = decode_cache_for(self.limits)
        self._buffer = bytearray()
        self._offset = 0  # stream offset of self._buffer[0]
        self._error: Optional[errors.EventStreamError] = None
        self._lock = threading.Lock()
        # Length of the message the held bytes start (0: not known yet), and
        # the limits its prelude was checked under.
        self._need = 0
        self._need_limits: Optional[Limits] = None

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
        held = len(buffer)
        if held:
            if (
                type(chunk) is not bytes
                or held < PRELUDE_LENGTH
                or self._need_limits is not self.limits
            ):
                messages, pos, fault, base = self._feed_buffered(buffer, chunk)
                if fault is not None:
                    self._fail(errors.fault_error(fault, base), messages)
                return messages  # type: ignore[no-any-return]
            # The held bytes start a message whose prelude was checked: its
            # length is known, so nothing can happen before it is complete.
            need = self._need
            if held + len(chunk) < need:
                buffer += chunk
                return []
            if held + len(chunk) > _JOIN_AS_BYTES:
                messages, pos, fault, base = self._feed_completing(buffer, chunk, held, need)
                if fault is not None:
                    self._fail(errors.fault_error(fault, base), messages)
                return messages  # type: ignore[no-any-return]
            # Small enough to join: one backend call decodes the held message
            # and the chunk's messages together.
            chunk = bytes(buffer) + chunk
            buffer.clear()
        # Decode straight from the (joined) chunk, keep only its tail.
        data = chunk if type(chunk) is bytes else bytes(chunk)
        end = len(data)
        messages, pos, fault = _active.backend.decode_frames(
            data, 0, end, self.limits, self._cache, -1, self._copy
        )
        base = self._offset
        self._offset = base + pos
        if pos < end:
            buffer += memoryview(data)[pos:]
            if fault is None:
                self._note_need(buffer)
        if fault is not None:
            self._fail(errors.fault_error(fault, base), messages)
        return messages

    def _note_need(self, buffer: bytearray) -> None:
        """Record how many bytes the held (incomplete, fault-free) message needs."""
        # The decoder checked the prelude of the held bytes if all 12 are there.
        self._need = int.from_bytes(buffer[:4], "big") if len(buffer) >= PRELUDE_LENGTH else 0
        self._need_limits = self.limits

    def _feed_buffered(self, buffer: bytearray, chunk: Buffer) -> Tuple[Any, int, Any, int]:
        """Append the chunk to the held bytes and decode them all."""
        buffer += chunk
        messages, pos, fault = _active.backend.decode_frames(
            buffer, 0, len(buffer), self.limits, self._cache
        )
        if pos:
            del buffer[:pos]
        base = self._offset
        self._offset = base + pos
        if buffer and fault is None:
            self._note_need(buffer)
        return messages, pos, fault, base

    def _feed_completing(
        self, buffer: bytearray, chunk: bytes, held: int, need: int
    ) -> Tuple[Any, int, Any, int]:
        """Complete the held message with the chunk's first bytes, then decode the rest.

        Same messages, faults, offsets and held bytes as decoding the held
        bytes and the chunk joined, without copying the whole chunk.
        """
        split = need - held
        decode_frames = _active.backend.decode_frames
        limits = self.limits
        cache = self._cache
        base = self._offset
        if need <= _JOIN_AS_BYTES:
            first: Buffer = bytes(buffer) + chunk[:split]
        else:
            buffer += memoryview(chunk)[:split]
            first = buffer
        messages, pos, fault = decode_frames(first, 0, need, limits, cache)
        if fault is not None:
            # Nothing was consumed: hold everything, as a joined decode would.
            if first is buffer:
                buffer += memoryview(chunk)[split:]
            else:
                buffer += chunk
            return messages, 0, fault, base
        end = len(chunk)
        more, pos, fault = decode_frames(chunk, split, end, limits, cache)
        if more:
            messages += more
        buffer.clear()
        if pos < end:
            buffer += memoryview(chunk)[pos:]
            if fault is None:
                self._note_need(buffer)
        # Offsets in the chunk are relative to its first byte, ``held`` bytes on.
        base += held
        self._offset = base + pos
        return messages, pos, fault, base

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
