"""Message({name: value}) infers the same headers as Header.infer, on its fast path too.

Message() infers plain values (exact str, bytes, int, bool and datetimes in a
fixed-offset timezone, under ASCII names) without going through Header.infer;
these tests hold the two equal, and check that everything else (subclasses,
non-ASCII text, out-of-range values, naive datetimes) still gets Header.infer's
normalisation or its error.
"""

from __future__ import annotations

import datetime

import pytest

import eventstream as es
from eventstream import types as T

UTC = datetime.timezone.utc
PLUS_2 = datetime.timezone(datetime.timedelta(hours=2))


class MyStr(str):
    def __hash__(self) -> int:
        return 1


class MyInt(int):
    pass


class Shifting(datetime.tzinfo):
    """Not a fixed offset: +1 h in even months, +2 h in odd ones."""

    def utcoffset(self, dt: object) -> datetime.timedelta:
        assert isinstance(dt, datetime.datetime)
        return datetime.timedelta(hours=1 if dt.month % 2 == 0 else 2)

    def dst(self, dt: object) -> None:
        return None


class NoOffset(datetime.tzinfo):
    """A tzinfo that leaves its datetimes naive."""

    def utcoffset(self, dt: object) -> None:
        return None


class BrokenOffset(datetime.tzinfo):
    def utcoffset(self, dt: object) -> datetime.timedelta:
        raise TypeError("this zone has no offset")


VALUES = [
    "",
    "text",
    "é-not-ascii",
    "x" * 65535,
    b"",
    b"\x00" * 32,
    bytearray(b"ab"),
    memoryview(b"cd"),
    0,
    -1,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**63 - 1,
    -(2**63),
    True,
    False,
    datetime.datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC),
    datetime.datetime(1, 1, 1, tzinfo=UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=PLUS_2),
    datetime.datetime(1969, 12, 31, 23, 59, 59, 999, tzinfo=UTC),
    datetime.datetime(2026, 6, 1, 12, 0, 0, 1500, tzinfo=Shifting()),
    datetime.datetime(2026, 7, 1, tzinfo=Shifting()),
    MyStr("sub"),
    MyInt(7),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("name", [":date", "é", "n" * 255, MyStr(":sub")])
def test_dict_headers_equal_header_infer(name: str, value: object) -> None:
    for _ in range(2):  # the first datetime loads the fast path's datetime parts
        inferred = es.Message({name: value, ":x": "y"}).headers
        expected = (es.Header.infer(name, value), es.Header.infer(":x", "y"))
        assert inferred == expected
        for got, want in zip(inferred, expected):
            assert [type(part) for part in got] == [type(part) for part in want]
            assert type(got) is es.Header


BAD = [
    ("", "v", es.NameTooLongError),
    ("n" * 256, "v", es.NameTooLongError),
    ("n", "x" * 65536, es.ValueTooLongError),
    ("n", b"x" * 65536, es.ValueTooLongError),
    ("n", 2**63, es.ValueOutOfRangeError),
    ("n", -(2**63) - 1, es.ValueOutOfRangeError),
    ("n", datetime.datetime(2026, 1, 1), es.InvalidHeaderError),  # naive
    ("n", datetime.datetime(2026, 1, 1, tzinfo=NoOffset()), es.InvalidHeaderError),  # naive too
    ("n", datetime.datetime(2026, 1, 1, tzinfo=BrokenOffset()), TypeError),
    ("n", 1.5, es.InvalidHeaderError),
    (b"n", "v", es.InvalidHeaderError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD)
def test_dict_headers_raise_header_infer_errors(name: object, value: object, error: type) -> None:
    # The fast path on: the datetime parts loaded and the name "n" known.
    es.Message({"n": datetime.datetime(2026, 1, 1, tzinfo=UTC)})
    with pytest.raises(error) as expected:
        es.Header.infer(name, value)  # type: ignore[arg-type]
    with pytest.raises(error) as got:
        es.Message({name: value, ":x": 1})
    assert str(got.value) == str(expected.value)


def test_dict_with_plain_values_encodes_like_header_objects(backend: str) -> None:
    when = datetime.datetime(2026, 11, 30, 12, 0, 0, 123000, tzinfo=UTC)
    values = {":date": when, ":chunk-signature": bytes(range(32)), "n": 5, "b": True}
    explicit = [
        es.Header(":date", es.HeaderType.TIMESTAMP, 1796040000123),
        es.Header(":chunk-signature", es.HeaderType.BYTES, bytes(range(32))),
        es.Header("n", es.HeaderType.INT32, 5),
        es.Header("b", es.HeaderType.BOOL_TRUE, True),
    ]
    assert es.encode(es.Message(values, b"pcm")) == es.encode(es.Message(explicit, b"pcm"))
    assert T._datetime_parts is not None  # the fast path now serves datetimes
