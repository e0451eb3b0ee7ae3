"""The incremental Decoder: chunking, errors mid-stream, state after errors, helpers."""

from __future__ import annotations

import asyncio
import io

import pytest
from _frames import frame, header, string_value

import eventstream
from eventstream import (
    Decoder,
    DecoderStateError,
    MessageChecksumError,
    PreludeChecksumError,
    TruncatedStreamError,
)

pytestmark = pytest.mark.usefixtures("backend")

MESSAGES = [eventstream.Message({":event-type": "A", "n": i}, b"x" * i) for i in (0, 1, 30, 200)]
STREAM = b"".join(eventstream.encode(m) for m in MESSAGES)


def feed_all(decoder, chunks):
    out = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    return out


@pytest.mark.parametrize("split", range(len(STREAM) + 1))
def test_every_two_way_split_yields_every_message_once(split):
    decoder = Decoder()
    assert feed_all(decoder, [STREAM[:split], STREAM[split:]]) == MESSAGES
    decoder.close()
    assert decoder.position == len(STREAM)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 11, 12, 13, 64, 4096])
def test_fixed_size_chunks(size):
    decoder = Decoder()
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert feed_all(decoder, chunks) == MESSAGES
    decoder.close()


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_mutable_chunks_are_copied_not_aliased(kind):
    decoder = Decoder()
    chunk = bytearray(STREAM[:50])
    first = decoder.feed(kind(chunk))
    chunk[:] = b"\xff" * 50  # the caller reuses its buffer
    assert first + decoder.feed(STREAM[50:]) == MESSAGES


def test_a_chunk_completes_messages_in_stream_order():
    decoder = Decoder()
    assert decoder.feed(STREAM[:5]) == []
    assert decoder.feed(STREAM[5:]) == MESSAGES
    assert decoder.pending == b""


def test_close_with_a_partial_message_raises_and_keeps_the_bytes():
    decoder = Decoder()
    decoder.feed(STREAM[:-3])
    error = pytest.raises(TruncatedStreamError, decoder.close).value
    last_start = len(STREAM) - len(eventstream.encode(MESSAGES[-1]))
    assert error.frame_offset == last_start
    assert error.offset == len(STREAM) - 3
    assert decoder.pending == STREAM[last_start:-3]
    with pytest.raises(DecoderStateError):
        decoder.feed(b"")
    assert decoder.reset() == STREAM[last_start:-3]


def test_a_fault_mid_chunk_keeps_the_messages_before_it():
    broken = bytearray(eventstream.encode(MESSAGES[2]))
    broken[-1] ^= 1
    first = eventstream.encode(MESSAGES[0]) + eventstream.encode(MESSAGES[1])
    decoder = Decoder()
    decoder.feed(b"")
    error = pytest.raises(MessageChecksumError, decoder.feed, first + bytes(broken) + b"tail").value
    assert error.messages == MESSAGES[:2]
    assert error.frame_offset == len(first)
    assert error.offset == len(first) + len(broken) - 4
    # The decoder holds every byte from the faulty message on, and refuses more.
    assert decoder.pending == bytes(broken) + b"tail"
    assert decoder.error is error
    with pytest.raises(DecoderStateError):
        decoder.feed(eventstream.encode(MESSAGES[0]))
    with pytest.raises(DecoderStateError):
        decoder.close()
    # reset() hands the bytes back; stream offsets keep counting.
    assert decoder.reset() == bytes(broken) + b"tail"
    assert decoder.error is None
    assert decoder.position == len(first) + len(broken) + 4
    assert decoder.feed(eventstream.encode(MESSAGES[3])) == [MESSAGES[3]]


def test_offsets_in_errors_are_stream_offsets_across_chunks():
    good = eventstream.encode(MESSAGES[1])
    bad = frame(header(b"a", 7, string_value(b"b")), prelude_crc=1)
    decoder = Decoder()
    decoder.feed(good * 3)
    decoder.feed(bad[:5])
    error = pytest.raises(PreludeChecksumError, decoder.feed, bad[5:]).value
    assert (error.frame_offset, error.offset) == (3 * len(good), 3 * len(good) + 8)


def test_a_zero_total_length_never_loops():
    decoder = Decoder()
    with pytest.raises(eventstream.InvalidLengthError):
        decoder.feed(frame(total_length=0) * 1000)


def test_many_messages_in_one_chunk_use_one_scan():
    messages = [eventstream.Message({"i": i}, b"p") for i in range(5000)]
    decoder = Decoder()
    assert decoder.feed(b"".join(eventstream.encode(m) for m in messages)) == messages
    assert decoder.pending == b""


def test_iter_messages_reads_a_file_and_checks_its_end():
    assert list(eventstream.iter_messages(io.BytesIO(STREAM), chunk_size=5)) == MESSAGES
    assert list(eventstream.iter_messages([STREAM[:10], STREAM[10:]])) == MESSAGES
    with pytest.raises(TruncatedStreamError):
        list(eventstream.iter_messages(io.BytesIO(STREAM[:-1])))


def test_aiter_messages_reads_a_stream_reader_and_async_iterables():
    async def from_reader():
        reader = asyncio.StreamReader()
        reader.feed_data(STREAM[:9])
        reader.feed_data(STREAM[9:])
        reader.feed_eof()
        return [m async for m in eventstream.aiter_messages(reader, chunk_size=7)]

    async def from_generator(data):
        async def chunks():
            for i in range(0, len(data), 13):
                yield data[i : i + 13]

        return [m async for m in eventstream.aiter_messages(chunks())]

    assert asyncio.run(from_reader()) == MESSAGES
    assert asyncio.run(from_generator(STREAM)) == MESSAGES
    with pytest.raises(TruncatedStreamError):
        asyncio.run(from_generator(STREAM[:-2]))


def test_newline_bytes_do_not_confuse_the_stream_reader_path():
    message = eventstream.Message({"s": "a\nb"}, b"\n\n\r\n" * 50)
    data = eventstream.encode(message) * 3

    async def run():
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return [m async for m in eventstream.aiter_messages(reader)]

    assert asyncio.run(run()) == [message] * 3


def test_concurrent_use_of_one_decoder_is_refused():
    decoder = Decoder()
    decoder._turn.pop()  # as if another thread were inside feed()
    try:
        with pytest.raises(RuntimeError, match="two threads"):
            decoder.feed(STREAM)
    finally:
        decoder._turn.append(True)
    assert decoder.feed(STREAM) == MESSAGES


def test_bytes_that_cannot_complete_the_held_message_are_only_held():
    # feed's fast path: once the held message's prelude is checked, chunks that
    # do not complete it are appended, and everything else still takes the full
    # path (errors, the completing chunk, a reset).
    last = eventstream.encode(MESSAGES[-1])
    decoder = Decoder()
    assert decoder.feed(last[:12]) == []
    for i in range(12, len(last) - 1):
        assert decoder.feed(last[i : i + 1]) == []
        assert decoder.position == i + 1
        assert decoder.pending == last[: i + 1]
    assert decoder.feed(last[-1:]) == [MESSAGES[-1]]
    assert decoder.pending == b""
    # A corrupt message fails when its last byte arrives, then nothing is accepted.
    bad = last[:-1] + bytes([last[-1] ^ 1])
    assert decoder.feed(bad[:-1]) == []
    with pytest.raises(MessageChecksumError):
        decoder.feed(bad[-1:])
    with pytest.raises(DecoderStateError):
        decoder.feed(b"x")
    assert decoder.reset() == bad
    # After a reset the next prelude is checked again before bytes are just held.
    assert decoder.feed(b"\0" * 11) == []
    with pytest.raises(PreludeChecksumError):
        decoder.feed(b"\0")
