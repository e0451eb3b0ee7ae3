"""The debug JSON layout of a message, both ways.

The layout is the one of aws-c-event-stream's debug output and the Go SDK's
test vectors::

    {"total_length": 61, "headers_length": 32, "prelude_crc": 134054806,
     "headers": [{"name": "content-type", "type": 7, "value": "YXBwbGljYXRpb24vanNvbg=="}],
     "payload": "eydmb28nOidiYXInfQ==", "message_crc": 2375813297}

Header values by type: 0/1 ``true``/``false``; 2, 3, 4, 5 and 8 (timestamp,
milliseconds) JSON integers; 6 (bytes), 7 (string, its UTF-8 bytes) and 9
(uuid, 16 bytes) standard base64.  CRCs are written unsigned; signed int32
values (as in some Go vector files) are accepted on input.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from typing import Any, Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

import eventstream
from eventstream import EventStreamError, Header, HeaderType, Limits, Message

from . import readable
from .frames import Frame

FIELDS = ("total_length", "headers_length", "prelude_crc", "headers", "payload", "message_crc")
_STATED = ("total_length", "headers_length", "prelude_crc", "message_crc")
_B64_TYPES = (HeaderType.BYTES, HeaderType.STRING, HeaderType.UUID)
_INT_TYPES = (
    HeaderType.BYTE,
    HeaderType.INT16,
    HeaderType.INT32,
    HeaderType.INT64,
    HeaderType.TIMESTAMP,
)


class LayoutError(ValueError):
    """A JSON value that does not describe a message."""


# ---------------------------------------------------------------- to JSON


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def header_to_json(header: Header) -> Dict[str, Any]:
    name, htype, value = header
    if htype is HeaderType.STRING:
        shown: Any = _b64(value.encode("utf-8"))  # type: ignore[union-attr]
    elif htype is HeaderType.BYTES:
        shown = _b64(value)  # type: ignore[arg-type]
    elif htype is HeaderType.UUID:
        shown = _b64(value.bytes)  # type: ignore[union-attr]
    else:
        shown = value
    return {"name": name, "type": int(htype), "value": shown}


def frame_to_json(frame: Frame) -> Dict[str, Any]:
    """The layout dict of a decoded frame, fields in the layout's order."""
    message = frame.message
    return {
        "total_length": frame.total_length,
        "headers_length": frame.headers_length,
        "prelude_crc": frame.prelude_crc,
        "headers": [header_to_json(h) for h in message.headers],
        "payload": _b64(message.payload),
        "message_crc": frame.message_crc,
    }


def dumps(frame: Frame) -> str:
    """One line of JSON for a frame."""
    return json.dumps(frame_to_json(frame))


# ---------------------------------------------------------------- from JSON


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise LayoutError(f"{what} must be a base64 string, got {_json_type(text)}")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise LayoutError(f"{what} is not valid standard base64: {_preview(text)}") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _preview(text: str, size: int = 40) -> str:
    return repr(text if len(text) <= size else text[:size] + "...")


def header_from_json(obj: Any, where: str) -> Header:
    """A Header from ``{"name", "type", "value"}``."""
    if not isinstance(obj, dict):
        raise LayoutError(f"{where}: a header must be an object, got {_json_type(obj)}")
    unknown = sorted(set(obj) - {"name", "type", "value"})
    if unknown:
        raise LayoutError(f"{where}: unknown header field {unknown[0]!r}")
    name = obj.get("name")
    if not isinstance(name, str):
        raise LayoutError(f"{where}: 'name' must be a string, got {_json_type(name)}")
    where = f"{where} ({name!r})"
    code = obj.get("type")
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 9:
        raise LayoutError(f"{where}: 'type' must be an integer from 0 to 9, got {code!r}")
    htype = HeaderType(code)
    value = obj.get("value")
    if htype in (HeaderType.BOOL_TRUE, HeaderType.BOOL_FALSE):
        expected = htype is HeaderType.BOOL_TRUE
        if "value" in obj and value is not expected:
            raise LayoutError(
                f"{where}: type {code} ({htype.name.lower()}) has the value "
                f"{json.dumps(expected)}, got {json.dumps(value)}"
            )
        value = expected
    elif htype in _INT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise LayoutError(
                f"{where}: type {code} ({htype.name.lower()}) needs an integer value, "
                f"got {_json_type(value)}"
            )
    else:
        raw = _unb64(value, f"{where}: the type {code} ({htype.name.lower()}) value")
        if htype is HeaderType.STRING:
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise LayoutError(
                    f"{where}: the type 7 (string) value must be base64 of UTF-8 bytes; "
                    "these bytes are not UTF-8"
                ) from None
        elif htype is HeaderType.UUID and len(raw) != 16:
            raise LayoutError(f"{where}: a type 9 (uuid) value must be 16 bytes, got {len(raw)}")
        else:
            value = raw
    try:
        return Header(name, htype, value)
    except EventStreamError as exc:
        raise LayoutError(f"{where}: {exc}") from None


def _stated_u32(obj: Dict[str, Any], field: str, where: str) -> Optional[int]:
    if field not in obj:
        return None
    value: object = obj[field]
    if isinstance(value, bool) or not isinstance(value, int) or not -(1 << 31) <= value < 1 << 32:
        raise LayoutError(f"{where}: {field!r} must be a 32-bit integer, got {value!r}")
    return value & 0xFFFFFFFF


class Described(NamedTuple):
    """A message read from the layout, with the fields the JSON stated (or None)."""

    message: Message
    stated: Dict[str, Optional[int]]


def message_from_json(obj: Any, where: str) -> Described:
    if not isinstance(obj, dict):
        raise LayoutError(
            f"{where}: expected a JSON object describing a message, got {_json_type(obj)}"
        )
    if readable.is_readable(obj):
        return _readable_message(obj, where)
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        raise LayoutError(
            f"{where}: unknown field {unknown[0]!r} (the layout has {', '.join(FIELDS)})"
        )
    headers_json = obj.get("headers", [])
    if not isinstance(headers_json, list):
        raise LayoutError(f"{where}: 'headers' must be an array, got {_json_type(headers_json)}")
    headers = [header_from_json(h, f"{where}: header {i}") for i, h in enumerate(headers_json)]
    payload = _unb64(obj.get("payload", ""), f"{where}: 'payload'")
    stated = {field: _stated_u32(obj, field, where) for field in _STATED}
    try:
        message = Message(headers, payload)
    except EventStreamError as exc:
        raise LayoutError(f"{where}: {exc}") from None
    return Described(message, stated)


def _column(buf: str, pos: int) -> int:
    return pos - buf.rfind("\n", 0, pos)


MAX_INT_DIGITS = 40  # header integers fit in 64 bits; longer numbers are refused early
_VALUE_START = frozenset('{["-0123456789tfn')


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {digits} digits (header values fit in 64 bits)")
    return int(text)


_DECODER = json.JSONDecoder(parse_int=_parse_int)


def _readable_message(obj: Dict[str, Any], where: str) -> Described:
    allowed = set(readable.PAYLOAD_KEYS) | {"headers"} | set(_STATED)
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise LayoutError(
            f"{where}: unknown field {unknown[0]!r} (the readable layout has headers, "
            f"{', '.join(readable.PAYLOAD_KEYS)})"
        )
    try:
        message = readable.message_from_readable(obj, where)
    except readable.ReadableError as exc:
        raise LayoutError(str(exc)) from None
    stated = {field: _stated_u32(obj, field, where) for field in _STATED}
    return Described(message, stated)


def iter_json_values(
    text: Union[str, Iterable[str]], max_value: Optional[int] = None
) -> Iterator[Tuple[int, Any]]:
    """``(line, value)`` for each JSON value in ``text`` (a string, or pieces of one).

    Accepts JSON lines, pretty-printed objects one after another, and JSON
    arrays of objects (their items are yielded one by one).  Reads pieces only
    as far as the next value needs, so time and memory are linear in the input;
    ``max_value`` bounds the characters of one value.
    """
    pieces = iter([text] if isinstance(text, str) else text)
    buf = ""
    pos = 0
    line = 1  # the line of buf[pos]
    ended = False
    first = True
    want = 0  # buffered characters needed before trying a failed parse again

    def more() -> bool:
        nonlocal buf, pos, ended
        if pos > 65536:  # drop what was parsed, at a line start so columns stay right
            cut = buf.rfind("\n", pos - 4096, pos) + 1 or pos
            buf, pos = buf[cut:], pos - cut
        for piece in pieces:
            if piece:
                buf += piece
                return True
        ended = True
        return False

    while True:
        if first and pos == 0 and buf[:1] == "\ufeff":
            pos = 1
        while pos < len(buf) and buf[pos] in " \t\r\n":
            if buf[pos] == "\n":
                line += 1
            pos += 1
        if pos >= len(buf):
            if ended or not more():
                return
            continue
        first = False
        if buf[pos] not in _VALUE_START:
            raise LayoutError(
                f"line {line} column {_column(buf, pos)}: invalid JSON: expected a value, "
                f"found {buf[pos]!r}"
            )
        if not ended and len(buf) - pos < want:
            more()
            continue
        try:
            value, end = _DECODER.raw_decode(buf, pos)
        except json.JSONDecodeError as exc:
            cut_short = exc.pos >= len(buf) - 8 or exc.msg.startswith("Unterminated string")
            if not ended and cut_short:
                want = 2 * (len(buf) - pos) + 1
                if max_value is not None and len(buf) - pos > max_value:
                    raise LayoutError(
                        f"line {line}: a JSON value longer than {max_value} characters "
                        "(larger than any message the limits allow)"
                    ) from None
                more()
                continue
            where = line + exc.lineno - 1 - buf.count("\n", 0, pos)
            raise LayoutError(f"line {where} column {exc.colno}: invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise LayoutError(
                f"line {line} column {_column(buf, pos)}: invalid JSON: nested too deeply to read"
            ) from None
        except ValueError as exc:
            raise LayoutError(
                f"line {line} column {_column(buf, pos)}: invalid JSON: {exc}"
            ) from None
        if end == len(buf) and not ended and not isinstance(value, (dict, list)):
            want = len(buf) - pos + 1  # a number may go on in the next piece
            more()
            continue
        want = 0
        start_line = line
        line += buf.count("\n", pos, end)
        pos = end
        if isinstance(value, list):
            for item in value:
                yield start_line, item
        else:
            yield start_line, value


# ---------------------------------------------------------------- to bytes

_PRELUDE = struct.Struct(">II")
_U32 = struct.Struct(">I")


class Encoded(NamedTuple):
    data: bytes
    differences: List[str]  # stated fields that differ from the encoded message


def encode_described(described: Described, limits: Limits, verbatim: bool = False) -> Encoded:
    """Encode a message; with ``verbatim`` the stated lengths and CRCs are written as given.

    Verbatim output keeps the header and payload bytes and replaces only the
    four fixed fields, to build deliberately broken frames for tests.
    """
    try:
        data = eventstream.encode(described.message, limits=limits)
    except EventStreamError as exc:
        raise LayoutError(str(exc)) from None
    total, headers_length = _PRELUDE.unpack_from(data)
    actual = {
        "total_length": total,
        "headers_length": headers_length,
        "prelude_crc": _U32.unpack_from(data, 8)[0],
        "message_crc": _U32.unpack_from(data, len(data) - 4)[0],
    }
    differences = [
        f"{field} 0x{stated:08X} stated, 0x{actual[field]:08X} encoded"
        if field.endswith("crc")
        else f"{field} {stated} stated, {actual[field]} encoded"
        for field, stated in described.stated.items()
        if stated is not None and stated != actual[field]
    ]
    if not verbatim or not differences:
        return Encoded(data, differences)
    given = {
        f: described.stated[f] if described.stated[f] is not None else actual[f] for f in actual
    }
    prelude = _PRELUDE.pack(given["total_length"], given["headers_length"])
    if described.stated["prelude_crc"] is None:
        given["prelude_crc"] = eventstream.crc32(prelude)
    body = data[12:-4]
    head = prelude + _U32.pack(given["prelude_crc"]) + body
    if described.stated["message_crc"] is None:
        given["message_crc"] = eventstream.crc32(head)
    return Encoded(head + _U32.pack(given["message_crc"]), differences)
