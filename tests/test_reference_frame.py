"""The reference walk of a whole message (:func:`eventstream._reference.walk_frame`)
agrees with the codec on arbitrary input, on both backends: ``decode()`` raises the
fault the walk puts first (same class, code, offsets, checksums), or returns the
headers and payload the walk read; a ``Decoder`` fed the same bytes in chunks, after
other messages, reports the same faults at the same stream offsets."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import pytest
from _frames import fix_crcs, frame, header, string_value
from hypothesis import given
from hypothesis import strategies as st
from strategies import chunkings, message_bytes, small_limits

import eventstream
from eventstream import _reference as R
from eventstream import errors
from eventstream.limits import DEFAULT_LIMITS, Limits

_any_input = message_bytes() | st.binary(max_size=80)
_limits = small_limits | st.builds(
    lambda p, b: Limits(max_payload=p, max_header_block=b), st.integers(0, 60), st.integers(0, 40)
)


def _headers(walked: R.FrameWalk) -> List[Tuple[str, int, Any]]:
    """``(name, type, value)`` of each header the walk read."""
    out = []
    for field in walked.fields:
        if field.name == "name":
            name = field.value
        elif field.name == "type":
            value_type = field.value
        elif field.name == "value":
            out.append((name, value_type, field.value))
    return out


def _payload(data: bytes, walked: R.FrameWalk) -> bytes:
    (field,) = [f for f in walked.fields if f.name == "payload"]
    return data[field.offset : field.offset + field.length]


def _first_fault(data: bytes, walked: R.FrameWalk, base: int = 0) -> Optional[errors.Fault]:
    """What decode() raises for ``data``: the walk's fault, or trailing bytes."""
    if walked.fault is not None or walked.total_length is None:
        return walked.fault
    extra = len(data) - walked.total_length
    return (
        (errors.FAULT_TRAILING, base + walked.total_length, base + walked.total_length, extra, 0)
        if extra
        else None
    )


def _assert_same_error(error: errors.DecodeError, fault: errors.Fault) -> None:
    expected = errors.fault_error(fault)
    assert isinstance(error, type(expected)), (error, expected)
    assert (error.code, error.offset, error.frame_offset) == (
        expected.code,
        expected.offset,
        expected.frame_offset,
    ), (error, expected)
    if isinstance(expected, errors.ChecksumError):
        assert isinstance(error, errors.ChecksumError)
        assert (error.expected, error.actual) == (expected.expected, expected.actual)


@given(data=_any_input, limits=_limits)
def _check_decode(data: bytes, limits: Limits) -> None:
    walked = R.walk_frame(data, limits)
    fault = _first_fault(data, walked)
    try:
        message = eventstream.decode(data, limits=limits)
    except errors.DecodeError as error:
        assert fault is not None, error
        _assert_same_error(error, fault)
        return
    assert fault is None, fault
    assert _headers(walked) == [(h.name, int(h.type), h.value) for h in message.headers]
    assert _payload(data, walked) == message.payload


def test_the_reference_frame_walk_agrees_with_decode(backend: str) -> None:
    _check_decode()


def _reference_stream(data: bytes, base: int, limits: Limits) -> Tuple[int, Optional[errors.Fault]]:
    """The messages a decoder returns from ``data`` (at stream offset ``base``), and its fault."""
    count = pos = 0
    while pos < len(data):
        walked = R.walk_frame(memoryview(data)[pos:], limits, base + pos)
        if walked.fault is not None:
            return count, walked.fault
        assert walked.total_length is not None
        count += 1
        pos += walked.total_length
    return count, None


@given(draw=st.data(), data=_any_input, limits=_limits)
def _check_decoder(draw: Any, data: bytes, limits: Limits) -> None:
    before = eventstream.encode(eventstream.Message({}, b""))
    stream = before + data
    count, fault = _reference_stream(data, len(before), limits)
    decoder = eventstream.Decoder(limits)
    got: List[eventstream.Message] = []
    try:
        for chunk in draw.draw(chunkings(stream)):
            got.extend(decoder.feed(chunk))
        decoder.close()
    except errors.DecodeError as error:
        got.extend(error.messages)
        assert fault is not None, error
        _assert_same_error(error, fault)
    else:
        assert fault is None, fault
    assert len(got) == 1 + count


def test_the_reference_frame_walk_agrees_with_a_decoder_in_a_stream(backend: str) -> None:
    _check_decoder()


# ------------------------------------------------------------ the fields, one case each

_VALID = frame(header(b"a", 7, string_value(b"xy")) + header(b"t", 0), b"body")


def _names(walked: R.FrameWalk) -> List[Tuple[str, int, int, int]]:
    return [(f.name, f.header, f.offset, f.length) for f in walked.fields]


def test_a_valid_message_field_by_field() -> None:
    walked = R.walk_frame(_VALID, base=100)
    assert walked.fault is walked.header_fault is None
    assert walked.total_length == len(_VALID) == 30
    assert _names(walked) == [
        ("total_length", -1, 100, 4),
        ("headers_length", -1, 104, 4),
        ("prelude_crc", -1, 108, 4),
        ("name_length", 0, 112, 1),
        ("name", 0, 113, 1),
        ("type", 0, 114, 1),
        ("value_length", 0, 115, 2),
        ("value", 0, 117, 2),
        ("name_length", 1, 119, 1),
        ("name", 1, 120, 1),
        ("type", 1, 121, 1),
        ("value", 1, 122, 0),
        ("payload", -1, 122, 4),
        ("message_crc", -1, 126, 4),
    ]
    values = [f.value for f in walked.fields]
    assert values[:2] == [30, 10] and values[3:8] == [1, "a", 7, 2, "xy"]
    assert values[9:13] == ["t", 0, True, None]
    assert all(f.fault is None and f.missing == 0 for f in walked.fields)


@pytest.mark.parametrize(
    ("data", "field", "code", "offset"),
    [
        (_VALID[:5], "prelude", errors.FAULT_TRUNCATED, 5),
        (_VALID[:8] + b"\0\0\0\0", "prelude_crc", errors.FAULT_PRELUDE_CRC, 8),
        (frame(total_length=15), "total_length", errors.FAULT_MESSAGE_TOO_SHORT, 0),
        (frame(headers_length=1), "headers_length", errors.FAULT_HEADERS_LENGTH, 4),
        (_VALID[:20], "header_block", errors.FAULT_TRUNCATED, 20),
        (_VALID[:24], "payload", errors.FAULT_TRUNCATED, 24),
        (_VALID[:28], "message_crc", errors.FAULT_TRUNCATED, 28),
        (_VALID[:-1] + b"\0", "message_crc", errors.FAULT_MESSAGE_CRC, 26),
        (
            fix_crcs(_VALID[:14] + b"\x0b" + _VALID[15:]),
            "type",
            errors.FAULT_HEADER_TYPE_UNKNOWN,
            14,
        ),
    ],
)
def test_each_frame_fault_is_on_its_field(data: bytes, field: str, code: int, offset: int) -> None:
    walked = R.walk_frame(data)
    assert walked.fault is not None
    assert (walked.fault[0], walked.fault[1]) == (code, offset)
    (faulty,) = [f for f in walked.fields if f.fault is not None]
    assert faulty.name == field and faulty.fault == walked.fault


def test_a_truncated_message_names_what_is_missing_and_still_walks_its_headers() -> None:
    cut = fix_crcs(_VALID[:14] + b"\x0b" + _VALID[15:])[:24]
    walked = R.walk_frame(cut)
    assert walked.fault == (errors.FAULT_TRUNCATED, 24, 0, 24, 30)
    assert walked.header_fault == (errors.FAULT_HEADER_TYPE_UNKNOWN, 14, 0, 11, 0)
    payload = walked.fields[-1]
    assert (payload.name, payload.offset, payload.length, payload.missing) == ("payload", 22, 2, 2)
    prelude = R.walk_frame(_VALID[:5]).fields[0]
    assert (prelude.length, prelude.missing) == (5, 7)


def test_a_failed_message_crc_still_walks_the_header_block() -> None:
    data = bytearray(_VALID)
    data[14] = 11  # the type byte; the CRC no longer matches
    walked = R.walk_frame(bytes(data))
    assert walked.fault is not None and walked.fault[0] == errors.FAULT_MESSAGE_CRC
    assert walked.header_fault == (errors.FAULT_HEADER_TYPE_UNKNOWN, 14, 0, 11, 0)


def test_limits_are_checked_before_the_rest_is_there() -> None:
    limits = Limits(max_payload=3)
    walked = R.walk_frame(_VALID[:12], limits)
    assert walked.fault == (errors.FAULT_PAYLOAD_LIMIT, 0, 0, 4, 3)
    assert walked.fields[0].fault == walked.fault
    assert R.walk_frame(_VALID[:12], DEFAULT_LIMITS).fault == (
        errors.FAULT_TRUNCATED,
        12,
        0,
        12,
        30,
    )


def test_the_payload_is_not_copied() -> None:
    big = frame(b"", b"\0" * (1 << 20))
    walked = R.walk_frame(big)
    payload = walked.fields[3]
    assert (payload.name, payload.length, payload.value) == ("payload", 1 << 20, None)
