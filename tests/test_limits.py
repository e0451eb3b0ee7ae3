"""Limits: immutable and validated when built, one decode cache per value (bounded),
the header count (``max_headers``) and the permissive preset, on both backends."""

from __future__ import annotations

import copy
import gc
import pickle

import pytest
from _frames import frame, header, string_value

import eventstream
from eventstream import _assemble, _header_cache, errors
from eventstream.limits import (
    DEFAULT_LIMITS,
    DEFAULT_MAX_HEADERS,
    MAX_WIRE_HEADERS,
    WIRE_LIMITS,
    Limits,
)

BOOL = header(b"a", 0)  # 3 bytes: the smallest header


# ---------------------------------------------------------------- the value itself


def test_limits_are_validated_when_built() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.max_headers == DEFAULT_MAX_HEADERS == 1024
    assert Limits(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF, MAX_WIRE_HEADERS) == WIRE_LIMITS
    for bad in ({"max_payload": -1}, {"max_header_value": 65536}, {"max_headers": -1},
                {"max_header_block": 1 << 32}, {"max_headers": MAX_WIRE_HEADERS + 1}):  # fmt: skip
        with pytest.raises(ValueError, match=next(iter(bad))):
            Limits(**bad)
    for bad_type in ({"max_payload": 1.0}, {"max_headers": True}, {"max_header_value": "9"}):
        with pytest.raises(TypeError, match=next(iter(bad_type))):
            Limits(**bad_type)  # type: ignore[arg-type]
    assert Limits.checked(max_headers=7) == Limits(max_headers=7)


def test_limits_are_immutable_and_replace_validates() -> None:
    limits = Limits(max_headers=5)
    with pytest.raises(AttributeError):
        limits.max_headers = 6  # type: ignore[misc]
    assert limits._replace(max_headers=6) == Limits(max_headers=6)
    with pytest.raises(ValueError):
        limits._replace(max_headers=-6)
    assert pickle.loads(pickle.dumps(limits)) == limits
    assert copy.copy(limits) is limits and copy.deepcopy(limits) is limits
    assert hash(limits) == hash(Limits(max_headers=5))


def test_decode_rejects_limits_that_are_not_limits(backend: str) -> None:
    wire = eventstream.encode(eventstream.Message({"a": 1}))
    with pytest.raises(TypeError):
        eventstream.decode(wire, limits=(1, 2, 3, 4))  # type: ignore[arg-type]


# ---------------------------------------------------------------- max_headers


def _many_headers(count: int) -> bytes:
    return frame(BOOL * count, b"payload")


def test_1025_headers_exceed_the_default_limit_and_decode_under_the_wire_preset(
    backend: str,
) -> None:
    ok = eventstream.decode(_many_headers(1024))
    assert len(ok.headers) == 1024
    wire = _many_headers(1025)
    with pytest.raises(errors.LimitExceededError) as info:
        eventstream.decode(wire)
    err = info.value
    assert err.code == "header_count_limit"
    assert err.offset == 12 + 3 * 1024 and err.frame_offset == 0
    assert "header 1025 exceeds the limit of 1024 headers per message" in str(err)
    message = eventstream.decode(wire, limits=WIRE_LIMITS)
    assert len(message.headers) == 1025 and message.payload == b"payload"


def test_the_header_count_in_a_stream_at_any_chunking(backend: str) -> None:
    first = frame(header(b"n", 2, b"\x01"), b"x")
    wire = first + _many_headers(1025)
    for size in (1, 7, 509, 4096, len(wire)):
        decoder = eventstream.Decoder()
        got = []
        with pytest.raises(errors.LimitExceededError) as info:
            for i in range(0, len(wire), size):
                got += decoder.feed(wire[i : i + size])
        got += info.value.messages
        assert len(got) == 1
        assert info.value.offset == len(first) + 12 + 3 * 1024
        assert info.value.frame_offset == len(first)
        assert decoder.pending == wire[len(first) :]
    decoder = eventstream.Decoder(WIRE_LIMITS)
    assert [len(m.headers) for m in decoder.feed(wire)] == [1, 1025]


def test_the_header_count_is_checked_before_the_faulty_header(backend: str) -> None:
    # Under max_headers=2 the third header is reported by count, whatever it holds.
    limits = Limits(max_headers=2)
    broken = BOOL * 2 + header(b"", 0)  # name length 0
    with pytest.raises(errors.LimitExceededError) as info:
        eventstream.decode(frame(broken), limits=limits)
    assert info.value.offset == 12 + 6
    with pytest.raises(errors.MalformedHeaderError):
        eventstream.decode(frame(broken), limits=Limits(max_headers=3))
    assert eventstream.decode(frame(b""), limits=Limits(max_headers=0)).headers == ()
    with pytest.raises(errors.LimitExceededError):
        eventstream.decode(frame(BOOL), limits=Limits(max_headers=0))


def test_header_blocks_of_more_than_512_headers_decode_alike(backend: str) -> None:
    # Blocks that are too big for the batch call's descriptor array are walked in
    # their own call (once); faults in them keep their offsets.
    names = b"".join(header(b"h%04d" % i, 7, string_value(b"v%d" % i)) for i in range(900))
    wire = frame(names, b"p") * 3
    messages = eventstream.Decoder(WIRE_LIMITS).feed(wire)
    assert [len(m.headers) for m in messages] == [900] * 3
    assert messages[0].headers[899].value == "v899"
    bad = frame(names + header(b"x", 11), b"p")
    with pytest.raises(errors.UnknownHeaderTypeError) as info:
        eventstream.Decoder(WIRE_LIMITS).feed(wire + bad)
    assert info.value.offset == len(wire) + 12 + len(names) + 2


def test_blocks_of_more_headers_than_the_scratch_holds_decode_alike(backend: str) -> None:
    # 1,100 headers: more than the C backend's pooled descriptor rows (1,024), so
    # walk_headers walks the block into an array of its own; a fault there keeps its
    # stream offset.
    names = b"".join(header(b"h%04d" % i, 0) for i in range(1100))
    wire = frame(names, b"p") * 2
    messages = eventstream.Decoder(WIRE_LIMITS).feed(wire)
    assert [len(m.headers) for m in messages] == [1100] * 2
    assert messages[1].headers[1099].name == "h1099"
    assert eventstream.decode(frame(names, b"p"), limits=WIRE_LIMITS).headers == messages[0].headers
    bad = frame(names + header(b"x", 11), b"p")
    with pytest.raises(errors.UnknownHeaderTypeError) as info:
        eventstream.Decoder(WIRE_LIMITS).feed(wire + bad)
    assert info.value.offset == len(wire) + 12 + len(names) + 2
    with pytest.raises(errors.UnknownHeaderTypeError) as info:
        eventstream.decode(bad, limits=WIRE_LIMITS)
    assert info.value.offset == 12 + len(names) + 2


def test_encode_keeps_to_the_header_count(backend: str) -> None:
    message = eventstream.Message({f"h{i}": True for i in range(3)})
    with pytest.raises(errors.HeadersTooLargeError, match="3 headers exceed the limit of 2"):
        eventstream.encode(message, limits=Limits(max_headers=2))
    limits = Limits(max_headers=3)
    assert eventstream.decode(eventstream.encode(message, limits=limits), limits=limits) == message


# ---------------------------------------------------------------- caches per Limits


def test_a_stricter_limit_is_never_skipped_by_a_cached_block(backend: str) -> None:
    wire = frame(header(b"s", 7, string_value(b"abcdef")), b"p")
    assert eventstream.decode(wire).headers["s"] == "abcdef"  # cached under the defaults
    for strict in (Limits(max_header_value=3), Limits(max_headers=0)):
        with pytest.raises(errors.LimitExceededError):
            eventstream.decode(wire, limits=strict)
        decoder = eventstream.Decoder(strict)
        with pytest.raises(errors.LimitExceededError):
            decoder.feed(wire + wire)
    assert eventstream.decode(wire, limits=Limits(max_header_value=6)).headers["s"] == "abcdef"


def test_one_cache_per_limits_value_and_a_bounded_number_of_them() -> None:
    a, b = Limits(max_header_value=100), Limits(max_header_value=100)
    assert _assemble.decode_cache_for(a) is _assemble.decode_cache_for(b)
    assert _assemble.decode_cache_for(Limits()) is _assemble.decode_cache_for(DEFAULT_LIMITS)
    for value in range(200):
        _assemble.decode_cache_for(Limits(max_header_value=value))
    assert len(_assemble._decode_caches) <= _assemble.MAX_CACHES


def _fill(limits: Limits, count: int) -> None:
    for i in range(count):
        eventstream.decode(frame(header(b"k", 7, string_value(b"%06d" % i)) + BOOL), limits=limits)


def test_many_distinct_limits_keep_bounded_memory_and_clear_frees_it(backend: str) -> None:
    """Issue 16 item 12: 200 distinct limits kept 416 MB, 336 MB after clear()."""
    tracemalloc = pytest.importorskip("tracemalloc")  # not on PyPy
    _header_cache.clear()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        _fill(Limits(max_header_value=1000), _assemble.MAX_ENTRIES)
        one = tracemalloc.get_traced_memory()[0] - base
        for value in range(16):  # twice the caches kept
            _fill(Limits(max_header_value=2000 + value), _assemble.MAX_ENTRIES)
        many = tracemalloc.get_traced_memory()[0] - base
        _header_cache.clear()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert one > 100_000  # the caches did fill
    assert many < (_assemble.MAX_CACHES + 2) * one, (one, many)
    assert after < 64 * 1024, after
