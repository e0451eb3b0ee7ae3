"""Property tests (hypothesis) of the codec, on both backends."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import aware_datetimes, chunkings, messages

import eventstream
from eventstream import Decoder, EventStreamError

pytestmark = pytest.mark.usefixtures("backend")


@given(messages)
def test_encode_then_decode_is_the_identity(message):
    assert eventstream.decode(eventstream.encode(message)) == message


@given(messages)
def test_decode_then_encode_reproduces_the_bytes(message):
    raw = eventstream.encode(message)
    assert eventstream.encode(eventstream.decode(raw)) == raw
    assert eventstream.encode(eventstream.decode(bytearray(raw))) == raw


@given(st.lists(messages, min_size=1, max_size=5), st.data())
def test_any_chunking_gives_the_one_shot_messages(batch, data):
    stream = b"".join(eventstream.encode(m) for m in batch)
    decoder = Decoder()
    out = []
    for chunk in data.draw(chunkings(stream)):
        out += decoder.feed(chunk)
    decoder.close()
    assert out == batch


@given(messages, st.data())
def test_every_single_bit_flip_is_detected(message, data):
    raw = bytearray(eventstream.encode(message))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(EventStreamError):
        eventstream.decode(bytes(raw))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_eventstream_errors(blob):
    with contextlib.suppress(EventStreamError):
        eventstream.decode(blob)


@given(st.binary(max_size=300), st.data())
def test_arbitrary_chunks_raise_only_eventstream_errors(blob, data):
    decoder = Decoder()
    try:
        for chunk in data.draw(chunkings(blob)):
            decoder.feed(chunk)
        decoder.close()
    except EventStreamError:
        assert decoder.error is not None


@given(aware_datetimes)
def test_timestamp_helpers_round_trip_at_millisecond_precision(moment):
    milliseconds = eventstream.timestamp_from_datetime(moment)
    back = eventstream.datetime_from_timestamp(milliseconds)
    assert back <= moment and (moment - back).microseconds < 1000
    assert eventstream.timestamp_from_datetime(back) == milliseconds
