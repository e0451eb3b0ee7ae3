"""The readable JSON layout of a message (``dump --json-readable``), both ways.

Made for ``jq`` and for writing test frames by hand::

    {"headers": [{"name": ":event-type", "type": "string", "value": "AudioEvent"},
                 {"name": ":date", "type": "timestamp", "value": "2024-05-01T12:00:00.000Z"}],
     "payload_json": {"Transcript": {"Results": []}}}

Header ``type`` is a name (``bool``, ``byte``, ``int16``, ``int32``, ``int64``,
``bytes``, ``string``, ``timestamp``, ``uuid``; ``true``/``false`` are taken
too); values are JSON booleans and integers, text for strings, base64 only for
``bytes``, an ISO-8601 time (or integer milliseconds) for timestamps and the
usual text form of a uuid.  The payload is one of ``payload_json`` (a JSON
value, written compactly), ``payload_text`` (UTF-8 text) or ``payload_base64``.
``dump --json-readable`` uses ``payload_json`` only when writing the value back
gives the exact payload bytes, so ``dump --json-readable | encode`` reproduces
the stream byte for byte.  By hand, ``headers`` may also be an object of
``name: value`` pairs (text is a string header, true/false a bool, an integer
an int32 or, if it does not fit, an int64).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import uuid
from typing import Any, Dict, List, Optional

from eventstream import (
    EventStreamError,
    Header,
    HeaderType,
    Message,
    ValueOutOfRangeError,
    datetime_from_timestamp,
    timestamp_from_datetime,
)

from .frames import Frame

PAYLOAD_KEYS = ("payload_json", "payload_text", "payload_base64")
MAX_INLINE = 1 << 20  # larger JSON payloads are written as text, not parsed
_NAMES = {
    HeaderType.BYTE: "byte",
    HeaderType.INT16: "int16",
    HeaderType.INT32: "int32",
    HeaderType.INT64: "int64",
    HeaderType.BYTES: "bytes",
    HeaderType.STRING: "string",
    HeaderType.TIMESTAMP: "timestamp",
    HeaderType.UUID: "uuid",
}
_TYPES = {name: htype for htype, name in _NAMES.items()}


class ReadableError(ValueError):
    """A readable-layout value that does not describe a header or payload."""


# ---------------------------------------------------------------- to JSON


def _timestamp(milliseconds: int) -> Any:
    """ISO-8601 UTC with milliseconds, or the integer when outside years 1-9999."""
    try:
        m = datetime_from_timestamp(milliseconds)
    except ValueOutOfRangeError:
        return milliseconds
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def header_to_readable(header: Header) -> Dict[str, Any]:
    name, htype, value = header
    if htype in (HeaderType.BOOL_TRUE, HeaderType.BOOL_FALSE):
        return {"name": name, "type": "bool", "value": htype is HeaderType.BOOL_TRUE}
    shown: Any = value
    if htype is HeaderType.BYTES:
        shown = base64.b64encode(value).decode("ascii")  # type: ignore[arg-type]
    elif htype is HeaderType.TIMESTAMP:
        shown = _timestamp(value)  # type: ignore[arg-type]
    elif htype is HeaderType.UUID:
        shown = str(value)
    return {"name": name, "type": _NAMES[htype], "value": shown}


def _inline_json(payload: bytes) -> Optional[Any]:
    """The payload's JSON value, if writing it compactly gives back exactly these bytes."""
    if len(payload) > MAX_INLINE or payload.lstrip()[:1] not in (b"{", b"["):
        return None
    try:
        value = json.loads(payload.decode("utf-8"))
        again = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if again.encode("utf-8") == payload else None


def payload_to_readable(payload: bytes) -> Dict[str, Any]:
    if not payload:
        return {}
    value = _inline_json(payload)
    if value is not None:
        return {"payload_json": value}
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return {"payload_base64": base64.b64encode(payload).decode("ascii")}
    return {"payload_text": text}


def frame_to_readable(frame: Frame) -> Dict[str, Any]:
    result: Dict[str, Any] = {"headers": [header_to_readable(h) for h in frame.message.headers]}
    result.update(payload_to_readable(frame.message.payload))
    return result


def dumps_readable(frame: Frame) -> str:
    """One line of readable JSON for a frame."""
    return json.dumps(frame_to_readable(frame), ensure_ascii=False)


# ---------------------------------------------------------------- from JSON


def is_readable(obj: Dict[str, Any]) -> bool:
    """True when a message object is in the readable layout (not the exact one)."""
    if any(key in obj for key in PAYLOAD_KEYS):
        return True
    headers = obj.get("headers")
    if isinstance(headers, dict):
        return True
    return isinstance(headers, list) and any(
        isinstance(h, dict) and isinstance(h.get("type"), str) for h in headers
    )


def _int_value(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReadableError(f"{what} needs an integer value, got {json.dumps(value)[:40]}")
    return int(value)


def _parse_timestamp(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        raise ReadableError(
            f"{where}: a timestamp is an ISO-8601 time or integer milliseconds, "
            f"got {json.dumps(value)[:40]}"
        )
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ReadableError(
            f"{where}: {value!r} is not an ISO-8601 time like 2024-05-01T12:00:00.000Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return timestamp_from_datetime(moment)


def header_from_readable(obj: Any, where: str) -> Header:
    if not isinstance(obj, dict):
        raise ReadableError(f"{where}: a header must be an object")
    unknown = sorted(set(obj) - {"name", "type", "value"})
    if unknown:
        raise ReadableError(f"{where}: unknown header field {unknown[0]!r}")
    name = obj.get("name")
    if not isinstance(name, str):
        raise ReadableError(f"{where}: 'name' must be a string")
    where = f"{where} ({name!r})"
    value = obj.get("value")
    kind = obj.get("type")
    if kind is None:
        return _implicit(name, value, where)
    if isinstance(kind, int) and not isinstance(kind, bool):
        raise ReadableError(f"{where}: in the readable layout 'type' is a name such as 'string'")
    if kind in ("bool", "true", "false"):
        if kind != "bool" and "value" not in obj:
            value = kind == "true"
        if not isinstance(value, bool):
            raise ReadableError(f"{where}: a bool header needs the value true or false")
        htype = HeaderType.BOOL_TRUE if value else HeaderType.BOOL_FALSE
        return _header(name, htype, value, where)
    if kind not in _TYPES:
        raise ReadableError(
            f"{where}: unknown type {kind!r} (use bool, byte, int16, int32, int64, bytes, "
            "string, timestamp or uuid)"
        )
    htype = _TYPES[kind]
    if htype is HeaderType.STRING:
        if not isinstance(value, str):
            raise ReadableError(f"{where}: a string header needs a JSON string value")
        return _header(name, htype, value, where)
    if htype is HeaderType.BYTES:
        return _header(name, htype, _unb64(value, f"{where}: a bytes value"), where)
    if htype is HeaderType.UUID:
        try:
            parsed = uuid.UUID(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise ReadableError(f"{where}: a uuid value is text like 01234567-89ab-cdef-...")
        return _header(name, htype, parsed, where)
    if htype is HeaderType.TIMESTAMP:
        return _header(name, htype, _parse_timestamp(value, where), where)
    return _header(name, htype, _int_value(value, f"{where}: type {kind}"), where)


def _implicit(name: str, value: Any, where: str) -> Header:
    if isinstance(value, bool):
        htype = HeaderType.BOOL_TRUE if value else HeaderType.BOOL_FALSE
    elif isinstance(value, str):
        htype = HeaderType.STRING
    elif isinstance(value, int):
        htype = HeaderType.INT32 if -(1 << 31) <= value < 1 << 31 else HeaderType.INT64
    else:
        raise ReadableError(
            f"{where}: without a 'type', a value must be text, true/false or an integer"
        )
    return _header(name, htype, value, where)


def _header(name: str, htype: HeaderType, value: Any, where: str) -> Header:
    try:
        return Header(name, htype, value)
    except EventStreamError as exc:
        raise ReadableError(f"{where}: {exc}") from None


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ReadableError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ReadableError(f"{what} is not valid standard base64") from None


def headers_from_readable(value: Any, where: str) -> List[Header]:
    if isinstance(value, dict):
        return [_implicit(n, v, f"{where}: header {n!r}") for n, v in value.items()]
    if not isinstance(value, list):
        raise ReadableError(f"{where}: 'headers' must be an array or an object")
    return [header_from_readable(h, f"{where}: header {i}") for i, h in enumerate(value)]


def payload_from_readable(obj: Dict[str, Any], where: str) -> bytes:
    given = [key for key in PAYLOAD_KEYS if key in obj]
    if "payload" in obj:
        given.append("payload")
    if len(given) > 1:
        raise ReadableError(f"{where}: give one payload field, not {' and '.join(given)}")
    if not given:
        return b""
    key = given[0]
    value = obj[key]
    if key == "payload_json":
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, RecursionError):
            raise ReadableError(f"{where}: 'payload_json' is nested too deeply") from None
        return text.encode("utf-8")
    if key == "payload_text":
        if not isinstance(value, str):
            raise ReadableError(f"{where}: 'payload_text' must be a string")
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise ReadableError(f"{where}: 'payload_text' holds a lone surrogate") from None
    return _unb64(value, f"{where}: '{key}'")


def message_from_readable(obj: Dict[str, Any], where: str) -> Message:
    headers = headers_from_readable(obj.get("headers", []), where)
    payload = payload_from_readable(obj, where)
    try:
        return Message(headers, payload)
    except EventStreamError as exc:
        raise ReadableError(f"{where}: {exc}") from None
