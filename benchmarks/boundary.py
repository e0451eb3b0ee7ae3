"""Where the time of a decode goes when the C backend is used: the cffi boundary
and the Python objects a decode must build, measured against botocore.

    python benchmarks/boundary.py

Prints, for this machine and interpreter: the cost of one cffi call, of reading
results back (a cdata field, a cdata item, a memoryview item, a memoryview slice
as a list), of building one Message (the payload slice and the tuple), and the
floors these set for the ``transcript`` decode and the ``stream`` workload,
next to botocore's time for the same work.  A floor is what no glue code can
go below: the C call(s) plus the objects the caller receives.
"""

from __future__ import annotations

import os
import sys
import timeit
from typing import Callable, Dict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads as W


def best(fn: Callable[[], object], number: int) -> float:
    """Seconds per call: the best of 7 repeats (the least disturbed)."""
    return min(timeit.repeat(fn, number=number, repeat=7)) / number


def main() -> None:
    import eventstream
    from eventstream import _backend_c as C
    from eventstream import _codec
    from eventstream.limits import DEFAULT_LIMITS
    from eventstream.types import Message

    try:
        from botocore.eventstream import EventStreamBuffer
    except ImportError:
        sys.exit("botocore is not installed: pip install '.[bench]'")
    from eventstream import _active

    _active.use("c")
    lib, ffi = C.lib, C.ffi
    new = tuple.__new__
    wire = W.workload("transcript").wire
    n = len(wire)
    scratch = C._Scratch()
    lim = C._DEFAULT_LIM
    headers = eventstream.decode(wire).headers
    rows: Dict[str, float] = {}

    rows["zlib.crc32(b'') (a builtin call, for scale)"] = best(lambda: C._zlib_crc32(b""), 200_000)
    rows["cffi call, 3 arguments: es_crc32(0, b'', 0)"] = best(
        lambda: lib.es_crc32(0, b"", 0), 200_000
    )
    rows["cffi call, 5 arguments: es_check_frame(transcript)"] = best(
        lambda: lib.es_check_frame(wire, 0, n, lim, ffi.NULL), 200_000
    )
    rows["cffi call, 3 arguments: es_check_one(transcript)"] = best(
        lambda: lib.es_check_one(wire, n, lim), 200_000
    )
    rows["read a cdata struct field (batch.frame_cap)"] = best(
        lambda: scratch.batch.frame_cap, 200_000
    )
    rows["read a cdata array item (keep[3])"] = best(lambda: scratch.keep[3], 200_000)
    ints = scratch.ints
    rows["read a memoryview item (ints[3])"] = best(lambda: ints[3], 200_000)
    rows["read 4 fields as a list (ints[0:4].tolist())"] = best(lambda: ints[0:4].tolist(), 200_000)
    rows["payload slice (650 bytes)"] = best(lambda: wire[90:-4], 200_000)
    rows["Message from headers and payload (tuple.__new__)"] = best(
        lambda: new(Message, (headers, wire)), 200_000
    )
    rows["eventstream.decode(transcript), C backend"] = best(
        lambda: eventstream.decode(wire), 100_000
    )

    buf = EventStreamBuffer()

    def boto_one() -> object:
        buf.add_data(wire)
        m = buf.next()
        len(m.headers)
        len(m.payload)
        return m

    rows["botocore: one transcript message"] = best(boto_one, 20_000)

    chunks = W.stream("stream-4k").chunks
    data = b"".join(chunks)
    cache = _codec._DEFAULT_CACHE

    def one_call_stream() -> object:
        messages = C.decode_frames(data, 0, len(data), DEFAULT_LIMITS, cache)[0]
        for m in messages:
            len(m.headers)
            len(m.payload)
        return messages

    def boto_stream() -> object:
        b = EventStreamBuffer()
        out = []
        for chunk in chunks:
            b.add_data(chunk)
            for m in b:
                len(m.headers)
                len(m.payload)
                out.append(m)
        return out

    def ours_stream() -> object:
        d = eventstream.Decoder()
        out = []
        for chunk in chunks:
            for m in d.feed(chunk):
                len(m.headers)
                len(m.payload)
                out.append(m)
        d.close()
        return out

    count = W.STREAM_COUNT
    rows["stream floor: all 10,000 messages from one C call, read once (per msg)"] = (
        best(one_call_stream, 3) / count
    )
    rows["stream: Decoder fed 4 KiB chunks, C backend (per msg)"] = best(ours_stream, 3) / count
    rows["stream: botocore fed 4 KiB chunks (per msg)"] = best(boto_stream, 3) / count

    print(f"Python {sys.version.split()[0]}, eventstream {eventstream.__version__}\n")
    width = max(map(len, rows))
    for name, seconds in rows.items():
        print(f"{name:<{width}}  {seconds * 1e9:10,.0f} ns")
    boto_t = rows["botocore: one transcript message"]
    floor_t = (
        rows["cffi call, 3 arguments: es_check_one(transcript)"]
        + rows["payload slice (650 bytes)"]
        + rows["Message from headers and payload (tuple.__new__)"]
    )
    print(
        f"\ntranscript decode: floor (call + slice + Message) {floor_t * 1e9:,.0f} ns = "
        f"{boto_t / floor_t:.1f}x botocore at best; decode() is "
        f"{boto_t / rows['eventstream.decode(transcript), C backend']:.1f}x"
    )
    sb = rows["stream: botocore fed 4 KiB chunks (per msg)"]
    floor_s = rows["stream floor: all 10,000 messages from one C call, read once (per msg)"]
    ours_s = rows["stream: Decoder fed 4 KiB chunks, C backend (per msg)"]
    print(
        f"stream: the one-call floor is {sb / floor_s:.1f}x botocore at best; "
        f"the Decoder is {sb / ours_s:.1f}x"
    )


if __name__ == "__main__":
    main()
