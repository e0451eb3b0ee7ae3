"""The object model: header types, headers, messages and timestamp helpers.

Both backends build these same objects; nothing here depends on a backend.
Values are normalised when a :class:`Message` is built, so a message that was
built compares equal to the same message decoded from its bytes.
"""

from __future__ import annotations

import sys
from enum import IntEnum
from typing import (
    TYPE_CHECKING,
    Any,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Tuple,
    Union,
    overload,
)

from .errors import (
    InvalidHeaderError,
    NameTooLongError,
    PayloadTooLargeError,
    ValueOutOfRangeError,
    ValueTooLongError,
)
from .limits import (
    DEFAULT_MAX_HEADER_VALUE,
    MAX_HEADER_NAME_LENGTH,
    MAX_WIRE_MESSAGE_LENGTH,
    MIN_MESSAGE_LENGTH,
)

if TYPE_CHECKING:
    import datetime as _datetime
    import uuid as _uuid

__all__ = [
    "HeaderType",
    "Header",
    "Headers",
    "Message",
    "HeaderValue",
    "timestamp_from_datetime",
    "datetime_from_timestamp",
]

HeaderValue = Union[bool, int, bytes, str, "_uuid.UUID"]


class HeaderType(IntEnum):
    """The ten wire codes of a header value."""

    BOOL_TRUE = 0
    BOOL_FALSE = 1
    BYTE = 2
    INT16 = 3
    INT32 = 4
    INT64 = 5
    BYTES = 6
    STRING = 7
    TIMESTAMP = 8
    UUID = 9


# Integer range per integer wire type (TIMESTAMP is an int64 of milliseconds).
INT_RANGES = {
    HeaderType.BYTE: (-(1 << 7), (1 << 7) - 1),
    HeaderType.INT16: (-(1 << 15), (1 << 15) - 1),
    HeaderType.INT32: (-(1 << 31), (1 << 31) - 1),
    HeaderType.INT64: (-(1 << 63), (1 << 63) - 1),
    HeaderType.TIMESTAMP: (-(1 << 63), (1 << 63) - 1),
}
_INT32_MIN, _INT32_MAX = INT_RANGES[HeaderType.INT32]
_INT64_MIN, _INT64_MAX = INT_RANGES[HeaderType.INT64]
# Indexed by wire code: lets decoders skip the enum's lookup machinery.
HEADER_TYPES = tuple(HeaderType)


def _uuid_class() -> Any:
    # uuid costs milliseconds to import; only messages with UUID headers need it.
    import uuid

    return uuid.UUID


def _is_instance_of_loaded(value: object, module: str, cls: str) -> bool:
    """isinstance() against a class without importing its module.

    If the module was never imported, no instance of its classes can exist.
    """
    mod = sys.modules.get(module)
    return mod is not None and isinstance(value, getattr(mod, cls))


# ---------------------------------------------------------------- timestamps


def timestamp_from_datetime(value: _datetime.datetime) -> int:
    """Milliseconds since the Unix epoch for a timezone-aware ``datetime``.

    Integer arithmetic only: ``int(dt.timestamp() * 1000)`` is off by one
    millisecond for about 0.6% of values.  Sub-millisecond parts are floored.
    Naive datetimes are rejected, since their meaning depends on the machine.
    """
    import datetime

    if not isinstance(value, datetime.datetime):
        raise InvalidHeaderError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidHeaderError("naive datetime: give it a tzinfo (e.g. datetime.timezone.utc)")
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (value - epoch) // datetime.timedelta(milliseconds=1)


def datetime_from_timestamp(milliseconds: int) -> _datetime.datetime:
    """The UTC ``datetime`` for a TIMESTAMP value, exact to the millisecond.

    Raises :class:`ValueOutOfRangeError` outside years 1-9999, which
    ``datetime`` cannot represent (the wire allows any int64).
    """
    import datetime

    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    try:
        return epoch + datetime.timedelta(milliseconds=milliseconds)
    except OverflowError:
        raise ValueOutOfRangeError(
            f"timestamp {milliseconds} ms is outside the range of datetime"
        ) from None


# ---------------------------------------------------------------- headers


def _utf8_length(text: str, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidHeaderError(f"{what} is not encodable as UTF-8: {exc.reason}") from None


def _check_name(name: object) -> str:
    if type(name) is not str:
        if not isinstance(name, str):
            raise InvalidHeaderError(f"header name must be str, got {type(name).__name__}")
        name = str(name)
    size = _utf8_length(name, "header name")
    if not 1 <= size <= MAX_HEADER_NAME_LENGTH:
        raise NameTooLongError(
            f"header name must be 1 to {MAX_HEADER_NAME_LENGTH} UTF-8 bytes, "
            f"{name[:40]!r} is {size}"
        )
    return name


def _check_int(name: str, htype: HeaderType, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidHeaderError(
            f"header {name!r}: {htype.name} needs an int, got {type(value).__name__}"
        )
    low, high = INT_RANGES[htype]
    if not low <= value <= high:
        raise ValueOutOfRangeError(
            f"header {name!r}: {value} is outside the {htype.name} range {low}..{high}"
        )
    return int(value)


def _check_value(name: str, htype: HeaderType, value: object) -> HeaderValue:
    """Validate ``value`` for ``htype`` and return its canonical (decoded) form."""
    if htype is HeaderType.BOOL_TRUE or htype is HeaderType.BOOL_FALSE:
        expected = htype is HeaderType.BOOL_TRUE
        if value is not expected:
            raise InvalidHeaderError(f"header {name!r}: {htype.name} needs the value {expected}")
        return expected
    if htype is HeaderType.TIMESTAMP and _is_instance_of_loaded(value, "datetime", "datetime"):
        value = timestamp_from_datetime(value)  # type: ignore[arg-type]
    if htype in INT_RANGES:
        return _check_int(name, htype, value)
    if htype is HeaderType.BYTES:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise InvalidHeaderError(
                f"header {name!r}: BYTES needs bytes, got {type(value).__name__}"
            )
        data = bytes(value)
        if len(data) > DEFAULT_MAX_HEADER_VALUE:
            raise ValueTooLongError(
                f"header {name!r}: bytes value of {len(data)} bytes exceeds "
                f"{DEFAULT_MAX_HEADER_VALUE}"
            )
        return data
    if htype is HeaderType.STRING:
        if not isinstance(value, str):
            raise InvalidHeaderError(
                f"header {name!r}: STRING needs str, got {type(value).__name__}"
            )
        size = _utf8_length(value, f"header {name!r} value")
        if size > DEFAULT_MAX_HEADER_VALUE:
            raise ValueTooLongError(
                f"header {name!r}: string value of {size} UTF-8 bytes exceeds "
                f"{DEFAULT_MAX_HEADER_VALUE}"
            )
        return str(value)
    # UUID: a uuid.UUID, or its 16 raw bytes.
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return _uuid_class()(bytes=bytes(value))  # type: ignore[no-any-return]
    if not _is_instance_of_loaded(value, "uuid", "UUID"):
        raise InvalidHeaderError(
            f"header {name!r}: UUID needs uuid.UUID, got {type(value).__name__}"
        )
    return value  # type: ignore[return-value]


class _HeaderFields(NamedTuple):
    name: str
    type: HeaderType
    value: HeaderValue


class Header(_HeaderFields):
    """One header: ``name`` (str), ``type`` (:class:`HeaderType`) and ``value``.

    ``Header(name, type, value)`` validates and normalises: TIMESTAMP accepts
    an aware ``datetime`` and stores milliseconds, BYTES stores ``bytes``, UUID
    accepts 16 raw bytes and stores ``uuid.UUID``.  The class methods build
    each type by name, e.g. ``Header.int16("retries", 3)``.
    """

    __slots__ = ()

    def __new__(cls, name: str, type: int, value: Any = None) -> Header:
        name = _check_name(name)
        if type not in _TYPE_CODES:
            raise InvalidHeaderError(f"header {name!r}: unknown header type {type!r}")
        htype = HEADER_TYPES[type]
        if value is None and htype in _BOOL_VALUES:
            value = _BOOL_VALUES[htype]
        return tuple.__new__(cls, (name, htype, _check_value(name, htype, value)))

    @classmethod
    def infer(cls, name: str, value: Any) -> Header:
        """The header for a plain Python value, choosing the wire type.

        ``bool`` → BOOL_TRUE/BOOL_FALSE, ``int`` → INT32 when it fits else INT64,
        ``str`` → STRING, bytes-like → BYTES, ``uuid.UUID`` → UUID, aware
        ``datetime`` → TIMESTAMP, a ``(HeaderType, value)`` pair → that type.
        """
        if isinstance(value, Header):
            return cls(name, value.type, value.value)
        if isinstance(value, bool):
            return cls(name, HeaderType.BOOL_TRUE if value else HeaderType.BOOL_FALSE, value)
        if isinstance(value, int):
            if _INT32_MIN <= value <= _INT32_MAX:
                return cls(name, HeaderType.INT32, value)
            return cls(name, HeaderType.INT64, value)
        if isinstance(value, str):
            return cls(name, HeaderType.STRING, value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls(name, HeaderType.BYTES, value)
        if isinstance(value, tuple) and len(value) == 2 and value[0] in _TYPE_CODES:
            return cls(name, value[0], value[1])
        if _is_instance_of_loaded(value, "uuid", "UUID"):
            return cls(name, HeaderType.UUID, value)
        if _is_instance_of_loaded(value, "datetime", "datetime"):
            return cls(name, HeaderType.TIMESTAMP, value)
        raise InvalidHeaderError(
            f"header {name!r}: cannot infer a header type for {type(value).__name__}; "
            "use Header(name, HeaderType.X, value)"
        )

    @classmethod
    def boolean(cls, name: str, value: bool) -> Header:
        return cls(name, HeaderType.BOOL_TRUE if value else HeaderType.BOOL_FALSE, bool(value))

    @classmethod
    def int8(cls, name: str, value: int) -> Header:
        return cls(name, HeaderType.BYTE, value)

    @classmethod
    def int16(cls, name: str, value: int) -> Header:
        return cls(name, HeaderType.INT16, value)

    @classmethod
    def int32(cls, name: str, value: int) -> Header:
        return cls(name, HeaderType.INT32, value)

    @classmethod
    def int64(cls, name: str, value: int) -> Header:
        return cls(name, HeaderType.INT64, value)

    @classmethod
    def binary(cls, name: str, value: Union[bytes, bytearray, memoryview]) -> Header:
        return cls(name, HeaderType.BYTES, value)

    @classmethod
    def string(cls, name: str, value: str) -> Header:
        return cls(name, HeaderType.STRING, value)

    @classmethod
    def timestamp(cls, name: str, value: Union[int, _datetime.datetime]) -> Header:
        """A TIMESTAMP header from milliseconds since the epoch or an aware datetime."""
        return cls(name, HeaderType.TIMESTAMP, value)

    @classmethod
    def uuid(cls, name: str, value: Union[_uuid.UUID, bytes]) -> Header:
        return cls(name, HeaderType.UUID, value)

    def __repr__(self) -> str:
        return f"Header({self.name!r}, HeaderType.{self.type.name}, {self.value!r})"


_TYPE_CODES = frozenset(range(len(HEADER_TYPES)))
_BOOL_VALUES = {HeaderType.BOOL_TRUE: True, HeaderType.BOOL_FALSE: False}


class Headers(Tuple[Header, ...]):
    """The headers of a message: a tuple of :class:`Header` in wire order.

    Duplicates are kept, so re-encoding reproduces the bytes.  Looking a name
    up (``headers[":event-type"]``, ``get``, ``in``) finds the first header
    with that name and gives its value; integers and slices index the tuple.
    """

    __slots__ = ()

    @overload  # type: ignore[override]
    def __getitem__(self, key: str) -> HeaderValue: ...
    @overload
    def __getitem__(self, key: int) -> Header: ...
    @overload
    def __getitem__(self, key: slice) -> Tuple[Header, ...]: ...

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for header in self:
                if header[0] == key:
                    return header[2]
            raise KeyError(key)
        return tuple.__getitem__(self, key)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of the first header called ``name``, or ``default``."""
        for header in self:
            if header[0] == name:
                return header[2]
        return default

    def get_all(self, name: str) -> List[HeaderValue]:
        """The values of every header called ``name``, in wire order."""
        return [header[2] for header in self if header[0] == name]

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(header[0] == item for header in self)
        return tuple.__contains__(self, item)

    def names(self) -> List[str]:
        return [header[0] for header in self]

    def to_dict(self) -> dict:  # type: ignore[type-arg]
        """``{name: value}``; for duplicate names the first one wins."""
        result: dict = {}  # type: ignore[type-arg]
        for name, _, value in self:
            result.setdefault(name, value)
        return result

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"


HeadersInput = Union[Mapping[str, Any], Iterable[Union[Header, Tuple[str, int, Any]]], None]


def make_headers(headers: HeadersInput) -> Headers:
    """Normalise what a user passes as headers into :class:`Headers`."""
    if headers is None:
        return _EMPTY_HEADERS
    if type(headers) is Headers:
        return headers
    if isinstance(headers, Mapping):
        return tuple.__new__(
            Headers, [Header.infer(name, value) for name, value in headers.items()]
        )
    result = []
    for item in headers:
        if type(item) is Header:
            result.append(item)
        elif isinstance(item, tuple) and len(item) == 3:
            result.append(Header(*item))
        else:
            raise InvalidHeaderError(
                f"headers must be Header objects or (name, type, value) tuples, got {item!r}"
            )
    return tuple.__new__(Headers, result)


_EMPTY_HEADERS: Headers = tuple.__new__(Headers, ())


# ---------------------------------------------------------------- messages


class _MessageFields(NamedTuple):
    headers: Headers
    payload: bytes


# The largest payload a message with no headers can carry on the wire.
MAX_WIRE_PAYLOAD = MAX_WIRE_MESSAGE_LENGTH - MIN_MESSAGE_LENGTH


class Message(_MessageFields):
    """One event-stream message: ``headers`` (:class:`Headers`) and ``payload`` (bytes).

    Immutable; two messages are equal when their headers (in order) and
    payloads are.  ``headers`` may be a ``{name: value}`` mapping, whose wire
    types are inferred (see :meth:`Header.infer`), or an iterable of
    :class:`Header`.
    """

    __slots__ = ()

    def __new__(cls, headers: HeadersInput = None, payload: Any = b"") -> Message:
        if type(payload) is not bytes:
            if not isinstance(payload, (bytes, bytearray, memoryview)):
                raise InvalidHeaderError(
                    f"payload must be bytes-like, got {type(payload).__name__}"
                )
            payload = bytes(payload)
        if len(payload) > MAX_WIRE_PAYLOAD:
            raise PayloadTooLargeError(
                f"payload of {len(payload)} bytes cannot be framed (at most {MAX_WIRE_PAYLOAD})"
            )
        return tuple.__new__(cls, (make_headers(headers), payload))

    def __repr__(self) -> str:
        payload = self.payload
        shown = repr(payload[:64]) + (f"...({len(payload)} bytes)" if len(payload) > 64 else "")
        return f"Message(headers={list(self.headers)!r}, payload={shown})"


def new_message(headers: Headers, payload: bytes) -> Message:
    """Build a Message from already-validated parts (the decoders' fast path)."""
    return tuple.__new__(Message, (headers, payload))


def new_headers(items: List[Header]) -> Headers:
    """Build Headers from already-validated Header objects (the decoders' fast path)."""
    return tuple.__new__(Headers, items)


def new_header(name: str, htype: HeaderType, value: HeaderValue) -> Header:
    """Build a Header from already-validated parts (the decoders' fast path)."""
    return tuple.__new__(Header, (name, htype, value))


_uuid_parts: Any = None
_object_new = object.__new__
_object_setattr = object.__setattr__
_int_from_bytes = int.from_bytes


def _slot_setter(cls: Any, name: str) -> Any:
    """A setter for ``cls``'s slot ``name`` that bypasses ``cls.__setattr__``."""
    slot = cls.__dict__.get(name)
    setter = getattr(slot, "__set__", None)
    if setter is None:  # not a plain slot on this interpreter: the generic path
        return lambda obj, value: _object_setattr(obj, name, value)
    return setter


def _load_uuid_parts() -> Any:
    """(uuid.UUID, SafeUUID.unknown, set int, set is_safe), loaded at first use."""
    global _uuid_parts
    import uuid

    cls = uuid.UUID
    _uuid_parts = (
        cls,
        uuid.SafeUUID.unknown,
        _slot_setter(cls, "int"),
        _slot_setter(cls, "is_safe"),
    )
    return _uuid_parts


def uuid_from_bytes(raw: bytes) -> Any:
    """``uuid.UUID`` from 16 raw bytes (decoders use it; imports uuid lazily).

    Equal in every respect to ``uuid.UUID(bytes=raw)`` (the same ``int`` and
    ``is_safe``) but skips the argument checks of ``UUID.__init__``, which
    cost more than the rest of decoding a UUID header, and sets the two slots
    through their descriptors (UUID forbids ``setattr``).
    """
    cls, unknown, set_int, set_safe = _uuid_parts or _load_uuid_parts()
    u = _object_new(cls)
    set_int(u, _int_from_bytes(raw, "big"))
    set_safe(u, unknown)
    return u
