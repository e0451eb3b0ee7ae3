"""The fast header walks (the Python backend's and the C core's, each followed by
the shared builder of :mod:`eventstream._assemble`) equal the reference walk of
:mod:`eventstream._reference` on arbitrary input: the same headers, or the same
first fault (code, offset, details).  The backends' descriptors equal the
reference walk's records."""

from __future__ import annotations

import uuid
from typing import Any, List, Tuple, Union

from _frames import header, string_value
from hypothesis import given
from hypothesis import strategies as st
from strategies import raw_header_blocks, small_limits

from eventstream import _assemble as A
from eventstream import _backend_python as P
from eventstream import _reference as R
from eventstream import errors
from eventstream.limits import DEFAULT_LIMITS, Limits
from eventstream.types import Headers

Walked = Union[List[Tuple[str, int, Any]], errors.Fault]


def _reference(block: bytes, limits: Limits, base: int) -> Walked:
    records, fault = R.walk(block, limits, base, base - 12)
    if fault is not None:
        return fault
    out = []
    for ns, ne, code, v1, v2 in records:
        name = block[ns:ne].decode()
        if code in (R.TYPE_BOOL_TRUE, R.TYPE_BOOL_FALSE):
            value: Any = code == R.TYPE_BOOL_TRUE
        elif code == R.TYPE_STRING:
            value = block[v1:v2].decode()
        elif code == R.TYPE_BYTES:
            value = block[v1:v2]
        elif code == R.TYPE_UUID:
            value = uuid.UUID(bytes=block[v1:v2])
        else:
            value = v1
        out.append((name, code, value))
    return out


def _backend_module(backend: str) -> Any:
    if backend == "c":
        from eventstream import _backend_c

        return _backend_c
    return P


def _fast_walk(module: Any) -> Any:
    def walk(block: bytes, limits: Limits, base: int) -> Walked:
        walked = A.walk_block(module, block, base, base - 12, limits)
        if not isinstance(walked, Headers):
            return walked
        return [(h.name, int(h.type), h.value) for h in walked]

    return walk


@given(
    block=raw_header_blocks() | st.binary(max_size=64),
    limits=small_limits,
    base=st.integers(12, 5000),
)
def _check(walk: Any, block: bytes, limits: Limits, base: int) -> None:
    assert walk(block, limits, base) == _reference(block, limits, base)


def test_the_fast_walk_equals_the_reference_walk(backend: str) -> None:
    _check(_fast_walk(_backend_module(backend)))  # type: ignore[call-arg]


@given(
    block=raw_header_blocks() | st.binary(max_size=64),
    limits=small_limits,
    base=st.integers(12, 5000),
)
def _check_descriptors(module: Any, block: bytes, limits: Limits, base: int) -> None:
    records, fault = R.walk(block, limits, base, base - 12)
    walked = module.walk_headers(block, base, base - 12, limits)
    got = walked if type(walked) is tuple else [tuple(d) for d in walked]
    if fault is None:
        assert got == records
    elif module is P and type(got) is list:
        # The Python walk leaves UTF-8 to the builder's strict decoding: descriptors
        # of a block whose only fault is there, which the builder then rejects.
        assert A.walk_block(P, block, base, base - 12, limits) == fault
    else:
        assert got == fault


def test_the_backends_descriptors_equal_the_reference_records(backend: str) -> None:
    _check_descriptors(_backend_module(backend))  # type: ignore[call-arg]


def test_the_reference_walk_reports_each_fault_in_order() -> None:
    limits = Limits(max_header_value=3, max_headers=2)
    cases = [
        (header(b"a", 0) * 3, errors.FAULT_HEADER_COUNT_LIMIT, 6, 3, 2),
        (b"\x00", errors.FAULT_HEADER_NAME_EMPTY, 0, 0, 0),
        (b"\x05ab", errors.FAULT_HEADER_NAME_OVERRUN, 0, 5, 2),
        (b"\x01\xff\x00", errors.FAULT_HEADER_NAME_UTF8, 1, 0, 0),
        (b"\x01a", errors.FAULT_HEADER_TYPE_MISSING, 2, 0, 0),
        (b"\x01a\x0a", errors.FAULT_HEADER_TYPE_UNKNOWN, 2, 10, 0),
        (b"\x01a\x04abc", errors.FAULT_HEADER_VALUE_OVERRUN, 3, 4, 3),
        (b"\x01a\x07\x00", errors.FAULT_HEADER_VALUE_OVERRUN, 3, 2, 1),
        (b"\x01a\x07\x00\x04abcd", errors.FAULT_HEADER_VALUE_LIMIT, 3, 4, 3),
        (b"\x01a\x07\x00\x03ab", errors.FAULT_HEADER_VALUE_OVERRUN, 3, 5, 4),
        (b"\x01a\x07\x00\x02\xc3\x28", errors.FAULT_HEADER_VALUE_UTF8, 5, 0, 0),
    ]
    for block, code, at, a, b in cases:
        records, fault = R.walk(block, limits, 100, 88)
        assert fault == (code, 100 + at, 88, a, b), block
    records, fault = R.walk(header(b"n", 4, b"\xff\xff\xff\xfe") + header(b"t", 0), limits)
    assert fault is None and records == [(1, 2, 4, -2, 0), (8, 9, 0, 0, 0)]


_lead_headers = st.lists(
    st.one_of(
        st.builds(
            lambda name, code, value: header(name, code, string_value(value)),
            st.sampled_from([b"a", b":event-type", b"\xc3\xa9"]),
            st.sampled_from([6, 7]),
            st.sampled_from([b"", b"x" * 9, b"Transcript", b"\xc3\xa9"]),
        ),
        st.builds(header, st.sampled_from([b"ok", b"b"]), st.sampled_from([0, 1])),
    ),
    min_size=1,
    max_size=3,
).map(b"".join)


@given(
    # Valid headers first: walks from several boundaries, not just the start.
    lead=_lead_headers,
    block=raw_header_blocks(),
    limits=small_limits,
    base=st.integers(12, 5000),
    data=st.data(),
)
def _check_from_a_boundary(
    module: Any, lead: bytes, block: bytes, limits: Limits, base: int, data: Any
) -> None:
    block = lead + block
    records, fault = R.walk(block, limits, base, base - 12)
    # A header boundary before the first fault: the start of a valid header, or the
    # end of a block without one.
    starts = [ns - 1 for ns, *_ in records] + ([len(block)] if fault is None else [])
    if not starts:
        return
    k = data.draw(st.integers(0, len(starts) - 1))
    walked = module.walk_headers(block, base, base - 12, limits, starts[k], k)
    got = walked if type(walked) is tuple else [tuple(d) for d in walked]
    if fault is None:
        assert got == records[k:]
    elif module is P and type(got) is list:
        # The Python walk leaves UTF-8 to the builder (see above): the records up
        # to the fault are the reference's.
        assert fault[0] in (errors.FAULT_HEADER_NAME_UTF8, errors.FAULT_HEADER_VALUE_UTF8)
        assert got[: len(records) - k] == records[k:]
    else:
        assert got == fault


def test_a_walk_from_a_header_boundary_gives_the_rest_of_the_records(backend: str) -> None:
    _check_from_a_boundary(_backend_module(backend))  # type: ignore[call-arg]


@given(
    lead=_lead_headers,
    tails=st.lists(
        st.tuples(
            # mostly a header of another type first: where a lead ends
            st.sampled_from([header(b"n", 4, b"\0\0\0\1"), header(b"id", 9, bytes(16)), b""]),
            raw_header_blocks(),
            st.one_of(st.just(DEFAULT_LIMITS), small_limits),
        ),
        min_size=2,
        max_size=4,
    ),
    base=st.integers(12, 5000),
)
def _check_leads(
    walk: Any, lead: bytes, tails: List[Tuple[bytes, bytes, Limits]], base: int
) -> None:
    # Blocks that share a lead (the shared layer walks a block from the end of the
    # last lead it built when the lead passes the limits at hand) equal the
    # reference walk, whatever the limits of the block before.
    for first, rest, limits in tails:
        block = lead + first + rest
        assert walk(block, limits, base) == _reference(block, limits, base)


def test_blocks_that_share_a_lead_equal_the_reference_walk(backend: str) -> None:
    _check_leads(_fast_walk(_backend_module(backend)))  # type: ignore[call-arg]
