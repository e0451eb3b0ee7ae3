"""Decoder.feed's shortcuts for small chunks, held to the frame scan's results.

``feed`` decodes a chunk that completes one message (and leaves at most the
incomplete start of the next) with one backend call (``check_next``: the
message, and the next prelude if its 12 bytes are there), holds a chunk that
completes nothing once its prelude passed (checked in Python), and sends
everything else to the frame scan.  These tests feed streams
in chunks of every size and check, after every feed, what the scan of the whole
stream says: which messages are out by then, ``position``, ``pending``, and
that a fault is raised by the first feed that brings the bytes showing it, with
the scan's error (type, text, offsets) and the messages before it.
"""

from __future__ import annotations

import struct
import uuid
from typing import Callable, List, Optional, Tuple

import pytest
from _frames import frame, header, string_value

import eventstream
from eventstream import Decoder, DecoderStateError, Limits, errors
from eventstream._assemble import decode_cache_for, decode_frames
from eventstream._decoder import _PIECES_BUDGET

pytestmark = pytest.mark.usefixtures("backend")

BLOCK_A = header(b":event-type", 7, string_value(b"A")) + header(
    b":message-type", 7, string_value(b"event")
)
BLOCK_B = header(b":event-type", 7, string_value(b"B")) + header(b"n", 4, struct.pack(">i", 7))
LIMITS = Limits(max_payload=50, max_header_block=48)

VALID = [
    frame(BLOCK_A, b"x" * 40),
    frame(b"", b""),
    frame(BLOCK_A, b"y" * 45),
    frame(BLOCK_B, b"z" * 7),
]
# A frame whose prelude (detected at its 12th byte) or whose body (detected at
# its last byte) is faulty, under LIMITS.
PRELUDE_FAULTS = {
    "prelude_crc": frame(BLOCK_A, b"p" * 30, prelude_crc=0),
    "too_short": frame(total_length=10),
    "headers_length": frame(BLOCK_A, b"q", headers_length=200),
    "payload_limit": frame(BLOCK_A, b"r" * 51),
    "block_limit": frame(BLOCK_A + BLOCK_B, b"s"),
}
BODY_FAULTS = {
    "message_crc": frame(BLOCK_A, b"m" * 20, message_crc=0),
    "header_type": frame(header(b"k", 12), b"t"),
}


def _check_pieces(decoder: Decoder) -> None:
    """The fast path's held pieces stay within their budget."""
    pieces = decoder._pieces
    assert all(type(piece) is bytes and piece for piece in pieces)
    assert len(pieces) <= 1 or sum(map(len, pieces)) <= _PIECES_BUDGET


def _ends(stream: bytes) -> List[int]:
    """The end offsets of the complete frames at the start of ``stream`` (by length)."""
    ends, pos = [], 0
    while len(stream) - pos >= 16:
        total = struct.unpack_from(">I", stream, pos)[0]
        if total < 16 or pos + total > len(stream):
            break
        pos += total
        ends.append(pos)
    return ends


def _check_chunking(
    stream: bytes,
    size: int,
    fault_at: Optional[Tuple[int, int]] = None,
    kind: Callable[[bytes], object] = bytes,
    copy: bool = True,
    limits: Limits = LIMITS,
) -> None:
    """Feed ``stream`` in ``size``-byte chunks; ``fault_at``: (frame offset, the
    stream offset whose arrival shows the fault)."""
    expected, _, fault = decode_frames(stream, 0, len(stream), limits, decode_cache_for(limits))
    ends = _ends(stream)[: len(expected)]
    assert (fault is not None) == (fault_at is not None)
    decoder = Decoder(limits, copy=copy)
    got: List[eventstream.Message] = []
    fed = 0
    for start in range(0, len(stream), size):
        chunk = stream[start : start + size]
        fed += len(chunk)
        try:
            out = decoder.feed(kind(chunk))
        except errors.DecodeError as exc:
            assert fault is not None and fault_at is not None
            frame_offset, shown_at = fault_at
            assert fed - len(chunk) < shown_at <= fed, "raised by the feed that shows it"
            want = errors.fault_error(fault)
            assert (type(exc), str(exc), exc.offset, exc.frame_offset) == (
                type(want),
                str(want),
                want.offset,
                want.frame_offset,
            )
            got += exc.messages
            assert got == expected
            assert decoder.position == fed
            assert decoder.pending == stream[frame_offset:fed]
            with pytest.raises(DecoderStateError):
                decoder.feed(b"")
            assert decoder.reset() == stream[frame_offset:fed]
            assert decoder.position == fed and decoder.pending == b""
            return
        got += out
        done = sum(1 for end in ends if end <= fed)
        assert len(got) == done and (not out or got == expected[:done])
        for message in out:
            assert isinstance(message.payload, bytes if copy else memoryview)
        assert decoder.position == fed
        if out or len(stream) <= 4096 or start % (64 * size) == 0:  # keep big streams linear
            _check_pieces(decoder)
            assert decoder.pending == stream[ends[done - 1] if done else 0 : fed]
    assert fault_at is None, "the fault was never raised"
    assert got == expected
    decoder.close()


STREAM = b"".join(VALID * 2)


def test_valid_stream_in_chunks_of_every_size():
    for size in range(1, len(STREAM) + 1):
        _check_chunking(STREAM, size)


@pytest.mark.parametrize("kind", [bytearray, memoryview])
@pytest.mark.parametrize("size", [1, 7, 11, 12, 13, 50, 61, 100, 256])
def test_mutable_and_view_chunks(size, kind):
    _check_chunking(STREAM, size, kind=kind)


@pytest.mark.parametrize("size", [1, 12, 13, 61, 100, 200, len(STREAM)])
def test_copy_false_gives_views_on_every_path(size):
    _check_chunking(STREAM, size, copy=False)


# A prelude fault is raised as the prelude's 12 bytes arrive, a body fault as the
# message's last byte does: (name, bad message, bytes of it that raise).
FAULTS = [(name, bad, 12) for name, bad in sorted(PRELUDE_FAULTS.items())] + [
    (name, bad, len(bad)) for name, bad in sorted(BODY_FAULTS.items())
]


@pytest.mark.parametrize("name, bad, raised_at", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_fault_is_raised_as_the_bytes_that_show_it_arrive(name, bad, raised_at):
    stream = b"".join(VALID[:3]) + bad + VALID[0]
    at = len(b"".join(VALID[:3]))
    for size in range(1, len(stream) + 1):
        _check_chunking(stream, size, (at, at + raised_at))


def test_header_blocks_no_cache_holds_yet():
    # Every message a new block: the single-message shortcut misses the cache
    # and the scan walks the block.
    stream = b"".join(frame(header(b"id", 9, uuid.UUID(int=i).bytes), b"u" * i) for i in range(12))
    for size in (1, 7, 13, 37, 64, 100, len(stream)):
        eventstream._assemble.clear()
        _check_chunking(stream, size)


def test_a_prelude_split_across_feeds_after_a_completed_message():
    # Completing feeds that leave 1..11 bytes of the next prelude, then the rest.
    first = VALID[0]
    for cut in range(1, 12):
        decoder = Decoder(LIMITS)
        assert decoder.feed(first[:20]) == []
        (message,) = decoder.feed(first[20:] + VALID[2][:cut])
        assert message.payload == b"x" * 40
        assert decoder.pending == VALID[2][:cut]
        assert decoder.feed(VALID[2][cut:-1]) == []
        assert decoder.position == len(first) + len(VALID[2]) - 1
        (message,) = decoder.feed(VALID[2][-1:])
        assert message.payload == b"y" * 45
        decoder.close()


def test_interrupted_reports_the_length_read_by_the_shortcut():
    decoder = Decoder(LIMITS)
    decoder.feed(VALID[0] + VALID[2][:30])
    cut = decoder._interrupted(OSError("gone"))
    assert cut is not None
    assert (cut.held, cut.needed, cut.frame_offset) == (30, len(VALID[2]), len(VALID[0]))


BIG = [frame(BLOCK_A, bytes(range(256)) * 40), frame(BLOCK_B, b"b" * (_PIECES_BUDGET - 30))]


@pytest.mark.parametrize("size", [1, 3, 7, 100, 1000, 4095, 4096, 5000, 70000])
def test_messages_beyond_the_pieces_budget(size):
    # Held pieces are joined into the bytearray at the budget: same results.
    stream = b"".join(BIG + VALID + BIG)
    _check_chunking(stream, size, limits=eventstream.DEFAULT_LIMITS)


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_a_mutable_chunk_held_by_the_fast_path_is_copied(kind):
    decoder = Decoder(LIMITS)
    first = VALID[2]
    assert decoder.feed(first[:20]) == []
    chunk = bytearray(first[20:40])
    assert decoder.feed(kind(chunk)) == []  # held as a piece
    chunk[:] = b"\xff" * 20  # the caller reuses its buffer
    (message,) = decoder.feed(first[40:])
    assert message.payload == b"y" * 45


def test_empty_chunks_add_no_pieces():
    decoder = Decoder(LIMITS)
    decoder.feed(VALID[0][:30])
    decoder.feed(VALID[0][30:31])
    before = list(decoder._pieces)
    for _ in range(1000):
        assert decoder.feed(b"") == []
    assert len(decoder._pieces) <= len(before)  # joined at most, never one more per chunk
    assert decoder.pending == VALID[0][:31]
    (message,) = decoder.feed(VALID[0][31:])
    assert message.payload == b"x" * 40


def test_close_and_interruption_count_the_held_pieces():
    for cut in (5, 12, 30, len(VALID[2]) - 1):
        decoder = Decoder(LIMITS)
        decoder.feed(VALID[0])
        for i in range(cut):
            decoder.feed(VALID[2][i : i + 1])
        assert decoder.position == len(VALID[0]) + cut
        interrupted = decoder._interrupted(OSError("gone"))
        assert interrupted is not None and interrupted.held == cut
        with pytest.raises(eventstream.TruncatedStreamError) as info:
            decoder.close()
        assert info.value.frame_offset == len(VALID[0])
        assert decoder.pending == VALID[2][:cut]
        assert decoder.reset() == VALID[2][:cut]
        assert decoder.position == len(VALID[0]) + cut
        assert (
            decoder.feed(VALID[0])
            == decode_frames(VALID[0], 0, len(VALID[0]), LIMITS, decode_cache_for(LIMITS))[0]
        )


@pytest.mark.parametrize("copy", [True, False])
@pytest.mark.parametrize("first", [VALID[0], frame(BLOCK_B, b"h" * 70000)])
def test_a_big_chunk_completing_a_held_message(first, copy):
    # A chunk bigger than feed's completing path joins: the held message (small,
    # or beyond the size joined as bytes) is completed without copying the chunk,
    # with the same results; copy=False gives views on this path too.
    limits = eventstream.DEFAULT_LIMITS
    stream = first + b"".join(VALID * 700)
    expected, _, fault = decode_frames(stream, 0, len(stream), limits, decode_cache_for(limits))
    assert fault is None and len(expected) == 2801
    decoder = Decoder(copy=copy)
    assert decoder.feed(stream[:30]) == []
    got = decoder.feed(stream[30:])
    assert got == expected
    for message in got:
        assert isinstance(message.payload, bytes if copy else memoryview)
    assert decoder.position == len(stream) and decoder.pending == b""
    decoder.close()
