"""The floor of a cffi binding: what no Python glue can go below.

    python benchmarks/boundary.py

For each C-backend row of ``targets.py`` this module builds a *floor body*: the
same user-level input and output as the real body, doing only what a lean cffi
binding cannot avoid, namely

* the C work, stood in for by one ``es_crc32`` call over the message (the CRC
  pass is most of what the C core does to a message; its header walk is left
  out, so the floor is if anything too low),
* the objects the caller receives: ``bytes`` copied out of a C buffer for
  encode; for decode the payload slice, the ``Message``, and any header objects
  that no cache can supply (the ``unique-headers`` UUID and sequence headers),
* what the caller does anyway: building the header dict for encode, reading
  ``headers`` and ``payload`` once after decode, and per stream chunk appending
  it to a buffer and comparing the length (the least any incremental decoder
  does with a chunk), and one C call per chunk that completes messages, over
  all of them (a batch).

The floor bodies are timed with the same harness as the real ones, so
``floor time / our time`` is the share of the floor that our ratio reaches
(1.0: no glue at all).  Run directly, this prints the floor next to the C
backend and the peer for each row, plus the cost of the pieces.  It uses only
the compiled module's ``es_crc32`` and the public types, so it runs on any
version of the package.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import timing as T
import workloads as W

Run = Callable[[], Any]
Row = Tuple[str, str]  # (op, workload), as in targets.py


def _c() -> Any:
    from eventstream import _eventstream_c  # ImportError when the extension is not built

    return _eventstream_c


def _ours() -> Any:
    import impls as I

    return I.Ours("c")


def _encode_floor(spec: W.Single) -> Run:
    c = _c()
    lib, ffi = c.lib, c.ffi
    items = _ours().dict_items(spec)
    wire = spec.wire
    n = len(wire)
    out = ffi.new("uint8_t[]", n)
    out_chars = ffi.cast("char *", out)
    crc, unpack = lib.es_crc32, ffi.unpack

    def run() -> bytes:
        dict(items)
        crc(0, wire, n)
        return unpack(out_chars, n)  # type: ignore[no-any-return]

    return run


def _signed_floor() -> Run:
    inner = _encode_floor(W.single("audio"))
    outer = _encode_floor(W.single("signed"))

    def run() -> bytes:
        inner()
        return outer()

    return run


def _message_parts(spec: W.Single) -> Tuple[Any, int, int]:
    import eventstream

    headers = eventstream.decode(spec.wire).headers
    start = 12 + int.from_bytes(spec.wire[4:8], "big")
    return headers, start, len(spec.wire) - 4


def _new_message() -> Callable[[Any, Any], Any]:
    from eventstream import Message

    if issubclass(Message, tuple):
        new = tuple.__new__
        return lambda headers, payload: new(Message, (headers, payload))
    return Message  # type: ignore[no-any-return]


def _decode_floor(spec: W.Single, keep: bool = False, copy: bool = True) -> Run:
    lib = _c().lib
    crc = lib.es_crc32
    message = _new_message()
    headers, start, end = _message_parts(spec)
    wire = spec.wire
    n = len(wire)
    view = memoryview(wire)
    held: List[Any] = [None]

    def run() -> Any:
        crc(0, wire, n)
        m = message(headers, wire[start:end] if copy else view[start:end])
        len(m.headers)
        len(m.payload)
        if keep:
            held[0] = m
        return m

    return run


def _unique_floor() -> Run:
    from eventstream.types import Header, Headers, HeaderType

    crc = _c().lib.es_crc32
    message = _new_message()
    new = tuple.__new__
    try:
        from eventstream.types import uuid_from_bytes as make_uuid
    except ImportError:  # a version without the fast path: the public constructor
        import uuid

        def make_uuid(raw: bytes) -> Any:
            return uuid.UUID(bytes=raw)

    repeated = list(W.TRANSCRIPT_HEADERS)
    cached = [new(Header, (name, HeaderType(code), value)) for name, code, value in repeated]
    UUID, INT64 = HeaderType.UUID, HeaderType.INT64
    wires = []
    for spec in W.unique_headers().messages:
        wire = spec.wire
        block_end = 12 + int.from_bytes(wire[4:8], "big")
        # the two unique values' offsets: the last two headers of the block
        wires.append((wire, len(wire), block_end, block_end - 8, block_end - 8 - 10 - 16))

    def run() -> List[Any]:
        out = []
        for wire, n, block_end, seq_at, uuid_at in wires:
            crc(0, wire, n)
            h4 = new(Header, ("event-id", UUID, make_uuid(wire[uuid_at : uuid_at + 16])))
            h5 = new(Header, ("sequence", INT64, int.from_bytes(wire[seq_at:block_end], "big")))
            m = message(new(Headers, [*cached, h4, h5]), wire[block_end:-4])
            len(m.headers)
            len(m.payload)
            out.append(m)
        return out

    return run


def _stream_floor(name: str) -> Run:
    c = _c()
    crc, from_buffer, release = c.lib.es_crc32, c.ffi.from_buffer, c.ffi.release
    message = _new_message()
    stream = W.stream(name)
    headers, start, end = _message_parts(stream.message)
    size = stream.message.nbytes
    chunks = stream.chunks

    def run() -> List[Any]:
        buf = bytearray()
        out = []
        at = 0
        for chunk in chunks:
            buf += chunk
            complete = (len(buf) - at) // size  # the one length check per chunk
            if not complete:
                continue
            # one C call over every complete message in the buffer
            view = from_buffer("uint8_t[]", buf)
            crc(0, view + at, complete * size)
            release(view)
            for _ in range(complete):
                payload = bytes(memoryview(buf)[at + start : at + end])  # the one copy
                m = message(headers, payload)
                len(m.headers)
                len(m.payload)
                out.append(m)
                at += size
            if at > 65536:
                del buf[:at]
                at = 0
        return out

    return run


FLOORS: Dict[Row, Callable[[], Run]] = {
    ("encode", "audio"): lambda: _encode_floor(W.single("audio")),
    ("encode", "signed"): _signed_floor,
    ("decode", "transcript"): lambda: _decode_floor(W.single("transcript")),
    ("decode", "unique-headers"): _unique_floor,
    ("decode", "16mib"): lambda: _decode_floor(W.single("16mib")),
    ("decode-keep", "16mib"): lambda: _decode_floor(W.single("16mib"), keep=True),
    ("decode-zerocopy", "16mib"): lambda: _decode_floor(W.single("16mib"), copy=False),
    ("decode-zerocopy-keep", "16mib"): lambda: _decode_floor(
        W.single("16mib"), keep=True, copy=False
    ),
    **{("stream", name): (lambda name=name: _stream_floor(name)) for name in W.STREAM_WORKLOADS},
}


def has_floors() -> bool:
    """Whether the C extension is built (the floors call its es_crc32)."""
    try:
        _c()
    except ImportError:
        return False
    return True


def floor_body(op: str, workload: str) -> Run:
    """The floor body of one row (KeyError: the row has no floor)."""
    return FLOORS[(op, workload)]()


def floor_bodies() -> Dict[Row, Run]:
    """``{(op, workload): floor body}`` for every C-backend row with a floor.

    Empty when the C extension is not built."""
    if not has_floors():
        return {}
    return {row: make() for row, make in FLOORS.items()}


def _pieces() -> Dict[str, Run]:
    """The cost of single pieces, for scale."""
    import zlib

    c = _c()
    lib, ffi = c.lib, c.ffi
    wire = W.single("transcript").wire
    n = len(wire)
    headers, start, end = _message_parts(W.single("transcript"))
    message = _new_message()
    out = ffi.cast("char *", ffi.new("uint8_t[]", n))
    buf = bytearray()
    chunk = wire[:7]

    def append() -> None:
        buf.extend(chunk)
        if len(buf) > 65536:
            del buf[:]

    return {
        "zlib.crc32(b'') (a builtin call, for scale)": lambda: zlib.crc32(b""),
        "cffi call: es_crc32(0, b'', 0)": lambda: lib.es_crc32(0, b"", 0),
        "cffi call: es_crc32 over the 752-byte transcript": lambda: lib.es_crc32(0, wire, n),
        "ffi.unpack(752 bytes) -> bytes": lambda: ffi.unpack(out, n),
        "payload slice (651 bytes)": lambda: wire[start:end],
        "Message from headers and payload": lambda: message(headers, wire),
        "append a 7-byte chunk to a bytearray": append,
    }


def main() -> None:
    import impls as I

    import eventstream

    print(f"Python {sys.version.split()[0]}, eventstream {eventstream.__version__}; {T.pin()}\n")
    try:
        floors = floor_bodies()
        pieces = _pieces()
    except ImportError:
        sys.exit("the C extension is not built: there is no cffi floor to measure")
    for label, run in pieces.items():
        print(f"{label:<52} {T.best(run, T.calibrate(run)) * 1e9:10,.0f} ns")
    found = I.all_impls()
    ours = found["c"]
    ours.activate()
    print(f"\n{'row':<30} {'floor':>10} {'c':>10} {'peer':>10}  peer/floor  c reaches")
    for (op, name), floor in floors.items():
        peer = found["amazon_transcribe" if op.startswith("encode") else "botocore"]
        if not ours.supports(op):
            continue
        c_run = ours.body(op, name)[0]
        per = W.messages_per_op(name)
        times = [T.best(r, T.calibrate(r)) / per for r in (floor, c_run)]
        p_time = None
        if peer.available and peer.supports(op.replace("zerocopy-", "").replace("-zerocopy", "")):
            p_run = peer.body(op.replace("zerocopy-", "").replace("-zerocopy", ""), name)[0]
            p_time = T.best(p_run, T.calibrate(p_run)) / per
        ratio = f"{p_time / times[0]:9.1f}x" if p_time else "       n/a"
        shown = f"{p_time * 1e6:9.2f}µ" if p_time else "       n/a"
        print(
            f"{op + ' ' + name:<30} {times[0] * 1e6:9.2f}µ {times[1] * 1e6:9.2f}µ {shown}"
            f"  {ratio}  {times[0] / times[1]:8.0%} of the floor"
        )


if __name__ == "__main__":
    main()
