"""The benchmark workloads: their messages, wire bytes and chunkings.

Each workload is described here once, independently of every implementation:
its headers as ``(name, wire type code, value)`` triples and its payload.  The
wire bytes come from a small reference encoder in this module (``struct`` and
``zlib`` only), so the canonical bytes don't depend on the code under test;
``check_canonical`` then confirms that every installed encoder produces exactly
those bytes before anything is timed.

Workload names (they are the benchmark ids; keep them stable):

=================  ==========================================================
``transcript``     3 string headers + a ~650-byte TranscriptEvent JSON payload
``audio``          the same 3 headers + a 3,200-byte payload (100 ms of 16 kHz PCM)
``many-headers``   20 headers covering all 10 wire types + a 64-byte payload
``unique-headers`` 10,000 transcript messages, each adding a distinct UUID and
                   int64 sequence header: no header block repeats, no cache helps
``1mib``           no headers, 1 MiB payload
``16mib``          no headers, 16 MiB payload (the largest that every peer accepts)
``signed``         a SigV4-signed Transcribe frame: ``:date`` (timestamp) and
                   ``:chunk-signature`` (32 bytes) around an encoded ``audio``
                   message, as a streaming client sends each audio chunk
``stream``         10,000 transcript messages in 4 KiB chunks (``stream-4k``),
                   1,000 in 100-byte chunks (``stream-100b``) and 100 in
                   7-byte chunks (``stream-7b``)
=================  ==========================================================

Counts are module constants, so ``instructions.py`` can scale the many-message
workloads down before they are built (callgrind runs ~50x slower).
"""

from __future__ import annotations

import datetime
import functools
import json
import random
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, List, Sequence, Tuple

# Wire type codes (the format's, not imported from the package under test).
TRUE, FALSE, BYTE, INT16, INT32, INT64, BYTES, STRING, TIMESTAMP, UUID = range(10)

HeaderSpec = Tuple[str, int, Any]  # (name, wire type code, canonical value)

SEED = 20261124
UNIQUE_COUNT = 10_000
STREAM_COUNT = 10_000
STREAM_CHUNK = 4096
MEDIUM_STREAM_COUNT = 1_000
MEDIUM_STREAM_CHUNK = 100
SMALL_STREAM_COUNT = 100
SMALL_STREAM_CHUNK = 7
# The signed frame's values: a whole-second time (every peer's float conversion
# of an aware datetime is exact for it) and a fixed 32-byte signature (the HMAC
# a signer computes is the same work for every encoder, so it is left out).
SIGNED_DATE_MS = 1_796_076_000_000
SIGNED_SIGNATURE = bytes(range(0xA0, 0xC0))
CRC_SIZES = {"64B": 64, "4KiB": 4096, "1MiB": 1 << 20, "16MiB": 16 << 20}


# ---------------------------------------------------------------- reference encoder


def _ref_value(code: int, value: Any) -> bytes:
    if code in (TRUE, FALSE):
        return b""
    if code == BYTE:
        return struct.pack(">b", value)
    if code == INT16:
        return struct.pack(">h", value)
    if code == INT32:
        return struct.pack(">i", value)
    if code in (INT64, TIMESTAMP):
        return struct.pack(">q", value)
    if code == BYTES:
        return struct.pack(">H", len(value)) + value
    if code == STRING:
        raw = value.encode("utf-8")
        return struct.pack(">H", len(raw)) + raw
    if code == UUID:
        assert len(value) == 16
        return bytes(value)
    raise ValueError(code)


def reference_encode(headers: Sequence[HeaderSpec], payload: bytes) -> bytes:
    """Wire bytes of one message, written from the format description alone."""
    block = bytearray()
    for name, code, value in headers:
        raw_name = name.encode("utf-8")
        block += bytes((len(raw_name),)) + raw_name + bytes((code,)) + _ref_value(code, value)
    total = 16 + len(block) + len(payload)
    prelude = struct.pack(">II", total, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + bytes(block) + payload
    return body + struct.pack(">I", zlib.crc32(body))


# ---------------------------------------------------------------- workload data


def _transcript_payload(rng: random.Random, index: int = 0) -> bytes:
    """A Transcribe-style TranscriptEvent (partial result) of about 650 bytes."""
    words = ["the", "quarterly", "numbers", "look", "good", "for", "streaming"]
    items = []
    start = round(1.0 + index * 0.37, 3)
    for i, word in enumerate(words[:4]):
        items.append(
            {
                "Content": word,
                "EndTime": round(start + 0.2 * i + 0.18, 3),
                "StartTime": round(start + 0.2 * i, 3),
                "Type": "pronunciation",
                "VocabularyFilterMatch": False,
            }
        )
    event = {
        "Transcript": {
            "Results": [
                {
                    "Alternatives": [{"Items": items, "Transcript": " ".join(words[:4])}],
                    "ChannelId": "ch_0",
                    "EndTime": round(start + 1.0, 3),
                    "IsPartial": True,
                    "ResultId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "StartTime": start,
                }
            ]
        }
    }
    return json.dumps(event, separators=(",", ":")).encode()


TRANSCRIPT_HEADERS: Tuple[HeaderSpec, ...] = (
    (":message-type", STRING, "event"),
    (":event-type", STRING, "TranscriptEvent"),
    (":content-type", STRING, "application/json"),
)
AUDIO_HEADERS: Tuple[HeaderSpec, ...] = (
    (":message-type", STRING, "event"),
    (":event-type", STRING, "AudioEvent"),
    (":content-type", STRING, "application/octet-stream"),
)


def _many_headers(rng: random.Random) -> Tuple[HeaderSpec, ...]:
    # Whole-second timestamps: the peers' float conversion is exact for these.
    ts1 = 1_700_000_000_000
    ts2 = 1_767_225_600_000
    return (
        (":message-type", STRING, "event"),
        (":event-type", STRING, "KitchenSink"),
        (":content-type", STRING, "application/octet-stream"),
        ("flag-true", TRUE, True),
        ("flag-false", FALSE, False),
        ("also-true", TRUE, True),
        ("also-false", FALSE, False),
        ("int8", BYTE, -7),
        ("int8-max", BYTE, 127),
        ("int16", INT16, -12345),
        ("int16-max", INT16, 32767),
        ("int32", INT32, 2_000_000_000),
        ("int32-min", INT32, -(2**31)),
        ("int64", INT64, 2**53 + 1),
        ("int64-min", INT64, -(2**63)),
        ("blob", BYTES, bytes(rng.getrandbits(8) for _ in range(24))),
        ("empty-blob", BYTES, b""),
        ("timestamp", TIMESTAMP, ts1),
        ("timestamp-2", TIMESTAMP, ts2),
        ("request-id", UUID, rng.getrandbits(128).to_bytes(16, "big")),
    )


@dataclass
class Single:
    """One message: its description and its canonical wire bytes."""

    name: str
    headers: Tuple[HeaderSpec, ...]
    payload: bytes
    wire: bytes = b""

    def __post_init__(self) -> None:
        self.wire = reference_encode(self.headers, self.payload)

    @property
    def nbytes(self) -> int:
        return len(self.wire)


@dataclass
class Many:
    """Many distinct messages decoded or encoded one at a time."""

    name: str
    messages: List[Single]
    nbytes: int = 0

    def __post_init__(self) -> None:
        self.nbytes = sum(m.nbytes for m in self.messages)


@dataclass
class Stream:
    """A stream of messages cut into fixed-size chunks."""

    name: str
    message: Single
    count: int
    chunk_size: int
    chunks: List[bytes] = field(default_factory=list)
    nbytes: int = 0

    def __post_init__(self) -> None:
        data = self.message.wire * self.count
        self.nbytes = len(data)
        self.chunks = [data[i : i + self.chunk_size] for i in range(0, len(data), self.chunk_size)]


@functools.cache
def single(name: str) -> Single:
    rng = random.Random(f"{SEED}-{name}")
    if name == "transcript":
        return Single(name, TRANSCRIPT_HEADERS, _transcript_payload(rng))
    if name == "audio":
        return Single(name, AUDIO_HEADERS, rng.randbytes(3200))
    if name == "many-headers":
        return Single(name, _many_headers(rng), rng.randbytes(64))
    if name == "1mib":
        return Single(name, (), rng.randbytes(1 << 20))
    if name == "16mib":
        return Single(name, (), rng.randbytes(16 << 20))
    if name == "signed":
        headers = (
            (":date", TIMESTAMP, SIGNED_DATE_MS),
            (":chunk-signature", BYTES, SIGNED_SIGNATURE),
        )
        return Single(name, headers, single("audio").wire)
    raise KeyError(name)


def inner_of(spec: Single) -> Single | None:
    """The message a ``signed`` frame wraps (its payload), or None for the others."""
    return single("audio") if spec.name == "signed" else None


@functools.cache
def unique_headers() -> Many:
    rng = random.Random(f"{SEED}-unique")
    payload = single("transcript").payload
    messages = []
    for seq in range(UNIQUE_COUNT):
        headers = (
            *TRANSCRIPT_HEADERS,
            ("event-id", UUID, rng.getrandbits(128).to_bytes(16, "big")),
            ("sequence", INT64, 1_000_000_000_000 + seq),
        )
        messages.append(Single("unique-headers", headers, payload))
    return Many("unique-headers", messages)


@functools.cache
def stream(name: str) -> Stream:
    if name == "stream-4k":
        return Stream(name, single("transcript"), STREAM_COUNT, STREAM_CHUNK)
    if name == "stream-100b":
        return Stream(name, single("transcript"), MEDIUM_STREAM_COUNT, MEDIUM_STREAM_CHUNK)
    if name == "stream-7b":
        return Stream(name, single("transcript"), SMALL_STREAM_COUNT, SMALL_STREAM_CHUNK)
    raise KeyError(name)


@functools.cache
def crc_data(size_name: str) -> bytes:
    return random.Random(f"{SEED}-crc-{size_name}").randbytes(CRC_SIZES[size_name])


SINGLE_WORKLOADS = ("transcript", "audio", "many-headers", "signed", "1mib", "16mib")
DECODE_WORKLOADS = (*SINGLE_WORKLOADS[:4], "unique-headers", *SINGLE_WORKLOADS[4:])
ENCODE_WORKLOADS = DECODE_WORKLOADS
STREAM_WORKLOADS = ("stream-4k", "stream-100b", "stream-7b")


def workload(name: str) -> Any:
    if name == "unique-headers":
        return unique_headers()
    if name.startswith("stream"):
        return stream(name)
    return single(name)


def messages_of(name: str) -> List[Single]:
    """The messages of a workload, in order (a stream repeats one message)."""
    w = workload(name)
    if isinstance(w, Single):
        return [w]
    if isinstance(w, Many):
        return w.messages
    return [w.message] * w.count


def messages_per_op(name: str) -> int:
    return len(messages_of(name))


# ---------------------------------------------------------------- normalising results

Normal = Tuple[Tuple[Tuple[str, Any], ...], bytes]


def expected(spec: Single) -> Normal:
    """What a decoder must produce: ``((name, value), ...)`` and the payload.

    Values are compared in the form that every decoder can be mapped to: ints
    for the integer types and timestamps (milliseconds), bools, bytes, str and
    the 16 raw bytes of a UUID.
    """
    return tuple((name, value) for name, _, value in spec.headers), spec.payload


def normal_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (value - epoch) // datetime.timedelta(milliseconds=1)
    if isinstance(value, uuid.UUID):
        return value.bytes
    if type(value) is not bool and isinstance(value, int):
        return int(value)
    return value
