"""Hypothesis strategies for valid headers, messages and chunkings."""

from __future__ import annotations

import datetime
import struct
import uuid
from typing import Any, List

from _frames import fix_crcs, frame, header, string_value
from hypothesis import strategies as st

import eventstream
from eventstream import Header, HeaderType, Message
from eventstream._header_codec import encode_header_block
from eventstream.limits import DEFAULT_LIMITS, DEFAULT_MAX_HEADER_BLOCK, Limits
from eventstream.types import INT_RANGES

# Names of 1-255 UTF-8 bytes, with multi-byte characters and the 255 edge.
names = st.one_of(
    st.text(min_size=1, max_size=20),
    st.text(alphabet="\u00e9\u2603x", min_size=1, max_size=85),
    st.sampled_from(["n" * 255, ":event-type", ":message-type", "\U0001f600" * 63]),
).filter(lambda n: _encodable(n) and 1 <= len(n.encode()) <= 255)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _ints(htype: HeaderType) -> st.SearchStrategy[int]:
    low, high = INT_RANGES[htype]
    return st.one_of(st.integers(low, high), st.sampled_from([low, high, 0, -1]))


def _rarely(common: st.SearchStrategy, edge: st.SearchStrategy) -> st.SearchStrategy:
    """``edge`` one time in ten: big edge values are slow to shrink and print."""
    return st.integers(0, 9).flatmap(lambda roll: edge if roll == 0 else common)


def _text_values() -> st.SearchStrategy[str]:
    return _rarely(
        st.text(max_size=40).filter(_encodable),
        st.sampled_from(["", "x" * 32767, "\u00e9" * 16383]),
    )


def _byte_values() -> st.SearchStrategy[bytes]:
    return _rarely(st.binary(max_size=40), st.sampled_from([b"", b"\xff" * 32767]))


def _value_for(htype: HeaderType) -> st.SearchStrategy[object]:
    if htype is HeaderType.BOOL_TRUE:
        return st.just(True)
    if htype is HeaderType.BOOL_FALSE:
        return st.just(False)
    if htype in INT_RANGES:
        return _ints(htype)
    if htype is HeaderType.BYTES:
        return _byte_values()
    if htype is HeaderType.STRING:
        return _text_values()
    return st.builds(lambda raw: uuid.UUID(bytes=raw), st.binary(min_size=16, max_size=16))


headers = st.sampled_from(list(HeaderType)).flatmap(
    lambda htype: st.builds(Header, names, st.just(htype), _value_for(htype))
)

payloads = _rarely(st.binary(max_size=300), st.sampled_from([b"", b"\x00" * 70000]))


def _within_default_limits(message: Message) -> bool:
    return len(encode_header_block(message.headers)) <= DEFAULT_MAX_HEADER_BLOCK


# Messages that encode under the default limits (at most 128 KiB of headers).
messages = st.builds(Message, st.lists(headers, max_size=8), payloads).filter(
    _within_default_limits
)

aware_datetimes = st.datetimes(
    min_value=datetime.datetime(1, 1, 2),
    max_value=datetime.datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=-7, minutes=-30))]
    ),
)


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> List[bytes]:
    """``data`` cut at random points (including empty chunks)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


# Headers of every type, valid or nearly so, to be joined and then damaged.
_raw_header = st.one_of(
    st.builds(
        lambda n, t, v: header(n, t, v),
        st.binary(min_size=0, max_size=4),
        st.integers(0, 11),
        st.binary(max_size=18),
    ),
    st.builds(
        lambda n, t, v: header(n, t, string_value(v)),
        st.sampled_from([b"a", b":event-type", b"\xc3\xa9", b"\xff"]),
        st.sampled_from([6, 7]),
        st.sampled_from([b"", b"x", b"event", b"\xed\xa0\x80", b"\xc3", b"y" * 40]),
    ),
    st.builds(lambda n: header(n, 0), st.sampled_from([b"t", b"bool"])),
)


@st.composite
def raw_header_blocks(draw: Any) -> bytes:
    """Header blocks, valid or broken anywhere (cut short, bad bytes appended)."""
    block = b"".join(draw(st.lists(_raw_header, max_size=8)))
    if block and draw(st.booleans()):
        cut = draw(st.integers(0, len(block)))
        block = block[:cut] if draw(st.booleans()) else block[:cut] + draw(st.binary(max_size=6))
    return block


# The default limits, or small ones that the blocks above reach.
small_limits = st.one_of(
    st.just(DEFAULT_LIMITS),
    st.builds(
        lambda v, n: Limits(max_header_value=v, max_headers=n),
        st.integers(0, 45),
        st.integers(0, 9),
    ),
)


@st.composite
def message_bytes(draw: Any) -> bytes:
    """One message, valid or broken in any field, cut short or followed by more bytes."""
    if draw(st.booleans()):
        data = bytearray(eventstream.encode(draw(messages)))
    else:
        block = draw(raw_header_blocks())
        data = bytearray(frame(block, draw(st.binary(max_size=40))))
    if draw(st.integers(0, 3)) == 0:  # a length field changed, its prelude CRC maybe fixed
        at = draw(st.sampled_from([0, 4]))
        struct.pack_into(">I", data, at, draw(st.integers(0, len(data) + 40)))
        if draw(st.booleans()):
            data = bytearray(fix_crcs(bytes(data))) if len(data) >= 16 else data
    if draw(st.integers(0, 3)) == 0:  # a damaged byte, the CRCs maybe recomputed
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
        if draw(st.booleans()) and 16 <= struct.unpack_from(">I", data)[0] <= len(data):
            data = bytearray(fix_crcs(bytes(data)))
    if draw(st.integers(0, 3)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 5)) == 0:
        data += draw(st.binary(min_size=1, max_size=20))
    return bytes(data)
