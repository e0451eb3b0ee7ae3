"""Write the seed corpora of the fuzz harnesses.

Seeds are the conformance vectors (``tests/vectors/**/encoded/**``), the shipped
sample stream (``samples/*.eventstream``, whole and split into its messages) and a
few generated streams (several messages in a row, every header type, a truncated
tail).  Every harness input ends in one control byte (see the harness sources), so
each seed is written with a handful of control bytes: whole-stream and small-chunk
feeding, default and small limits, small output arrays, message-CRC repair.

    python tests/fuzz/make_corpus.py --out tests/fuzz/build/corpus

writes ``<out>/decode``, ``<out>/fixcrc``, ``<out>/roundtrip`` (C harnesses) and
``<out>/python`` (the atheris harness), one file per seed named by its SHA-1.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
import uuid
import zlib
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
SAMPLES = ROOT / "samples"

# Control bytes per harness (bits documented in each harness).
CONTROLS: Dict[str, Tuple[int, ...]] = {
    "decode": (0x00, 0x01, 0x07, 0x40, 0x85, 0xC0),
    "fixcrc": (0x00, 0x03, 0x80, 0xC1),
    "roundtrip": (0x00, 0x40, 0x80),
    "python": (0x00, 0x01, 0x0D, 0x20, 0x23, 0x40, 0x61, 0x81, 0xA0, 0xC0),
}


def _frame(block: bytes, payload: bytes) -> bytes:
    prelude = struct.pack(">II", 16 + len(block) + len(payload), len(block))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + block
    return head + payload + struct.pack(">I", zlib.crc32(payload, zlib.crc32(head)))


def _header(name: bytes, code: int, value: bytes = b"") -> bytes:
    return bytes([len(name)]) + name + bytes([code]) + value


def _string(name: bytes, value: bytes) -> bytes:
    return _header(name, 7, struct.pack(">H", len(value)) + value)


def _generated() -> List[bytes]:
    every_type = b"".join(
        [
            _header(b"t", 0),
            _header(b"f", 1),
            _header(b"b", 2, b"\x80"),
            _header(b"s", 3, b"\x7f\xff"),
            _header(b"i", 4, b"\x80\x00\x00\x00"),
            _header(b"l", 5, b"\xff" * 8),
            _header(b"y", 6, b"\x00\x03\x00\xff\x10"),
            _header(b"\xc3\xa9", 7, b"\x00\x04\xe2\x98\x83x"),
            _header(b"ts", 8, struct.pack(">q", 1_700_000_000_000)),
            _header(b"u", 9, uuid.UUID(int=0x0123456789ABCDEF).bytes),
        ]
    )
    event = b"".join(
        [
            _string(b":message-type", b"event"),
            _string(b":event-type", b"TranscriptEvent"),
        ]
    )
    three = _frame(event, b"{}") + _frame(event, b'{"a":1}') + _frame(b"", b"")
    other = _string(b":event-type", b"Other")
    # Header blocks that repeat, change, and come back around messages without one.
    mixed = b"".join(
        _frame(block, payload)
        for block, payload in [
            (event, b"1"),
            (b"", b""),
            (event, b"2"),
            (other, b"3"),
            (other, b""),
            (b"", b"4"),
            (other, b"5"),
            (event, b"6"),
        ]
    )
    return [
        _frame(b"", b""),
        _frame(every_type, b"payload"),
        three,
        three[:-7],  # ends inside the third message
        mixed,
        _frame(event, b"x" * 300),
        _frame(_header(b"v", 7, b"\x00\x08abcdefgh"), b""),  # over the small value limit
    ]


def _sample_streams() -> Iterable[bytes]:
    for path in sorted(SAMPLES.glob("*.eventstream")) if SAMPLES.is_dir() else ():
        data = path.read_bytes()
        yield data[:4096]  # libFuzzer's default -max_len; the start of the session
        pos = 0
        while len(data) - pos >= 12:  # each message on its own (no decoder needed)
            total = struct.unpack_from(">I", data, pos)[0]
            if total < 16 or pos + total > len(data):
                break
            yield data[pos : pos + total]
            pos += total


def seeds() -> List[bytes]:
    found = [p.read_bytes() for p in sorted(VECTORS.glob("**/encoded/**/*")) if p.is_file()]
    found += list(_sample_streams())
    found += _generated()
    unique: Dict[bytes, None] = dict.fromkeys(found)
    return list(unique)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    args = parser.parse_args(argv)
    stream_seeds = seeds()
    for harness, controls in CONTROLS.items():
        folder = args.out / harness
        folder.mkdir(parents=True, exist_ok=True)
        for seed in stream_seeds:
            for control in controls:
                data = seed + bytes([control])
                (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{len(stream_seeds)} seeds x controls written under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
