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

    # ---- encode: the C call that writes the message, and copying it out as bytes
    message = eventstream.decode(wire)
    block = eventstream._header_codec.encode_header_block(message.headers)
    payload = message.payload
    out = ffi.new("uint8_t[]", 65536)
    out_chars = ffi.cast("char *", out)
    rows["cffi call, 6 arguments: es_encode_frame(transcript)"] = best(
        lambda: lib.es_encode_frame(out, 65536, block, len(block), payload, len(payload)), 200_000
    )
    rows["ffi.unpack(752 bytes) -> bytes"] = best(lambda: ffi.unpack(out_chars, n), 200_000)
    rows["eventstream.encode(transcript), C backend"] = best(
        lambda: eventstream.encode(message), 100_000
    )
    try:
        from amazon_transcribe.eventstream import EventStreamMessageSerializer
    except ImportError:
        EventStreamMessageSerializer = None
    if EventStreamMessageSerializer is not None:
        serialize = EventStreamMessageSerializer().serialize
        aws_headers = {h.name: h.value for h in message.headers}
        rows["amazon_transcribe: serialize(transcript)"] = best(
            lambda: serialize(aws_headers, payload), 50_000
        )

    # ---- unique-headers: the C calls, and the objects 5 fresh headers need
    uwires = [u.wire for u in W.workload("unique-headers").messages][:2000]
    rows["unique-headers: eventstream.decode, C backend (per msg)"] = best(
        lambda: [eventstream.decode(u) for u in uwires], 3
    ) / len(uwires)
    ublock = uwires[0][12 : 12 + int.from_bytes(uwires[0][4:8], "big")]
    lim_value = DEFAULT_LIMITS.max_header_value
    descs = ffi.new("int64_t[]", 64 * 5 + 8)

    def unique_calls() -> None:
        for u in uwires:
            lib.es_check_one(u, len(u), lim)
            lib.es_walk_headers(ublock, len(ublock), 12, 0, lim_value, descs, 64, descs + 320)

    rows["unique-headers: the two C calls alone (per msg)"] = best(unique_calls, 3) / len(uwires)
    decoded = [eventstream.decode(u) for u in uwires]
    values = [[(h.name.encode(), h.type, h.value) for h in m.headers] for m in decoded]
    from eventstream.types import Header, Headers, uuid_from_bytes

    def unique_objects() -> None:
        # Only the objects: decode 2 names, build the UUID, 2 Headers, the tuple,
        # the Message (the 3 repeated headers come from the cache for free).
        for vs in values:
            (_, _, _), (_, _, _), (_, _, _), (n4, t4, v4), (n5, t5, v5) = vs
            h4 = new(Header, (n4.decode(), t4, uuid_from_bytes(v4.bytes)))
            h5 = new(Header, (n5.decode(), t5, v5))
            new(Message, (new(Headers, [h4, h4, h4, h4, h5]), wire[90:-4]))

    rows["unique-headers: building the objects alone (per msg)"] = best(unique_objects, 3) / len(
        values
    )

    def boto_unique() -> None:
        b = EventStreamBuffer()
        for u in uwires:
            b.add_data(u)
            m = b.next()
            len(m.headers)
            len(m.payload)

    rows["unique-headers: botocore (per msg)"] = best(boto_unique, 3) / len(uwires)

    # ---- 16 MiB: one CRC pass and one payload copy are the whole job
    big = W.workload("16mib").wire
    rows["16 MiB: es_crc32 over the message"] = best(lambda: lib.es_crc32(0, big, len(big)), 5)
    rows["16 MiB: the payload copy (bytes slice)"] = best(lambda: big[12:-4], 5)
    rows["16 MiB: eventstream.decode, C backend"] = best(lambda: eventstream.decode(big), 5)

    def boto_big() -> None:
        b = EventStreamBuffer()
        b.add_data(big)
        len(b.next().payload)

    rows["16 MiB: botocore"] = best(boto_big, 5)

    print(f"Python {sys.version.split()[0]}, eventstream {eventstream.__version__}\n")
    width = max(map(len, rows))
    for name, seconds in rows.items():
        print(f"{name:<{width}}  {seconds * 1e9:14,.0f} ns")
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
    if "amazon_transcribe: serialize(transcript)" in rows:
        at = rows["amazon_transcribe: serialize(transcript)"]
        floor_e = (
            rows["cffi call, 6 arguments: es_encode_frame(transcript)"]
            + rows["ffi.unpack(752 bytes) -> bytes"]
        )
        print(
            f"transcript encode: floor (call + unpack) {floor_e * 1e9:,.0f} ns = "
            f"{at / floor_e:.1f}x amazon_transcribe at best; encode() is "
            f"{at / rows['eventstream.encode(transcript), C backend']:.1f}x"
        )
    bu = rows["unique-headers: botocore (per msg)"]
    floor_u = (
        rows["unique-headers: the two C calls alone (per msg)"]
        + rows["unique-headers: building the objects alone (per msg)"]
    )
    print(
        f"unique-headers: floor (C calls + objects) {floor_u * 1e9:,.0f} ns = "
        f"{bu / floor_u:.1f}x botocore at best; decode() is "
        f"{bu / rows['unique-headers: eventstream.decode, C backend (per msg)']:.1f}x"
    )
    bb = rows["16 MiB: botocore"]
    floor_b = (
        rows["16 MiB: es_crc32 over the message"] + rows["16 MiB: the payload copy (bytes slice)"]
    )
    print(
        f"16 MiB: floor (CRC + copy) {floor_b * 1e3:.2f} ms = {bb / floor_b:.1f}x botocore "
        f"at best; "
        f"decode() is {bb / rows['16 MiB: eventstream.decode, C backend']:.1f}x"
    )
    print(
        f"stream: the one-call floor is {sb / floor_s:.1f}x botocore at best; "
        f"the Decoder is {sb / ours_s:.1f}x"
    )


if __name__ == "__main__":
    main()
