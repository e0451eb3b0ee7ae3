"""Differential tests: the C and Python backends must agree on every input.

Hypothesis drives both backends with the same bytes: valid messages and streams,
arbitrary bytes, single-bit corruptions, small limits, random chunkings through the
Decoder.  They must return equal messages, positions and fault tuples, or raise the
same error class with the same offsets.
"""

from __future__ import annotations

import struct
from typing import Any, List, Tuple

import pytest
from _backends import records, using
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import chunkings, messages

from eventstream import _active, _assemble, _backend_python, _reference, errors
from eventstream._header_codec import encode_header_block
from eventstream.limits import DEFAULT_LIMITS, Limits
from eventstream.types import Message

try:
    from eventstream import _backend_c
except ImportError as exc:  # a test error, unless --no-c-backend deselects these tests
    IMPORT_ERROR: ImportError | None = exc
else:
    IMPORT_ERROR = None

pytestmark = pytest.mark.c_backend

# Several hundred examples per property under the default ("ci") profile; a lighter
# profile (HYPOTHESIS_PROFILE=dev, as in the sanitizer run) keeps its own count.
_DEFAULT = settings.default.max_examples
EXAMPLES = settings(max_examples=max(400, _DEFAULT) if _DEFAULT >= 300 else _DEFAULT, deadline=None)


@pytest.fixture(autouse=True)
def _c_backend_imports() -> None:
    if IMPORT_ERROR is not None:
        raise IMPORT_ERROR


def wire(message: Message) -> bytes:
    return _backend_python.encode_frame(encode_header_block(message.headers), message.payload)


def decode_both(
    buf: bytes, limits: Limits = DEFAULT_LIMITS, max_frames: int = -1, start: int = 0
) -> Tuple[List[Message], int, Any]:
    """Both backends through the shared layer; C on bytes, bytearray and memoryview,
    with a cold then a warm cache.  Their records must agree too."""
    with using(_backend_python):
        expected = _assemble.decode_frames(buf, start, len(buf), limits, {}, max_frames)
    cache: dict = {}  # type: ignore[type-arg]
    with using(_backend_c):
        for data in (buf, bytearray(buf), memoryview(buf), buf):
            got = _assemble.decode_frames(data, start, len(buf), limits, cache, max_frames)
            assert got == expected
    scanned = records(_backend_python.scan_frames(buf, start, len(buf), limits, max_frames))
    for data in (buf, bytearray(buf), memoryview(buf)):
        c = records(_backend_c.scan_frames(data, start, len(buf), limits, max_frames))
        assert c == scanned
    fault = scanned[2]
    if fault is None or fault[2] != start or fault[0] < errors.FAULT_PAYLOAD_LIMIT:
        # The prelude at start passed (or is not all there): a scan told so (the
        # Decoder's held message) finds the same, on both backends.
        for backend in (_backend_python, _backend_c):
            told = backend.scan_frames(buf, start, len(buf), limits, max_frames, True)
            assert records(told) == scanned
    if start == 0:
        # decode(): the message if buf is exactly one valid message, else an error;
        # twice each, so the second call meets its own block in the cache.
        one, pos, _ = expected if max_frames == 1 else decode_both(buf, limits, 1)
        single = one[0] if one and pos == len(buf) else None
        for backend in (_backend_python, _backend_c, _backend_python, _backend_c):
            with using(backend):
                try:
                    got_one: Any = _assemble.decode(buf, limits=limits)
                except errors.DecodeError:
                    got_one = None
            assert got_one == single and (got_one is None or type(got_one) is Message)
        # check_one (the header block is not walked): the payload start, or 0.
        n, max_payload, max_block = len(buf), limits.max_payload, limits.max_header_block
        ps = _backend_python.check_one(buf, n, max_payload, max_block, b"", 0)
        assert _backend_c.check_one(buf, n, max_payload, max_block, b"", 0) == ps
        assert ps >= 0
        if ps > 12:
            # the caller's last block: matched (negated) when equal, else not
            same = buf[12:ps]
            other = bytes(b ^ 1 for b in same)
            for backend in (_backend_python, _backend_c):
                assert backend.check_one(buf, n, max_payload, max_block, same, ps - 12) == -ps
                assert backend.check_one(buf, n, max_payload, max_block, other, ps - 12) == ps
                assert backend.check_one(buf, n, max_payload, max_block, same[:-1], ps - 13) == ps
        if single is not None:
            assert ps == n - 4 - len(single.payload)
        elif ps:  # then only the header block can be wrong
            assert _reference.walk(buf[12:ps], limits, 12, 0)[1] is not None
    return expected


limits_strategy = st.one_of(
    st.just(DEFAULT_LIMITS),
    st.builds(
        Limits, st.integers(0, 400), st.integers(0, 300), st.integers(0, 50), st.integers(0, 40)
    ),
)


@EXAMPLES
@given(st.lists(messages, min_size=1, max_size=5), st.integers(-1, 6))
def test_valid_streams(batch, max_frames):
    buf = b"".join(wire(m) for m in batch)
    got, pos, fault = decode_both(buf, max_frames=max_frames)
    assert fault is None
    if max_frames == -1:
        assert got == batch and pos == len(buf)
    for m in batch[:1]:
        one = wire(m)
        assert decode_both(one, max_frames=1) == ([m], len(one), None)
        assert _backend_c.encode_frame(encode_header_block(m.headers), m.payload) == one


@st.composite
def repeating_streams(draw: st.DrawFn) -> List[Message]:
    """Messages drawn from a small pool (with a header-less one), so header blocks
    repeat, directly or with other blocks in between."""
    pool = draw(st.lists(messages, min_size=1, max_size=3))
    pool.append(Message([], draw(st.binary(max_size=8))))
    return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=10))


@EXAMPLES
@given(repeating_streams(), st.integers(-1, 4), st.data())
def test_streams_with_repeated_header_blocks(batch, max_frames, data):
    buf = b"".join(wire(m) for m in batch)
    got, pos, fault = decode_both(buf, max_frames=max_frames)
    if max_frames == -1:
        assert (got, pos, fault) == (batch, len(buf), None)
    chunks = data.draw(chunkings(buf))
    assert _feed_all("c", chunks) == _feed_all("python", chunks) == (batch, None)


@EXAMPLES
@given(st.binary(max_size=400), st.integers(-1, 3))
def test_arbitrary_bytes(blob, max_frames):
    decode_both(blob, max_frames=max_frames)


@EXAMPLES
@given(st.binary(min_size=12, max_size=300))
def test_arbitrary_bytes_behind_a_valid_prelude(tail):
    # Random header blocks and payloads reach the header walk only when both CRCs
    # are right, so frame random bytes with correct CRCs and random lengths.
    total = len(tail) + 12
    for headers_length in {0, 1, len(tail) // 2, max(0, len(tail) - 4)}:
        prelude = struct.pack(">II", total, headers_length)
        body = prelude + struct.pack(">I", _backend_python.crc32(prelude)) + tail[:-4]
        frame = body + struct.pack(">I", _backend_python.crc32(body))
        decode_both(frame)
        decode_both(frame, max_frames=1)
        decode_both(frame + frame)


@EXAMPLES
@given(st.lists(messages, min_size=1, max_size=3), st.data())
def test_single_bit_corruptions(batch, data):
    buf = bytearray(b"".join(wire(m) for m in batch))
    bit = data.draw(st.integers(0, len(buf) * 8 - 1))
    buf[bit // 8] ^= 1 << (bit % 8)
    for max_frames in (-1, 1):
        decode_both(bytes(buf), max_frames=max_frames)


@EXAMPLES
@given(st.lists(messages, min_size=1, max_size=3), limits_strategy, st.integers(-1, 2))
def test_limits(batch, limits, max_frames):
    decode_both(b"".join(wire(m) for m in batch), limits, max_frames)


@EXAMPLES
@given(st.lists(messages, min_size=1, max_size=4), st.data())
def test_starting_inside_a_buffer(batch, data):
    buf = b"".join(wire(m) for m in batch)
    start = data.draw(st.integers(0, len(buf)))
    decode_both(buf, start=start)


def _feed_all(name: str, chunks: List[bytes]) -> Tuple[List[Message], Any]:
    """Messages and (error class, offset, frame_offset, code) from a Decoder run."""
    from eventstream import Decoder

    previous = _active.use(name)
    try:
        decoder = Decoder()
        out: List[Message] = []
        try:
            for chunk in chunks:
                out.extend(decoder.feed(chunk))
            decoder.close()
        except errors.DecodeError as exc:
            out.extend(exc.messages)
            return out, (type(exc), exc.offset, exc.frame_offset, exc.code, str(exc))
        return out, None
    finally:
        _active.restore(previous)


@EXAMPLES
@given(st.lists(messages, min_size=1, max_size=4), st.data())
def test_random_chunkings_through_the_decoder(batch, data):
    buf = bytearray(b"".join(wire(m) for m in batch))
    if data.draw(st.booleans()):
        bit = data.draw(st.integers(0, len(buf) * 8 - 1))
        buf[bit // 8] ^= 1 << (bit % 8)
    chunks = data.draw(chunkings(bytes(buf)))
    assert _feed_all("c", chunks) == _feed_all("python", chunks)


@EXAMPLES
@given(st.binary(max_size=300), st.data())
def test_random_chunkings_of_arbitrary_bytes(blob, data):
    chunks = data.draw(chunkings(blob))
    assert _feed_all("c", chunks) == _feed_all("python", chunks)


@pytest.mark.parametrize("rest", [0, 1, 11, 12, 13, "next-1", "next"])
def test_check_next_at_the_edges_of_the_next_message(rest: Any) -> None:
    # The ends where check_next's answer changes: under, at and past the next
    # prelude's 12 bytes, and one byte short of the next message and at its end.
    one = wire(Message({":event-type": "a"}, b"first"))
    two = wire(Message({":event-type": "b"}, b"second"))
    buf = one + two + b"tail"
    total = len(one)
    rest = {"next-1": len(two) - 1, "next": len(two)}.get(rest, rest)
    ps = 12 + len(encode_header_block(Message({":event-type": "a"}).headers))
    if rest == len(two):
        expected = 0  # a second complete message: the caller scans
    elif rest >= 12:
        expected = len(two) << 32 | ps
    else:
        expected = ps
    for backend in (_backend_python, _backend_c):
        assert backend.check_next(buf, total, total + rest, 1 << 24, 1 << 17) == expected


# Fewer examples than the others: one call per example, so they stay quick (~2 s).
@settings(max_examples=min(_DEFAULT, 120), deadline=None)
@given(st.lists(messages, min_size=2, max_size=3), limits_strategy, st.data())
def test_check_next_is_a_scan_that_finds_one_message_then_an_incomplete_one(batch, limits, data):
    # The Decoder's completing path: both backends agree, and a nonzero answer means
    # exactly what a scan of buf[:end] says (one message of `total` bytes, then an
    # incomplete one whose prelude passed if its 12 bytes are there).
    buf = bytearray(b"".join(wire(m) for m in batch))
    if data.draw(st.booleans()):
        bit = data.draw(st.integers(0, len(buf) * 8 - 1))
        buf[bit // 8] ^= 1 << (bit % 8)
    buf = bytes(buf)
    first = struct.unpack_from(">I", buf)[0]
    total = data.draw(st.one_of(st.just(first), st.integers(0, len(buf) + 4)))
    # The ends that matter (around the next prelude's 12 bytes, at the next
    # message's end) as often as any other.
    nxt = struct.unpack_from(">I", buf, total)[0] if len(buf) - total >= 4 else 0
    edges = [e for e in (total, total + 11, total + 12, total + 13, total + nxt) if e <= len(buf)]
    end = data.draw(st.one_of(st.sampled_from(edges or [0]), st.integers(0, len(buf))))
    max_payload, max_block = limits.max_payload, limits.max_header_block
    got = _backend_python.check_next(buf, total, end, max_payload, max_block)
    assert _backend_c.check_next(buf, total, end, max_payload, max_block) == got
    frames, pos, fault = _backend_python.scan_frames(buf, 0, end, limits)
    scan_says = len(frames) == 1 and pos == total and fault is None
    assert bool(got) == scan_says
    if got:
        assert got & 0xFFFFFFFF == frames[0][1]  # the payload start
        following = struct.unpack_from(">I", buf, total)[0] if end - total >= 12 else 0
        assert got >> 32 == following
