"""Human-readable rendering of messages: headers with their wire types, payloads by content."""

from __future__ import annotations

import json
import re
from typing import Any, List, Mapping, NamedTuple, Optional, Union

import eventstream
from eventstream import (
    EventStreamError,
    Headers,
    HeaderType,
    Limits,
    ValueOutOfRangeError,
    datetime_from_timestamp,
)

from .color import PLAIN, Palette
from .frames import Frame, decode_single
from .hexdump import hexdump_rows
from .scan import MAX_NESTING, error_reason, looks_like_message

DEFAULT_PREVIEW = 64  # bytes of a binary payload shown without --full
TYPE_NAMES = {
    HeaderType.BOOL_TRUE: "true",
    HeaderType.BOOL_FALSE: "false",
    HeaderType.BYTE: "byte",
    HeaderType.INT16: "int16",
    HeaderType.INT32: "int32",
    HeaderType.INT64: "int64",
    HeaderType.BYTES: "bytes",
    HeaderType.STRING: "string",
    HeaderType.TIMESTAMP: "timestamp",
    HeaderType.UUID: "uuid",
}

# Control and format characters (bidi overrides, zero-width) are shown escaped,
# so a hostile payload cannot drive the terminal or hide text.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """``text`` with control characters escaped (newlines and tabs kept)."""
    return _UNSAFE.sub(_escape_char, text)


def quote(text: str) -> str:
    """A double-quoted, escaped rendering of a string value."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return '"' + safe_text(escaped) + '"'


def plural(count: int, noun: str) -> str:
    """``1 message``, ``2 messages``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def type_label(htype: HeaderType) -> str:
    """``string (type 7)``: the name, and the wire type code (not a length)."""
    return f"{TYPE_NAMES[htype]} (type {int(htype)})"


def timestamp_text(milliseconds: int) -> str:
    try:
        moment = datetime_from_timestamp(milliseconds)
    except ValueOutOfRangeError:
        return f"{milliseconds} (outside the datetime range)"
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"
    return f"{milliseconds} ({text})"


def _printable_ascii(data: bytes) -> bool:
    return bool(data) and all(0x20 <= b < 0x7F for b in data)


def value_text(htype: HeaderType, value: Any, limit: int = 32) -> str:
    """A header value for humans: quoted strings, hex bytes, ISO timestamps, uuid text."""
    if htype in (HeaderType.BOOL_TRUE, HeaderType.BOOL_FALSE):
        return "true" if value else "false"
    if htype is HeaderType.TIMESTAMP:
        return timestamp_text(value)
    if htype is HeaderType.STRING:
        return quote(value)
    if htype is HeaderType.UUID:
        return str(value)
    if htype is HeaderType.BYTES:
        data: bytes = value
        shown = data[:limit].hex() + ("..." if len(data) > limit else "")
        text = f"{shown} ({len(data)} bytes)" if data else "(0 bytes)"
        if _printable_ascii(data[:limit]):
            text += " " + quote(data[:limit].decode("ascii") + ("..." if len(data) > limit else ""))
        return text
    return str(value)


def message_kind(
    headers: Union[Headers, Mapping[str, Any]], payload: Union[bytes, memoryview]
) -> str:
    """What a message is, from its conventional headers ("event TranscriptEvent", ...).

    ``headers`` is the message's Headers or a ``{name: value}`` mapping.
    """
    message_type = headers.get(":message-type")
    if message_type == "event":
        return f"event {headers.get(':event-type', '(no :event-type)')}"
    if message_type == "exception":
        name = (
            headers.get(":exception-type") or headers.get(":event-type") or "(no :exception-type)"
        )
        return f"exception {name}"
    if message_type == "error":
        code = headers.get(":error-code", "(no :error-code)")
        text = headers.get(":error-message")
        return f"error {code}" + (f": {text}" if isinstance(text, str) else "")
    if ":chunk-signature" in headers:
        return "signed end frame (empty payload)" if not payload else "signed frame"
    if isinstance(message_type, str):
        return message_type
    return ""


class PayloadView(NamedTuple):
    kind: str  # empty, nested, nested-bad, json, text, binary
    summary: str
    lines: List[str]
    nested: Optional[Frame]


PRETTY_LIMIT = 1 << 20  # larger payloads are not parsed to be pretty-printed
TEXT_PREVIEW = 4096  # bytes of a text payload above PRETTY_LIMIT shown without --full
MAX_JSON_DEPTH = 64  # deeper JSON is shown as it is, not re-indented


class _Number(str):
    """A JSON number kept as written (``1.10`` stays ``1.10``; no 4,300-digit limit)."""


def pretty_json(text: str) -> List[str]:
    """``text`` (one JSON object or array) re-indented by two spaces, numbers as written.

    Raises ValueError for text that is not JSON or nests deeper than MAX_JSON_DEPTH.
    """
    body = text.lstrip("\ufeff \t\r\n")
    if body[:1] not in ("{", "["):
        raise ValueError("not an object or array")
    try:
        value = json.loads(body, parse_int=_Number, parse_float=_Number, parse_constant=_Number)
    except RecursionError:
        raise ValueError("nested too deeply to parse") from None
    return _pretty(value, 0).splitlines()


def _pretty(value: Any, level: int) -> str:
    if level > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, (str, bool)) or value is None:
        return json.dumps(value, ensure_ascii=False)
    pad = "  " * (level + 1)
    if isinstance(value, list):
        if not value:
            return "[]"
        items = [pad + _pretty(item, level + 1) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"
    if not value:
        return "{}"
    pairs = [
        f"{pad}{json.dumps(key, ensure_ascii=False)}: {_pretty(item, level + 1)}"
        for key, item in value.items()
    ]
    return "{\n" + ",\n".join(pairs) + "\n" + "  " * level + "}"


def _looks_textual(text: str) -> bool:
    controls = len(_UNSAFE.findall(text))
    return controls == 0 or controls < len(text) / 100


def _utf8_prefix(data: Union[bytes, memoryview], size: int) -> Optional[str]:
    """The first ``size`` bytes as text (a character cut at the end is dropped), or None."""
    sample = bytes(data[:size])
    try:
        return sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(sample) < len(data) and exc.start >= len(sample) - 3:
            return sample[: exc.start].decode("utf-8", "replace")
        return None


def nested_error(payload: Union[bytes, memoryview], limits: Optional[Limits]) -> str:
    """Why a payload that looks like a message does not decode as one."""
    try:
        eventstream.decode(bytes(payload), limits=limits)
    except EventStreamError as exc:
        return error_reason(exc)  # its offsets count from the payload: the fault has them
    return ""


class Renderer:
    """Renders frames for ``dump``."""

    def __init__(
        self,
        palette: Palette = PLAIN,
        *,
        full: bool = False,
        preview: int = DEFAULT_PREVIEW,
        limits: Optional[Limits] = None,
        nested: bool = True,
    ) -> None:
        self.palette = palette
        self.full = full
        self.preview = preview
        self.limits = limits
        self.nested = nested

    # -------------------------------------------------------- payloads

    def payload_view(
        self, payload: Union[bytes, memoryview], content_type: Any, depth: int = 0
    ) -> PayloadView:
        size = len(payload)
        if not size:
            return PayloadView("empty", "empty", [], None)
        ctype = content_type.lower() if isinstance(content_type, str) else ""
        if self.nested and depth < MAX_NESTING and looks_like_message(payload):
            inner = decode_single(bytes(payload), self.limits)
            if inner is not None:
                return PayloadView(
                    "nested", f"an event-stream message, {size} bytes, decoded:", [], inner
                )
            reason = safe_text(nested_error(payload, self.limits))
            return PayloadView(
                "nested-bad",
                f"an event-stream message, {size} bytes, that does not decode: {reason}",
                self._hex_lines(payload),
                None,
            )
        note = ""
        head = bytes(payload[:64]).lstrip()
        if "json" in ctype or head[:1] in (b"{", b"["):
            if size > PRETTY_LIMIT:
                note = f" (over {PRETTY_LIMIT >> 20} MiB: shown as it is, not re-indented)"
            else:
                try:
                    lines = pretty_json(bytes(payload).decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    if "json" in ctype:
                        note = f" (the content-type says JSON, but it does not parse: {exc})"
                else:
                    return PayloadView(
                        "json", f"JSON, {size} bytes", [safe_text(x) for x in lines], None
                    )
        shown = size if self.full or size <= PRETTY_LIMIT else TEXT_PREVIEW
        text = _utf8_prefix(payload, shown)
        if text is not None and (
            ctype.startswith("text/") or "xml" in ctype or _looks_textual(text)
        ):
            lines = safe_text(text).splitlines()
            if shown < size:
                lines.append(f"... {size - shown} more bytes (--full shows them all)")
            return PayloadView("text", f"text, {size} bytes{note}", lines, None)
        return PayloadView("binary", f"binary, {size} bytes{note}", self._hex_lines(payload), None)

    def _hex_lines(self, payload: Union[bytes, memoryview]) -> List[str]:
        size = len(payload)
        shown = bytes(payload if self.full else payload[: self.preview])
        lines = hexdump_rows(shown)
        if len(shown) < size:
            lines.append(f"... {size - len(shown)} more bytes (--full shows them all)")
        return lines

    # -------------------------------------------------------- messages

    def title(self, frame: Frame, label: str, inner: Optional[Frame] = None) -> str:
        p = self.palette
        kind = message_kind(frame.message.headers, frame.message.payload)
        if inner is not None:
            inner_kind = message_kind(inner.message.headers, inner.message.payload)
            kind = f"{kind} wrapping {inner_kind}" if kind and inner_kind else kind
        text = p.title(f"message {label}") + f" at byte {frame.offset}"
        return text + (": " + p.kind(safe_text(kind)) if kind else "")

    def frame_lines(self, frame: Frame, label: str, depth: int = 0) -> List[str]:
        p = self.palette
        headers = frame.message.headers
        view = self.payload_view(frame.message.payload, headers.get(":content-type"), depth)
        lines = [self.title(frame, label, view.nested)]
        lines.append(
            "  "
            + p.dim(
                f"total_length {frame.total_length}  headers_length {frame.headers_length}  "
                f"payload_length {frame.payload_length}  "
                f"prelude_crc 0x{frame.prelude_crc:08X}  message_crc 0x{frame.message_crc:08X}"
            )
        )
        if headers:
            lines.append(f"  headers ({len(headers)}):")
            width = min(max(len(safe_text(h.name)) for h in headers), 28)
            for header in headers:
                name = safe_text(header.name)
                lines.append(
                    f"    {p.name(name.ljust(width))}  {p.dim(type_label(header.type).ljust(19))}"
                    f"{value_text(header.type, header.value)}"
                )
        else:
            lines.append("  headers: none")
        lines.append(f"  payload: {view.summary}")
        lines.extend("    " + line for line in view.lines)
        if view.nested is not None:
            inner = view.nested._replace(offset=frame.offset + 12 + frame.headers_length)
            lines.extend("    " + line for line in self.frame_lines(inner, f"{label}.0", depth + 1))
        return lines
