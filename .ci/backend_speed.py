"""Speed of both backends under the running interpreter (written for PyPy; works on CPython).

Figures are the best of several timeit repeats, after a warm-up that lets PyPy's JIT compile
the loops.  Usage, with the package installed with its C extension:
``pypy3 .ci/backend_speed.py`` (run from outside the source tree).
"""

from __future__ import annotations

import platform
import sys
import timeit
from typing import Callable, List, Tuple

import eventstream as es
from eventstream import _active

# A Transcribe TranscriptEvent-sized message: the three string headers, ~1.4 KB JSON payload.
TRANSCRIPT = es.Message(
    {
        ":message-type": "event",
        ":event-type": "TranscriptEvent",
        ":content-type": "application/json",
    },
    b'{"Transcript":{"Results":[{"Alternatives":[{"Transcript":"'
    + b"word " * 270
    + b'"}],"EndTime":1.5,"IsPartial":false,"ResultId":"r","StartTime":0.1}]}}',
)
MIB16 = 16 * 1024 * 1024
BIG_LIMITS = es.Limits(max_payload=32 << 20, max_header_block=128 << 10, max_header_value=32767)
AUDIO_EVENT = es.Message(
    {
        ":message-type": "event",
        ":event-type": "AudioEvent",
        ":content-type": "application/octet-stream",
    },
    b"\x01\x02" * 2048,
)


def cases() -> List[Tuple[str, Callable[[], object], int]]:
    """(name, function, bytes per call), built with the active backend."""
    transcript = es.encode(TRANSCRIPT)
    big = es.encode(es.Message({":event-type": "AudioEvent"}, bytes(MIB16)), limits=BIG_LIMITS)
    audio = es.encode(AUDIO_EVENT)
    stream = audio * (MIB16 // len(audio))

    def feed_stream() -> int:
        decoder = es.Decoder()
        count = 0
        for start in range(0, len(stream), 65536):
            count += len(decoder.feed(stream[start : start + 65536]))
        decoder.close()
        return count

    return [
        (f"encode transcript message ({len(transcript)} B)", lambda: es.encode(TRANSCRIPT), 0),
        (f"decode transcript message ({len(transcript)} B)", lambda: es.decode(transcript), 0),
        ("decode one 16 MiB message", lambda: es.decode(big, limits=BIG_LIMITS), len(big)),
        (
            f"Decoder: 16 MiB stream of {len(audio)} B messages, 64 KiB chunks",
            feed_stream,
            len(stream),
        ),
    ]


def best(function: Callable[[], object]) -> float:
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    timer.repeat(repeat=3, number=number)  # warm-up (JIT)
    return min(timer.repeat(repeat=7, number=number)) / number


def main() -> int:
    print(
        f"{platform.python_implementation()} {platform.python_version()} "
        f"({sys.version.splitlines()[-1].strip()}), eventstream {es.__version__}"
    )
    rows = []
    for name in ("c", "python"):
        previous = _active.use(name)
        try:
            for case, function, size in cases():
                seconds = best(function)
                rows.append((case, name, seconds, size))
        finally:
            _active.restore(previous)
    print(f"{'case':62} {'backend':7} {'per call':>12} {'throughput':>12}")
    for case, name, seconds, size in rows:
        per_call = f"{seconds * 1e6:.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"
        rate = f"{size / seconds / 2**20:.0f} MiB/s" if size else f"{1 / seconds:,.0f} /s"
        print(f"{case:62} {name:7} {per_call:>12} {rate:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
