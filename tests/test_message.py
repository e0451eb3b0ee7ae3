"""The object model: building, validating and looking up headers and messages."""

from __future__ import annotations

import datetime
import uuid

import pytest

import eventstream
from eventstream import (
    Header,
    Headers,
    HeaderType,
    InvalidHeaderError,
    InvalidPayloadError,
    Message,
    NameTooLongError,
    ValueOutOfRangeError,
    ValueTooLongError,
    datetime_from_timestamp,
    timestamp_from_datetime,
)

UTC = datetime.timezone.utc


def test_dict_headers_infer_wire_types():
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    ident = uuid.UUID(int=7)
    message = Message(
        {
            "yes": True,
            "no": False,
            "small": -(2**31),
            "top": 2**31 - 1,
            "big": 2**31,
            "neg": -(2**31) - 1,
            "s": "text",
            "b": b"raw",
            "ba": bytearray(b"ba"),
            "mv": memoryview(b"mv"),
            "u": ident,
            "t": when,
            "explicit": (HeaderType.INT16, 5),
        }
    )
    assert [(h.name, h.type) for h in message.headers] == [
        ("yes", HeaderType.BOOL_TRUE),
        ("no", HeaderType.BOOL_FALSE),
        ("small", HeaderType.INT32),
        ("top", HeaderType.INT32),
        ("big", HeaderType.INT64),
        ("neg", HeaderType.INT64),
        ("s", HeaderType.STRING),
        ("b", HeaderType.BYTES),
        ("ba", HeaderType.BYTES),
        ("mv", HeaderType.BYTES),
        ("u", HeaderType.UUID),
        ("t", HeaderType.TIMESTAMP),
        ("explicit", HeaderType.INT16),
    ]
    assert message.headers["ba"] == b"ba" and type(message.headers["mv"]) is bytes
    assert message.headers["t"] == 1714979289123


def test_unsupported_and_naive_values_are_rejected():
    with pytest.raises(InvalidHeaderError, match="float"):
        Message({"x": 1.5})
    with pytest.raises(InvalidHeaderError, match="naive"):
        Message({"t": datetime.datetime(2024, 1, 1)})
    with pytest.raises(ValueOutOfRangeError):
        Message({"x": 2**63})
    with pytest.raises(InvalidHeaderError):
        Message([("a", 99, 1)])
    with pytest.raises(InvalidHeaderError):
        Message(["not a header"])  # type: ignore[list-item]
    with pytest.raises(InvalidPayloadError) as caught:
        Message({}, "text payload")
    assert not isinstance(caught.value, InvalidHeaderError)
    assert isinstance(caught.value, TypeError) and "str" in str(caught.value)


@pytest.mark.parametrize(
    "htype, low, high",
    [
        (HeaderType.BYTE, -128, 127),
        (HeaderType.INT16, -32768, 32767),
        (HeaderType.INT32, -(2**31), 2**31 - 1),
        (HeaderType.INT64, -(2**63), 2**63 - 1),
        (HeaderType.TIMESTAMP, -(2**63), 2**63 - 1),
    ],
)
def test_integer_ranges_are_enforced_at_both_ends(htype, low, high):
    assert Header("n", htype, low).value == low
    assert Header("n", htype, high).value == high
    for outside in (low - 1, high + 1):
        with pytest.raises(ValueOutOfRangeError, match=htype.name):
            Header("n", htype, outside)
    with pytest.raises(InvalidHeaderError):
        Header("n", htype, True)
    with pytest.raises(InvalidHeaderError):
        Header("n", htype, "1")


def test_names_are_1_to_255_utf8_bytes():
    assert Header("n" * 255, HeaderType.BOOL_TRUE).name == "n" * 255
    assert Header("\u00e9" * 127, HeaderType.BOOL_TRUE)  # 254 bytes
    with pytest.raises(NameTooLongError):
        Header("\u00e9" * 128, HeaderType.BOOL_TRUE)  # 256 bytes
    with pytest.raises(NameTooLongError):
        Header("", HeaderType.BOOL_TRUE)
    with pytest.raises(InvalidHeaderError):
        Header("\ud800", HeaderType.BOOL_TRUE)
    with pytest.raises(InvalidHeaderError):
        Header(b"name", HeaderType.BOOL_TRUE)  # type: ignore[arg-type]


def test_variable_values_are_at_most_65535_bytes():
    # The format's u16 length; the 32,767 service limit belongs to Limits.
    assert len(Header.string("s", "x" * 65535).value) == 65535
    assert len(Header.binary("b", b"x" * 65535).value) == 65535
    assert len(Header.string("s", "\u00e9" * 16384).value) == 16384  # 32768 bytes of UTF-8
    with pytest.raises(ValueTooLongError):
        Header.string("s", "\u00e9" * 32768)  # 65536 bytes of UTF-8
    with pytest.raises(ValueTooLongError):
        Header.binary("b", b"x" * 65536)
    with pytest.raises(InvalidHeaderError):
        Header.string("s", "\udfff")


def test_typed_constructors_and_bool_types():
    assert Header.int8("a", -1) == Header("a", HeaderType.BYTE, -1)
    assert Header.boolean("a", False).type is HeaderType.BOOL_FALSE
    assert Header("a", HeaderType.BOOL_TRUE).value is True
    with pytest.raises(InvalidHeaderError):
        Header("a", HeaderType.BOOL_TRUE, False)
    assert Header.uuid("u", bytes(16)).value == uuid.UUID(int=0)
    assert Header.timestamp("t", datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)).value == 1000
    assert repr(Header.int16("a", 1)) == "Header('a', HeaderType.INT16, 1)"


def test_headers_offer_lookup_and_keep_order_and_duplicates():
    headers = Message(
        [Header.string("a", "1"), Header.int32("b", 2), Header.string("a", "3")]
    ).headers
    assert isinstance(headers, Headers) and isinstance(headers, tuple)
    assert headers["a"] == "1" and headers.get("b") == 2 and headers.get("zz", 0) == 0
    assert headers.get_all("a") == ["1", "3"]
    assert "a" in headers and "zz" not in headers
    assert headers[1] == Header.int32("b", 2) and headers[0:1] == (Header.string("a", "1"),)
    assert headers.names() == ["a", "b", "a"]
    assert headers.to_dict() == {"a": "1", "b": 2}
    with pytest.raises(KeyError):
        headers["zz"]


def test_messages_are_immutable_values():
    message = Message({"a": 1}, b"p")
    assert message == Message([Header.int32("a", 1)], bytearray(b"p"))
    assert message != Message({"a": 1}, b"q")
    assert message != Message({"a": (HeaderType.INT64, 1)}, b"p")
    assert hash(message) == hash(Message({"a": 1}, b"p"))
    with pytest.raises(AttributeError):
        message.payload = b"x"  # type: ignore[misc]
    assert Message().headers == () and Message().payload == b""
    assert "payload=b'p'" in repr(message)


@pytest.mark.parametrize(
    "milliseconds",
    [0, 1, -1, 1089164711544, 2187695328877, 253402300799999, -62135596800000],
)
def test_timestamp_helpers_are_exact(milliseconds):
    moment = datetime_from_timestamp(milliseconds)
    assert moment.tzinfo is not None
    assert timestamp_from_datetime(moment) == milliseconds


def test_timestamp_helpers_floor_and_reject_what_they_cannot_represent():
    tz = datetime.timezone(datetime.timedelta(hours=2))
    assert timestamp_from_datetime(datetime.datetime(1970, 1, 1, 2, 0, 0, 999, tzinfo=tz)) == 0
    assert (
        timestamp_from_datetime(datetime.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
        == -1
    )
    with pytest.raises(ValueOutOfRangeError):
        datetime_from_timestamp(2**62)
    with pytest.raises(InvalidHeaderError):
        timestamp_from_datetime(datetime.datetime(2020, 1, 1))


@pytest.mark.usefixtures("backend")
def test_encode_keeps_same_valued_headers_of_different_types_apart():
    as_int32 = eventstream.encode(Message({"a": (HeaderType.INT32, 5)}))
    as_int64 = eventstream.encode(Message({"a": (HeaderType.INT64, 5)}))
    assert as_int32 != as_int64
    assert eventstream.decode(as_int64).headers[0].type is HeaderType.INT64


@pytest.mark.usefixtures("backend")
def test_encode_enforces_the_limits_it_is_given():
    small = eventstream.Limits(max_payload=3, max_header_block=4)
    assert eventstream.decode(eventstream.encode(Message({}, b"abc"), limits=small), limits=small)
    with pytest.raises(eventstream.PayloadTooLargeError):
        eventstream.encode(Message({}, b"abcd"), limits=small)
    with pytest.raises(eventstream.HeadersTooLargeError):
        eventstream.encode(Message({"abc": True}), limits=small)
    with pytest.raises(TypeError):
        eventstream.encode((Headers(), b""))  # type: ignore[arg-type]


def test_limits_checked_rejects_what_the_wire_cannot_express():
    assert eventstream.Limits.checked(max_header_value=65535).max_header_value == 65535
    with pytest.raises(ValueError):
        eventstream.Limits.checked(max_header_value=65536)
    with pytest.raises(ValueError):
        eventstream.Limits.checked(max_payload=-1)
