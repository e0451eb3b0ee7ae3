"""One-shot decoding: every header type, every fault with its class and offset."""

from __future__ import annotations

import struct
import uuid
import zlib
from types import SimpleNamespace
from typing import Any

import pytest
from _frames import frame, header, string_value

import eventstream
from eventstream import (
    DecodeError,
    EventStreamError,
    Header,
    HeaderType,
    InvalidLengthError,
    LimitExceededError,
    Limits,
    MalformedHeaderError,
    MessageChecksumError,
    PreludeChecksumError,
    TrailingDataError,
    TruncatedStreamError,
    UnknownHeaderTypeError,
    _active,
)

pytestmark = pytest.mark.usefixtures("backend")


def test_every_header_type_decodes_to_its_exact_value():
    block = b"".join(
        [
            header(b"t", 0),
            header(b"f", 1),
            header(b"i8", 2, b"\xcf"),
            header(b"i16", 3, struct.pack(">h", -32768)),
            header(b"i32", 4, struct.pack(">i", 2**31 - 1)),
            header(b"i64", 5, struct.pack(">q", -(2**63))),
            header(b"b", 6, string_value(b"\x00\xff")),
            header(b"s", 7, string_value("h\u00e9llo \u2603".encode())),
            header(b"ts", 8, struct.pack(">q", 1089164711544)),
            header(b"u", 9, bytes(range(16))),
        ]
    )
    message = eventstream.decode(frame(block, b"payload"))
    assert list(message.headers) == [
        Header("t", HeaderType.BOOL_TRUE, True),
        Header("f", HeaderType.BOOL_FALSE, False),
        Header("i8", HeaderType.BYTE, -49),
        Header("i16", HeaderType.INT16, -32768),
        Header("i32", HeaderType.INT32, 2**31 - 1),
        Header("i64", HeaderType.INT64, -(2**63)),
        Header("b", HeaderType.BYTES, b"\x00\xff"),
        Header("s", HeaderType.STRING, "h\u00e9llo \u2603"),
        Header("ts", HeaderType.TIMESTAMP, 1089164711544),
        Header("u", HeaderType.UUID, uuid.UUID(bytes=bytes(range(16)))),
    ]
    assert [type(h.value) for h in message.headers][:6] == [bool, bool, int, int, int, int]
    assert all(type(h.type) is HeaderType for h in message.headers)
    assert message.payload == b"payload"
    assert type(message.payload) is bytes


def test_empty_values_long_names_and_duplicates_are_kept():
    name = b"n" * 255
    block = (
        header(name, 7, string_value(b""))
        + header(b"x", 6, string_value(b""))
        + header(b"x", 4, b"\x00\x00\x00\x01")
    )
    message = eventstream.decode(frame(block))
    assert message.headers[0] == Header(name.decode(), HeaderType.STRING, "")
    assert message.headers.get_all("x") == [b"", 1]
    assert message.headers["x"] == b""
    assert eventstream.encode(message) == frame(block)


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_decode_accepts_any_byte_buffer(kind):
    raw = frame(header(b"a", 7, string_value(b"b")), b"xyz")
    message = eventstream.decode(kind(raw))
    assert message.headers["a"] == "b"
    assert message.payload == b"xyz" and type(message.payload) is bytes


def test_decode_rejects_non_buffers_with_type_error():
    with pytest.raises(TypeError):
        eventstream.decode("not bytes")  # type: ignore[arg-type]


VALID = frame(header(b"k", 7, string_value(b"v")), b"{}")


def _block_fault(block: bytes, limits: Limits = eventstream.DEFAULT_LIMITS):
    with pytest.raises(DecodeError) as info:
        eventstream.decode(frame(block, b"p"), limits=limits)
    return info.value


def test_prelude_checksum_mismatch_names_both_values():
    error = pytest.raises(
        PreludeChecksumError, eventstream.decode, frame(prelude_crc=0xDEADBEEF)
    ).value
    actual = zlib.crc32(struct.pack(">II", 16, 0))
    assert (error.offset, error.frame_offset, error.code) == (8, 0, "prelude_crc")
    assert (error.expected, error.actual) == (0xDEADBEEF, actual)
    assert "0xDEADBEEF" in str(error) and f"0x{actual:08X}" in str(error)
    assert "at byte 8" in str(error)


def test_message_checksum_mismatch_points_at_the_crc_field():
    raw = frame(b"", b"abc", message_crc=0x01020304)
    error = pytest.raises(MessageChecksumError, eventstream.decode, raw).value
    assert (error.offset, error.code, error.expected) == (len(raw) - 4, "message_crc", 0x01020304)
    assert error.actual == zlib.crc32(raw[:-4])


@pytest.mark.parametrize("total", [0, 1, 12, 15])
def test_total_length_below_16_is_an_invalid_length(total):
    raw = frame(total_length=total)
    error = pytest.raises(InvalidLengthError, eventstream.decode, raw).value
    assert (error.offset, error.code) == (0, "message_too_short")


def test_headers_length_past_the_message_is_an_invalid_length():
    error = pytest.raises(
        InvalidLengthError, eventstream.decode, frame(b"", b"ab", headers_length=3)
    ).value
    assert (error.offset, error.code) == (4, "headers_length")
    assert "headers_length 3" in str(error)


def test_limits_apply_before_waiting_for_the_body():
    limits = Limits(max_payload=2, max_header_block=3)
    error = pytest.raises(
        LimitExceededError, eventstream.decode, frame(b"", b"abc"), limits=limits
    ).value
    assert (error.offset, error.code) == (0, "payload_limit")
    error = pytest.raises(
        LimitExceededError, eventstream.decode, frame(header(b"ab", 0)), limits=limits
    ).value
    assert (error.offset, error.code) == (4, "headers_limit")
    assert eventstream.decode(frame(header(b"a", 0), b"ab"), limits=limits).payload == b"ab"


def test_a_4_gib_prelude_is_rejected_from_its_12_bytes():
    prelude = struct.pack(">II", 0xFFFFFFFF, 0)
    raw = prelude + struct.pack(">I", zlib.crc32(prelude))
    error = pytest.raises(LimitExceededError, eventstream.decode, raw).value
    assert error.code == "payload_limit"
    decoder = eventstream.Decoder()
    with pytest.raises(LimitExceededError):
        decoder.feed(raw)
    assert decoder.pending == raw


@pytest.mark.parametrize(
    "block, error_class, code, offset, detail",
    [
        (b"\x00\x00", MalformedHeaderError, "header_name_empty", 12, "length is 0"),
        (b"\x05ab", MalformedHeaderError, "header_name_overrun", 12, "5 bytes runs past"),
        (header(b"\xff", 0), MalformedHeaderError, "header_name_utf8", 13, "UTF-8"),
        (b"\x01a", MalformedHeaderError, "header_type_missing", 14, "type byte"),
        (header(b"a", 10), UnknownHeaderTypeError, "header_type_unknown", 14, "type 10"),
        (header(b"a", 255), UnknownHeaderTypeError, "header_type_unknown", 14, "type 255"),
        (
            header(b"a", 4, b"\x00\x00"),
            MalformedHeaderError,
            "header_value_overrun",
            15,
            "needs 4 bytes",
        ),
        (
            header(b"a", 9, b"\x00" * 15),
            MalformedHeaderError,
            "header_value_overrun",
            15,
            "needs 16",
        ),
        (
            header(b"a", 7, b"\x00"),
            MalformedHeaderError,
            "header_value_overrun",
            15,
            "needs 2 bytes",
        ),
        (
            header(b"a", 7, b"\x00\x05ab"),
            MalformedHeaderError,
            "header_value_overrun",
            15,
            "needs 7",
        ),
        (
            header(b"a", 6, struct.pack(">H", 40000)),
            LimitExceededError,
            "header_value_limit",
            15,
            "40000 bytes",
        ),
        (
            header(b"a", 7, string_value(b"\xc0\x80")),
            MalformedHeaderError,
            "header_value_utf8",
            17,
            "UTF-8",
        ),
        (
            header(b"a", 7, string_value(b"\xed\xa0\x80")),
            MalformedHeaderError,
            "header_value_utf8",
            17,
            "UTF-8",
        ),
        (header(b"ok", 0) + b"\x00", MalformedHeaderError, "header_name_empty", 16, "length is 0"),
    ],
)
def test_header_faults_name_the_field_and_its_byte(block, error_class, code, offset, detail):
    error = _block_fault(block)
    assert type(error) is error_class
    assert (error.code, error.offset, error.frame_offset) == (code, offset, 0)
    assert detail in str(error)


def test_the_header_value_limit_is_configurable():
    block = header(b"a", 6, string_value(b"x" * 5))
    assert _block_fault(block, Limits(max_header_value=4)).code == "header_value_limit"
    assert (
        eventstream.decode(frame(block), limits=Limits(max_header_value=5)).headers["a"] == b"xxxxx"
    )
    # A block cached under a looser limit must not bypass a stricter one.
    assert _block_fault(block, Limits(max_header_value=4)).code == "header_value_limit"


def test_a_header_cached_alone_does_not_bypass_a_stricter_limit_or_utf8_check():
    from eventstream import _assemble

    tag = header(b":event-type", 7, string_value(b"Transcript"))
    loose = frame(tag + header(b"n", 4, struct.pack(">i", 1)))
    assert eventstream.decode(loose).headers[":event-type"] == "Transcript"
    assert tag in _assemble.header_cache  # cached on its own wire bytes
    # The same header in a new block, under a limit it exceeds: still rejected.
    block = tag + header(b"n", 4, struct.pack(">i", 2))
    fault = _block_fault(block, Limits(max_header_value=9))
    assert (fault.code, fault.offset) == ("header_value_limit", 12 + 1 + 11 + 1)
    # And a header that differs from a cached one in a byte is decoded afresh.
    bad = header(b":event-type", 7, string_value(b"Transcrip\xff"))
    assert _block_fault(bad).code == "header_value_utf8"


def test_blocks_of_more_headers_than_a_scratch_array_holds():
    # 700 headers: more than the C backend's pooled descriptor array (512).
    block = b"".join(header(b"%c" % (65 + i % 26), i % 2, b"") for i in range(700))
    headers = eventstream.decode(frame(block)).headers
    assert [h.value for h in headers] == [i % 2 == 0 for i in range(700)]
    bad = block[: 3 * 600] + b"\x01A\x0c" + block[3 * 601 :]
    fault = _block_fault(bad)
    assert (fault.code, fault.offset) == ("header_type_unknown", 12 + 3 * 600 + 2)


def test_the_single_header_cache_stays_bounded():
    from eventstream import _assemble

    for i in range(3 * _assemble.MAX_HEADER_ENTRIES):
        block = header(b"id", 7, string_value(b"%08d" % i)) + header(b"ok", 0, b"")
        assert eventstream.decode(frame(block)).headers["id"] == f"{i:08d}"
        assert len(_assemble.header_cache) <= _assemble.MAX_HEADER_ENTRIES
    big = header(b"big", 6, string_value(b"x" * _assemble.MAX_HEADER_BYTES))
    eventstream.decode(frame(big))
    assert big not in _assemble.header_cache


def test_a_value_of_32767_bytes_decodes_and_one_more_is_over_the_limit():
    fits = header(b"a", 7, string_value(b"x" * 32767))
    assert eventstream.decode(frame(fits)).headers["a"] == "x" * 32767
    over = header(b"a", 7, string_value(b"x" * 32768))
    assert _block_fault(over).code == "header_value_limit"
    assert (
        eventstream.decode(frame(over), limits=Limits(max_header_value=65535)).headers["a"]
        == "x" * 32768
    )


def test_trailing_bytes_are_an_error_at_their_offset():
    error = pytest.raises(TrailingDataError, eventstream.decode, VALID + b"\x00").value
    assert (error.offset, error.code) == (len(VALID), "trailing_data")
    with pytest.raises(TrailingDataError):
        eventstream.decode(VALID + VALID)


@pytest.mark.parametrize("cut", range(len(VALID)))
def test_every_truncation_is_a_truncated_stream_error(cut):
    error = pytest.raises(TruncatedStreamError, eventstream.decode, VALID[:cut]).value
    assert (error.offset, error.frame_offset, error.code) == (cut, 0, "truncated")
    assert f"{cut} bytes present" in str(error)
    if cut >= 12:
        assert f"of {len(VALID)}" in str(error)


def test_errors_are_value_errors_of_one_base():
    error = pytest.raises(EventStreamError, eventstream.decode, b'{"message": "denied"}').value
    assert isinstance(error, ValueError) and isinstance(error, DecodeError)


def test_a_repeated_header_block_is_matched_in_place_and_only_under_its_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eventstream import _assemble

    _assemble.clear()
    block = header(b":event-type", 7, string_value(b"Transcript")) + header(b"n", 2, b"\x05")
    messages = [frame(block, b"payload %d" % i) for i in range(4)]
    real_check_one = _active.backend.check_one
    returned = []

    def check_one(*args: Any) -> int:
        returned.append(real_check_one(*args))
        return returned[-1]

    monkeypatch.setattr(_active, "backend", SimpleNamespace(**vars(_active.backend)))
    monkeypatch.setattr(_active.backend, "check_one", check_one)
    first, second, *rest = (eventstream.decode(m) for m in messages)
    cache = _assemble.decode_cache_for(eventstream.DEFAULT_LIMITS)
    # Walked once, found in the cache once: then it is the cache's last block, and
    # the messages after it are matched in place (the payload start negated) and
    # share its Headers without a lookup.
    assert returned == [12 + len(block)] * 2 + [-(12 + len(block))] * 2
    assert cache.last[0] == block and cache.last[2] is second.headers
    assert all(m.headers is second.headers for m in rest)
    assert [m.payload for m in (first, second, *rest)] == [b"payload %d" % i for i in range(4)]
    # Another block of the same length is not mistaken for it.
    other = header(b":event-type", 7, string_value(b"Transcripu")) + header(b"n", 2, b"\x05")
    assert eventstream.decode(frame(other)).headers[":event-type"] == "Transcripu"
    # Stricter limits have their own cache and last block: the limit still applies.
    with pytest.raises(LimitExceededError):
        eventstream.decode(messages[0], limits=Limits(max_header_value=9))
    # A message whose block matches but whose CRC does not is still rejected.
    broken = bytearray(messages[1])
    broken[-1] ^= 1
    with pytest.raises(MessageChecksumError):
        eventstream.decode(bytes(broken))
    # copy=False gives a view of the same payload.
    view = eventstream.decode(messages[2], copy=False)
    assert view.headers is second.headers and bytes(view.payload) == b"payload 2"
    _assemble.clear()
    assert cache.last[1] == 0  # cleared with the cache


def test_the_decoders_messages_share_a_repeated_blocks_headers():
    from eventstream import _assemble

    _assemble.clear()
    block = header(b":message-type", 7, string_value(b"event"))
    decoder = eventstream.Decoder()
    out = []
    for i in range(4):
        out += decoder.feed(frame(block, b"%d" % i))
    assert [m.payload for m in out] == [b"0", b"1", b"2", b"3"]
    assert all(m.headers[":message-type"] == "event" for m in out)
    assert len({id(m.headers) for m in out}) == 1


def test_blocks_that_share_a_lead_of_string_headers_decode_each_their_own_tail():
    from eventstream import _assemble

    _assemble.clear()
    lead = header(b":event-type", 7, string_value(b"Transcript")) + header(b"ok", 0, b"")
    decoded = []
    for i in range(3):
        tail = header(b"id", 9, bytes([i]) * 16) + header(b"n", 5, struct.pack(">q", -i))
        decoded.append(eventstream.decode(frame(lead + tail, b"%d" % i)))
    for i, m in enumerate(decoded):
        assert list(m.headers) == [
            Header(":event-type", HeaderType.STRING, "Transcript"),
            Header("ok", HeaderType.BOOL_TRUE, True),
            Header("id", HeaderType.UUID, uuid.UUID(bytes=bytes([i]) * 16)),
            Header("n", HeaderType.INT64, -i),
        ]
        assert type(m.headers[2]) is Header and type(m.headers["id"]) is uuid.UUID
    # The lead's headers are shared, the tails are not.
    assert decoded[1].headers[0] is decoded[2].headers[0]
    assert _assemble._last_lead[0][0] == lead
    # The same lead before a header that fails: that header's fault.
    bad = lead + header(b"n", 4, b"\x00\x01")
    fault = _block_fault(bad)
    assert (fault.code, fault.offset) == ("header_value_overrun", 12 + len(lead) + 3)
    bad = lead + header(b"\xff", 5, bytes(8))
    fault = _block_fault(bad)
    assert (fault.code, fault.offset) == ("header_name_utf8", 12 + len(lead) + 1)
    # ... and under a limit its string exceeds, or a header count it exceeds.
    tail = header(b"n", 5, bytes(8))
    fault = _block_fault(lead + tail, Limits(max_header_value=9))
    assert (fault.code, fault.offset) == ("header_value_limit", 12 + 1 + 11 + 1)
    fault = _block_fault(lead + tail, Limits(max_headers=2))
    assert (fault.code, fault.offset) == ("header_count_limit", 12 + len(lead))
    # A block that is a shorter prefix of the lead, or differs in it, is its own.
    other = header(b":event-type", 7, string_value(b"Transcripu")) + header(b"ok", 0, b"")
    m = eventstream.decode(frame(other + tail))
    assert m.headers[":event-type"] == "Transcripu" and m.headers["ok"] is True
    m = eventstream.decode(frame(lead[:-4] + tail))
    assert list(m.headers.names()) == [":event-type", "n"]
