"""The object model: header types, headers, messages and timestamp helpers.

Both backends build these same objects; nothing here depends on a backend.
Values are normalised when a :class:`Message` is built, so a message that was
built compares equal to the same message decoded from its bytes.
"""

from __future__ import annotations

import struct
import sys
from enum import IntEnum
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    overload,
)

from .errors import (
    HeaderTypeMismatchError,
    InvalidHeaderError,
    InvalidPayloadError,
    NameTooLongError,
    PayloadTooLargeError,
    ValueOutOfRangeError,
    ValueTooLongError,
)
from .limits import (
    DEFAULT_MAX_HEADER_BLOCK,
    DEFAULT_MAX_HEADER_VALUE,
    DEFAULT_MAX_HEADERS,
    MAX_HEADER_NAME_LENGTH,
    MAX_WIRE_MESSAGE_LENGTH,
    MAX_WIRE_VALUE_LENGTH,
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
    """The ten wire codes of a header value.

    ``INT8`` is another name for ``BYTE`` (wire code 2, a signed 8-bit
    integer); members keep the name ``BYTE`` in their repr.
    """

    BOOL_TRUE = 0
    BOOL_FALSE = 1
    BYTE = 2
    INT8 = 2
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
    delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    # Exact ints, seconds and microseconds never negative: the floor of the quotient.
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def datetime_from_timestamp(milliseconds: int) -> _datetime.datetime:
    """The UTC ``datetime`` for a TIMESTAMP value, exact to the millisecond.

    Raises :class:`ValueOutOfRangeError` outside years 1-9999, which
    ``datetime`` cannot represent (the wire allows any int64), and
    ``TypeError`` for anything but an ``int`` (a float, NaN, a bool).
    """
    import datetime

    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int):
        raise TypeError(
            "datetime_from_timestamp() takes an int of milliseconds since the epoch, "
            f"got {type(milliseconds).__name__}"
        )
    milliseconds = int.__add__(milliseconds, 0)  # an exact int, whatever a subclass overrides
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


# Values are normalised to the exact built-in type (a subclass's own __str__,
# __len__, __eq__ or __hash__ never runs) before they are measured, and the
# measured object is the one stored: what was checked is what gets encoded,
# and only exact built-in values ever reach the encode caches.


def _check_name(name: object) -> str:
    if type(name) is not str:
        if not isinstance(name, str):
            raise InvalidHeaderError(f"header name must be str, got {type(name).__name__}")
        name = str.__str__(name)
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
    if type(value) is not int:
        # int's own addition gives an exact int (PyPy's int.__int__ calls an override).
        value = int.__add__(value, 0)
    low, high = INT_RANGES[htype]
    if not low <= value <= high:
        raise ValueOutOfRangeError(
            f"header {name!r}: {value} is outside the {htype.name} range {low}..{high}"
        )
    return value


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
        data = value if type(value) is bytes else bytes(memoryview(value))
        if len(data) > MAX_WIRE_VALUE_LENGTH:
            raise ValueTooLongError(
                f"header {name!r}: bytes value of {len(data)} bytes exceeds "
                f"the format's {MAX_WIRE_VALUE_LENGTH}"
            )
        return data
    if htype is HeaderType.STRING:
        if not isinstance(value, str):
            raise InvalidHeaderError(
                f"header {name!r}: STRING needs str, got {type(value).__name__}"
            )
        text = value if type(value) is str else str.__str__(value)
        size = _utf8_length(text, f"header {name!r} value")
        if size > MAX_WIRE_VALUE_LENGTH:
            raise ValueTooLongError(
                f"header {name!r}: string value of {size} UTF-8 bytes exceeds "
                f"the format's {MAX_WIRE_VALUE_LENGTH}"
            )
        return text
    # UUID: a uuid.UUID, or its 16 raw bytes.
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(memoryview(value))
        if len(raw) == 16:
            return uuid_from_bytes(raw)  # type: ignore[no-any-return]
        raise InvalidHeaderError(
            f"header {name!r}: UUID needs uuid.UUID or 16 bytes, got {len(raw)} bytes"
        )
    if not _is_instance_of_loaded(value, "uuid", "UUID"):
        raise InvalidHeaderError(
            f"header {name!r}: UUID needs uuid.UUID, got {type(value).__name__}"
        )
    cls = _uuid_class()
    if type(value) is cls:
        return value  # type: ignore[return-value]
    # A subclass: rebuild a plain UUID from the slot itself (not a property it may override).
    return cls(int=cls.__dict__["int"].__get__(value, cls))  # type: ignore[no-any-return]


class _HeaderFields(NamedTuple):
    name: str
    type: HeaderType
    value: HeaderValue


class Header(_HeaderFields):
    """One header: ``name`` (str), ``type`` (:class:`HeaderType`) and ``value``.

    ``Header(name, type, value)`` validates and normalises: TIMESTAMP accepts
    an aware ``datetime`` and stores milliseconds, BYTES stores ``bytes``, UUID
    accepts 16 raw bytes and stores ``uuid.UUID``; subclasses of ``str``,
    ``int``, ``bytes`` and ``uuid.UUID`` are stored as the exact built-in type.
    The class methods build each type by name, e.g. ``Header.int16("retries", 3)``.

    Values may be up to the format's 65,535 bytes; whether a peer accepts a
    value above 32,767 is the business of the :class:`~eventstream.Limits`
    used to encode or decode it.  Errors are :class:`InvalidHeaderError` (a
    ``TypeError``) for a wrong Python type and other :class:`EncodeError`
    subclasses for sizes and ranges.  ``_replace`` and ``_make`` validate too.
    """

    __slots__ = ()

    def __new__(cls, name: str, type: int, value: Any = None) -> Header:
        name = _check_name(name)
        htype = _header_type(name, type)
        if value is None and htype in _BOOL_VALUES:
            value = _BOOL_VALUES[htype]
        return tuple.__new__(cls, (name, htype, _check_value(name, htype, value)))

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Header:  # type: ignore[override]
        """``Header(*iterable)``, validated like every other way to build one."""
        return cls(*iterable)

    def _replace(self, **changes: Any) -> Header:
        """A copy with some fields changed, validated like ``Header(...)``."""
        return _replace_fields(self, changes)

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
            if _datetime_parts is None:
                _load_datetime_parts()
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


def _header_type(name: str, code: object) -> HeaderType:
    if type(code) is HeaderType:
        return code
    if isinstance(code, bool) or not isinstance(code, int):
        raise InvalidHeaderError(
            f"header {name!r}: the type must be a HeaderType (or its int code 0-9), "
            f"got {type(code).__name__}"
        )
    if code not in _TYPE_CODES:
        raise InvalidHeaderError(f"header {name!r}: unknown header type {code!r}")
    return HEADER_TYPES[code]


_NT = TypeVar("_NT", bound=Tuple[Any, ...])


def _replace_fields(record: _NT, changes: Dict[str, Any]) -> _NT:
    """NamedTuple._replace that goes through the class's validating ``__new__``."""
    fields = dict(zip(record._fields, record))  # type: ignore[attr-defined]
    unknown = set(changes) - set(fields)
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {sorted(unknown)[0]!r}")
    fields.update(changes)
    return type(record)(**fields)


_T = TypeVar("_T")
_MISSING: Any = object()
_INT_TYPES = frozenset((HeaderType.BYTE, HeaderType.INT16, HeaderType.INT32, HeaderType.INT64))


class Headers(Tuple[Header, ...]):
    """The headers of a message: a tuple of :class:`Header` in wire order.

    Duplicates are kept, so re-encoding reproduces the bytes.  Looking a name
    up (``headers[":event-type"]``, ``get``, ``in``) finds the first header
    with that name and gives its value; integers and slices index the tuple.
    ``Headers(iterable)`` validates like :class:`Message` does.

    For typed code, the getters ``get_str``, ``get_bytes``, ``get_int``,
    ``get_bool``, ``get_uuid``, ``get_timestamp`` and ``get_datetime`` return
    one Python type and raise :class:`~eventstream.errors.HeaderTypeMismatchError`
    (a ``TypeError``) when the header has another wire type, ``KeyError`` when
    there is no such header and no default was given.  ``dict(headers)`` and
    :meth:`to_dict` give ``{name: value}`` (first of each name).
    """

    __slots__ = ()

    def __new__(cls, headers: HeadersInput = ()) -> Headers:
        return make_headers(headers)

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

    def keys(self) -> List[str]:
        """The distinct names in wire order (so ``dict(headers)`` works, like ``to_dict``)."""
        return list(dict.fromkeys(header[0] for header in self))

    def to_dict(self) -> Dict[str, HeaderValue]:
        """``{name: value}``; for duplicate names the first one wins.

        Lossy: later duplicates are dropped, and the wire type is not kept,
        so INT8/INT16/INT64/TIMESTAMP values become plain ints that
        ``Message(headers.to_dict())`` re-infers as INT32 (or INT64), which
        changes the bytes.  Re-encode ``message.headers`` itself to keep them.
        """
        result: Dict[str, HeaderValue] = {}
        for name, _, value in self:
            result.setdefault(name, value)
        return result

    def _typed(self, name: str, types: Any, what: str, default: Any) -> Any:
        for header in self:
            if header[0] == name:
                if header[1] in types:
                    return header[2]
                raise HeaderTypeMismatchError(
                    f"header {name!r} is {header[1].name}, not {what} (its value is {header[2]!r})"
                )
        if default is _MISSING:
            raise KeyError(name)
        return default

    @overload
    def get_str(self, name: str) -> str: ...
    @overload
    def get_str(self, name: str, default: _T) -> Union[str, _T]: ...
    def get_str(self, name: str, default: Any = _MISSING) -> Any:
        """The value of the first ``name`` header, which must be a STRING."""
        return self._typed(name, _STRING_TYPES, "STRING", default)

    @overload
    def get_bytes(self, name: str) -> bytes: ...
    @overload
    def get_bytes(self, name: str, default: _T) -> Union[bytes, _T]: ...
    def get_bytes(self, name: str, default: Any = _MISSING) -> Any:
        """The value of the first ``name`` header, which must be BYTES."""
        return self._typed(name, _BYTES_TYPES, "BYTES", default)

    @overload
    def get_int(self, name: str) -> int: ...
    @overload
    def get_int(self, name: str, default: _T) -> Union[int, _T]: ...
    def get_int(self, name: str, default: Any = _MISSING) -> Any:
        """The value of the first ``name`` header, an INT8/INT16/INT32/INT64."""
        return self._typed(name, _INT_TYPES, "an integer type", default)

    @overload
    def get_bool(self, name: str) -> bool: ...
    @overload
    def get_bool(self, name: str, default: _T) -> Union[bool, _T]: ...
    def get_bool(self, name: str, default: Any = _MISSING) -> Any:
        """The value of the first ``name`` header, a BOOL_TRUE or BOOL_FALSE."""
        return self._typed(name, _BOOL_VALUES, "a boolean type", default)

    @overload
    def get_uuid(self, name: str) -> _uuid.UUID: ...
    @overload
    def get_uuid(self, name: str, default: _T) -> Union[_uuid.UUID, _T]: ...
    def get_uuid(self, name: str, default: Any = _MISSING) -> Any:
        """The value of the first ``name`` header, which must be a UUID."""
        return self._typed(name, _UUID_TYPES, "UUID", default)

    @overload
    def get_timestamp(self, name: str) -> int: ...
    @overload
    def get_timestamp(self, name: str, default: _T) -> Union[int, _T]: ...
    def get_timestamp(self, name: str, default: Any = _MISSING) -> Any:
        """Milliseconds since the epoch of the first ``name`` header, a TIMESTAMP."""
        return self._typed(name, _TIMESTAMP_TYPES, "TIMESTAMP", default)

    @overload
    def get_datetime(self, name: str) -> _datetime.datetime: ...
    @overload
    def get_datetime(self, name: str, default: _T) -> Union[_datetime.datetime, _T]: ...
    def get_datetime(self, name: str, default: Any = _MISSING) -> Any:
        """The first ``name`` header, a TIMESTAMP, as an aware UTC ``datetime``."""
        value = self._typed(name, _TIMESTAMP_TYPES, "TIMESTAMP", _MISSING_HERE)
        if value is _MISSING_HERE:
            if default is _MISSING:
                raise KeyError(name)
            return default
        return datetime_from_timestamp(value)

    def __repr__(self) -> str:
        return f"Headers({list(self)!r})"


_STRING_TYPES = frozenset((HeaderType.STRING,))
_BYTES_TYPES = frozenset((HeaderType.BYTES,))
_UUID_TYPES = frozenset((HeaderType.UUID,))
_TIMESTAMP_TYPES = frozenset((HeaderType.TIMESTAMP,))
_MISSING_HERE: Any = object()

HeadersInput = Union[Mapping[str, Any], Iterable[Union[Header, Tuple[str, int, Any]]], None]

# ---------------------------------------------------------------- wire form
# How validated headers become bytes: a header on the wire is its name's length
# (1 byte), the name (UTF-8), the type code (1 byte) and the value.  Values reach
# this point validated and normalised, so nothing here can fail.  The dict path
# below encodes in the same pass that infers; _header_codec encodes Headers built
# any other way.

HeadEntry = Tuple[int, bytes, int]
"""A frame head: for a payload length, the message's first bytes up to the payload
(prelude, prelude CRC, header block) and their CRC, from which the message CRC
continues over the payload."""

EncodedBlock = Tuple[bytes, int, int, bool, Optional[List[HeadEntry]]]
"""A header block's bytes, its longest string or bytes value (in bytes), its number
of headers, whether those three fit the default limits (what encode() checks), and
the block's frame-head memo: a one-slot list holding the HeadEntry last made for
it, for a block that is encoded again (one that a cache or the last-dict slot hands
out), or None for a block built for one message (a dict with other than str values)
or too big to keep a head of."""

# The type code and the fixed-size value (or the length of a variable one) in one pack.
_pack_type_i8 = struct.Struct(">Bb").pack
_pack_type_i16 = struct.Struct(">Bh").pack
_pack_type_i32 = struct.Struct(">Bi").pack
_pack_type_i64 = struct.Struct(">Bq").pack  # INT64 and TIMESTAMP
_pack_type_length = struct.Struct(">BH").pack  # BYTES and STRING
# The same for the short values most headers have: an index instead of a pack.
_SHORT = 256
_STRING_LENGTHS = tuple(_pack_type_length(7, size) for size in range(_SHORT))
_BYTES_LENGTHS = tuple(_pack_type_length(6, size) for size in range(_SHORT))
_TYPE_BYTE = tuple(bytes((code,)) for code in range(10))
# The default limits, which EncodedBlock's flag is about.
_MAX_BLOCK = DEFAULT_MAX_HEADER_BLOCK
_MAX_VALUE = DEFAULT_MAX_HEADER_VALUE
_MAX_HEADERS = DEFAULT_MAX_HEADERS
# A block up to this size gets a frame-head memo (the head is kept with it).
MAX_HEAD_BLOCK = 2048
NO_HEAD: HeadEntry = (-1, b"", 0)

# One slot: the last header block built or encoded, with its Headers.  A client
# builds a message and encodes it at once, so encode() checks the identity of its
# Headers here before anything else.  The pair is replaced whole (one store into
# the slot, cheaper than a module attribute), so a thread reads a matching pair;
# holding the Headers keeps its identity from being taken over by a new object.
last_encoded: List[Tuple[object, EncodedBlock]] = [((), (b"", 0, 0, True, None))]

# Name -> length byte + UTF-8 bytes, for names already validated.  Names are the
# protocol's few constants (":event-type", ":date"...), so this holds them all;
# bounded anyway (emptied when full).  Only exact strs are keys (callers check),
# so lookups run str's own hash and equality; entries are immutable bytes.
name_prefixes: Dict[str, bytes] = {}
_NAME_PREFIXES_MAX = 256


def name_prefix(name: str) -> bytes:
    """The length byte and UTF-8 bytes of a validated name (remembered if exact str)."""
    raw = name.encode("utf-8")
    prefix = bytes((len(raw),)) + raw
    if type(name) is str:
        if len(name_prefixes) >= _NAME_PREFIXES_MAX:
            name_prefixes.clear()
        name_prefixes[name] = prefix
    return prefix


def value_bytes(htype: int, value: Any) -> bytes:
    """The type code and value bytes of a validated header value."""
    if htype <= 1:
        return _TYPE_BYTE[htype]
    if htype == 7:
        raw = value.encode("utf-8")
        return _pack_type_length(7, len(raw)) + raw  # type: ignore[no-any-return]
    if htype == 6:
        return _pack_type_length(6, len(value)) + value  # type: ignore[no-any-return]
    if htype == 4:
        return _pack_type_i32(4, value)
    if htype == 5 or htype == 8:
        return _pack_type_i64(htype, value)
    if htype == 3:
        return _pack_type_i16(3, value)
    if htype == 2:
        return _pack_type_i8(2, value)
    return _TYPE_BYTE[9] + value.bytes  # type: ignore[no-any-return]  # UUID


def block_of(parts: List[bytes], longest: int, count: int) -> EncodedBlock:
    """The encoded block of ``count`` headers from their wire parts (with a
    frame-head memo: the encode cache keeps it)."""
    block = b"".join(parts)
    return (
        block,
        longest,
        count,
        len(block) <= _MAX_BLOCK and longest <= _MAX_VALUE and count <= _MAX_HEADERS,
        [NO_HEAD] if len(block) <= MAX_HEAD_BLOCK else None,
    )


def encode_headers(headers: Sequence[Tuple[str, int, Any]]) -> EncodedBlock:
    """The encoded block of validated headers (``Headers``, or any sequence of Header)."""
    parts: List[bytes] = []
    longest = 0
    prefixes = name_prefixes
    for name, htype, value in headers:
        prefix = prefixes.get(name) if type(name) is str else None
        if prefix is None:
            prefix = name_prefix(name)
        if htype == 7:
            raw = value.encode("utf-8")
            size = len(raw)
            parts.append(prefix)
            parts.append(_STRING_LENGTHS[size] if size < _SHORT else _pack_type_length(7, size))
            parts.append(raw)
        elif htype == 6:
            size = len(value)
            parts.append(prefix)
            parts.append(_BYTES_LENGTHS[size] if size < _SHORT else _pack_type_length(6, size))
            parts.append(value)
        else:
            parts.append(prefix)
            parts.append(value_bytes(htype, value))
            continue
        if size > longest:
            longest = size
    return block_of(parts, longest, len(headers))


# What Message() makes of a header dict: its Headers and its encoded block
# (the wire form is computed in the same pass as the inference, and the pair is
# left in last_encoded, where encode() finds it).
DictEntry = Tuple[Headers, EncodedBlock]

# Entries of dicts whose names and values are all short exact strs, keyed by the
# dict's items: a client sending audio builds the same
# {":message-type": ..., ":event-type": ..., ":content-type": ...} dict for every
# chunk.  Only exact str keys and values get here (checked before the lookup), so
# equality and hashing are str's own: no subclass can make a lookup match an
# entry built from other values.  Bounded: emptied when full.
_INFERRED: Dict[Tuple[Tuple[str, str], ...], DictEntry] = {}
_INFERRED_MAX_ENTRIES = 64  # at most ~2.5 MB; a client repeats one or two dicts
_INFERRED_MAX_HEADERS = 16
_INFERRED_MAX_VALUE = 256  # characters


def _str_dict_entry(items: Tuple[Tuple[Any, str], ...]) -> DictEntry:
    """The entry of a dict's items whose values are all exact strs (checked by
    the caller); its names are checked here.

    Cached when the names are exact strs too and the block is small: a hit needs
    an equal key, and equal exact strs have equal lengths, so the size checks
    here bound every entry.
    """
    for name, _ in items:
        if type(name) is not str:  # a str subclass, or not a str at all
            return _dict_entry(items, False)
    entry = _INFERRED.get(items)
    if entry is not None:
        last_encoded[0] = entry
    else:
        entry = _dict_entry(items, True)
        if len(items) <= _INFERRED_MAX_HEADERS and all(
            len(value) <= _INFERRED_MAX_VALUE for _, value in items
        ):
            if len(_INFERRED) >= _INFERRED_MAX_ENTRIES:
                _INFERRED.clear()
            _INFERRED[items] = entry
    _last_str_dict[0] = (items, len(items), entry)
    return entry


_STRING = HeaderType.STRING
_BYTES = HeaderType.BYTES
_INT32 = HeaderType.INT32
_INT64 = HeaderType.INT64
_TIMESTAMP = HeaderType.TIMESTAMP
_BOOL_TRUE = HeaderType.BOOL_TRUE
_BOOL_FALSE = HeaderType.BOOL_FALSE
_tuple_new = tuple.__new__
_name_prefix_of = name_prefixes.get
# (datetime.datetime, the epoch), set the first time
# Header.infer meets a datetime (the datetime module is not imported before).
_datetime_parts: Any = None


def _load_datetime_parts() -> Any:
    global _datetime_parts
    import datetime

    _datetime_parts = (
        datetime.datetime,
        datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc),
    )
    return _datetime_parts


def _dict_entry(items: Iterable[Tuple[Any, Any]], repeats: bool) -> DictEntry:
    """The Headers of a dict's items, inferring each value's wire type, and their
    encoded block (also left in ``last_encoded``); with a frame-head memo if the
    entry ``repeats`` (is kept to be handed out again).

    Names already seen are known valid (``name_prefixes``), and the values a
    client puts in a dict (exact str with ASCII text, bytes, int and bool, and
    datetimes in a fixed-offset timezone) are inferred and encoded here, where
    every check is a type test or a length; anything else (a new name, a
    subclass, non-ASCII text, a value that does not fit) goes through
    :meth:`Header.infer`, which normalises it or raises its error.
    """
    headers: List[Header] = []
    parts: List[bytes] = []
    longest = 0
    for name, value in items:
        prefix = _name_prefix_of(name) if type(name) is str else None
        if prefix is not None:
            kind = type(value)
            if kind is str:
                if value.isascii():
                    size = len(value)
                    if size <= MAX_WIRE_VALUE_LENGTH:
                        headers.append(_tuple_new(Header, (name, _STRING, value)))
                        parts.append(prefix)
                        parts.append(
                            _STRING_LENGTHS[size] if size < _SHORT else _pack_type_length(7, size)
                        )
                        parts.append(value.encode())
                        if size > longest:
                            longest = size
                        continue
            elif kind is bytes:
                size = len(value)
                if size <= MAX_WIRE_VALUE_LENGTH:
                    headers.append(_tuple_new(Header, (name, _BYTES, value)))
                    parts.append(prefix)
                    parts.append(
                        _BYTES_LENGTHS[size] if size < _SHORT else _pack_type_length(6, size)
                    )
                    parts.append(value)
                    if size > longest:
                        longest = size
                    continue
            elif kind is int:
                if _INT32_MIN <= value <= _INT32_MAX:
                    headers.append(_tuple_new(Header, (name, _INT32, value)))
                    parts.append(prefix)
                    parts.append(_pack_type_i32(4, value))
                    continue
                if _INT64_MIN <= value <= _INT64_MAX:
                    headers.append(_tuple_new(Header, (name, _INT64, value)))
                    parts.append(prefix)
                    parts.append(_pack_type_i64(5, value))
                    continue
            elif kind is bool:
                htype = _BOOL_TRUE if value else _BOOL_FALSE
                headers.append(_tuple_new(Header, (name, htype, value)))
                parts.append(prefix)
                parts.append(_TYPE_BYTE[htype])
                continue
            else:
                dt = _datetime_parts
                if dt is not None and kind is dt[0]:
                    try:
                        # From the aware epoch: raises TypeError for a naive datetime
                        # (no tzinfo, or one whose utcoffset() is None), which
                        # Header.infer below then reports.
                        delta = value - dt[1]
                    except TypeError:
                        pass
                    else:
                        # Every datetime fits int64 in ms.  days, seconds and
                        # microseconds are exact ints (the last two never negative),
                        # so this is the floor of the exact quotient.
                        ms = (
                            delta.days * 86_400_000
                            + delta.seconds * 1000
                            + delta.microseconds // 1000
                        )
                        headers.append(_tuple_new(Header, (name, _TIMESTAMP, ms)))
                        parts.append(prefix)
                        parts.append(_pack_type_i64(8, ms))
                        continue
        header = Header.infer(name, value)
        headers.append(header)
        name, htype, value = header
        prefix = _name_prefix_of(name)
        if prefix is None:
            prefix = name_prefix(name)
        wire = value_bytes(htype, value)
        parts.append(prefix)
        parts.append(wire)
        if (htype == 6 or htype == 7) and len(wire) - 3 > longest:
            longest = len(wire) - 3
    block = b"".join(parts)
    count = len(headers)
    entry = (
        _tuple_new(Headers, headers),
        (
            block,
            longest,
            count,
            len(block) <= _MAX_BLOCK and longest <= _MAX_VALUE and count <= _MAX_HEADERS,
            [NO_HEAD] if repeats and len(block) <= MAX_HEAD_BLOCK else None,
        ),
    )
    last_encoded[0] = entry
    return entry


def make_headers(headers: HeadersInput) -> Headers:
    """Normalise what a user passes as headers into :class:`Headers`."""
    if headers is None:
        return _EMPTY_HEADERS
    if type(headers) is Headers:
        return headers
    if type(headers) is dict:
        items = tuple(headers.items())
        for _, value in items:  # (_str_dict_entry checks the names)
            if type(value) is not str:
                return _dict_entry(items, False)[0]
        return _str_dict_entry(items)[0]
    if isinstance(headers, Mapping):
        return tuple.__new__(
            Headers, [Header.infer(name, value) for name, value in headers.items()]
        )
    if isinstance(headers, (str, bytes, bytearray, memoryview)) or not isinstance(
        headers, Iterable
    ):
        raise InvalidHeaderError(
            "headers must be a {name: value} mapping or an iterable of Header objects, "
            f"got {type(headers).__name__}"
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

# One slot: the items of the last all-str header dict (its exact strs, which this
# keeps alive, so their identities cannot be reused), their number and its entry.
# Replaced whole, so a thread reads a matching set.
_last_str_dict: List[Tuple[Tuple[Tuple[str, str], ...], int, DictEntry]] = [
    ((), 0, (_EMPTY_HEADERS, (b"", 0, 0, True, None)))
]


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
    :class:`Header`.  A payload that is not bytes-like raises
    :class:`~eventstream.errors.InvalidPayloadError` (a ``TypeError``).
    Every way to build one (``_replace``, ``_make``, pickling) validates.
    """

    __slots__ = ()

    def __new__(cls, headers: HeadersInput = None, payload: Any = b"") -> Message:
        if type(payload) is not bytes:
            payload = _payload_bytes(payload)
        if len(payload) > MAX_WIRE_PAYLOAD:
            raise PayloadTooLargeError(
                f"payload of {len(payload)} bytes cannot be framed (at most {MAX_WIRE_PAYLOAD})"
            )
        if type(headers) is dict:
            # A client sends every chunk with the same dict literal: the same str
            # objects, in the same order, as the last all-str dict.  Compared by
            # identity, so they are the exact strs that were checked then.
            last_items, count, entry = _last_str_dict[0]
            if len(headers) == count:
                i = 0
                for name, value in headers.items():
                    last_name, last_value = last_items[i]
                    if name is not last_name or value is not last_value:
                        break
                    i += 1  # noqa: SIM113 (enumerate costs ~900 instructions more here)
                else:
                    last_encoded[0] = entry
                    return _tuple_new(cls, (entry[0], payload))
            for value in headers.values():  # (_str_dict_entry checks the names)
                if type(value) is not str:
                    return _tuple_new(cls, (_dict_entry(headers.items(), False)[0], payload))
            return _tuple_new(cls, (_str_dict_entry(tuple(headers.items()))[0], payload))
        return tuple.__new__(cls, (make_headers(headers), payload))

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Message:  # type: ignore[override]
        """``Message(*iterable)``, validated like every other way to build one."""
        return cls(*iterable)

    def _replace(self, **changes: Any) -> Message:
        """A copy with ``headers`` and/or ``payload`` changed, validated like ``Message(...)``."""
        return _replace_fields(self, changes)

    def __repr__(self) -> str:
        payload = self.payload
        shown = repr(payload[:64]) + (f"...({len(payload)} bytes)" if len(payload) > 64 else "")
        return f"Message(headers={list(self.headers)!r}, payload={shown})"


def _payload_bytes(payload: object) -> bytes:
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        hint = " (encode text first, e.g. text.encode())" if isinstance(payload, str) else ""
        raise InvalidPayloadError(
            f"payload must be bytes, bytearray or memoryview, got {type(payload).__name__}{hint}"
        )
    return bytes(memoryview(payload))


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
