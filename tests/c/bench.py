"""One-run benchmark of the C core against the pure-Python backend and PyPI CRC32s.

    python tests/c/bench.py            # needs the package installed with its C extension
    pip install isal zlib-ng           # optional contenders for the CRC table

Each figure is the best of 5 repeats of a timed loop, timed in CPU time of this
process (time.process_time), which a busy shared machine disturbs less than wall
time.  Not part of the test suite.
"""

from __future__ import annotations

import json
import os
import sys
import time
import zlib
from typing import Any, Callable, Dict, List, Tuple

from eventstream import _active, _assemble
from eventstream import _backend_c as C
from eventstream import _backend_python as P
from eventstream._header_codec import encode_header_block
from eventstream.limits import DEFAULT_LIMITS
from eventstream.types import Header, HeaderType, Message


def best_times(fns: List[Callable[[], Any]], inner: int, rounds: int = 7) -> List[float]:
    """Seconds per call of each function: the best of ``rounds`` loops of ``inner``
    calls, the functions taking turns so that a burst of outside load hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            t0 = time.process_time()
            for _ in range(inner):
                fn()
            best[k] = min(best[k], (time.process_time() - t0) / inner)
    return best


def crc_table() -> List[Tuple[str, Dict[str, float]]]:
    contenders: List[Tuple[str, Callable[..., int]]] = [("zlib", zlib.crc32)]
    try:
        from isal import isal_zlib

        contenders.append(("isal", isal_zlib.crc32))
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng

        contenders.append(("zlib-ng", zlib_ng.crc32))
    except ImportError:
        pass
    contenders.append(("eventstream C", C.crc32))
    sizes = [("64 B", 64), ("4 KiB", 4096), ("1 MiB", 1 << 20), ("16 MiB", 16 << 20)]
    rows: List[Tuple[str, Dict[str, float]]] = [(name, {}) for name, _ in contenders]
    for label, n in sizes:
        data = os.urandom(n)
        inner = max(3, min(100_000, (128 << 20) // n))
        times = best_times([lambda f=f, d=data: f(d) for _, f in contenders], inner)
        for (_, row), t in zip(rows, times):
            row[label] = n / t / 1e9
    return rows


def transcript_message() -> Message:
    """3 string headers and a ~650-byte JSON payload, like an Amazon Transcribe event."""
    payload = json.dumps(
        {
            "Transcript": {
                "Results": [
                    {
                        "Alternatives": [
                            {
                                "Items": [
                                    {
                                        "Content": "hello",
                                        "EndTime": 0.57,
                                        "StartTime": 0.13,
                                        "Type": "pronunciation",
                                        "VocabularyFilterMatch": False,
                                    }
                                ]
                                * 4,
                                "Transcript": "hello hello hello hello",
                            }
                        ],
                        "EndTime": 1.23,
                        "IsPartial": True,
                        "ResultId": "2f5b6e3a-45cd-4d7b-9a1e-3c1b2a0c9d8e",
                        "StartTime": 0.11,
                    }
                ]
            }
        }
    ).encode()
    return Message(
        [
            Header(":message-type", HeaderType.STRING, "event"),
            Header(":event-type", HeaderType.STRING, "TranscriptEvent"),
            Header(":content-type", HeaderType.STRING, "application/json"),
        ],
        payload,
    )


def codec_table() -> List[Tuple[str, str, float, float]]:
    rows = []
    small = transcript_message()
    big = Message(small.headers, os.urandom(16 << 20))
    for label, msg, inner in (("transcript", small, 20_000), ("16 MiB payload", big, 10)):
        block = encode_header_block(msg.headers)
        wire = P.encode_frame(block, msg.payload)
        assert C.encode_frame(block, msg.payload) == wire
        cache = _assemble.decode_cache_for(DEFAULT_LIMITS)
        decs, encs = [], []
        for backend in (C, P):
            _active.restore(backend)
            got = _assemble.decode_frames(wire, 0, len(wire), DEFAULT_LIMITS, cache, 1)
            assert got == ([msg], len(wire), None), backend.NAME

            def dec(b: Any = backend, w: bytes = wire, c: Any = cache) -> Any:
                _active.restore(b)
                return _assemble.decode_frames(w, 0, len(w), DEFAULT_LIMITS, c, 1)

            def enc(b: Any = backend, bl: bytes = block, p: bytes = msg.payload) -> Any:
                return b.encode_frame(bl, p)

            decs.append(dec)
            encs.append(enc)
        dec_t = best_times(decs, inner)
        enc_t = best_times(encs, inner)
        for k, backend in enumerate((C, P)):
            rows.append((label, backend.NAME, 1 / dec_t[k], 1 / enc_t[k]))
        if label == "transcript":
            print(f"transcript message: {len(wire)} bytes on the wire")
    # A stream: 1,000 transcript messages fed to a Decoder in 64 KiB chunks.
    from eventstream import Decoder

    wire = P.encode_frame(encode_header_block(small.headers), small.payload) * 1000
    chunks = [wire[i : i + 65536] for i in range(0, len(wire), 65536)]
    streams = []
    for backend in (C, P):

        def stream(name: str = backend.NAME) -> int:
            previous = _active.use(name)
            try:
                d = Decoder()
                return sum(len(d.feed(c)) for c in chunks)
            finally:
                _active.restore(previous)

        assert stream() == 1000
        streams.append(stream)
    for backend, t in zip((C, P), best_times(streams, 10)):
        rows.append(("stream of 1000, 64 KiB chunks", backend.NAME, 1000 / t, 0))
    return rows


def main() -> None:
    print(f"Python {sys.version.split()[0]}; CRC path: {C.lib.es_crc32_active_path()}")
    print("\nCRC32 GB/s")
    rows = crc_table()
    labels = list(rows[0][1])
    print(f"{'':16}" + "".join(f"{label:>10}" for label in labels))
    for name, row in rows:
        print(f"{name:16}" + "".join(f"{row[label]:10.2f}" for label in labels))
    print("\nmessages/s (decode, encode)")
    for label, backend, dec, enc in codec_table():
        encoded = f"   encode {enc:12,.0f}" if enc else ""
        print(f"{label:32} {backend:7} decode {dec:12,.0f}{encoded}")


if __name__ == "__main__":
    main()
