"""Message and Header keep their invariants under every public method.

Issue 11 items 5-6 and issue 16 item 11: ``_replace``/``_make`` validate,
subclasses of the value types are stored as exact built-ins (so no subclass
can lie about its length or poison a cache), typed getters, clear errors.
Run on both backends, since what is stored is what each backend encodes.
"""

from __future__ import annotations

import datetime
import pickle
import uuid

import pytest

import eventstream
from eventstream import (
    Header,
    Headers,
    HeaderType,
    HeaderTypeMismatchError,
    InvalidHeaderError,
    InvalidPayloadError,
    Limits,
    Message,
    NameTooLongError,
    ValueOutOfRangeError,
    ValueTooLongError,
)

pytestmark = pytest.mark.usefixtures("backend")

UTC = datetime.timezone.utc
WIDE = Limits(max_header_block=1 << 20, max_header_value=65535)


def roundtrip(message: Message, limits: Limits = WIDE) -> Message:
    return eventstream.decode(eventstream.encode(message, limits=limits), limits=limits)


# ---------------------------------------------------------------- _replace / _make


def test_replace_and_make_validate_like_the_constructors():
    message = Message({"a": "b"}, b"payload")
    with pytest.raises(InvalidPayloadError):
        message._replace(payload="x")
    with pytest.raises(InvalidHeaderError):
        message._replace(headers=5)
    with pytest.raises(TypeError, match="no field"):
        message._replace(body=b"")
    assert message._replace(payload=bytearray(b"new")).payload == b"new"
    assert type(message._replace(payload=bytearray(b"new")).payload) is bytes
    assert message._replace(headers={"n": 1}).headers[0] == Header("n", HeaderType.INT32, 1)
    with pytest.raises(InvalidPayloadError):
        Message._make([(), "text"])

    header = Header.int8("small", 1)
    with pytest.raises(ValueOutOfRangeError):
        header._replace(value=1000)
    with pytest.raises(NameTooLongError):
        header._replace(name="")
    with pytest.raises(NameTooLongError):
        Header._make(["", HeaderType.BOOL_TRUE, True])
    with pytest.raises(InvalidHeaderError):
        Header._make(["n", HeaderType.BOOL_TRUE, False])
    assert header._replace(value=-5) == Header("small", HeaderType.BYTE, -5)


def test_headers_built_directly_are_validated():
    assert Headers([("a", HeaderType.INT16, 3)]) == (Header("a", HeaderType.INT16, 3),)
    assert Headers({"a": "b"})["a"] == "b"
    with pytest.raises(ValueOutOfRangeError):
        Headers([("a", HeaderType.BYTE, 300)])
    with pytest.raises(InvalidHeaderError):
        Headers(["not a header"])  # type: ignore[list-item]


def test_pickle_and_copy_keep_messages_valid():
    message = Message([Header.int16("r", 3), Header.uuid("u", uuid.UUID(int=7))], b"p")
    assert pickle.loads(pickle.dumps(message)) == message
    assert type(pickle.loads(pickle.dumps(message)).headers) is Headers


# ---------------------------------------------------------------- subclasses


class EvilStr(str):
    """Claims to equal every string and hashes like "secret"."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return hash("secret")

    def encode(self, *args, **kwargs):  # lies about its size
        return b"x"

    def __len__(self):
        return 1

    def __str__(self):
        return "secret"


def test_a_str_subclass_cannot_make_encode_return_another_messages_header_block():
    secret = eventstream.encode(Message({"k": "secret"}))
    assert eventstream.decode(secret).headers["k"] == "secret"
    for build in (
        lambda v: Message({"k": v}),
        lambda v: Message([Header("k", HeaderType.STRING, v)]),
        lambda v: Message([("k", HeaderType.STRING, v)]),
    ):
        message = build(EvilStr("public"))
        value = message.headers[0].value
        assert type(value) is str and value == "public"
        assert eventstream.decode(eventstream.encode(message)).headers.get_str("k") == "public"
    # As a name too.
    message = Message({EvilStr("name"): "v"})
    assert type(message.headers[0].name) is str
    assert eventstream.decode(eventstream.encode(message)).headers.names() == ["name"]


def test_a_str_subclass_cannot_get_past_the_length_check():
    with pytest.raises(ValueTooLongError):
        Header.string("k", EvilStr("y" * 70000))
    with pytest.raises(NameTooLongError):
        Header(EvilStr("n" * 300), HeaderType.BOOL_TRUE)


def test_int_bytes_and_uuid_subclasses_are_stored_as_exact_built_ins():
    class BigInt(int):
        def __int__(self):
            return 10**30

        def __index__(self):
            return 10**30

        def __le__(self, other):
            return True

        def __ge__(self, other):
            return True

    header = Header.int8("i", BigInt(5))
    assert type(header.value) is int and header.value == 5
    with pytest.raises(ValueOutOfRangeError):
        Header.int8("i", BigInt(500))
    assert roundtrip(Message([header])).headers.get_int("i") == 5

    class LyingBytes(bytes):
        def __len__(self):
            return 1

        def __bytes__(self):
            return b"other"

    header = Header.binary("b", LyingBytes(b"real"))
    assert type(header.value) is bytes and header.value == b"real"
    with pytest.raises(ValueTooLongError):
        Header.binary("b", LyingBytes(b"z" * 70000))

    class OddUUID(uuid.UUID):
        @property
        def bytes(self):
            return b"\xff" * 16

    header = Header.uuid("u", OddUUID(int=42))
    assert type(header.value) is uuid.UUID and header.value == uuid.UUID(int=42)
    assert roundtrip(Message([header])).headers.get_uuid("u") == uuid.UUID(int=42)


# ---------------------------------------------------------------- plain type errors


def test_plain_type_errors_are_typed():
    with pytest.raises(InvalidHeaderError, match="HeaderType"):
        Header("a", 1.0, True)  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError, match="HeaderType"):
        Header("a", True, True)  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError, match="int"):
        Message(5)  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError, match="str"):
        Message("abc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int of milliseconds"):
        eventstream.datetime_from_timestamp(float("nan"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        eventstream.datetime_from_timestamp(True)
    # Typed errors are TypeErrors too, for code that catches the built-in.
    assert issubclass(InvalidHeaderError, TypeError)
    assert issubclass(InvalidPayloadError, TypeError)
    assert not issubclass(InvalidPayloadError, InvalidHeaderError)


# ---------------------------------------------------------------- names


def test_int8_is_another_name_for_byte():
    assert HeaderType.INT8 is HeaderType.BYTE
    assert Header("n", HeaderType.INT8, -1) == Header.int8("n", -1)
    assert roundtrip(Message([Header("n", HeaderType.INT8, 7)])).headers[0].type is HeaderType.INT8


# ---------------------------------------------------------------- long values


def test_values_of_32768_to_65535_bytes_are_headers_the_limits_decide_on():
    for size in (32768, 40000, 65535):
        message = Message([Header.string("s", "v" * size), Header.binary("b", b"b" * size)])
        assert roundtrip(message) == message
        with pytest.raises(eventstream.LimitExceededError):
            eventstream.Decoder().feed(eventstream.encode(message, limits=WIDE))


# ---------------------------------------------------------------- typed access


def test_typed_getters_return_one_type_or_say_what_the_header_is():
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    headers = roundtrip(
        Message(
            [
                Header.string(":event-type", "AudioEvent"),
                Header.binary("raw", b"\x00\x01"),
                Header.int8("i8", -3),
                Header.int64("i64", 2**40),
                Header.boolean("flag", False),
                Header.uuid("id", uuid.UUID(int=9)),
                Header.timestamp(":date", when),
            ]
        )
    ).headers
    assert headers.get_str(":event-type") == "AudioEvent"
    assert headers.get_bytes("raw") == b"\x00\x01"
    assert (headers.get_int("i8"), headers.get_int("i64")) == (-3, 2**40)
    assert headers.get_bool("flag") is False
    assert headers.get_uuid("id") == uuid.UUID(int=9)
    assert headers.get_timestamp(":date") == eventstream.timestamp_from_datetime(when)
    assert headers.get_datetime(":date") == when
    assert headers.get_str("missing", None) is None
    assert headers.get_datetime("missing", "default") == "default"
    with pytest.raises(KeyError):
        headers.get_str("missing")
    with pytest.raises(KeyError):
        headers.get_datetime("missing")
    error = pytest.raises(HeaderTypeMismatchError, headers.get_str, "i8").value
    assert "'i8' is BYTE, not STRING" in str(error) and isinstance(error, TypeError)
    with pytest.raises(HeaderTypeMismatchError):
        headers.get_int(":date")  # a TIMESTAMP is not an integer header
    with pytest.raises(HeaderTypeMismatchError):
        headers.get_bytes(":event-type")
    with pytest.raises(HeaderTypeMismatchError):
        headers.get_timestamp("i64")


def test_dict_of_headers_works_and_to_dict_says_what_it_loses():
    headers = Message(
        [Header.int16("n", 3), Header.string("s", "first"), Header.string("s", "second")]
    ).headers
    assert dict(headers) == {"n": 3, "s": "first"} == headers.to_dict()
    assert list(headers.keys()) == ["n", "s"]
    # The loss to_dict() documents: the wire type (INT16 comes back as INT32).
    assert Message(headers.to_dict()).headers[0].type is HeaderType.INT32
    assert "wire type" in (Headers.to_dict.__doc__ or "")


# ---------------------------------------------------------------- the header-dict cache


def test_the_header_dict_cache_is_bounded_and_gives_what_inference_gives():
    from collections import OrderedDict

    from eventstream import types

    audio = {":message-type": "event", ":event-type": "AudioEvent"}
    assert Message(audio).headers is Message(dict(audio)).headers  # reused across chunks
    assert Message(audio).headers == Message(OrderedDict(audio)).headers  # not cached
    for i in range(1000):
        assert Message({"n": str(i)}).headers.get_str("n") == str(i)
    assert len(types._INFERRED) <= types._INFERRED_MAX_ENTRIES
    long_value = {"k": "v" * 1000}  # too long to keep: built, not cached
    assert Message(long_value).headers.get_str("k") == "v" * 1000
    assert tuple(long_value.items()) not in types._INFERRED
    with pytest.raises(NameTooLongError):  # invalid dicts are not cached either
        Message({"": "x"})
    assert (("", "x"),) not in types._INFERRED
