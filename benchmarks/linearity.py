"""Shows that Decoder.feed costs time linear in the stream length.

Decodes N transcript-sized messages fed in one chunk and in 4 KiB chunks for
N = 1,000, 10,000 and 100,000, and prints the time per message; linear cost
means the per-message time stays flat as N grows 100x.

    python benchmarks/linearity.py [--backend c|python]
"""

from __future__ import annotations

import argparse
import time

import eventstream
from eventstream import _active

TRANSCRIPT = eventstream.Message(
    {
        ":message-type": "event",
        ":event-type": "TranscriptEvent",
        ":content-type": "application/json",
    },
    b'{"Transcript":{"Results":[{"Alternatives":[{"Items":[],"Transcript":"'
    + b"hello world " * 45
    + b'"}],"EndTime":1.23,"IsPartial":true,"ResultId":"0a1b2c3d","StartTime":0.0}]}}',
)


def decode_in_chunks(stream: bytes, chunk_size: int) -> int:
    decoder = eventstream.Decoder()
    count = 0
    for start in range(0, len(stream), chunk_size):
        count += len(decoder.feed(stream[start : start + chunk_size]))
    decoder.close()
    return count


def best_of(runs: int, func, *args) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        func(*args)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["c", "python"], default=eventstream.BACKEND)
    args = parser.parse_args()
    _active.use(args.backend)
    frame = eventstream.encode(TRANSCRIPT)
    print(f"backend={args.backend}, message={len(frame)} bytes")
    print(f"{'messages':>9} {'chunking':>10} {'total ms':>9} {'us/message':>10}")
    for count in (1_000, 10_000, 100_000):
        stream = frame * count
        for label, size in (("one chunk", len(stream)), ("4 KiB", 4096)):
            assert decode_in_chunks(stream, size) == count
            seconds = best_of(3, decode_in_chunks, stream, size)
            print(f"{count:>9,} {label:>10} {seconds * 1e3:>9.1f} {seconds / count * 1e6:>10.2f}")


if __name__ == "__main__":
    main()
