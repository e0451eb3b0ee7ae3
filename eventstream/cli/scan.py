"""Splitting a byte stream into checked frames, with the recovery options of the CLI.

:class:`Scanner` is what ``dump``, ``verify``, ``inspect`` and ``split`` read
through.  It cuts the stream at each prelude, lets the package's own
:class:`eventstream.Decoder` judge every frame (so the verdicts are the
library's), and on a fault either stops (the default), steps over the damaged
message when its prelude is trustworthy (``keep_going``), or scans for the next
plausible prelude when it is not (``resync``).  A payload that is itself an
event-stream message is checked too, its faults placed at absolute offsets.

It holds at most one frame (bounded by the limits) plus :data:`CONTEXT_BYTES`,
so memory does not grow with the input.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any, List, NamedTuple, Optional, Tuple, Union

import eventstream
from eventstream import DecodeError, Limits, Message

from .frames import Frame

_PRELUDE = struct.Struct(">III")
_AT_BYTE = re.compile(r" \(at byte \d+, in the message starting at byte \d+\)")
_U32 = struct.Struct(">I")
CONTEXT_BYTES = 1 << 20  # bytes kept after an unrecoverable fault (for sniffing and hints)
BATCH_FRAME = 64 * 1024  # frames up to this size are decoded in batches
FAULT_CONTEXT = 16  # bytes after a damaged frame shown around its fault
MAX_NESTING = 4  # payloads inside payloads checked at most this deep


class Fault(NamedTuple):
    """One fault, at absolute stream offsets."""

    code: str  # the codec's fault code (DecodeError.code)
    offset: int  # the faulty byte
    frame_offset: int  # the first byte of the message holding it
    text: str  # one line: what is wrong, and where
    number: int  # the message's index in the stream (top level)
    trusted: bool  # the message's lengths are trustworthy: the bytes after it can be read
    depth: int = 0  # 0: a message of the stream; 1: one inside a payload, ...
    error: Optional[DecodeError] = None
    stored: bytes = b""  # for a checksum fault: the 4 bytes of the CRC field as stored


class Checked(NamedTuple):
    """A message whose frame is valid; ``nested`` lists its other faults: those of messages
    inside its payload (depth 1 and more) and of its signature (depth 0)."""

    frame: Frame
    nested: Tuple[Fault, ...] = ()


class Damaged(NamedTuple):
    """A fault, with the bytes it concerns (the frame, or the bytes from the fault on)."""

    fault: Fault
    raw: bytes  # starts at fault.frame_offset
    fatal: bool  # nothing after it is read


class Skipped(NamedTuple):
    """Bytes passed over by ``resync`` (``end`` is where the next prelude starts)."""

    start: int
    end: int
    found: bool  # False: the input ended before another plausible prelude


Event = Union[Checked, Damaged, Skipped]


def _decoder_error(data: bytes, limits: Limits, final: bool) -> Optional[DecodeError]:
    """The package decoder's verdict on ``data`` (one frame or a prefix of one)."""
    decoder = eventstream.Decoder(limits)
    try:
        decoder.feed(data)
        if final:
            decoder.close()
    except DecodeError as exc:
        return exc
    return None


def _stored(error: DecodeError, data: Union[bytes, bytearray, memoryview]) -> bytes:
    """The CRC field a checksum error is about, as the bytes hold it."""
    if error.code not in ("prelude_crc", "message_crc"):
        return b""
    return bytes(data[error.offset : error.offset + 4])


def error_reason(error: Exception) -> str:
    """The error's text without the decoder's "(at byte N, ...)" and what follows it.

    Decoded out of context a frame is at offset 0, where the decoder also names
    non-event-stream input; in the middle of a stream that naming would mislead.
    """
    text = str(error)
    where = _AT_BYTE.search(text)
    return text[: where.start()] if where is not None else text


def relocated_text(error: DecodeError, base: int) -> str:
    """The error's text with its offsets moved by ``base`` (it was decoded out of context)."""
    text = error_reason(error)
    return (
        f"{text} (at byte {error.offset + base}, in the message starting at byte "
        f"{error.frame_offset + base})"
    )


def prelude_ok(data: Union[bytes, bytearray, memoryview], pos: int = 0) -> bool:
    """The 12 bytes at ``pos`` pass their CRC and hold lengths that fit together."""
    if len(data) - pos < 12:
        return False
    total, headers_length, stored = _PRELUDE.unpack_from(data, pos)
    # zlib's CRC-32 is the event-stream CRC (IEEE 802.3), with no wrapper in between
    return bool(
        total >= 16 and headers_length <= total - 16 and zlib.crc32(data[pos : pos + 8]) == stored
    )


def looks_like_message(payload: Union[bytes, memoryview]) -> bool:
    """A payload that is (or was meant to be) one event-stream message."""
    if len(payload) < 16:
        return False
    return bool(_U32.unpack_from(payload)[0] == len(payload) or prelude_ok(payload))


def check_nested(
    payload: Union[bytes, memoryview],
    base: int,
    number: int,
    limits: Limits,
    depth: int = 1,
) -> Tuple[Fault, ...]:
    """Faults of the message inside ``payload`` (which starts at stream offset ``base``)."""
    if depth > MAX_NESTING or not looks_like_message(payload):
        return ()
    data = bytes(payload)
    try:
        eventstream.decode(data, limits=limits)  # exactly one message, as the renderer shows it
    except DecodeError as exc:
        error = exc
    else:
        start = 12 + _PRELUDE.unpack_from(data)[1]
        return check_nested(data[start:-4], base + start, number, limits, depth + 1)
    return (
        Fault(
            error.code,
            error.offset + base,
            error.frame_offset + base,
            _nested_text(error, base, depth),
            number,
            True,
            depth,
            error,
            _stored(error, data),
        ),
    )


def _nested_text(error: DecodeError, base: int, depth: int) -> str:
    where = "the payload" if depth == 1 else f"a payload {depth} levels down"
    return f"the message inside {where}: {relocated_text(error, base)}"


class Scanner:
    """Feed chunks, get events; ``done`` turns true when nothing more will be read."""

    def __init__(
        self,
        limits: Optional[Limits] = None,
        *,
        keep_going: bool = False,
        resync: bool = False,
        nested: bool = True,
        count: Optional[int] = None,
        skip: int = 0,
        chain: Optional[Any] = None,
    ) -> None:
        self.limits = limits or eventstream.DEFAULT_LIMITS
        self.keep_going = keep_going
        self.resync = resync
        self.nested = nested
        self.count = count
        self.skip = skip  # bytes before the first frame to read (--offset)
        self.chain = chain  # a signatures.ChainCheck, or None
        self.restart()

    def restart(self) -> None:
        """Forget everything: the stream starts again (a followed file was truncated)."""
        self._buf = bytearray()
        self.offset = 0  # stream offset of self._buf[0]
        self.start = self.skip
        self.messages = 0  # frames seen (valid or not)
        self.valid = 0
        self.faults: List[Fault] = []
        self.skipped = 0  # bytes passed over by resync
        self.done = False
        self._discard = self.skip  # bytes still to drop (--offset, a skipped message)
        self._fatal: Optional[Fault] = None  # waiting for context bytes
        self._skip_from: Optional[int] = None  # resync scanning from this offset
        self._counted = False  # stopped by ``count``

    @property
    def position(self) -> int:
        """Bytes seen so far (the stream offset after the last byte fed)."""
        return self.offset + len(self._buf)

    @property
    def counted(self) -> bool:
        """Stopped by ``count`` before the end of the input."""
        return self._counted

    @property
    def read_bytes(self) -> int:
        """Bytes of the stream examined (not those before ``--offset`` or after ``--count``)."""
        end = self.offset if self._counted else self.position
        return max(0, end - self.start)

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)

    def feed(self, chunk: Union[bytes, bytearray]) -> List[Event]:
        if self.done:
            return []
        if self._discard:
            dropped = min(self._discard, len(chunk))
            self._discard -= dropped
            self.offset += dropped
            chunk = chunk[dropped:]
        self._buf += chunk
        return self._run(final=False)

    def close(self) -> List[Event]:
        if self.done:
            return []
        return self._run(final=True)

    # ------------------------------------------------------------ the loop

    def _run(self, final: bool) -> List[Event]:
        events: List[Event] = []
        while not self.done:
            if self._fatal is not None:
                if len(self._buf) >= CONTEXT_BYTES or final:
                    events.append(self._stop(self._fatal))
                break
            if self._skip_from is not None and not self._scan(events, final):
                break
            if self.count is not None and self.messages >= self.count:
                self.done = self._counted = True
                break
            if self._discard:
                break
            if self._fast(events):
                continue
            if len(self._buf) < 12:
                if final and self._buf:
                    self._truncated(events)
                elif final:
                    self.done = True
                break
            if not prelude_ok(self._buf):
                self._untrusted(events)
                continue
            total, headers_length, _ = _PRELUDE.unpack_from(self._buf)
            payload_length = total - 16 - headers_length
            if (
                headers_length > self.limits.max_header_block
                or payload_length > self.limits.max_payload
            ):
                self._over_limit(events, total)
                continue
            if len(self._buf) < total:
                if final:
                    self._truncated(events)
                break
            self._frame(events, total, headers_length)
        return events

    def _fault(self, error: DecodeError, trusted: bool) -> Fault:
        fault = Fault(
            error.code,
            error.offset + self.offset,
            error.frame_offset + self.offset,
            relocated_text(error, self.offset),
            self.messages,
            trusted,
            0,
            error,
            _stored(error, self._buf),
        )
        self.faults.append(fault)
        return fault

    def _stop(self, fault: Fault) -> Damaged:
        self.done = True
        raw = bytes(self._buf[:CONTEXT_BYTES])
        return Damaged(fault, raw, True)

    def _take(self, size: int) -> bytes:
        """Remove and return the first ``size`` bytes of the buffer."""
        if size >= len(self._buf):
            raw = bytes(self._buf)
            self._buf = bytearray()
        else:
            raw = bytes(self._buf[:size])
            del self._buf[:size]
        self.offset += size
        return raw

    def _fast(self, events: List[Event]) -> bool:
        """Judge the run of complete, plausible frames at the start of the buffer at once.

        The common case, kept tight: the run is decoded in one call of the package
        decoder, and only a frame it rejects is decoded again on its own for the exact
        fault.  Anything else (a bad prelude, a limit, a frame not yet complete) is
        left to the general loop.  True if any frame was taken.
        """
        buf = self._buf
        size = len(buf)
        limits = self.limits
        max_block, max_payload = limits.max_header_block, limits.max_payload
        unpack = _PRELUDE.unpack_from
        crc = zlib.crc32
        room = None if self.count is None else self.count - self.messages
        frames: List[Tuple[int, int, int]] = []  # (start, total, headers_length)
        pos = 0
        with memoryview(buf) as view:
            while size - pos >= 12 and (room is None or len(frames) < room):
                total, headers_length, stored = unpack(buf, pos)
                if total > BATCH_FRAME:  # a large frame goes alone: no extra copies of it
                    break
                if (
                    total < 16
                    or headers_length > total - 16
                    or total > size - pos
                    or headers_length > max_block
                    or total - 16 - headers_length > max_payload
                    or crc(view[pos : pos + 8]) != stored
                ):
                    break
                frames.append((pos, total, headers_length))
                pos += total
            if not frames:
                return False
            block = bytes(view[:pos])
        try:
            messages = eventstream.Decoder(limits).feed(block)
        except DecodeError as exc:
            messages = list(exc.messages)
        taken = 0
        for index, (start, total, headers_length) in enumerate(frames):
            end = start + total
            following = block[end : end + FAULT_CONTEXT] or bytes(buf[end : end + FAULT_CONTEXT])
            if index < len(messages):
                self._accept(
                    events, block[start:end], self.offset + start, headers_length, messages[index]
                )
            else:
                self._judge(
                    events, block[start:end], self.offset + start, headers_length, following
                )
            taken = end
            if self.done:
                break
        del buf[:taken]
        self.offset += taken
        return True

    def _frame(self, events: List[Event], total: int, headers_length: int) -> None:
        raw = self._take(total)
        self._judge(events, raw, self.offset - total, headers_length, self._buf[:FAULT_CONTEXT])

    def _judge(
        self,
        events: List[Event],
        raw: bytes,
        offset: int,
        headers_length: int,
        following: Union[bytes, bytearray, memoryview],
    ) -> None:
        """Decode one complete frame whose prelude is sound; record what it is."""
        try:
            message = eventstream.decode(raw, limits=self.limits)
        except DecodeError as error:
            fault = Fault(
                error.code,
                error.offset + offset,
                error.frame_offset + offset,
                relocated_text(error, offset),
                self.messages,
                True,
                0,
                error,
                _stored(error, raw),
            )
            self.messages += 1
            self.faults.append(fault)
            fatal = not self.keep_going
            self.done = fatal
            events.append(Damaged(fault, raw + bytes(following), fatal))  # and what follows
            return
        self._accept(events, raw, offset, headers_length, message)

    def _accept(
        self, events: List[Event], raw: bytes, offset: int, headers_length: int, message: Message
    ) -> None:
        """A frame the decoder accepted: check its nested message and its signature."""
        number = self.messages
        self.messages += 1
        self.valid += 1
        frame = Frame(number, offset, raw, message)
        nested: Tuple[Fault, ...] = ()
        if self.chain is not None:
            signature = self.chain.check(frame)
            if signature is not None:
                nested += (signature,)
        if self.nested and len(raw) - headers_length >= 32:  # room for a nested message
            start = 12 + headers_length
            nested += check_nested(memoryview(raw)[start:-4], offset + start, number, self.limits)
        self.faults.extend(nested)
        if nested and not self.keep_going:
            self.done = True
        events.append(Checked(frame, nested))

    def _over_limit(self, events: List[Event], total: int) -> None:
        error = _decoder_error(bytes(self._buf[:12]), self.limits, final=False)
        assert error is not None
        fault = self._fault(error, trusted=True)
        number = self.messages
        self.messages += 1
        if not self.keep_going:
            self._fatal = fault
            return
        events.append(Damaged(fault._replace(number=number), bytes(self._buf[:64]), False))
        dropped = min(total, len(self._buf))
        del self._buf[:dropped]
        self.offset += dropped
        self._discard = total - dropped

    def _untrusted(self, events: List[Event]) -> None:
        error = _decoder_error(bytes(self._buf[:12]), self.limits, final=False)
        assert error is not None
        fault = self._fault(error, trusted=False)
        if not self.resync:
            self._fatal = fault
            return
        events.append(Damaged(fault, bytes(self._buf[:64]), False))
        self._skip_from = self.offset
        del self._buf[:1]
        self.offset += 1

    def _scan(self, events: List[Event], final: bool) -> bool:
        """Resync: drop bytes up to the next plausible prelude; False until one is found."""
        buf = self._buf
        limits = self.limits
        pos = 0
        while pos + 12 <= len(buf):
            if prelude_ok(buf, pos):
                total, headers_length, _ = _PRELUDE.unpack_from(buf, pos)
                if (
                    headers_length <= limits.max_header_block
                    and total - 16 - headers_length <= limits.max_payload
                ):
                    break
            pos += 1
        else:
            keep = 0 if final else min(len(buf), 11)
            drop = len(buf) - keep
            del buf[:drop]
            self.offset += drop
            if final:
                start = self._skip_from
                assert start is not None
                self.skipped += self.offset - start
                events.append(Skipped(start, self.offset, False))
                self._skip_from = None
                self.done = True
            return False
        del buf[:pos]
        self.offset += pos
        start = self._skip_from
        assert start is not None
        self.skipped += self.offset - start
        events.append(Skipped(start, self.offset, True))
        self._skip_from = None
        return True

    def _truncated(self, events: List[Event]) -> None:
        # Every byte the input had of the message, not only CONTEXT_BYTES of it: the walk
        # shows what is there and names what is missing.  The buffer held them already.
        present = bytes(self._buf)
        error = _decoder_error(present, self.limits, final=True)
        self.done = True
        if error is None:  # pragma: no cover - the decoder always reports a partial frame
            return
        fault = self._fault(error, trusted=False)
        if len(self._buf) >= 12:
            self.messages += 1
        events.append(Damaged(fault, present, True))
