"""Resource bounds: what hostile or broken input can make the decoder allocate or spend.

Every test runs on both backends.  The normal suite uses sizes that take a few
seconds; ``EVENTSTREAM_SOAK=1`` runs the full sizes of the fuzzing issue (1 GiB of
random-ish bytes fed in chunks, 1,000,000 decodes)::

    EVENTSTREAM_SOAK=1 pytest tests/test_resources.py -s

``-s`` shows the measured numbers (each test prints one line).

The bounds asserted here (``B`` = largest message the limits allow,
``max_payload + max_header_block + 16``; ``C`` = largest chunk fed):

* a prelude that claims a message above the limits is rejected from its 12 bytes,
  with no allocation that depends on the claimed size;
* a decoder waiting for a message holds only the bytes it was given;
* feeding any bytes in chunks keeps Python-heap peaks under ``3 * B + 4 * C + 1 MiB``
  (the held message, the payload copied out of it, the bytes ``reset()`` hands back,
  and the chunks in flight), and takes linear time;
* repeated decoding (valid and invalid messages, one-shot and incremental) leaves the
  traced heap and the RSS flat.
"""

from __future__ import annotations

import gc
import os
import random
import struct
import time
import zlib
from typing import Iterator, List, Tuple

import pytest

import eventstream
from eventstream import Decoder, Limits

# PyPy has no tracemalloc; these bounds are measured on CPython (both backends).
tracemalloc = pytest.importorskip("tracemalloc")

SOAK = os.environ.get("EVENTSTREAM_SOAK") == "1"
MiB = 1024 * 1024


def _frame(block: bytes, payload: bytes) -> bytes:
    prelude = struct.pack(">II", 16 + len(block) + len(payload), len(block))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + block
    return head + payload + struct.pack(">I", zlib.crc32(payload, zlib.crc32(head)))


def _prelude(total: int, headers_length: int = 0) -> bytes:
    head = struct.pack(">II", total, headers_length)
    return head + struct.pack(">I", zlib.crc32(head))


def _string_header(name: bytes, value: bytes) -> bytes:
    return bytes([len(name)]) + name + b"\x07" + struct.pack(">H", len(value)) + value


# Under AddressSanitizer freed memory sits in a quarantine (256 MiB by default) before
# it is reused, so resident size grows by design; .ci/steps/20-c-core.sh sets this for
# its ASan run, and the RSS bound is then left to the traced-memory bounds.
SANITIZED = os.environ.get("EVENTSTREAM_SANITIZED") == "1"


def _rss() -> int:
    """Resident set size in bytes (Linux), or 0 where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class _Traced:
    """tracemalloc around a block: ``peak`` and ``growth`` in bytes."""

    def __enter__(self) -> _Traced:
        gc.collect()
        tracemalloc.start()
        self.start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.peak = peak - self.start
        self.growth = current - self.start


# ---------------------------------------------------------------- huge claims


@pytest.mark.parametrize("total", [0xFFFFFFFF, 4 * 1024 * MiB - 16, 25 * MiB])
def test_a_prelude_claiming_a_huge_message_is_rejected_without_allocating(
    backend: str, total: int
) -> None:
    prelude = _prelude(total)
    with _Traced() as one_shot, pytest.raises(eventstream.LimitExceededError) as info:
        eventstream.decode(prelude + b"\x00" * 4)
    assert info.value.code == "payload_limit"
    assert info.value.offset == 0
    decoder = Decoder()
    with _Traced() as fed, pytest.raises(eventstream.LimitExceededError):
        decoder.feed(prelude)
    assert decoder.pending == prelude
    # Building the exception and its message costs a few KiB; a buffer for the
    # claimed message would cost megabytes to gigabytes.
    assert one_shot.peak < 64 * 1024, one_shot.peak
    assert fed.peak < 64 * 1024, fed.peak


def test_a_huge_claim_within_raised_limits_is_not_preallocated(backend: str) -> None:
    """Limits raised to the wire maximum: the decoder waits, holding 12 bytes, not 4 GiB."""
    limits = Limits.checked(max_payload=0xFFFFFFFF, max_header_block=0xFFFFFFFF)
    decoder = Decoder(limits)
    with _Traced() as t:
        assert decoder.feed(_prelude(0xFFFFFFFF)) == []
        assert decoder.feed(b"\x00" * 1000) == []
    assert len(decoder.pending) == 1012
    assert t.peak < 64 * 1024, t.peak
    with pytest.raises(eventstream.TruncatedStreamError) as info:
        decoder.close()
    assert "1012 bytes present of 4294967295" in str(info.value)


def test_a_huge_header_block_claim_is_rejected(backend: str) -> None:
    prelude = _prelude(0xFFFFFFFF, 0x7FFFFFFF)
    with _Traced() as t, pytest.raises(eventstream.LimitExceededError) as info:
        eventstream.decode(prelude)
    assert info.value.code == "headers_limit"
    assert t.peak < 64 * 1024


# ---------------------------------------------------------------- a stalled stream


def test_a_decoder_fed_a_prelude_then_nothing_holds_only_those_bytes(backend: str) -> None:
    message = _frame(_string_header(b":event-type", b"Audio"), b"\x00" * (8 * MiB))
    decoder = Decoder()
    with _Traced() as t:
        assert decoder.feed(message[:12]) == []
    assert decoder.pending == message[:12]
    assert decoder.position == 12
    assert t.growth < 4 * 1024, t.growth  # the 12 bytes and a bytearray header
    # Byte by byte up to 16 KiB: it holds exactly what it was given, nothing more.
    with _Traced() as t:
        for i in range(12, 16 * 1024):
            decoder.feed(message[i : i + 1])
    assert len(decoder.pending) == 16 * 1024
    assert t.growth < 2 * 16 * 1024, t.growth


def test_a_failed_feed_leaves_no_reference_cycle_holding_the_chunk(backend: str) -> None:
    """After ``reset()`` the chunk of a failed feed is freed at once, not by the cyclic GC.

    Found while measuring the hostile-stream bound: the raised error's traceback
    held the frame that raised it, whose local held the error, so every failed
    chunk stayed alive until a garbage collection (tens of chunks at a time).
    """
    chunk = b"\x00" * MiB  # a prelude CRC fault at byte 8; the decoder keeps the chunk
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            decoder = Decoder()
            with pytest.raises(eventstream.PreludeChecksumError):
                decoder.feed(chunk)
            assert len(decoder.reset()) == MiB
            del decoder
        with pytest.raises(eventstream.PreludeChecksumError):
            eventstream.decode(chunk)
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    finally:
        if enabled:
            gc.enable()
    assert held < MiB // 2, f"{held / MiB:.1f} MiB still referenced without a gc pass"


# ---------------------------------------------------------------- a long hostile stream


def _hostile_chunks(seed: int, size: int, max_chunk: int) -> Iterator[bytes]:
    """``size`` bytes of adversarial stream in chunks of 1..max_chunk bytes.

    Segments of random garbage, runs of valid messages, valid messages with one bit
    flipped, and valid preludes with random lengths (checked from their 12 bytes;
    the ones within the limits make the decoder wait and buffer until their message
    CRC fails).  Each segment starts a new chunk, so a consumer that resets after an
    error finds the next segment (what a consumer that resynchronises would do).
    """
    rng = random.Random(seed)
    block = _string_header(b":message-type", b"event") + _string_header(b":event-type", b"E")
    produced = 0
    while produced < size:
        kind = rng.random()
        if kind < 0.3:
            segment = rng.randbytes(rng.randint(1, 3 * max_chunk))
        elif kind < 0.7:
            segment = b"".join(
                _frame(block if rng.random() < 0.5 else b"", rng.randbytes(rng.randint(0, 4096)))
                for _ in range(rng.randint(1, 40))
            )
        elif kind < 0.85:
            raw = bytearray(_frame(block, rng.randbytes(rng.randint(0, 2048))))
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
            segment = bytes(raw)
        else:
            total = rng.choice([rng.randint(0, 64), rng.randint(16, 300_000), rng.getrandbits(32)])
            length = rng.choice([0, rng.randint(0, 64), rng.getrandbits(32)])
            segment = _prelude(total, length) + rng.randbytes(rng.randint(0, 64))
        segment = segment[: size - produced]
        at = 0
        while at < len(segment):
            n = rng.choice([1, 7, 64, 512, 4096, max_chunk, max_chunk])
            yield segment[at : at + n]
            at += n
        produced += len(segment)


def _drain(decoder: Decoder, chunks: Iterator[bytes]) -> Tuple[int, int, int]:
    """Feed everything, resetting after each error; (bytes, messages, errors)."""
    fed = messages = errors = 0
    for chunk in chunks:
        fed += len(chunk)
        try:
            messages += len(decoder.feed(chunk))
        except eventstream.DecodeError as exc:
            messages += len(exc.messages)
            errors += 1
            decoder.reset()
    return fed, messages, errors


def test_hostile_stream_in_chunks_uses_bounded_memory_and_linear_time(backend: str) -> None:
    size = 1024 * MiB if SOAK else 24 * MiB
    max_chunk = 64 * 1024
    limits = Limits(max_payload=256 * 1024, max_header_block=8 * 1024)
    biggest = limits.max_payload + limits.max_header_block + 16
    bound = 3 * biggest + 4 * max_chunk + MiB
    decoder = Decoder(limits)
    # Generating the stream costs more than decoding it: time the generator alone.
    started = time.perf_counter()
    for _ in _hostile_chunks(1, size // 8, max_chunk):
        pass
    generate = (time.perf_counter() - started) * 8
    rss_before = _rss()
    started = time.perf_counter()
    with _Traced() as t:
        fed, messages, errors = _drain(decoder, _hostile_chunks(1, size, max_chunk))
    elapsed = time.perf_counter() - started
    rss_growth = _rss() - rss_before
    decode_rate = fed / max(elapsed - generate, 1e-3) / MiB
    print(
        f"\n[{backend}] {fed / MiB:.0f} MiB fed: {messages} messages, {errors} errors, "
        f"{elapsed:.1f} s with generation (~{generate:.1f} s of it), "
        f"decoding ~{decode_rate:.0f} MiB/s, traced peak {t.peak / MiB:.2f} MiB "
        f"(bound {bound / MiB:.2f}), RSS growth {rss_growth / MiB:.1f} MiB"
    )
    assert fed == size
    assert messages > 0 and errors > 0
    assert t.peak < bound, (t.peak, bound)
    assert t.growth < biggest + max_chunk, t.growth  # at most one partial message held
    assert len(decoder.pending) < biggest


def test_the_header_cache_cannot_be_made_to_hold_much_more_than_its_blocks(
    backend: str,
) -> None:
    """128 distinct 2 KiB blocks of 1-byte-name BOOL headers (the cache holds 512).

    Found while writing these bounds: the process-wide header cache kept every such
    block with its ~680 Header objects, about 28 MiB that stayed after the decoder
    and its messages were gone (7 MiB for the 128 blocks here).  Blocks of many
    headers are no longer cached.
    """
    from eventstream import _header_cache

    _header_cache.clear()
    messages = []
    for i in range(128):
        tag = bytes([1, 0x61 + i % 26, 0, 1, 0x61 + i // 26 % 26, 0])
        body = b"".join(bytes([1, 0x41 + j % 26, 0]) for j in range(680))
        messages.append(_frame(tag + body, b""))
    stream = b"".join(messages)
    gc.collect()
    with _Traced() as t:
        decoder = Decoder()
        for i in range(0, len(stream), 65536):
            decoder.feed(stream[i : i + 65536])  # the messages are dropped at once
        decoder.close()
        del decoder
    kept = t.growth / 1024
    print(f"\n[{backend}] {len(stream) / MiB:.1f} MiB of such blocks: {kept:.0f} KiB kept")
    assert t.growth < 2 * MiB, t.growth
    _header_cache.clear()


# ---------------------------------------------------------------- many decodes


def _decode_mix() -> Tuple[List[bytes], List[bytes]]:
    block = _string_header(b":message-type", b"event") + _string_header(b":event-type", b"Audio")
    every = (
        b"\x01t\x00\x01f\x01\x01b\x02\x80\x01s\x03\x7f\xff\x01i\x04\x00\x00\x00\x01"
        b"\x01l\x05"
        + b"\xff" * 8
        + b"\x01y\x06\x00\x02ab\x01u\x09"
        + b"\x11" * 16
        + b"\x02ts\x08"
        + b"\x00" * 8
    )
    valid = [
        _frame(b"", b""),
        _frame(block, b"x" * 100),
        _frame(every, b"payload"),
        _frame(block, b"y" * 5000),
    ]
    invalid = [
        valid[1][:-1] + bytes([valid[1][-1] ^ 1]),  # message CRC
        b"\x00" * 16,  # prelude CRC
        _prelude(8) + b"\x00" * 4,  # too short
        _prelude(0xFFFFFFFF),  # over the limit
        _frame(b"\x00", b""),  # empty header name
        _frame(b"\x01a\x0b", b""),  # unknown header type
        _frame(b"\x01a\x07\x00\x02\xff\xfe", b""),  # invalid UTF-8 value
        valid[1][:50],  # truncated
        valid[0] + b"\x00",  # trailing data
    ]
    return valid, invalid


def _decode_round(valid: List[bytes], invalid: List[bytes], stream: bytes) -> int:
    ok = 0
    for data in valid:
        eventstream.decode(data)
        ok += 1
    for data in invalid:
        try:
            eventstream.decode(data)
        except eventstream.DecodeError:
            ok += 1
    decoder = Decoder()
    for i in range(0, len(stream), 997):
        ok += len(decoder.feed(stream[i : i + 997]))
    decoder.close()
    try:
        Decoder().feed(invalid[4])
    except eventstream.DecodeError:
        ok += 1
    return ok


def test_many_decodes_leave_memory_flat(backend: str) -> None:
    decodes = 1_000_000 if SOAK else 20_000
    valid, invalid = _decode_mix()
    stream = b"".join(valid) * 2
    per_round = len(valid) + len(invalid) + 2 * len(valid) + 1
    rounds = decodes // per_round
    for _ in range(200):  # warm up caches, interned strings, free lists
        _decode_round(valid, invalid, stream)
    gc.collect()
    rss_before = _rss()
    started = time.perf_counter()
    with _Traced() as t:
        # Measure growth between the first and the last tenth, so one-time costs of
        # the first calls under tracemalloc do not count.
        for _ in range(rounds // 10):
            _decode_round(valid, invalid, stream)
        gc.collect()
        early = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds - rounds // 10):
            _decode_round(valid, invalid, stream)
        gc.collect()
        late = tracemalloc.get_traced_memory()[0]
    elapsed = time.perf_counter() - started
    rss_growth = _rss() - rss_before
    print(
        f"\n[{backend}] {rounds * per_round} decodes in {elapsed:.1f} s: traced growth "
        f"{(late - early) / 1024:.1f} KiB over the last 90%, peak {t.peak / 1024:.0f} KiB, "
        f"RSS growth {rss_growth / 1024:.0f} KiB"
    )
    # A leak of even 1 byte per decode would show as tens of KiB here (megabytes in
    # the soak run); the slack covers allocator and gc bookkeeping.
    assert late - early < 16 * 1024, late - early
    assert t.peak < 2 * MiB, t.peak
    if not SANITIZED:
        assert rss_growth < 8 * MiB, rss_growth
