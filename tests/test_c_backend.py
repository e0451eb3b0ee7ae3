"""The C backend's own surface: CRC paths, the compiled API, version check, selection."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import uuid
import zlib
from array import array
from typing import Callable, Dict, List

import crcmod.predefined
import pytest
from _backends import records, using
from _frames import fix_crcs
from _threads import run_together
from hypothesis import given
from hypothesis import strategies as st

from eventstream import _assemble, errors
from eventstream import _backend_python as P
from eventstream._codec import encode
from eventstream._header_codec import encode_header_block
from eventstream.limits import DEFAULT_LIMITS, WIRE_LIMITS, Limits
from eventstream.types import Header, HeaderType, Message

try:
    from eventstream import _backend_c as C
    from eventstream._eventstream_c import ffi, lib
except ImportError as exc:  # a test error, unless --no-c-backend deselects these tests
    IMPORT_ERROR: ImportError | None = exc
    C = ffi = lib = None  # type: ignore[assignment]
else:
    IMPORT_ERROR = None

pytestmark = pytest.mark.c_backend


@pytest.fixture(autouse=True)
def _c_backend_imports() -> None:
    if IMPORT_ERROR is not None:
        raise IMPORT_ERROR


oracle = crcmod.predefined.mkCrcFun("crc-32")
DATA = os.urandom(1024 + 64)
PATHS = {  # the ES_CRC32_* bits
    "portable": 1,
    "pclmul": 2,
    "vpclmul_avx2": 4,
    "vpclmul_avx512": 8,
    "armv8": 16,
}


def crc_with(path: int, data: bytes, value: int = 0) -> int:
    return lib.es_crc32_with(path, value, data, len(data))  # type: ignore[no-any-return]


@pytest.fixture(params=sorted(PATHS))
def crc_path(request: pytest.FixtureRequest) -> int:
    path = PATHS[request.param]
    if not lib.es_crc32_paths() & path:
        pytest.skip(f"this CPU (or build) has no {request.param} CRC32 path")
    return path


# ---------------------------------------------------------------- CRC32


def test_the_active_path_is_supported_and_the_best_one():
    paths = lib.es_crc32_paths()
    active = lib.es_crc32_active_path()
    assert paths & lib.ES_CRC32_PORTABLE
    assert paths & active
    assert active == max(bit for bit in PATHS.values() if paths & bit)


def test_each_path_on_every_length_to_1024_and_unaligned_starts(crc_path):
    for start in range(8):
        for length in range(1025):
            chunk = DATA[start : start + length]
            assert crc_with(crc_path, chunk) == oracle(chunk), (start, length)
            assert crc_with(crc_path, chunk) == lib.es_crc32_portable(0, chunk, len(chunk))


def test_each_path_on_large_buffers_with_running_values(crc_path):
    big = os.urandom(5 * 1024 * 1024 + 61)
    for n in (2048, 4099, 65536 + 7, 1 << 20, len(big)):
        for start in (0, 1, 13):
            chunk = big[start : start + n]
            assert crc_with(crc_path, chunk, 0x12345678) == zlib.crc32(chunk, 0x12345678)


def test_an_unsupported_path_falls_back_to_the_portable_one():
    missing = [bit for bit in PATHS.values() if not lib.es_crc32_paths() & bit]
    for bit in [*missing, 1 << 20]:
        assert crc_with(bit, DATA) == zlib.crc32(DATA)


def test_the_c_dispatcher_on_every_length_to_1100():
    # crc32() hands short inputs to zlib; the C dispatcher must be right there too.
    for start in (0, 5):
        for length in range(1101):
            chunk = DATA[start : start + length]
            assert lib.es_crc32(7, chunk, len(chunk)) == zlib.crc32(chunk, 7), (start, length)


@given(st.binary(max_size=3000), st.integers(0, 0xFFFFFFFF))
def test_the_dispatcher_matches_zlib(data, value):
    assert C.crc32(data, value) == zlib.crc32(data, value)
    assert C.crc32(bytearray(data), value) == zlib.crc32(data, value)


def test_crc32_takes_start_values_and_buffers_as_zlib_does():
    for value in (-1, 1 << 32, (1 << 40) + 5, -(1 << 33)):
        assert C.crc32(DATA, value) == zlib.crc32(DATA, value)
    words = array("I", range(100))
    assert C.crc32(words) == zlib.crc32(words)
    assert C.crc32(memoryview(DATA)[3:900]) == zlib.crc32(DATA[3:900])
    with pytest.raises(TypeError):
        C.crc32("text")  # type: ignore[arg-type]


# ---------------------------------------------------------------- compiled API


def test_status_codes_are_the_fault_numbers():
    for name in dir(errors):
        if name.startswith("FAULT_") and name != "FAULT_CODES":
            assert getattr(lib, "ES_ERR_" + name[len("FAULT_") :]) == getattr(errors, name), name
    assert lib.ES_OK == 0


def test_the_cdef_is_the_marked_region_of_the_header():
    import importlib.util
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("build_ffi", root / "csrc" / "build_ffi.py")
    if spec is None or spec.loader is None or not (root / "csrc").is_dir():
        pytest.skip("source tree not available")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    region = module.cdef_region(root / "csrc" / "eventstream.h")
    for name in (
        "es_crc32",
        "es_decode_batch",
        "es_check_frame",
        "es_check_one",
        "es_check_next",
        "es_walk_headers",
        "es_walk_block",
        "es_frame_crcs",
    ):
        assert f"{name}(" in region
        assert hasattr(lib, name)


def test_the_module_reports_the_package_version():
    from eventstream import __version__

    assert ffi.string(lib.es_module_version()).decode() == __version__


@given(st.binary(max_size=40))
def test_utf8_validation_matches_python(data):
    try:
        data.decode("utf-8")
        valid = 1
    except UnicodeDecodeError:
        valid = 0
    assert lib.es_utf8_valid(data, len(data)) == valid


UTF8_EDGES = [
    b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xed\xa0\x80",
    b"\xed\xbf\xbf", b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80", b"\xff", b"\x80", b"\xe2\x82", b"abc\xf0\x9f\x98", b"\xef\xbf\xbf",
    b"\xf4\x8f\xbf\xbf", b"\xed\x9f\xbf", b"\xee\x80\x80", b"\x00", b"a" * 17 + b"\xc3",
]  # fmt: skip


@pytest.mark.parametrize("raw", UTF8_EDGES)
def test_utf8_edges(raw):
    try:
        raw.decode("utf-8")
        valid = 1
    except UnicodeDecodeError:
        valid = 0
    assert lib.es_utf8_valid(raw, len(raw)) == valid


def test_walk_headers_describes_each_type():
    headers = [
        Header("t", HeaderType.BOOL_TRUE, True),
        Header("f", HeaderType.BOOL_FALSE, False),
        Header("b", HeaderType.BYTE, -128),
        Header("s", HeaderType.INT16, -2),
        Header("i", HeaderType.INT32, -(1 << 31)),
        Header("l", HeaderType.INT64, -(1 << 63)),
        Header("by", HeaderType.BYTES, b"\xff\x00"),
        Header("st", HeaderType.STRING, "\u00e9"),
        Header("ts", HeaderType.TIMESTAMP, (1 << 63) - 1),
        Header("u", HeaderType.UUID, uuid.UUID(int=1)),
    ]
    block = encode_header_block(tuple(headers))  # type: ignore[arg-type]
    cap = 16
    d = ffi.new("int64_t[]", cap * lib.ES_HEADER_FIELDS)
    fault = ffi.new("int64_t[]", lib.ES_FAULT_FIELDS)
    lim = ffi.new("es_limits *", list(DEFAULT_LIMITS))
    n = lib.es_walk_headers(block, len(block), 0, 0, lim, d, cap, fault)
    assert n == len(headers)
    got = ffi.unpack(d, n * lib.ES_HEADER_FIELDS)
    for k, header in enumerate(headers):
        ns, ne, code, v1, v2 = got[k * 5 : k * 5 + 5]
        assert block[ns:ne].decode() == header.name
        assert code == header.type
        if code in (6, 7, 9):
            raw = block[v1:v2]
            expected = header.value
            if code == 7:
                expected = header.value.encode()  # type: ignore[union-attr]
            if code == 9:
                expected = header.value.bytes  # type: ignore[union-attr]
            assert raw == expected
        elif code > 1:
            assert v1 == header.value
    assert lib.es_walk_headers(block, len(block), 0, 0, lim, d, 3, fault) == lib.ES_ERR_NO_ROOM


def test_frame_crcs_and_encode_frame_agree_with_the_python_backend():
    block = encode_header_block((Header(":event-type", HeaderType.STRING, "x"),))  # type: ignore[arg-type]
    for payload in (b"", b"p", os.urandom(5000)):
        wire = P.encode_frame(block, payload)
        assert C.encode_frame(block, payload) == wire
        assert C.encode_frame(bytearray(block), memoryview(payload)) == wire
        out = bytearray(len(wire))
        assert lib.es_encode_frame(ffi.from_buffer("uint8_t[]", out), len(out), block, len(block),
                                   payload, len(payload)) == len(wire)  # fmt: skip
        assert bytes(out) == wire
        r = lib.es_frame_crcs(block, len(block), payload, len(payload))
        assert struct.pack(">II", r >> 32, r & 0xFFFFFFFF) == wire[8:12] + wire[-4:]


# ---------------------------------------------------------------- scan_frames paths


def _stream(messages: List[Message]) -> bytes:
    return b"".join(P.encode_frame(encode_header_block(m.headers), m.payload) for m in messages)


def _decode_on(module, buf, limits, cache, max_frames=-1, start=0, end=None):  # type: ignore[no-untyped-def]
    with using(module):
        end = len(buf) if end is None else end
        return _assemble.decode_frames(buf, start, end, limits, cache, max_frames)


def _both(buf, limits=DEFAULT_LIMITS, max_frames=-1):  # type: ignore[no-untyped-def]
    """The shared layer on each backend, and the backends' records: equal."""
    p = _decode_on(P, buf, limits, {}, max_frames)
    scanned = records(P.scan_frames(buf, 0, len(buf), limits, max_frames))
    for data in (buf, bytearray(buf), memoryview(buf)):
        assert _decode_on(C, data, limits, {}, max_frames) == p
        assert records(C.scan_frames(data, 0, len(buf), limits, max_frames)) == scanned
    return p


def test_more_messages_and_headers_than_one_call_reports():
    # 300 messages, each with its own 5-header block: several batches (FULL stops on
    # the frame array), each block walked on its own.
    messages = [
        Message([Header(f"h{k}-{i}", HeaderType.INT32, i) for k in range(5)], b"%d" % i)
        for i in range(300)
    ]
    messages += [messages[-1]] * 200  # and a long run of repeated blocks
    buf = _stream(messages)
    got, pos, fault = _both(buf)
    assert got == messages and pos == len(buf) and fault is None


def test_a_block_with_more_headers_than_the_descriptor_array():
    many = Message([Header("h", HeaderType.BOOL_TRUE, True)] * 1000, b"x")
    buf = _stream([many, many, Message({"a": 1}, b""), many])
    assert _both(buf)[0][0] == many
    bad = bytearray(_stream([many, many]))
    bad[12 + 3 * 999 + 2] = 77  # the last header's type byte, in the first message
    got, pos, fault = _both(fix_crcs(bytes(bad)) + bytes(bad[len(bad) // 2 :]))
    assert (
        got == []
        and pos == 0
        and fault == (errors.FAULT_HEADER_TYPE_UNKNOWN, 12 + 3 * 999 + 2, 0, 77, 0)
    )


def test_a_header_fault_is_not_reported_for_a_block_already_in_the_cache():
    # The Python backend never re-walks a cached block, so a cache filled under a
    # looser value limit wins over a walk under a stricter one in both backends.
    message = Message([Header("s", HeaderType.STRING, "abcdef")], b"p")
    block = encode_header_block(message.headers)
    buf = _stream([message, message])
    strict = Limits(max_header_value=3)
    p = _decode_on(P, buf, strict, {block: message.headers})
    c = _decode_on(C, buf, strict, {block: message.headers})
    assert p == c == ([message, message], len(buf), None)
    p = _decode_on(P, buf, strict, {})
    assert _decode_on(C, buf, strict, {}) == p
    assert p[2][0] == errors.FAULT_HEADER_VALUE_LIMIT  # type: ignore[index]


def test_limits_at_the_wire_maxima_give_the_python_results():
    # Limits are validated when built, so whatever exists fits C's uint32 fields.
    buf = _stream([Message({"a": "b"}, b"payload")])
    for limits in (WIRE_LIMITS, Limits(0, 0, 0, 0), Limits(10, 4, 3, 1)):
        for max_frames in (1, -1):
            _both(buf, limits, max_frames)


def test_max_frames_and_start_offsets():
    messages = [Message({"n": i}, b"x" * i) for i in range(10)]
    buf = _stream(messages)
    for max_frames in (0, 1, 2, 9, 10, 11, -1):
        _both(buf, max_frames=max_frames)
    start = len(_stream(messages[:3]))
    p = _decode_on(P, buf, DEFAULT_LIMITS, {}, -1, start, len(buf) - 5)
    assert _decode_on(C, buf, DEFAULT_LIMITS, {}, -1, start, len(buf) - 5) == p
    assert len(p[0]) == 6


def test_decoding_in_many_threads_at_once():
    messages = [
        Message({":event-type": f"e{i % 7}", "n": i}, os.urandom(i * 37 % 3000)) for i in range(400)
    ]
    buf = _stream(messages)
    cache = _assemble.decode_cache_for(DEFAULT_LIMITS)

    def work(k: int) -> None:
        for _ in range(20):
            got = _assemble.decode_frames(bytearray(buf), 0, len(buf), DEFAULT_LIMITS, cache)
            assert got == (messages, len(buf), None)

    with using(C):
        run_together(work, 6)
    assert len(C._pool) <= 6


def test_encoding_and_one_shot_decoding_in_many_threads_at_once():
    # encode_frame's scratch buffers, the encode caches (with their frame-head memos)
    # and the shared decode caches are shared state; calls on inputs from
    # ES_GIL_FREE_FROM bytes release the GIL (csrc/cffi_gil.h), so with some
    # messages that big, threads really overlap.
    messages = [
        Message(
            {":event-type": f"e{i % 5}", "n": i},
            os.urandom(lib.ES_GIL_FREE_FROM + i if i % 60 == 0 else i * 53 % 5000),
        )
        for i in range(300)
    ]
    wires = [P.encode_frame(encode_header_block(m.headers), m.payload) for m in messages]

    def work(k: int) -> None:
        for _ in range(10):
            for m, w in zip(messages, wires):
                assert C.encode_frame(encode_header_block(m.headers), m.payload) == w
                assert encode(m) == w
                assert _assemble.decode(w) == m

    with using(C):
        run_together(work, 6)
    assert len(C._encode_pool) <= 6


def _released_by(call: Callable[[], object]) -> int:
    """How many times ``call`` released the GIL inside C (csrc/cffi_gil.h)."""
    before = lib.es_gil_free_calls()
    call()
    return lib.es_gil_free_calls() - before  # type: ignore[no-any-return]


# A GIL release costs more than the C work on a small input, so cffi's own release
# is off and the binding releases for big inputs only, where other threads gain
# (csrc/cffi_gil.h).  On PyPy cffi calls the C functions itself, GIL released, and
# the binding never releases (the count stays 0).
RELEASES = 1 if sys.implementation.name == "cpython" else 0


@pytest.mark.parametrize("below", [1, 0], ids=["64KiB-1", "64KiB"])
def test_the_decode_and_encode_paths_release_the_gil_from_64_kib(below: int) -> None:
    size = lib.ES_GIL_FREE_FROM - below
    expected = 0 if below else RELEASES
    block = b"\x01a\x07\x00\x01b"  # {"a": "b"}
    message = Message({"a": "b"}, os.urandom(size - 16 - len(block)))
    wire = encode(message)
    assert len(wire) == size
    # decode(): es_check_one over the whole message.
    assert _released_by(lambda: _assemble.decode(wire)) == expected
    # The frame scan: es_decode_batch over the buffer.
    assert _released_by(lambda: C.scan_frames(wire, 0, size, DEFAULT_LIMITS)) == expected
    assert _assemble.decode(wire) == message
    # The encoder: a message over 64 KiB gets its CRCs from es_frame_crcs, over its
    # block and payload (16 bytes fewer than the message).
    payload = os.urandom(size - len(block))
    assert _released_by(lambda: C.encode_frame(block, payload)) == expected
    assert C.encode_frame(block, payload) == encode(Message({"a": "b"}, payload))


def _entry_point_calls() -> Dict[str, Callable[[bytes], object]]:
    """A call of each entry point csrc/cffi_gil.h wraps, on an input of len(data)
    bytes (zeros: the GIL decision comes before any check of the bytes)."""
    scratch = C._Scratch()
    scratch.set_limits(WIRE_LIMITS)
    # Each call below names scratch itself: the arrays its structs point into live
    # only as long as it does (a lambda holding just scratch.walk let them go).
    return {
        "es_crc32": lambda d: lib.es_crc32(0, d, len(d)),
        "es_crc32_portable": lambda d: lib.es_crc32_portable(0, d, len(d)),
        "es_crc32_with": lambda d: lib.es_crc32_with(PATHS["portable"], 0, d, len(d)),
        "es_utf8_valid": lambda d: lib.es_utf8_valid(d, len(d)),
        "es_check_frame": lambda d: lib.es_check_frame(
            d, 0, len(d), ffi.addressof(scratch.walk.limits), ffi.NULL
        ),
        "es_check_one": lambda d: lib.es_check_one(d, len(d), 1 << 24, 1 << 17, b"", 0),
        "es_check_next": lambda d: lib.es_check_next(d, len(d), len(d), 1 << 24, 1 << 17),
        "es_decode_batch": lambda d: lib.es_decode_batch(d, 0, len(d), 1, scratch.batch),
        "es_walk_headers": lambda d: lib.es_walk_headers(
            d,
            len(d),
            0,
            0,
            ffi.addressof(scratch.walk.limits),
            scratch.walk.headers,
            scratch.walk.cap,
            scratch.walk.fault,
        ),
        "es_walk_block": lambda d: lib.es_walk_block(d, len(d), 0, 0, scratch.walk),
        "es_frame_crcs": lambda d: lib.es_frame_crcs(b"", 0, d, len(d)),
    }


# Entry points with a caller-sized input that keep the GIL at any size: their work is
# bounded otherwise (es_encode_frame writes at most the binding's 64 KiB scratch,
# es_encode_header one header).
UNWRAPPED = {"es_encode_frame", "es_encode_header"}


def test_every_entry_point_with_a_sized_input_is_wrapped_or_bounded() -> None:
    sized = {
        name
        for name in dir(lib)
        if callable(getattr(lib, name))
        and any(arg.cname == "size_t" for arg in ffi.typeof(getattr(lib, name)).args)
    }
    assert sized == set(_entry_point_calls()) | UNWRAPPED
    assert C._ENCODE_SCRATCH <= lib.ES_GIL_FREE_FROM


@pytest.mark.parametrize("name", sorted(_entry_point_calls()) if lib is not None else [])
def test_each_wrapped_entry_point_releases_the_gil_from_64_kib(name: str) -> None:
    call = _entry_point_calls()[name]
    assert lib.ES_GIL_FREE_FROM == 65536
    big = bytes(lib.ES_GIL_FREE_FROM)
    assert _released_by(lambda: call(big[:-1])) == 0
    assert _released_by(lambda: call(big)) == RELEASES


def test_public_crc32_releases_the_gil_from_64_kib() -> None:
    big = os.urandom(lib.ES_GIL_FREE_FROM)
    assert _released_by(lambda: C.crc32(big)) == RELEASES
    assert _released_by(lambda: C.crc32(big[:-1])) == 0
    # Through a function pointer cffi calls without the GIL (releasing it itself):
    # the wrappers must not touch it then.
    crc = ffi.addressof(lib, "es_crc32")
    assert _released_by(lambda: crc(0, big, len(big))) == 0
    assert crc(0, big, len(big)) == zlib.crc32(big)


# ---------------------------------------------------------------- selection and version


def _run(code: str, backend: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """Run ``code`` in a fresh interpreter that imports the same eventstream as this one.

    It runs outside the source tree (whose eventstream/ has no compiled module after
    a plain ``pip install .``), with the tested package's directory first on the path.
    """
    import eventstream

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(eventstream.__file__)))
    path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, EVENTSTREAM_BACKEND=backend, PYTHONPATH=path)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(sys.executable),
    )


@pytest.mark.parametrize(
    ("choice", "expected"), [("c", "c"), ("python", "python"), ("auto", "c"), ("", "c")]
)
def test_backend_choice(choice, expected):
    r = _run("import eventstream; print(eventstream.BACKEND)", choice)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == expected


HIDE_EXTENSION = """
import sys
sys.modules["eventstream._eventstream_c"] = None  # as if it was never built
import eventstream
print(eventstream.BACKEND, "|", eventstream.BACKEND_REASON)
"""


def test_auto_falls_back_only_when_the_extension_is_missing():
    r = _run(HIDE_EXTENSION, "auto")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("python |") and "not built" in r.stdout


def test_c_without_the_extension_is_an_import_error():
    r = _run(HIDE_EXTENSION, "c")
    assert r.returncode != 0
    assert "ModuleNotFoundError" in r.stderr or "ImportError" in r.stderr


VERSION_MISMATCH = """
import sys
import eventstream._version as v
sys.modules.pop("eventstream._backend_c", None)
v.__version__ = "0.0.0-other"
try:
    import eventstream._backend_c
except ImportError as exc:
    print("ImportError:", exc)
else:
    print("imported")
"""


def test_a_module_built_for_another_version_does_not_import():
    r = _run(VERSION_MISMATCH, "python")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ImportError:") and "0.0.0-other" in r.stdout


BROKEN_UNDER_AUTO = """
import sys, types
import eventstream._version as v
v.__version__ = "9.9.9"
for name in [m for m in sys.modules if m.startswith("eventstream") and m != "eventstream._version"]:
    del sys.modules[name]
try:
    import eventstream
except ImportError as exc:
    print("ImportError:", exc)
else:
    print(eventstream.BACKEND)
"""


def test_auto_does_not_hide_a_broken_extension():
    r = _run(BROKEN_UNDER_AUTO, "auto")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ImportError:"), r.stdout


def test_positions_outside_the_buffer_are_refused_not_read():
    buf = _stream([Message({"a": 1}, b"x")])
    for data in (buf, bytearray(buf)):
        for max_frames in (1, -1):
            with pytest.raises(ValueError):
                C.scan_frames(data, 0, len(buf) + 1, DEFAULT_LIMITS, max_frames)
            with pytest.raises((ValueError, OverflowError)):
                C.scan_frames(data, -1, len(buf), DEFAULT_LIMITS, max_frames)


def test_a_repeated_block_after_a_message_without_headers():
    # The C side marks the third block "same as the last non-empty one"; the empty
    # block between them must not be what gets repeated.
    a = Message([Header("0", HeaderType.BYTE, 0)], b"")
    empty = Message([], b"")
    for batch in ([a, empty, a], [a, empty, empty, a, a, empty], [empty, a, empty, a]):
        buf = _stream(batch)
        assert _both(buf) == (batch, len(buf), None)
