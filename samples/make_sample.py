"""Write samples/transcribe-session.eventstream, a short synthetic Transcribe session.

    python samples/make_sample.py               (re)write the sample
    python samples/make_sample.py --check       exit 1 if the shipped file differs
    python samples/make_sample.py --corrupt OUT write a copy with one flipped bit

The output is deterministic: the same bytes on every machine and Python
version.  Both directions of the session are interleaved in time order, as a
proxy capture would record them.  Everything is made up: the signatures are
SHA-256 chains that only look like SigV4 chunk signatures, and the audio is
an integer triangle wave.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path
from typing import List

import eventstream  # the package, installed as the repository README says
from eventstream import Header, Message

HERE = Path(__file__).resolve().parent

SAMPLE = HERE / "transcribe-session.eventstream"
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SAMPLES_PER_CHUNK = 32  # 16-bit mono PCM at 16 kHz: 2 ms, 64 bytes per audio event
RESULT_ID = "7c1e4a52-9b3d-4f6e-8a20-5d1c3b9e0f47"
CORRUPT_MESSAGE = 2  # the first TranscriptEvent: its :event-type value ...
CORRUPT_AT = b"TranscriptEvent"  # ... ends in "u" instead of "t" (one bit: 0x74 -> 0x75)


def pcm_chunk(index: int) -> bytes:
    """A triangle wave in integer arithmetic (no floating point, so no platform drift)."""
    samples = []
    for n in range(index * SAMPLES_PER_CHUNK, (index + 1) * SAMPLES_PER_CHUNK):
        phase = n % 20  # 800 Hz at 16 kHz
        level = phase if phase < 10 else 20 - phase  # 0..10..0
        samples.append((level - 5) * 1600)
    return struct.pack(f"<{len(samples)}h", *samples)


def audio_event(index: int) -> bytes:
    """The inner AudioEvent message a client signs and wraps."""
    return eventstream.encode(
        Message(
            [
                Header.string(":message-type", "event"),
                Header.string(":event-type", "AudioEvent"),
                Header.string(":content-type", "application/octet-stream"),
            ],
            pcm_chunk(index),
        )
    )


class Signer:
    """Signed-looking wrappers: ``:date`` + a 32-byte ``:chunk-signature`` chain (not SigV4)."""

    def __init__(self) -> None:
        self.prior = hashlib.sha256(b"synthetic seed signature").digest()

    def wrap(self, seconds: int, inner: bytes) -> bytes:
        date = Header.timestamp(":date", START_MS + seconds * 1000)
        signature = hashlib.sha256(self.prior + struct.pack(">q", date.value) + inner).digest()
        self.prior = signature
        return eventstream.encode(
            Message([date, Header.binary(":chunk-signature", signature)], inner)
        )


def _item(content: str, start: float, end: float, kind: str = "pronunciation") -> dict:  # type: ignore[type-arg]
    return {
        "Content": content,
        "EndTime": end,
        "StartTime": start,
        "Type": kind,
        "VocabularyFilterMatch": False,
    }


def transcript_event(items: List[dict], partial: bool) -> bytes:  # type: ignore[type-arg]
    text = ""
    for item in items:
        space = "" if item["Type"] == "punctuation" or not text else " "
        text += space + item["Content"]
    body = {
        "Transcript": {
            "Results": [
                {
                    "Alternatives": [{"Items": items, "Transcript": text}],
                    "ChannelId": "ch_0",
                    "EndTime": items[-1]["EndTime"],
                    "IsPartial": partial,
                    "ResultId": RESULT_ID,
                    "StartTime": items[0]["StartTime"],
                }
            ]
        }
    }
    return eventstream.encode(
        Message(
            [
                Header.string(":message-type", "event"),
                Header.string(":event-type", "TranscriptEvent"),
                Header.string(":content-type", "application/json"),
            ],
            json.dumps(body, separators=(",", ":")).encode("utf-8"),
        )
    )


def exception_event(name: str, text: str) -> bytes:
    return eventstream.encode(
        Message(
            [
                Header.string(":message-type", "exception"),
                Header.string(":exception-type", name),
                Header.string(":content-type", "application/json"),
            ],
            json.dumps({"Message": text}, separators=(",", ":")).encode("utf-8"),
        )
    )


def session() -> List[bytes]:
    """The messages, in capture order."""
    signer = Signer()
    hello = _item("Hello", 0.12, 0.48)
    world = _item("world", 0.52, 0.91)
    stop = _item(".", 0.91, 0.91, "punctuation")
    return [
        signer.wrap(0, audio_event(0)),
        signer.wrap(1, audio_event(1)),
        transcript_event([hello], partial=True),
        signer.wrap(2, audio_event(2)),
        transcript_event([hello, world], partial=True),
        transcript_event([hello, world, stop], partial=False),
        exception_event(
            "BadRequestException",
            "Your request timed out because no new audio was received for 15 seconds.",
        ),
        signer.wrap(3, b""),  # the empty signed frame that ends the audio stream
    ]


def corrupted(data: bytes) -> bytes:
    """The sample with one bit flipped in a header value of the first TranscriptEvent."""
    messages = session()
    start = sum(len(m) for m in messages[:CORRUPT_MESSAGE])
    at = data.index(CORRUPT_AT, start) + len(CORRUPT_AT) - 1
    broken = bytearray(data)
    broken[at] ^= 0x01
    return bytes(broken)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped sample differs")
    parser.add_argument("--corrupt", metavar="OUT", help="write a corrupted copy to OUT")
    parser.add_argument("--output", default=str(SAMPLE), help=f"where to write (default {SAMPLE})")
    args = parser.parse_args(argv)
    data = b"".join(session())
    if args.check:
        shipped = Path(args.output).read_bytes() if Path(args.output).exists() else b""
        if shipped != data:
            print(f"{args.output} differs from what make_sample.py generates", file=sys.stderr)
            return 1
        print(f"{args.output}: up to date ({len(data)} bytes)")
        return 0
    if args.corrupt:
        Path(args.corrupt).write_bytes(corrupted(data))
        print(f"wrote {args.corrupt} ({len(data)} bytes, one bit flipped)")
        return 0
    Path(args.output).write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes, {len(session())} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
