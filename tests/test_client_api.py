"""The streaming API as client authors use it (issue 11; issue 16 items 7 and 13).

Every test runs on both backends.  Sources are the ones clients have: files,
sockets, pipes (blocking and not), iterables and async iterables that die
mid-message, and the wrong things people pass by mistake.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import threading
import zlib

import pytest

import eventstream
from eventstream import (
    Decoder,
    MessageChecksumError,
    StreamInterruptedError,
    TruncatedStreamError,
)

pytestmark = pytest.mark.usefixtures("backend")

GOOD = [eventstream.Message({":event-type": "Records", "n": i}, b"r" * (i * 7)) for i in range(3)]
CORRUPT = bytearray(eventstream.encode(eventstream.Message({":event-type": "Bad"}, b"xyz")))
CORRUPT[-1] ^= 0xFF  # message CRC
AFTER = eventstream.encode(eventstream.Message({":event-type": "End"}))
GOOD_BYTES = b"".join(eventstream.encode(m) for m in GOOD)
FAULTY_STREAM = GOOD_BYTES + bytes(CORRUPT) + AFTER


def chunked(data: bytes, size: int) -> list:
    return [data[i : i + size] for i in range(0, len(data), size)]


def collect(iterator):
    """Messages an iterator yields before it raises, and what it raised."""
    seen = []
    try:
        for message in iterator:
            seen.append(message)
    except Exception as exc:
        return seen, exc
    return seen, None


# ---------------------------------------------------------------- 1: nothing withheld


def test_every_chunk_size_yields_the_valid_prefix_then_raises():
    for size in range(1, len(FAULTY_STREAM) + 1):
        for source in (chunked(FAULTY_STREAM, size), io.BytesIO(FAULTY_STREAM)):
            seen, error = collect(eventstream.iter_messages(source, chunk_size=size))
            assert seen == GOOD, size
            assert isinstance(error, MessageChecksumError), size
            assert error.frame_offset == len(GOOD_BYTES)
            assert error.messages == []  # already yielded: nothing is handed over twice


def test_async_iteration_yields_the_valid_prefix_then_raises():
    async def run(size):
        async def chunks():
            for chunk in chunked(FAULTY_STREAM, size):
                yield chunk

        seen = []
        with pytest.raises(MessageChecksumError):
            async for message in eventstream.aiter_messages(chunks()):
                seen.append(message)
        reader = asyncio.StreamReader()
        reader.feed_data(FAULTY_STREAM)
        reader.feed_eof()
        seen_reader = []
        with pytest.raises(MessageChecksumError):
            async for message in eventstream.aiter_messages(reader, chunk_size=size):
                seen_reader.append(message)
        return seen, seen_reader

    for size in range(1, len(FAULTY_STREAM) + 1):
        assert asyncio.run(run(size)) == (GOOD, GOOD), size


def test_one_read_holding_everything_still_yields_the_messages_before_the_fault():
    # The S3 Select case: a body in one write, message 120 corrupt.
    records = [eventstream.Message({":event-type": "Records"}, b"%d\n" % i) for i in range(200)]
    raw = bytearray(b"".join(eventstream.encode(m) for m in records))
    start = sum(len(eventstream.encode(m)) for m in records[:119])
    raw[start + 20] ^= 1
    seen, error = collect(eventstream.iter_messages(io.BytesIO(bytes(raw))))
    assert seen == records[:119]
    assert isinstance(error, eventstream.DecodeError) and error.frame_offset == start


# ---------------------------------------------------------------- 2: live sources do not stall


MESSAGES = [eventstream.Message({":event-type": "Part"}, b"%d" % i * 50) for i in range(5)]


def _lockstep(make_reader, write, close_writer):
    """Write message i only after the reader has yielded message i - 1.

    A reader that waits for a full 64 KiB read (or for EOF) never yields, so
    the writer times out on each message: the test fails in about 5 s.
    """
    received = [threading.Event() for _ in MESSAGES]
    in_time = []

    def writer():
        try:
            for i, message in enumerate(MESSAGES):
                data = eventstream.encode(message)
                write(data[:7])  # a message arrives in pieces ...
                write(data[7:])
                in_time.append(received[i].wait(timeout=1.0))  # ... and is seen at once
        finally:
            close_writer()

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    try:
        for message in eventstream.iter_messages(make_reader()):
            received[len(seen)].set()
            seen.append(message)
    finally:
        thread.join()
    assert seen == MESSAGES
    assert in_time == [True] * len(MESSAGES)


def test_a_socket_yields_each_message_as_soon_as_it_arrives():
    a, b = socket.socketpair()
    with a, b:
        _lockstep(lambda: b.makefile("rb"), a.sendall, lambda: a.shutdown(socket.SHUT_WR))


def test_a_pipe_yields_each_message_as_soon_as_it_arrives():
    r, w = os.pipe()
    with open(r, "rb") as reader:
        _lockstep(lambda: reader, lambda data: os.write(w, data), lambda: os.close(w))


def test_a_non_blocking_pipe_waits_for_data_instead_of_ending():
    # read() returns None ("no data yet") on a non-blocking pipe, and read1()
    # of a buffered one returns b"": neither is the end of the stream.
    for buffering in (0, -1):
        r, w = os.pipe()
        os.set_blocking(r, False)
        with open(r, "rb", buffering=buffering) as reader:
            _lockstep(
                lambda reader=reader: reader,
                lambda d, w=w: os.write(w, d),
                lambda w=w: os.close(w),
            )


def test_a_non_blocking_pipe_that_closes_mid_message_is_truncated():
    r, w = os.pipe()
    os.set_blocking(r, False)
    data = eventstream.encode(MESSAGES[0])

    def writer():
        os.write(w, data + data[:10])
        threading.Event().wait(0.05)
        os.close(w)

    thread = threading.Thread(target=writer)
    thread.start()
    with open(r, "rb", buffering=0) as reader:
        seen, error = collect(eventstream.iter_messages(reader))
    thread.join()
    assert seen == [MESSAGES[0]]
    assert isinstance(error, TruncatedStreamError) and error.frame_offset == len(data)


def test_a_source_returning_none_without_a_descriptor_is_polled():
    class Flaky(io.RawIOBase):
        def __init__(self, data):
            self.parts = [None, data[:5], None, None, data[5:], None, b""]

        def readable(self):
            return True

        def read(self, n=-1):
            return self.parts.pop(0)

    data = eventstream.encode(MESSAGES[1])
    assert list(eventstream.iter_messages(Flaky(data))) == [MESSAGES[1]]


# ---------------------------------------------------------------- 3: wrong input types


@pytest.mark.parametrize(
    "chunk, words",
    [
        (5, ["int", "bytes([5])"]),
        ("abc", ["str", "binary mode"]),
        (None, ["NoneType", "no data yet"]),
        (1.5, ["float"]),
        ([1, 2], ["list"]),
    ],
)
def test_feed_rejects_what_is_not_bytes_like(chunk, words):
    decoder = Decoder()
    error = pytest.raises(TypeError, decoder.feed, chunk).value
    assert "Decoder.feed()" in str(error)
    for word in words:
        assert word in str(error)
    assert decoder.position == 0 and decoder.pending == b""
    # The held-bytes path checks too.
    decoder.feed(GOOD_BYTES[:5])
    pytest.raises(TypeError, decoder.feed, chunk)
    assert decoder.pending == GOOD_BYTES[:5]


def test_feed_accepts_every_bytes_like_chunk():
    import array

    data = GOOD_BYTES
    for wrap in (bytes, bytearray, memoryview, lambda d: array.array("B", d)):
        decoder = Decoder()
        assert decoder.feed(wrap(data[:9])) + decoder.feed(wrap(data[9:])) == GOOD


def test_feed_accepts_non_contiguous_memoryviews_with_or_without_held_bytes():
    spread = bytes(b for byte in GOOD_BYTES for b in (byte, 0xEE))
    for split in (0, 5, 40, len(GOOD_BYTES)):
        view = memoryview(spread)[2 * split :: 2]  # one slice: PyPy 7.3 mis-slices a strided view
        assert not view.c_contiguous or len(view) <= 1
        decoder = Decoder()
        out = decoder.feed(GOOD_BYTES[:split]) + decoder.feed(view)
        assert out == GOOD
    as_words = memoryview(GOOD_BYTES[:8]).cast("H")  # a non-byte format is read as its bytes
    decoder = Decoder()
    decoder.feed(as_words)
    assert decoder.pending == GOOD_BYTES[:8]


class HttpxResponse:  # the attributes iter_messages recognises on httpx.Response
    def iter_bytes(self):
        yield GOOD_BYTES

    def aiter_bytes(self):
        raise AssertionError

    def read(self):
        return GOOD_BYTES


class AiohttpStreamReader:
    async def read(self, n=-1):
        return b""

    async def readany(self):
        return b""


class AiohttpResponse:
    content = AiohttpStreamReader()

    async def read(self):
        return GOOD_BYTES


class RequestsResponse:
    def iter_content(self, chunk_size=1):
        yield GOOD_BYTES


@pytest.mark.parametrize(
    "source, words",
    [
        (GOOD_BYTES, ["bytes", "Decoder().feed(data)", "decode(data)"]),
        (bytearray(GOOD_BYTES), ["bytearray", "Decoder().feed(data)"]),
        ("capture.bin", ["str", "open(path, 'rb')"]),
        (5, ["int"]),
        (None, ["NoneType"]),
        (io.StringIO("text"), ["text-mode", "'rb'"]),
        (HttpxResponse(), ["resp.iter_bytes()"]),
        (RequestsResponse(), ["resp.iter_content(chunk_size=None)"]),
        (AiohttpResponse(), ["resp.content", "aiter_messages"]),
        (AiohttpStreamReader(), ["async", "aiter_messages"]),
    ],
)
def test_iter_messages_names_the_right_call_for_what_it_cannot_read(source, words):
    error = pytest.raises(TypeError, eventstream.iter_messages, source).value
    for word in words:
        assert word in str(error), str(error)


def test_iter_messages_rejects_an_asyncio_stream_reader_and_async_iterables():
    async def run():
        reader = asyncio.StreamReader()
        error = pytest.raises(TypeError, eventstream.iter_messages, reader).value
        assert "aiter_messages" in str(error)

        async def agen():
            yield b""

        error = pytest.raises(TypeError, eventstream.iter_messages, agen()).value
        assert "aiter_messages" in str(error)

    asyncio.run(run())


def test_text_chunks_from_an_iterable_are_a_type_error_not_a_checksum_error():
    error = pytest.raises(TypeError, list, eventstream.iter_messages(["abc"])).value
    assert "str" in str(error) and "binary mode" in str(error)


@pytest.mark.parametrize(
    "source, words",
    [
        (io.BytesIO(GOOD_BYTES), ["blocking file", "iter_messages(f)"]),
        (GOOD_BYTES, ["bytes", "Decoder().feed(data)"]),
        ("capture.bin", ["str", "open(path, 'rb')"]),
        (HttpxResponse(), ["resp.aiter_bytes()"]),
        (AiohttpResponse(), ["resp.content"]),
        (5, ["int"]),
    ],
)
def test_aiter_messages_names_the_right_call_for_what_it_cannot_read(source, words):
    error = pytest.raises(TypeError, eventstream.aiter_messages, source).value
    for word in words:
        assert word in str(error), str(error)


def test_aiter_messages_reads_aiohttp_style_readers_and_plain_iterables():
    class Reader:  # aiohttp's StreamReader: read(n) returns what is buffered
        def __init__(self, data):
            self.data = data

        async def read(self, n=-1):
            chunk, self.data = self.data[:3], self.data[3:]
            return chunk

        async def readany(self):
            raise AssertionError

    async def run(source):
        return [m async for m in eventstream.aiter_messages(source)]

    assert asyncio.run(run(Reader(GOOD_BYTES))) == GOOD
    assert asyncio.run(run(chunked(GOOD_BYTES, 10))) == GOOD


# ---------------------------------------------------------------- 4: transports dying mid-message


class ClientPayloadError(Exception):
    """Stands in for aiohttp.ClientPayloadError / httpx.RemoteProtocolError."""


def dying(data: bytes, cut: int, size: int = 11):
    def chunks():
        yield from chunked(data[:cut], size)
        raise ClientPayloadError("Response payload is not completed")

    return chunks()


def test_a_source_dying_mid_message_says_which_message_and_how_much_was_held():
    first = len(eventstream.encode(GOOD[0]))
    second = len(eventstream.encode(GOOD[1]))
    for cut in range(first + 1, first + second):
        decoder = Decoder()
        seen, error = collect(decoder.iter_chunks(dying(GOOD_BYTES, cut)))
        assert seen == [GOOD[0]]
        assert isinstance(error, StreamInterruptedError)
        assert isinstance(error, TruncatedStreamError)  # a cut stream either way
        assert isinstance(error.__cause__, ClientPayloadError)
        held = cut - first
        assert (error.frame_offset, error.held, error.offset) == (first, held, cut)
        assert error.needed == (second if held >= 12 else 0)
        assert f"byte {first}" in str(error) and f"{held}" in str(error)
        assert "ClientPayloadError" in str(error)
        # The decoder's state is reachable: the held bytes are the cut message's.
        assert decoder.pending == GOOD_BYTES[first:cut]
        assert decoder.reset() == GOOD_BYTES[first:cut]


def test_a_source_dying_between_messages_raises_its_own_error():
    first = len(eventstream.encode(GOOD[0]))
    seen, error = collect(eventstream.iter_messages(dying(GOOD_BYTES, first)))
    assert seen == [GOOD[0]] and type(error) is ClientPayloadError


def test_an_async_source_dying_mid_message_is_reported_the_same_way():
    first = len(eventstream.encode(GOOD[0]))

    async def run():
        async def chunks():
            yield GOOD_BYTES[: first + 20]
            raise ClientPayloadError("Response payload is not completed")

        decoder = Decoder()
        seen = []
        with pytest.raises(StreamInterruptedError) as caught:
            async for message in decoder.aiter(chunks()):
                seen.append(message)
        return seen, caught.value, decoder.pending

    seen, error, pending = asyncio.run(run())
    assert seen == [GOOD[0]]
    assert (error.frame_offset, error.held) == (first, 20)
    assert isinstance(error.__cause__, ClientPayloadError)
    assert pending == GOOD_BYTES[first : first + 20]


def test_a_file_whose_read_fails_mid_message_is_reported():
    class Broken(io.RawIOBase):
        def __init__(self):
            self.parts = [GOOD_BYTES[: len(eventstream.encode(GOOD[0])) + 10]]

        def readable(self):
            return True

        def read(self, n=-1):
            if self.parts:
                return self.parts.pop()
            raise ConnectionResetError(104, "Connection reset by peer")

    seen, error = collect(eventstream.iter_messages(Broken()))
    assert seen == [GOOD[0]]
    assert isinstance(error, StreamInterruptedError)
    assert isinstance(error.__cause__, ConnectionResetError)


# ---------------------------------------------------------------- checksums: one meaning


def test_expected_is_the_stored_crc_and_actual_the_computed_one():
    raw = bytearray(eventstream.encode(GOOD[1]))
    stored = int.from_bytes(raw[-4:], "big") ^ 0x1
    raw[-4:] = stored.to_bytes(4, "big")
    error = pytest.raises(MessageChecksumError, eventstream.decode, bytes(raw)).value
    computed = zlib.crc32(bytes(raw[:-4]))
    assert (error.expected, error.actual) == (stored, computed)
    assert (error.stored, error.computed) == (stored, computed)
    raw = bytearray(eventstream.encode(GOOD[1]))
    raw[8] ^= 0x80  # prelude CRC field
    error = pytest.raises(eventstream.PreludeChecksumError, eventstream.decode, bytes(raw)).value
    assert error.stored == int.from_bytes(raw[8:12], "big")
    assert error.computed == zlib.crc32(bytes(raw[:8]))


# ---------------------------------------------------------------- Decoder.limits is read-only


def test_decoder_limits_cannot_be_changed_after_blocks_were_cached():
    # Issue 10's bug: the header cache was chosen in __init__, so a stricter
    # limit set afterwards was skipped for blocks already cached.
    message = eventstream.Message({"k": "value"})
    decoder = Decoder()
    assert decoder.feed(eventstream.encode(message)) == [message]
    with pytest.raises(AttributeError):
        decoder.limits = eventstream.Limits(max_header_value=3)  # type: ignore[misc]
    strict = Decoder(eventstream.Limits(max_header_value=3))
    with pytest.raises(eventstream.LimitExceededError):
        strict.feed(eventstream.encode(message))
    with pytest.raises(TypeError, match="Limits"):
        Decoder(limits={"max_header_value": 3})  # type: ignore[arg-type]
