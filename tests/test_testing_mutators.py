"""eventstream.testing mutators: each broken stream raises the right typed error, on both
backends, and the splitting ones decode to the very same messages."""

from __future__ import annotations

from typing import List

import pytest

import eventstream
from eventstream import testing
from eventstream.errors import (
    DecodeError,
    MessageChecksumError,
    PreludeChecksumError,
    TruncatedStreamError,
)

MESSAGES = [
    testing.initial_response(),
    testing.event("Records", b"a,b\n" * 5, content_type="application/octet-stream"),
    testing.event("Stats", {"BytesScanned": 20}),
]
DATA = testing.stream(MESSAGES)


def _decode(chunks: List[bytes]) -> List[eventstream.Message]:
    return list(eventstream.iter_messages(chunks))


def test_frame_spans() -> None:
    spans = testing.frame_spans(DATA)
    assert len(spans) == 3 and spans[0][0] == 0 and spans[-1][1] == len(DATA)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    with pytest.raises(ValueError, match="stray bytes at offset"):
        testing.frame_spans(DATA + b"xx")
    with pytest.raises(ValueError, match="frame at offset 0 claims"):
        testing.frame_spans(DATA[:20])


def test_every_two_chunk_split_decodes_the_same(backend: str) -> None:
    count = 0
    for chunks in testing.splits(DATA):
        assert b"".join(chunks) == DATA
        assert _decode(chunks) == MESSAGES
        count += 1
    assert count == len(DATA) - 1


def test_random_splits_are_seeded(backend: str) -> None:
    chunks = testing.random_splits(DATA, seed=7, max_chunk=5)
    assert chunks == testing.random_splits(DATA, seed=7, max_chunk=5)
    assert chunks != testing.random_splits(DATA, seed=8, max_chunk=5)
    assert all(1 <= len(c) <= 5 for c in chunks) and b"".join(chunks) == DATA
    assert _decode(chunks) == MESSAGES
    with pytest.raises(ValueError, match="max_chunk"):
        testing.random_splits(DATA, seed=1, max_chunk=0)


def test_split_at_clips_and_sorts(backend: str) -> None:
    chunks = testing.split_at(DATA, [50, 3, 3, -1, 10**6])
    assert [len(c) for c in chunks[:2]] == [3, 47] and b"".join(chunks) == DATA
    assert _decode(chunks) == MESSAGES


def test_cut_mid_frame_is_a_truncated_stream(backend: str) -> None:
    _, second, _ = testing.frame_spans(DATA)
    broken = testing.cut_mid_frame(DATA, frame=1)
    assert len(broken) == second[0] + (second[1] - second[0]) // 2
    seen: List[eventstream.Message] = []
    with pytest.raises(TruncatedStreamError) as info:
        for message in eventstream.iter_messages(testing.random_splits(broken, seed=3)):
            seen.append(message)
    assert seen == MESSAGES[:1]
    assert info.value.frame_offset == second[0]
    assert testing.cut_mid_frame(DATA, keep=1) == DATA[: second[1] + 1]
    with pytest.raises(ValueError, match="keep must be between"):
        testing.cut_mid_frame(DATA, frame=0, keep=0)
    with pytest.raises(IndexError, match="frame 5 out of range"):
        testing.cut_mid_frame(DATA, frame=5)
    with pytest.raises(TruncatedStreamError):
        _decode([testing.cut(DATA, 7)])


def test_every_single_bit_flip_is_detected(backend: str) -> None:
    data = eventstream.encode(MESSAGES[2])
    for bit in range(8 * len(data)):
        with pytest.raises(DecodeError):
            _decode([testing.flip_bit(data, bit)])
    assert testing.flip_bit(b"\x00", 0) == b"\x80" and testing.flip_bit(b"\x00", 7) == b"\x01"
    with pytest.raises(IndexError, match="bit 8 out of range"):
        testing.flip_bit(b"\x00", 8)


def test_corrupt_crcs(backend: str) -> None:
    spans = testing.frame_spans(DATA)
    with pytest.raises(PreludeChecksumError) as prelude:
        _decode([testing.corrupt_prelude_crc(DATA, frame=2)])
    assert prelude.value.frame_offset == spans[2][0] and prelude.value.offset == spans[2][0] + 8
    with pytest.raises(MessageChecksumError) as whole:
        _decode([testing.corrupt_message_crc(DATA, frame=1)])
    assert whole.value.frame_offset == spans[1][0] and whole.value.offset == spans[1][1] - 4
    assert whole.value.messages == [] or whole.value.messages == MESSAGES[:1]


def test_splice_exception_and_error(backend: str) -> None:
    spliced = testing.splice_exception(DATA, 1, "ThrottlingException", "slow down")
    got = _decode([spliced])
    assert got[:1] == MESSAGES[:1] and len(got) == 2
    assert got[1] == testing.exception("ThrottlingException", "slow down")
    errored = _decode([testing.splice_error(DATA, 0, "InternalError", "boom")])
    assert errored == [testing.error("InternalError", "boom")]
    at_end = _decode([testing.splice(DATA, eventstream.encode(MESSAGES[0]), 3)])
    assert at_end == [*MESSAGES, MESSAGES[0]]
    with pytest.raises(IndexError, match="after=4 out of range"):
        testing.splice(DATA, MESSAGES[0], 4)


@pytest.mark.parametrize(
    "body",
    [
        testing.json_error_body("ValidationException", "Malformed input request"),
        testing.html_error_page(),
        testing.html_error_page(403, "Forbidden"),
    ],
)
def test_a_body_that_is_not_a_stream_fails_to_decode(backend: str, body: bytes) -> None:
    with pytest.raises(DecodeError):
        _decode([body])
    with pytest.raises(DecodeError):
        _decode(testing.random_splits(body, seed=1, max_chunk=3))


def test_spliced_frames_raise_the_service_errors_after_earlier_events(backend: str) -> None:
    events: List[eventstream.Event] = []
    with pytest.raises(eventstream.ServiceException) as info:
        for item in eventstream.iter_events([testing.splice_exception(DATA, 2, "Throttled", "x")]):
            events.append(item)
    assert [e.message for e in events] == MESSAGES[:2]
    assert (info.value.exception_type, info.value.message) == ("Throttled", "x")
    with pytest.raises(eventstream.ServiceError) as error:
        list(eventstream.iter_events([testing.splice_error(DATA, 1, "E1", "bad")]))
    assert (error.value.error_code, error.value.error_message) == ("E1", "bad")


def test_a_stream_cut_on_a_boundary_is_incomplete(backend: str) -> None:
    start_of_last = testing.frame_spans(DATA)[-1][0]
    with pytest.raises(eventstream.IncompleteStreamError):
        list(eventstream.iter_events([testing.cut(DATA, start_of_last)], terminal={"Stats"}))


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (testing.json_error_body("ValidationException", "Malformed input request"), "json"),
        (testing.html_error_page(), "html"),
    ],
)
def test_error_bodies_are_named(backend: str, body: bytes, kind: str) -> None:
    with pytest.raises(eventstream.NotAnEventStreamError) as info:
        list(eventstream.iter_events(testing.random_splits(body, seed=2)))
    assert info.value.kind == kind
    with pytest.raises(eventstream.NotAnEventStreamError) as whole:
        list(eventstream.iter_events([body]))
    assert whole.value.kind == kind
    if kind == "json":  # the error text is named when the decoder holds the whole body
        assert "Malformed input request" in str(whole.value)
