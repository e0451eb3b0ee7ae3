"""encode(Message(dict)) on the paths a client takes, held to a byte-by-byte reference.

Message() encodes the header block of a dict in the same pass that infers its
types, remembers the last all-str dict by the identity of its strs, and
encode() finds the block it just built by the identity of the Headers.  These
tests check the bytes against an encoder written out here from the format, in
every order of building and encoding, on both backends.
"""

from __future__ import annotations

import datetime
import struct
import uuid
from typing import Any, Dict, List, Tuple

import pytest
from _frames import frame
from _threads import run_together
from hypothesis import given
from hypothesis import strategies as st
from strategies import aware_datetimes

import eventstream as es
from eventstream import Header, HeaderType, Message, timestamp_from_datetime

UTC = datetime.timezone.utc


def _wire_value(htype: HeaderType, value: Any) -> bytes:
    """The value bytes of one header, from the format's table of types."""
    if htype in (HeaderType.BOOL_TRUE, HeaderType.BOOL_FALSE):
        return b""
    if htype is HeaderType.STRING:
        data = value.encode("utf-8")
        return struct.pack(">H", len(data)) + data
    if htype is HeaderType.BYTES:
        return struct.pack(">H", len(value)) + value
    if htype is HeaderType.UUID:
        return value.bytes  # type: ignore[no-any-return]
    fmt = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}[int(htype)]
    return struct.pack(fmt, value)


def reference(headers: List[Tuple[str, HeaderType, Any]], payload: bytes) -> bytes:
    block = b"".join(
        bytes([len(name.encode())]) + name.encode() + bytes([htype]) + _wire_value(htype, value)
        for name, htype, value in headers
    )
    return frame(block, payload)


def reference_of_dict(values: Dict[str, Any], payload: bytes) -> bytes:
    return reference([tuple(Header.infer(n, v)) for n, v in values.items()], payload)


# Values of every kind a dict may hold, on the fast path and off it.
dict_values = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="abc\u00e9", max_size=10),
    st.binary(max_size=40),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    aware_datetimes,
    st.builds(lambda raw: uuid.UUID(bytes=raw), st.binary(min_size=16, max_size=16)),
    st.tuples(st.just(HeaderType.INT16), st.integers(-(2**15), 2**15 - 1)),
    st.builds(bytearray, st.binary(max_size=8)),
)
dict_names = st.one_of(
    st.sampled_from([":date", ":chunk-signature", ":event-type", "n", "\u00e9t\u00e9"]),
    st.text(alphabet="xyz:-", min_size=1, max_size=12),
)


@pytest.mark.usefixtures("backend")
@given(
    st.lists(st.dictionaries(dict_names, dict_values, max_size=5), min_size=1, max_size=4),
    st.binary(max_size=64),
)
def test_dicts_encode_like_the_reference_in_any_build_order(
    dicts: List[Dict[str, Any]], payload: bytes
) -> None:
    # Built one after the other, then encoded in reverse: only the last one's
    # block is the one Message() left for encode(); the others are encoded anew.
    messages = [Message(values, payload) for values in dicts]
    for values, message in reversed(list(zip(dicts, messages))):
        assert es.encode(message) == reference_of_dict(values, payload)
    for values in dicts:  # and built and encoded at once, as a client does
        assert es.encode(Message(values, payload)) == reference_of_dict(values, payload)
        assert es.encode(Message(dict(values), payload)) == reference_of_dict(values, payload)


def test_the_same_dict_literal_per_chunk(backend: str) -> None:
    pcm = bytes(range(256)) * 4
    first = Message({":message-type": "event", ":event-type": "AudioEvent"}, pcm)
    for i in range(3):
        m = Message({":message-type": "event", ":event-type": "AudioEvent"}, pcm[i:])
        assert m.headers is first.headers  # recognised, not rebuilt
        assert es.encode(m) == reference_of_dict(dict(m.headers), pcm[i:])
    # Equal strs that are other objects, and one value changed: still the right bytes.
    other = "".join(["Audio", "Event"])
    for values in (
        {":message-type": "event", ":event-type": other},
        {":message-type": "event", ":event-type": "TranscriptEvent"},
        {":event-type": "AudioEvent", ":message-type": "event"},  # other order
        {":message-type": "event"},
        {},
    ):
        m = Message(values, b"x")
        assert list(m.headers) == [Header.infer(n, v) for n, v in values.items()]
        assert es.encode(m) == reference_of_dict(values, b"x")


def test_a_header_list_message_between_build_and_encode(backend: str) -> None:
    built = Message({":date": datetime.datetime(2026, 1, 2, tzinfo=UTC), "k": b"v"}, b"p")
    listed = Message([Header.int16("r", 3), Header.string("k", "w")], b"q")
    assert es.encode(listed) == reference(
        [("r", HeaderType.INT16, 3), ("k", HeaderType.STRING, "w")], b"q"
    )
    assert es.encode(built) == reference_of_dict(
        {":date": datetime.datetime(2026, 1, 2, tzinfo=UTC), "k": b"v"}, b"p"
    )


def test_limits_still_apply_to_a_block_built_from_a_dict(backend: str) -> None:
    message = Message({"k": "v" * 40000}, b"")  # over the default 32,767 value limit
    try:
        es.encode(message)
    except es.ValueTooLongError as exc:
        assert "40000" in str(exc)
    else:
        raise AssertionError("encode() accepted a value over the default limit")
    wide = es.Limits(max_header_value=65535)
    assert es.encode(message, limits=wide) == reference_of_dict({"k": "v" * 40000}, b"")


def test_threads_building_and_encoding_their_own_dicts(backend: str) -> None:
    def work(k: int) -> None:
        values: Dict[str, Any] = {":event-type": f"Event{k}", "n": k, "sig": bytes([k]) * 32}
        want = reference_of_dict(values, b"p%d" % k)
        for _ in range(2000):
            assert es.encode(Message(dict(values), b"p%d" % k)) == want
            assert es.encode(Message({":event-type": f"Event{k}"}, b"")) == reference_of_dict(
                {":event-type": f"Event{k}"}, b""
            )

    run_together(work)


@given(aware_datetimes)
def test_timestamp_from_datetime_is_the_exact_floor(value: datetime.datetime) -> None:
    epoch = datetime.datetime(1970, 1, 1, tzinfo=UTC)
    exact = (value - epoch) // datetime.timedelta(milliseconds=1)
    assert timestamp_from_datetime(value) == exact
    assert Message({"d": value}).headers.get_timestamp("d") == exact


def test_timestamp_edges() -> None:
    for value, ms in [
        (datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), -1),
        (datetime.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), -1),
        (datetime.datetime(1969, 12, 31, 23, 59, 59, 998999, tzinfo=UTC), -2),
        (datetime.datetime(1970, 1, 1, 0, 0, 0, 999, tzinfo=UTC), 0),
        (datetime.datetime(1, 1, 1, tzinfo=UTC), -62135596800000),
        (datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 253402300799999),
    ]:
        assert timestamp_from_datetime(value) == ms
        assert Message({"d": value}).headers.get_timestamp("d") == ms


def test_encode_frame_with_a_repeated_block_and_a_changing_one(backend: str) -> None:
    from eventstream import _active

    encode_frame = _active.backend.encode_frame
    block = reference([("k", HeaderType.STRING, "v")], b"")[12:-4]
    for payload in (b"a", b"bb", b"a", b"", b"cc" * 100, b"a"):  # same block, lengths vary
        for _ in range(3):
            assert encode_frame(block, payload) == frame(block, payload)
    mutable = bytearray(block)
    for _ in range(3):
        assert encode_frame(mutable, b"p") == frame(bytes(mutable), b"p")
    mutable[-1:] = b"w"  # the same object with other bytes: no stale head
    for _ in range(3):
        assert encode_frame(mutable, b"p") == frame(bytes(mutable), b"p")


# ---------------------------------------------------------------- the frame-head memo
# encode() starts the frame of a block that is encoded again (its entry kept by a
# cache or the last-dict slot) from the head kept with it for the last payload
# length; a block built for one message (a dict with other than str values) keeps
# no head.  These tests check the bytes on every path through that memo: hits, a
# changed chunk size, blocks met once between hits, blocks too big to keep a head
# of, and explicit limits.

AUDIO = {":message-type": "event", ":event-type": "AudioEvent", ":content-type": "x"}


def _kept_head(message: Message) -> Any:
    """The head memo slot of the block encode() used for ``message`` last."""
    from eventstream import types

    last = types.last_encoded[0]
    assert last[0] is message.headers
    heads = last[1][4]
    return None if heads is None else heads[0]


def test_a_signed_stream_through_the_head_memo(backend: str) -> None:
    # A Transcribe client: an audio message (one dict literal, one chunk size but
    # a short last chunk), framed in a message with a new date and signature.
    sizes = [3200] * 5 + [700, 3200, 10, 0, 3200, 600, 600]
    for k, size in enumerate(sizes):
        pcm = bytes([k]) * size
        audio = Message(dict(AUDIO), pcm)
        inner = es.encode(audio)
        assert inner == reference_of_dict(AUDIO, pcm)
        # The audio block keeps the head for this size (the signed frame's keeps none).
        assert _kept_head(audio)[:2] == (size, inner[: 12 + len(inner) - 16 - size])
        outer_values = {
            ":date": datetime.datetime(2026, 1, 2, 3, 4, k, tzinfo=UTC),
            ":chunk-signature": bytes([k]) * 32,
        }
        signed = Message(outer_values, inner)
        assert es.encode(signed) == reference_of_dict(outer_values, inner)
        assert _kept_head(signed) is None


@pytest.mark.usefixtures("backend")
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([0, 1, 7, 511, 512, 513, 3200])),
        min_size=1,
        max_size=30,
    )
)
def test_any_order_of_repeated_and_new_blocks(steps: List[Tuple[int, int]]) -> None:
    # Blocks 0-2 are repeated dict literals (the same objects every time), 3 is a new
    # dict each time; payload sizes on both sides of the C backend's zlib crossover.
    literals = [{"a": "x"}, {"b": "y", "c": "z"}, {":event-type": "E" * 40}]
    for k, (which, size) in enumerate(steps):
        payload = bytes([k % 256]) * size
        values: Dict[str, Any] = dict(literals[which]) if which < 3 else {"n": k, "s": b"s" * k}
        assert es.encode(Message(values, payload)) == reference_of_dict(values, payload)


def test_a_block_built_from_header_lists_every_time(backend: str) -> None:
    # New Headers objects each time, equal in value: the encode cache hands out one
    # block object, which the memo then finds by identity.
    for k in range(6):
        headers = [Header.int16("retry", 3), Header.string(":event-type", "E")]
        payload = b"p" * (100 + k % 2)
        assert es.encode(Message(headers, payload)) == reference(
            [("retry", HeaderType.INT16, 3), (":event-type", HeaderType.STRING, "E")], payload
        )


def test_a_dict_mutated_between_encodes(backend: str) -> None:
    values: Dict[str, Any] = {":event-type": "A", "n": "1"}
    for k in range(8):
        if k % 3 == 2:
            values["n"] = str(k)  # same dict object, other value
        if k == 5:
            values["extra"] = "x"
        if k == 6:
            del values["extra"]
        payload = b"p" * 600
        assert es.encode(Message(values, payload)) == reference_of_dict(values, payload)


def test_memoised_heads_with_explicit_limits(backend: str) -> None:
    wide = es.Limits(max_header_value=65535, max_payload=64 << 20)
    big_value = {"k": "v" * 40000}  # over the default value limit, within `wide`
    for size in (3200, 3200, 3200, 100):
        payload = b"q" * size
        message = Message(big_value, payload)
        assert es.encode(message, limits=wide) == reference_of_dict(big_value, payload)
        with pytest.raises(es.ValueTooLongError):
            es.encode(message)
    tight = es.Limits(max_payload=1000)
    small = Message(dict(AUDIO), b"r" * 3200)
    es.encode(small)
    es.encode(small)  # memoised now
    with pytest.raises(es.PayloadTooLargeError):
        es.encode(small, limits=tight)


def test_a_repeated_block_too_big_to_memoise(backend: str) -> None:
    values = {"k": "v" * 3000}  # a block over the memo's 2,048 bytes
    for _ in range(4):
        message = Message(values, b"x" * 700)
        assert es.encode(message) == reference_of_dict(values, b"x" * 700)
        assert _kept_head(message) is None
    listed = [Header.string("k", "v" * 3000)]
    for _ in range(3):
        message = Message(listed, b"y")
        assert es.encode(message) == reference([("k", HeaderType.STRING, "v" * 3000)], b"y")
        assert _kept_head(message) is None


@pytest.mark.c_backend
def test_a_head_kept_on_one_backend_serves_the_other() -> None:
    from eventstream import _active

    payload = b"s" * 3200
    want = reference_of_dict(AUDIO, payload)
    previous = _active.backend
    try:
        kept = None
        for name in ("c", "python", "c", "python"):
            _active.use(name)
            message = Message(dict(AUDIO), payload)
            assert es.encode(message) == want
            # The head the other backend kept for this block and size is used as it is.
            assert kept is None or _kept_head(message) is kept
            kept = _kept_head(message)
            for _ in range(2):
                assert es.encode(Message(dict(AUDIO), payload)) == want
                short = payload[:100]  # below the C backend's zlib crossover
                assert es.encode(Message(dict(AUDIO), short)) == reference_of_dict(AUDIO, short)
            es.encode(Message(dict(AUDIO), payload))  # the head for this size again
            kept = _kept_head(Message(dict(AUDIO), payload))
    finally:
        _active.restore(previous)


def test_threads_signing_frames_of_their_own_sizes(backend: str) -> None:
    # Each thread its own audio block and chunk size, so the one-slot memo is taken
    # over by another thread's head between two of a thread's messages.
    def work(k: int) -> None:
        audio = {":message-type": "event", ":event-type": f"Audio{k}"}
        pcm = bytes([k]) * (600 + 900 * k)
        want_inner = reference_of_dict(audio, pcm)
        for i in range(1500):
            inner = es.encode(Message(dict(audio), pcm))
            assert inner == want_inner
            outer = {
                ":date": datetime.datetime(2026, 1, 1, tzinfo=UTC),
                "sig": bytes([i % 256]) * 32,
            }
            assert es.encode(Message(outer, inner)) == reference_of_dict(outer, inner)

    run_together(work)


def test_a_kept_head_never_skips_the_default_limits(backend: str) -> None:
    from eventstream.limits import DEFAULT_LIMITS

    big = b"b" * (DEFAULT_LIMITS.max_payload + 1)
    wide = es.Limits(max_payload=len(big))
    small = b"s" * 1000
    for _ in range(2):
        assert es.encode(Message(dict(AUDIO), small)) == reference_of_dict(AUDIO, small)
        # The same block (its head kept for 1,000 bytes) with a payload over the
        # default limit: framed under wider limits, refused under the default ones,
        # whichever came first.
        message = Message(dict(AUDIO), big)
        with pytest.raises(es.PayloadTooLargeError):
            es.encode(message)
        assert es.encode(message, limits=wide) == reference_of_dict(AUDIO, big)
        with pytest.raises(es.PayloadTooLargeError):
            es.encode(message)


def test_frames_of_blocks_met_once_with_the_same_lengths(backend: str) -> None:
    # A signer's frames: a new block every time, of one length, around payloads of one
    # length (the Python backend keeps the prelude these lengths make), then others.
    from eventstream import _active

    encode_frame = _active.backend.encode_frame
    for k in range(6):
        block = reference(
            [(":date", HeaderType.TIMESTAMP, k), ("s", HeaderType.BYTES, bytes([k]) * 8)], b""
        )[12:-4]
        payload = bytes([k]) * (64 if k < 4 else 65)
        assert encode_frame(block, payload) == frame(block, payload)
        assert encode_frame(block + b"\x01x\x00", payload) == frame(block + b"\x01x\x00", payload)


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 1000, 65535])
def test_value_lengths_around_the_short_length_table(backend: str, size: int) -> None:
    wide = es.Limits(max_header_value=65535, max_header_block=1 << 20)
    text, raw = "t" * size, b"r" * size
    for values in ({"s": text}, {"s": text, "n": 1}, {"b": raw}, {"b": raw, "s": text}):
        assert es.encode(Message(values, b"p"), limits=wide) == reference_of_dict(values, b"p")
    listed = [Header.string("s", text), Header.binary("b", raw)]
    assert es.encode(Message(listed, b"p"), limits=wide) == reference(
        [("s", HeaderType.STRING, text), ("b", HeaderType.BYTES, raw)], b"p"
    )


class _LikeEveryName(str):
    """A name that hashes like "secret" and claims to equal every string."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return hash("secret")


def test_a_str_subclass_name_cannot_take_a_cached_dicts_block(backend: str) -> None:
    cached = {"secret": "v"}
    for _ in range(2):  # cached, and the last all-str dict
        assert es.encode(Message(dict(cached), b"p")) == reference_of_dict(cached, b"p")
    message = Message({_LikeEveryName("name"): "v"}, b"p")
    assert type(message.headers[0].name) is str
    assert es.encode(message) == reference([("name", HeaderType.STRING, "v")], b"p")
    assert es.encode(Message(dict(cached), b"p")) == reference_of_dict(cached, b"p")
