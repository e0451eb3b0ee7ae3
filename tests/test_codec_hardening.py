"""Regression tests for the codec-core items of issue 16 (4 encode side, 5, 13, 14)."""

from __future__ import annotations

import ctypes
import os
import threading
import time
import zlib
from typing import Any, List

import pytest
from _frames import frame, header, string_value

import eventstream
from eventstream import _active, errors
from eventstream.limits import WIRE_LIMITS, Limits
from eventstream.types import new_message

# ---------------------------------------------------------------- item 4: encode and limits


def test_encode_checks_the_header_value_limit_decode_enforces(backend: str) -> None:
    message = eventstream.Message({"k": "x" * 11})
    limits = Limits(max_header_value=10)
    with pytest.raises(errors.ValueTooLongError, match="11 bytes exceeds the limit of 10"):
        eventstream.encode(message, limits=limits)
    with pytest.raises(errors.ValueTooLongError):
        eventstream.encode(eventstream.Message({"k": b"y" * 11}), limits=limits)
    ok = eventstream.Message({"k": "x" * 10, "n": 5, "b": b"z" * 3})
    assert eventstream.decode(eventstream.encode(ok, limits=limits), limits=limits) == ok
    # Cached blocks are checked too: the same Headers object again, stricter limits.
    eventstream.encode(message)
    with pytest.raises(errors.ValueTooLongError):
        eventstream.encode(message, limits=limits)


class _HugePayload(bytes):
    """Claims the largest payload a Message may carry, without allocating it."""

    def __len__(self) -> int:
        return 0xFFFFFFFF - 16


def test_encode_refuses_a_total_length_beyond_32_bits(backend: str) -> None:
    headers = eventstream.Message({"a": True}).headers
    with pytest.raises(errors.PayloadTooLargeError, match="32-bit total_length"):
        eventstream.encode(new_message(headers, _HugePayload()), limits=WIRE_LIMITS)


# ---------------------------------------------------------------- item 5: check-then-use


def _same_length_messages() -> List[bytes]:
    payload_a, payload_b = b"A" * 200_000, b"B" * 200_000
    # Torn mixes of the two string values are not UTF-8 (the 2-byte sequences shift).
    wire_a = eventstream.encode(eventstream.Message({"s": "\u00e9" * 2000}, payload_a))
    wire_b = eventstream.encode(eventstream.Message({"s": "a" + "\u00e9" * 1999 + "a"}, payload_b))
    assert len(wire_a) == len(wire_b)
    return [wire_a, wire_b]


def test_decode_of_a_buffer_another_thread_writes_takes_only_checked_bytes(
    backend: str,
) -> None:
    """Issue 16 item 5: the C backend validated a bytearray with the GIL released,
    then sliced the live buffer (raw UnicodeDecodeErrors, payloads that never passed
    the CRC).  The writer uses ctypes.memmove, which runs without the GIL, so the
    buffer changes while decode() works on it."""
    wires = _same_length_messages()
    valid = {eventstream.decode(w) for w in wires}
    buf = bytearray(wires[0])
    address = ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))
    sources = [ctypes.create_string_buffer(w, len(w)) for w in wires]
    half = len(buf) // 2
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            if i & 2:
                # Without the GIL, torn: the halves from different messages.
                ctypes.memmove(address, sources[i & 1], half)
                ctypes.memmove(address + half, sources[~i & 1], len(buf) - half)
            else:
                # With the GIL, while decode() works on its copy of the buffer
                # (its C calls on messages this big release the GIL).
                buf[:] = wires[i & 1]

    thread = threading.Thread(target=writer)
    thread.start()
    seen_valid = seen_errors = 0
    try:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            for data in (buf, memoryview(buf)):
                try:
                    message = eventstream.decode(data)
                except errors.DecodeError:
                    seen_errors += 1
                else:
                    assert message in valid  # never a payload that did not pass the CRC
                    seen_valid += 1
    finally:
        stop.set()
        thread.join()
    assert seen_valid + seen_errors > 0


# ---------------------------------------------------------------- item 13: non-contiguous views


def test_decode_and_crc32_read_non_contiguous_memoryviews(backend: str) -> None:
    wire = eventstream.encode(eventstream.Message({"a": "b"}, b"payload" * 100))
    spread = bytes(b for pair in zip(wire, b"\x00" * len(wire)) for b in pair)
    view = memoryview(spread)[::2]
    assert not view.c_contiguous
    assert eventstream.decode(view) == eventstream.decode(wire)
    assert eventstream.crc32(view) == zlib.crc32(wire)
    assert eventstream.crc32(view, 1234) == zlib.crc32(wire, 1234)
    big = bytes(range(256)) * 64
    assert eventstream.crc32(memoryview(big * 2)[::2]) == zlib.crc32((big * 2)[::2])
    corrupt = bytearray(spread)
    corrupt[2 * (len(wire) - 10)] ^= 1  # a payload byte of the spread message
    with pytest.raises(errors.MessageChecksumError) as info:
        eventstream.decode(memoryview(corrupt)[::2])
    assert info.value.offset == len(wire) - 4
    with pytest.raises(errors.TruncatedStreamError):
        eventstream.decode(view[:-1])


def test_decode_reads_multi_dimensional_and_typed_views(backend: str) -> None:
    wire = eventstream.encode(eventstream.Message({"a": 1}, b"1"))
    assert len(wire) % 4 == 0
    grid = memoryview(wire).cast("B", (len(wire) // 4, 4))
    assert eventstream.decode(grid) == eventstream.decode(wire)
    assert eventstream.decode(memoryview(wire).cast("I")) == eventstream.decode(wire)


# ---------------------------------------------------------------- item 14: header-heavy blocks


def test_a_block_of_many_distinct_headers_is_walked_once(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted at the seam: the shared layer asks the backend to walk a block
    # no cache holds, once per block, on either backend.
    active = _active.backend
    assert backend == active.NAME
    calls: List[int] = []
    real = active.walk_headers

    def counting(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(active, "walk_headers", counting)
    block = b"".join(header(b"h%05d" % i, 7, string_value(b"%d" % i)) for i in range(2000))
    wire = frame(block, b"p")
    message = eventstream.decode(wire, limits=WIRE_LIMITS)
    assert len(message.headers) == 2000 and calls == [1]
    calls.clear()
    decoder = eventstream.Decoder(WIRE_LIMITS)
    other = frame(block.replace(b"h00000", b"g00000"), b"q")
    assert len(decoder.feed(frame(header(b"x", 0)) + wire + other)) == 3
    assert calls == [1, 1, 1]  # each block once (none is cached: too many headers)


# ---------------------------------------------------------------- zero-copy and big payloads


def test_decode_without_copy_gives_a_read_only_view_of_the_input(backend: str) -> None:
    for payload in (b"", b"p" * 100, os.urandom(3 << 20)):
        for headers in ({}, {":event-type": "AudioEvent"}):
            wire = eventstream.encode(eventstream.Message(headers, payload))
            message = eventstream.decode(wire, copy=False)
            assert type(message.payload) is memoryview and message.payload.readonly
            assert message.payload.obj is wire  # no copy at all
            assert message == eventstream.decode(wire) and bytes(message.payload) == payload
            mutable = bytearray(wire)
            held = eventstream.decode(mutable, copy=False)
            mutable[-5:] = b"\x00" * 5  # the view is of a private copy
            assert held.payload.readonly and bytes(held.payload) == payload
    with pytest.raises(errors.MessageChecksumError):
        eventstream.decode(wire[:-1] + b"\x00", copy=False)


def test_big_payloads_decode_alike_in_threads(backend: str) -> None:
    # Payloads of 1 MiB and more, decoded in several threads at once.
    payloads = [os.urandom((1 << 20) + k) for k in (0, 1, 4095)]
    wires = [eventstream.encode(eventstream.Message({"n": k}, p)) for k, p in enumerate(payloads)]
    results: List[bool] = []

    def work(wire: bytes, payload: bytes) -> None:
        results.extend(eventstream.decode(wire).payload == payload for _ in range(5))

    threads = [threading.Thread(target=work, args=pair) for pair in zip(wires, payloads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 15
    got = eventstream.decode(wires[0]).payload
    assert type(got) is bytes and got == payloads[0]


def test_a_decoder_without_copy_views_messages_that_lie_whole_in_a_chunk(backend: str) -> None:
    messages = [eventstream.Message({"n": k}, bytes([k]) * (100 + k)) for k in range(4)]
    wire = b"".join(eventstream.encode(m) for m in messages)
    decoder = eventstream.Decoder(copy=False)
    got = decoder.feed(wire)
    assert got == messages
    assert all(type(m.payload) is memoryview and m.payload.obj is wire for m in got)
    # Split across chunks, a message's payload is a copy; results are the same.
    for size in (1, 7, 100, 4096):
        decoder = eventstream.Decoder(copy=False)
        out = []
        for i in range(0, len(wire), size):
            out += decoder.feed(wire[i : i + size])
        decoder.close()
        assert out == messages
    mutable = bytearray(wire)
    got = eventstream.Decoder(copy=False).feed(mutable)
    mutable[:] = bytes(len(mutable))
    assert got == messages  # views of a private copy, never of the caller's bytearray
    assert all(type(m.payload) is bytes for m in eventstream.Decoder().feed(wire))
