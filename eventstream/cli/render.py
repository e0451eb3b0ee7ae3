"""Human-readable rendering of messages: headers with their wire types, payloads by content."""

from __future__ import annotations

import json
import re
from typing import Any, List, Mapping, NamedTuple, Optional, Union

from eventstream import Headers, HeaderType, Limits, ValueOutOfRangeError, datetime_from_timestamp

from .color import PLAIN, Palette
from .frames import Frame, decode_single
from .hexdump import hexdump_rows

DEFAULT_PREVIEW = 64  # bytes of a binary payload shown without --full
MAX_NESTING = 4
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
    return f"{TYPE_NAMES[htype]}({int(htype)})"


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


def message_kind(headers: Union[Headers, Mapping[str, Any]], payload: bytes) -> str:
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
    kind: str  # empty, nested, json, text, binary
    summary: str
    lines: List[str]
    nested: Optional[Frame]


def _json_value(payload: bytes) -> Any:
    text = payload.decode("utf-8")
    if text.lstrip("\ufeff \t\r\n")[:1] not in ("{", "["):
        raise ValueError("not an object or array")
    return json.loads(text.lstrip("\ufeff"))


def _looks_textual(text: str) -> bool:
    controls = len(_UNSAFE.findall(text))
    return controls == 0 or controls < len(text) / 100


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

    def payload_view(self, payload: bytes, content_type: Any, depth: int = 0) -> PayloadView:
        size = len(payload)
        if not payload:
            return PayloadView("empty", "empty", [], None)
        ctype = content_type.lower() if isinstance(content_type, str) else ""
        if self.nested and depth < MAX_NESTING:
            inner = decode_single(payload, self.limits)
            if inner is not None:
                return PayloadView(
                    "nested", f"an event-stream message, {size} bytes, decoded:", [], inner
                )
        note = ""
        if "json" in ctype or payload.lstrip()[:1] in (b"{", b"["):
            try:
                value = _json_value(payload)
            except (ValueError, UnicodeDecodeError) as exc:
                if "json" in ctype:
                    note = f" (the content-type says JSON, but it does not parse: {exc})"
            else:
                pretty = json.dumps(value, indent=2, ensure_ascii=False)
                return PayloadView(
                    "json", f"JSON, {size} bytes", safe_text(pretty).splitlines(), None
                )
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and (
            ctype.startswith("text/") or "xml" in ctype or _looks_textual(text)
        ):
            return PayloadView(
                "text", f"text, {size} bytes{note}", safe_text(text).splitlines(), None
            )
        shown = payload if self.full else payload[: self.preview]
        lines = hexdump_rows(shown)
        if len(shown) < size:
            lines.append(f"... {size - len(shown)} more bytes (--full shows them all)")
        return PayloadView("binary", f"binary, {size} bytes{note}", lines, None)

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
                    f"    {p.name(name.ljust(width))}  {p.dim(type_label(header.type).ljust(14))}"
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
