"""The incremental decoder and the iteration helpers built on it."""

from __future__ import annotations

import struct
import threading
import zlib
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

from . import _active, _assemble, _sources, errors
from ._assemble import _EMPTY_HEADERS, decode_cache_for
from ._codec import Buffer, truncated_fault
from ._sniff import upgrade_not_an_event_stream
from .limits import DEFAULT_LIMITS, PRELUDE_LENGTH, Limits
from .types import Headers, Message

DEFAULT_CHUNK_SIZE = _sources.DEFAULT_CHUNK_SIZE

# Held bytes and a chunk that completes their message are joined into one bytes
# object up to this size (one backend call, and bytes slice faster than a
# bytearray's views); beyond it the held message is completed in the bytearray,
# so a big payload is copied only once.
_JOIN_AS_BYTES = 64 * 1024
# feed's fast path holds chunks as a list of bytes objects (an append costs less
# than a bytearray's, and a completing chunk is joined to them in one copy).  At
# most this many bytes are held so before a slower path joins them into the
# bytearray: a message fed in tiny chunks keeps a bounded number of small objects.
_PIECES_BUDGET = 4096
# feed joins a completing chunk of at most this size to the held pieces (a bigger
# one takes _feed, which completes the held message without copying the chunk).
_COMPLETING_CHUNK = _JOIN_AS_BYTES - _PIECES_BUDGET
_unpack_prelude = struct.Struct(">III").unpack_from
_unpack_u32 = struct.Struct(">I").unpack_from
_crc32 = zlib.crc32
_new = tuple.__new__


def _prelude_passes(data: bytes, at: int, limits: Limits) -> bool:
    """Whether the prelude at ``data[at:]`` (12 bytes there) passes every prelude
    check under ``limits``: its CRC, the lengths' consistency and both limits.

    A pass-only filter for feed's short paths: False sends the bytes to the
    backend's scan, which makes the same checks and names the failed one, so
    only True must be exact (tests/test_decoder_feed_paths.py breaks each
    condition in turn).
    """
    total, headers_len, prelude_crc = _unpack_prelude(data, at)
    passes: bool = (
        0 <= total - 16 - headers_len <= limits[0]
        and headers_len <= limits[1]
        and _crc32(data[at : at + 8]) == prelude_crc
    )
    return passes


class Decoder:
    """Decodes a stream of messages from chunks of any size.

    ``feed(chunk)`` returns the messages the chunk completed.  The cost is
    linear in the bytes fed: a partial message is held until it is complete
    (each held byte is copied a bounded number of times).  A chunk is
    anything bytes-like (``bytes``, ``bytearray``, any ``memoryview``,
    ``array.array``, ``mmap``); anything else raises ``TypeError``.

    After an error
        ``feed`` raises a :class:`~eventstream.errors.DecodeError` whose
        ``messages`` attribute holds the messages that call completed before
        the fault.  The decoder then holds the bytes from the first byte of
        the faulty message on (``pending``), and every later ``feed`` or
        ``close`` raises :class:`~eventstream.errors.DecoderStateError` until
        ``reset()``, which hands those bytes back.  No byte is skipped.

    Iterating a source
        ``iter_file``, ``iter_chunks`` and ``aiter`` drive this decoder over a
        source; creating the decoder yourself (``d = Decoder(); async for m in
        d.aiter(source)``) keeps its state (``pending``, ``position``,
        ``error``) reachable after the loop ends or fails.

    Threads
        Two threads may not use one decoder at once: ``feed``, ``close`` or
        ``reset`` while another of them runs raises ``RuntimeError`` and
        changes nothing; ``pending``, ``position`` and ``error`` wait for the
        running call.  Separate decoders are independent.
    """

    def __init__(self, limits: Optional[Limits] = None, *, copy: bool = True) -> None:
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(
                f"Decoder(limits=...) takes an eventstream.Limits, got {type(limits).__name__}"
            )
        # copy=False: a message that lies whole in one chunk gets a read-only
        # memoryview of the chunk (bytes) or of a private copy as its payload.
        self._copy = copy
        self._limits = limits or DEFAULT_LIMITS
        # The two limits check_next takes, read once (Limits cannot change).
        self._max_payload, self._max_header_block = self._limits[:2]
        self._cache = decode_cache_for(self._limits)
        # The held bytes: self._buffer's, then those of the bytes objects in
        # self._pieces (the fast path's appends, or a chunk's tail).  The
        # other paths join the pieces first.
        self._buffer = bytearray()
        self._pieces: List[bytes] = []
        self._offset = 0  # stream offset of the first held byte
        self._error: Optional[errors.EventStreamError] = None
        # One "turn" token: feed, close and reset take it (list.pop is atomic)
        # and refuse to run without it, so two threads never share the state.
        # Cheaper than a non-blocking Lock.acquire on feed's fast path.
        self._turn = [True]
        # Held while state changes beyond an append, so the properties wait for
        # a running call instead of seeing it half done.
        self._lock = threading.Lock()
        # Length of the message the held bytes start (0: not known yet).
        self._need = 0
        # Bytes that can be added as pieces without completing the held message
        # (or passing _PIECES_BUDGET): above 0 only while a message with a
        # checked prelude waits and no error stands (feed's fast path; 0 sends
        # every chunk down the full path).
        self._room = 0
        # The biggest chunk feed's completing path takes once ``_room`` is reached:
        # _COMPLETING_CHUNK when the pieces hold all of a message of at most
        # _PIECES_BUDGET bytes (the chunk completes it), else -1 (the full path).
        self._completes = -1

    @property
    def limits(self) -> Limits:
        """The limits this decoder enforces (read-only: its caches depend on them)."""
        return self._limits

    @property
    def position(self) -> int:
        """Stream offset of the next byte to be fed (bytes fed so far)."""
        with self._lock:
            return self._offset + len(self._buffer) + sum(map(len, self._pieces))

    @property
    def pending(self) -> bytes:
        """The bytes held for an incomplete (or, after an error, faulty) message."""
        with self._lock:
            return bytes(self._buffer) + b"".join(self._pieces)

    @property
    def error(self) -> Optional[errors.EventStreamError]:
        """The error that stopped this decoder, or ``None``."""
        return self._error

    def _take_turn(self) -> bool:
        try:
            return self._turn.pop()
        except IndexError:
            raise RuntimeError("a Decoder was used from two threads at once") from None

    def feed(self, chunk: Buffer) -> List[Message]:
        """Add bytes; return the messages they complete, in stream order."""
        if type(chunk) is not bytes:
            # An immutable copy: the caller may reuse its buffer once feed returns.
            chunk = bytes(_sources.as_chunk(chunk, "Decoder.feed()"))
        turn = self._turn
        try:
            token = turn.pop()
        except IndexError:
            raise RuntimeError("a Decoder was used from two threads at once") from None
        try:
            n = len(chunk)
            room = self._room
            if n < room and n:
                # The held message's length is known and this chunk does not
                # complete it: nothing can be decoded or fail yet.  (Small
                # chunks take this path for all but one or two chunks of each
                # message, so it is kept to a few steps; an append is atomic
                # for the properties.)
                self._pieces.append(chunk)
                self._room = room - n
                return []
            # acquire/release: a third of the cost of a with block.
            lock = self._lock
            if room > 0 and n <= self._completes:
                # The chunk completes the held message: its prelude was checked and
                # all its bytes are pieces (room > 0: no error stands).  An empty
                # chunk may come here too: _complete then holds the pieces joined.
                lock.acquire()
                try:
                    return self._complete(chunk)
                finally:
                    lock.release()
            if self._error is not None:
                raise errors.DecoderStateError(
                    f"the decoder stopped at an error ({self._error}); call reset() to go on"
                )
            lock.acquire()
            try:
                return self._feed(chunk)
            finally:
                lock.release()
        finally:
            turn.append(token)

    def _complete(self, chunk: bytes, checked: bool = True) -> List[Message]:
        """Decode the held pieces (if any) and ``chunk`` joined, whose first bytes
        start a message of ``self._need`` bytes (0: unknown), and hold the tail
        (lock held, no error stands).  ``checked``: that message's prelude passed
        already (it is the held message), so the scan need not check it again.

        The common case of small chunks (feed's completing path, and _feed for
        bytes that start with a whole message) first: the bytes complete one
        message and leave at most the incomplete start of the next.  One backend
        call (``check_next``) checks the message and the next prelude if its 12
        bytes are here, and a cache lookup gives the headers.  Anything else
        (more messages, a fault, a header block no cache holds) takes the scan,
        which finds the same messages and names the fault.
        """
        pieces = self._pieces
        pieces.append(chunk)
        data = b"".join(pieces)  # chunk itself if there were no pieces
        pieces.clear()
        need = self._need
        end = len(data)
        # A rest as long as the message most likely holds more: the scan.
        if end - need < need:
            backend = _active.backend
            found = backend.check_next(data, need, end, self._max_payload, self._max_header_block)
            if found:
                ps = found & 0xFFFFFFFF
                headers: Optional[Headers] = _EMPTY_HEADERS
                if ps != 12:
                    block = data[12:ps]
                    headers = self._cache.get(block)
                    if headers is None:
                        # A new block: walked here, as decode() does, since the
                        # message passed its checks (a fault: the scan names it).
                        walked = _assemble.walk_block(
                            backend, block, self._offset + 12, self._offset, self._limits
                        )
                        if isinstance(walked, Headers):
                            headers = walked
                            _assemble.remember_block(self._cache, block, walked)
                if headers is not None:
                    if self._copy:
                        message = _new(Message, (headers, data[ps : need - 4]))
                    else:
                        message = _new(Message, (headers, memoryview(data)[ps : need - 4]))
                    self._offset += need
                    following = found >> 32
                    if following:
                        pieces.append(data[need:])
                        self._hold(following, end - need)
                    else:
                        self._room = 0
                        self._need = 0
                        if end > need:  # less than a prelude
                            pieces.append(data[need:])
                    return [message]
        # The scan: every complete message, then the incomplete tail or the fault.
        messages, pos, fault = _assemble.decode_frames(
            data, 0, end, self._limits, self._cache, -1, self._copy, checked
        )
        base = self._offset
        self._offset = base + pos
        rest = end - pos
        if fault is not None:
            if rest:
                self._buffer += memoryview(data)[pos:]
            self._fail(errors.fault_error(fault, base), messages)
        if rest >= PRELUDE_LENGTH:
            # An incomplete message whose prelude passed.
            pieces.append(data[pos:])
            self._hold(_unpack_u32(data, pos)[0], rest)
        else:
            self._room = 0
            self._need = 0
            if rest:
                pieces.append(data[pos:])
        return messages

    def _feed(self, chunk: bytes) -> List[Message]:
        """feed's full path: every case its two short paths do not take."""
        self._room = 0  # set again if a message stays held
        buffer = self._buffer
        pieces = self._pieces
        held = len(buffer)
        # The held bytes: in ``buffer``, or (usually) all in ``joined``.
        joined = b""
        if pieces:
            joined = pieces[0] if len(pieces) == 1 else b"".join(pieces)
            pieces.clear()
            if held:
                buffer += joined
                held = len(buffer)
                joined = b""
            else:
                held = len(joined)
        n = len(chunk)
        if held + n < PRELUDE_LENGTH or (held >= PRELUDE_LENGTH and held + n < self._need):
            # Not even a prelude yet, or the held message's pieces reached their
            # budget: nothing to check.
            buffer += joined
            buffer += chunk
            self._note_need(buffer)
            return []
        total = 0  # the length of the message the bytes start, once read
        checked = held >= PRELUDE_LENGTH  # the held message's prelude passed
        if held:
            if held >= PRELUDE_LENGTH:
                # The held message's prelude was checked, and this chunk completes it.
                total = self._need
                if held + n > _JOIN_AS_BYTES:
                    # Complete it in place so a big payload is copied once.
                    buffer += joined
                    messages, fault, base = self._feed_completing(buffer, chunk, held, total)
                    if fault is not None:
                        self._fail(errors.fault_error(fault, base), messages)
                    return messages  # type: ignore[no-any-return]
            # Small enough to join (or the held bytes are less than a prelude):
            # one backend call decodes the held bytes and the chunk together.
            chunk = (joined or bytes(buffer)) + chunk
            buffer.clear()
        if not total:
            total = _unpack_u32(chunk, 0)[0]
            end = len(chunk)
            if end < total:
                # The bytes complete no message: hold them if the prelude passes.
                if _prelude_passes(chunk, 0, self._limits):
                    pieces.append(chunk)
                    self._hold(total, end)
                    return []
                total = 0  # a fault: the scan names it
        # The bytes start a message they complete (or a fault: total 0, the scan).
        self._need = total
        return self._complete(chunk, checked)

    def _hold(self, need: int, held: int) -> None:
        """Note that the pieces hold ``held`` bytes (all the held bytes) of a
        message of ``need`` bytes whose prelude passed: feed's fast path appends
        chunks to them up to the budget, and its completing path takes the chunk
        that completes the message (the held bytes are all pieces)."""
        self._need = need
        if need <= _PIECES_BUDGET:
            self._room = need - held
            self._completes = _COMPLETING_CHUNK
        else:
            self._room = _PIECES_BUDGET - held
            self._completes = -1

    def _note_need(self, buffer: bytearray) -> None:
        """Record how many bytes the held (incomplete, fault-free) message needs."""
        # The decoder checked the prelude of the held bytes if all 12 are there.
        held = len(buffer)
        if held >= PRELUDE_LENGTH:
            need = int.from_bytes(buffer[:4], "big")
            if need <= _PIECES_BUDGET:
                # Held as a piece, so the chunk that completes it takes feed's
                # completing path (which joins the pieces only).
                self._pieces.append(bytes(buffer))
                buffer.clear()
                self._hold(need, held)
            else:
                self._need = need
                room = need - held
                self._room = room if room < _PIECES_BUDGET else _PIECES_BUDGET
                self._completes = -1
        else:
            self._need = 0

    def _feed_completing(
        self, buffer: bytearray, chunk: bytes, held: int, need: int
    ) -> Tuple[Any, Any, int]:
        """Complete the held message with the chunk's first bytes, then decode the rest.

        Same messages, faults, offsets and held bytes as decoding the held
        bytes and the chunk joined, without copying the whole chunk.
        """
        split = need - held
        decode_frames = _assemble.decode_frames
        limits = self._limits
        cache = self._cache
        base = self._offset
        if need <= _JOIN_AS_BYTES:
            first: Buffer = bytes(buffer) + chunk[:split]
        else:
            buffer += memoryview(chunk)[:split]
            first = buffer
        copy = self._copy
        messages, pos, fault = decode_frames(first, 0, need, limits, cache, 1, copy)
        if not copy and first is buffer and messages:
            # The bytearray is reused: a read-only view of the payload's own copy.
            (message,) = messages
            messages = [_new(Message, (message.headers, memoryview(message.payload)))]
        if fault is not None:
            # Nothing was consumed: hold everything, as a joined decode would.
            if first is buffer:
                buffer += memoryview(chunk)[split:]
            else:
                buffer += chunk
            return messages, fault, base
        end = len(chunk)
        more, pos, fault = decode_frames(chunk, split, end, limits, cache, -1, copy)
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
        return messages, fault, base

    def _gather(self) -> bytearray:
        """The held bytes, the pieces joined into the bytearray (lock held)."""
        buffer = self._buffer
        if self._pieces:
            buffer += b"".join(self._pieces)
            self._pieces.clear()
        return buffer

    def _fail(self, error: errors.DecodeError, messages: List[Message]) -> None:
        self._room = 0
        error = upgrade_not_an_event_stream(error, self._buffer)  # JSON, HTML... at offset 0
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
        token = self._take_turn()
        try:
            if self._error is not None:
                raise errors.DecoderStateError(
                    f"the decoder stopped at an error ({self._error}); call reset() to go on"
                )
            if self._buffer or self._pieces:
                with self._lock:
                    buffer = self._gather()
                    fault = truncated_fault(buffer, 0, len(buffer))
                    self._fail(errors.fault_error(fault, self._offset), [])
        finally:
            self._turn.append(token)

    def reset(self) -> bytes:
        """Clear the error and return the held bytes; offsets keep counting."""
        token = self._take_turn()
        try:
            with self._lock:
                held = bytes(self._gather())
                self._offset += len(held)
                self._buffer = bytearray()
                self._room = 0
                self._need = 0
                self._error = None
                return held
        finally:
            self._turn.append(token)

    def _feed_through(self, chunk: Buffer) -> Tuple[List[Message], Optional[errors.DecodeError]]:
        """``feed`` for the iterators: the messages before a fault, and the fault.

        The iterators yield those messages before raising, so the raised
        error's ``messages`` is emptied: nothing is handed over twice.
        """
        try:
            return self.feed(chunk), None
        except errors.DecodeError as exc:
            messages, exc.messages = exc.messages, []
            return messages, exc

    def _interrupted(self, exc: Exception) -> Optional[errors.StreamInterruptedError]:
        """The error for a source that raised while a message was incomplete."""
        with self._lock:
            held = len(self._buffer) + sum(map(len, self._pieces))
            if not held or self._error is not None:
                return None
            frame_offset = self._offset
            needed = self._need if held >= PRELUDE_LENGTH else 0
        of = f" of {needed}" if needed else ""
        return errors.StreamInterruptedError(
            f"the source raised {type(exc).__name__} ({exc}) inside the message starting at "
            f"byte {frame_offset}: {held}{of} bytes of it had arrived "
            f"(at byte {frame_offset + held})",
            offset=frame_offset + held,
            frame_offset=frame_offset,
            held=held,
            needed=needed,
        )

    def _drive(self, chunks: Iterator[Buffer]) -> Iterator[Message]:
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                break
            except Exception as exc:
                cut = self._interrupted(exc)
                if cut is None:
                    raise
                raise cut from exc
            messages, fault = self._feed_through(chunk)
            yield from messages
            if fault is not None:
                raise fault
        self.close()

    def iter_file(
        self, source: BinaryIO, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[Message]:
        """Decode a binary file-like object to its end, then ``close()``.

        Reads with ``read1(chunk_size)`` where the object has it (buffered
        files, sockets' ``makefile("rb")``, pipes, ``sys.stdin.buffer``), else
        ``read(chunk_size)``, so each message is yielded as soon as its last
        byte has arrived.  A read that returns ``None`` (a non-blocking file
        with no data yet) waits for data.  Messages completed before a fault
        are yielded, then the fault is raised.
        """
        _sources.check_sync_file(source, "Decoder.iter_file()")
        return self._drive(_sources.file_chunks(source, chunk_size))

    def iter_chunks(self, chunks: Iterable[Buffer]) -> Iterator[Message]:
        """Decode an iterable of byte chunks to its end, then ``close()``."""
        _sources.check_sync_iterable(chunks, "Decoder.iter_chunks()")
        return self._drive(iter(chunks))

    async def aiter(
        self, source: Union[AsyncIterable[Buffer], Any], chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> AsyncIterator[Message]:
        """Decode an async source to its end, then ``close()``.

        ``source`` is an object with an awaitable ``read(n)`` (such as
        ``asyncio.StreamReader`` or aiohttp's ``resp.content``; their own async
        iteration splits on newlines, so they are read with ``read``), an async
        iterable of byte chunks (``httpx``'s ``resp.aiter_bytes()``, a
        ``websockets`` connection) or a plain iterable of chunks.
        """
        chunks = _sources.async_chunks(source, chunk_size, "Decoder.aiter()")
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except Exception as exc:
                cut = self._interrupted(exc)
                if cut is None:
                    raise
                raise cut from exc
            messages, fault = self._feed_through(chunk)
            for message in messages:
                yield message
            if fault is not None:
                raise fault
        self.close()


def iter_messages(
    source: Union[BinaryIO, Iterable[Buffer]],
    *,
    limits: Optional[Limits] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[Message]:
    """Messages from a binary file-like object or an iterable of byte chunks.

    ``source`` is a binary file-like object (``open(path, "rb")``, a socket's
    ``makefile("rb")``, ``proc.stdout``, ``sys.stdin.buffer``, botocore's
    ``StreamingBody``), read with partial reads (see
    :meth:`Decoder.iter_file`), or an iterable of bytes-like chunks
    (``httpx``'s ``resp.iter_bytes()``, ``requests``'
    ``resp.iter_content(chunk_size=None)``).  Messages completed before a
    fault are yielded, then the fault is raised;
    :class:`~eventstream.errors.TruncatedStreamError` at the end if the
    input stops inside a message, and
    :class:`~eventstream.errors.StreamInterruptedError` if the source raises
    inside one (its exception is the ``__cause__``).  Anything else raises
    ``TypeError`` naming the call to use.  Use ``Decoder().iter_file(...)``
    to keep the decoder's state reachable.
    """
    kind = _sources.classify_sync(source)
    decoder = Decoder(limits)
    if kind == "file":
        return decoder._drive(_sources.file_chunks(source, chunk_size))
    return decoder._drive(iter(source))


def aiter_messages(
    source: Union[AsyncIterable[Buffer], Any],
    *,
    limits: Optional[Limits] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> AsyncIterator[Message]:
    """Messages from an async source: see :meth:`Decoder.aiter`.

    Accepts ``asyncio.StreamReader``, aiohttp's ``resp.content``, an async
    iterable of bytes-like chunks (``httpx``'s ``resp.aiter_bytes()``, a
    ``websockets`` connection) or a plain iterable of chunks; a blocking file,
    a response object or ``bytes`` raise ``TypeError`` naming the right call.
    Errors as for :func:`iter_messages`.
    """
    _sources.classify_async(source)
    return Decoder(limits).aiter(source, chunk_size)
