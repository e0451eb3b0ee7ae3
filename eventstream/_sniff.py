"""Naming what a body is when it is not (or may not be) an event stream.

A decoder given a JSON error body, server-sent events or an HTML error page
reports a prelude checksum mismatch whose "checksum" is four ASCII bytes (the
famous ``0x223A7B22`` is ``":{"``).  :func:`sniff` looks at the first bytes
and says what they really are; :func:`upgrade_not_an_event_stream` turns such
a checksum error at stream offset 0 into a
:class:`~eventstream.errors.NotAnEventStreamError`.

Every probe is linear in the size of the window it looks at (at most
``SNIFF_BYTES``): no regular expression here has nested or overlapping
repetition, so none can backtrack super-linearly, and element searches use
``str.find``.  Deeply nested JSON is reported, never a ``RecursionError``.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from typing import Any, List, NamedTuple, Optional, Union

from . import errors

__all__ = ["SNIFF_BYTES", "SniffResult", "looks_like_prelude", "sniff", "KINDS"]

SNIFF_BYTES = 64 * 1024
"""How many leading bytes :func:`sniff` looks at."""

PREVIEW_BYTES = 64
"""How many leading bytes a :class:`~eventstream.errors.NotAnEventStreamError` keeps."""

KINDS = (
    "eventstream",
    "json",
    "sse",
    "html",
    "xml",
    "http",
    "gzip",
    "zstd",
    "base64",
    "hex",
    "text",
    "unknown",
)

Buffer = Union[bytes, bytearray, memoryview]


class SniffResult(NamedTuple):
    """What :func:`sniff` found.

    ``kind`` is one of :data:`KINDS`; ``what`` says it in words ("a JSON
    document"); ``detail`` is a short excerpt (for JSON, the error fields it
    carries; for HTTP, the status line; for HTML, the title).  For an HTTP
    response head, ``body_offset`` is where the body starts and
    ``body_content_type`` the head's ``Content-Type`` (``None`` otherwise).
    """

    kind: str
    what: str
    detail: str
    body_offset: Optional[int] = None
    body_content_type: Optional[str] = None


def _excerpt(text: str, size: int = 160) -> str:
    text = " ".join(text[: size * 8].split())
    return text if len(text) <= size else text[: size - 3] + "..."


def _head(data: Buffer, size: int) -> bytes:
    """The first ``size`` bytes of any buffer (a non-contiguous memoryview included)."""
    if isinstance(data, memoryview):
        try:
            data = data.cast("B")
        except TypeError:  # not C-contiguous: cast refuses it
            return data.tobytes()[:size]
    return bytes(data[:size])


def looks_like_prelude(data: Buffer, pos: int = 0) -> bool:
    """True when the 12 bytes at ``pos`` have a matching prelude CRC and sane lengths."""
    if len(data) - pos < 12:
        return False
    total, headers_length, crc = struct.unpack_from(">III", data, pos)
    return bool(
        zlib.crc32(bytes(data[pos : pos + 8])) == crc
        and total >= 16
        and headers_length <= total - 16
    )


# ---------------------------------------------------------------- JSON

_ERROR_KEYS = ("__type", "code", "Code", "error", "type", "message", "Message", "errorMessage")


def _error_fields(value: Any, prefix: str = "", depth: int = 0) -> List[str]:
    """``key: value`` for the error-ish fields of a JSON object, one level of nesting deep."""
    found: List[str] = []
    if not isinstance(value, dict) or depth > 1:
        return found
    for key, item in value.items():
        if key in _ERROR_KEYS and isinstance(item, (str, int)) and not isinstance(item, bool):
            found.append(f"{prefix}{key}: {item}")
    for key, item in value.items():
        if isinstance(item, dict):
            found.extend(_error_fields(item, f"{prefix}{key}.", depth + 1))
    return found


def json_error_text(value: Any) -> str:
    """The error fields of a parsed JSON body, ``""`` when it has none."""
    return _excerpt("; ".join(_error_fields(value)))


# A JSON value opens with one of these after its first bracket (anchored, no repetition
# that can overlap: linear).
_JSON_START = re.compile(r'[\[{]\s*["{\[\]}]')


def _sniff_json(text: str) -> Optional[SniffResult]:
    body = text.lstrip("\ufeff \t\r\n")
    if body[:1] not in ("{", "["):
        return None
    try:
        import json  # loaded on first use: `import eventstream` stays light

        value, _ = json.JSONDecoder().raw_decode(body)
    except RecursionError:
        # Nested deeper than the interpreter recurses: JSON all the same.
        return SniffResult("json", "JSON text (nested too deep to read)", _excerpt(body))
    except ValueError:
        if not _JSON_START.match(body):
            return None
        return SniffResult("json", "JSON text (cut short or malformed)", _excerpt(body))
    detail = json_error_text(value) or _excerpt(body)
    return SniffResult("json", "a JSON document", detail)


# ---------------------------------------------------------------- SSE

_SSE_FIELD = ("data:", "event:", "id:", "retry:", ":")


def _sniff_sse(text: str) -> Optional[SniffResult]:
    lines = []
    for line in text.split("\n", 40)[:40]:
        line = line.rstrip("\r")
        if line.strip():
            lines.append(line)
        if len(lines) == 20:
            break
    if not lines or not lines[0].startswith(_SSE_FIELD):
        return None
    first = next((line for line in lines if line.startswith(("data:", "event:"))), None)
    if first is None:
        return None
    return SniffResult("sse", "server-sent events (text/event-stream)", _excerpt(first))


# ---------------------------------------------------------------- HTML and XML

_SPACE = " \t\r\n\f\v"
# "<!doctype " alone counts: a decoder fed small chunks fails after 12 bytes.
_HTML_START = re.compile(r"<(?:!doctype\s|(?:html|head|body)\b)", re.I)
_XML_START = re.compile(r"<\?xml\b|<(?:Error|ErrorResponse)>", re.I)
# A tag: '<' then anything but '<' and '>' then '>'.  Excluding '<' keeps each
# attempt from scanning past the next attempt's start, so the scan is linear.
_TAG = re.compile(r"<[^<>]*>")


def _skip_comments(body: str) -> int:
    """Offset of the first markup after leading white space and ``<!-- -->`` comments."""
    pos = len(body) - len(body.lstrip(_SPACE))
    while body.startswith("<!--", pos):
        end = body.find("-->", pos + 4)
        if end < 0:
            return pos
        pos = end + 3
        while pos < len(body) and body[pos] in _SPACE:
            pos += 1
    return pos


def _element_text(body: str, lowered: str, name: str) -> Optional[str]:
    """The text of the first ``<name ...>...</name>`` (found with ``find``: linear)."""
    start = lowered.find(f"<{name}")
    while start >= 0:
        after = start + len(name) + 1
        if after == len(lowered) or lowered[after] in f">/{_SPACE}":
            break
        start = lowered.find(f"<{name}", after)
    if start < 0:
        return None
    open_end = lowered.find(">", start)
    if open_end < 0:
        return None
    close = lowered.find(f"</{name}", open_end + 1)
    if close < 0:
        return None
    return body[open_end + 1 : close]


def _sniff_markup(text: str) -> Optional[SniffResult]:
    body = text.lstrip("\ufeff")
    start = _skip_comments(body)
    if _HTML_START.match(body, start):
        lowered = body.lower()
        heading = _element_text(body, lowered, "title") or _element_text(body, lowered, "h1")
        shown = heading if heading else body[start:]
        return SniffResult("html", "an HTML page", _excerpt(_TAG.sub(" ", shown[:4096])))
    if _XML_START.match(body, start):
        parts = []
        for name in ("Code", "Message"):
            open_tag = f"<{name}>"
            found = body.find(open_tag)
            if found >= 0:
                close = body.find(f"</{name}>", found)
                if close >= 0:
                    parts.append(body[found + len(open_tag) : close])
        return SniffResult(
            "xml", "an XML document", _excerpt(": ".join(parts) if parts else body[start:])
        )
    return None


# ---------------------------------------------------------------- HTTP

# Anchored; the two repetitions are separated by a literal space: linear.
_STATUS = re.compile(rb"HTTP/\d(?:\.\d)? \d{3}[^\r\n]*")


def _header_value(head: bytes, name: bytes) -> Optional[str]:
    for line in head.splitlines()[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return None


def _sniff_http(data: bytes) -> Optional[SniffResult]:
    status = _STATUS.match(data)
    if not status:
        return None
    head_end = -1
    for separator in (b"\r\n\r\n", b"\n\n"):
        found = data.find(separator)
        if found >= 0 and (head_end < 0 or found < head_end):
            head_end = found + len(separator)
    content_type = _header_value(data[:head_end], b"content-type") if head_end >= 0 else None
    return SniffResult(
        "http",
        "an HTTP response head",
        status.group().decode("latin-1"),
        head_end if head_end >= 0 else None,
        content_type,
    )


# ---------------------------------------------------------------- base64, hex, text

_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
# Separators and prefixes hex dumps use; removed before the digits are checked.
_HEX_NOISE = re.compile(rb"0[xX]|\\x|[\s,:]")


def _decode_hex(text: bytes) -> bytes:
    digits = _HEX_NOISE.sub(b"", text).rstrip(b"\\")
    if not digits or not _HEX_DIGITS.issuperset(digits):
        return b""
    return binascii.unhexlify(digits[: len(digits) - len(digits) % 2])


def _decode_base64(compact: bytes) -> bytes:
    if not _B64_ALPHABET.issuperset(compact):
        return b""
    body = compact.rstrip(b"=").translate(bytes.maketrans(b"-_", b"+/"))
    if b"=" in body:
        return b""
    body = body[: len(body) - len(body) % 4]
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        return b""


def _sniff_encoded_text(data: bytes) -> Optional[SniffResult]:
    compact = b"".join(data.split())
    if len(compact) < 24:
        return None
    shown = _excerpt(data[:80].decode("ascii", "replace"))
    # The first 12 decoded bytes are all a prelude check needs; hex dumps spend
    # up to 6 characters a byte ("0x1f, ").
    if looks_like_prelude(_decode_hex(data.strip()[:120])):
        return SniffResult("hex", "hex text of an event stream", shown)
    if looks_like_prelude(_decode_base64(compact[:64])):
        return SniffResult("base64", "base64 text of an event stream", shown)
    return None


def _sniff_plain_text(data: bytes) -> Optional[SniffResult]:
    sample = data[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            return None
        text = sample[: exc.start].decode("utf-8")
    if not text:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    if printable < 0.95 * len(text):
        return None
    first = next((line for line in text.splitlines() if line.strip()), text)
    return SniffResult("text", "plain text", _excerpt(first))


# ---------------------------------------------------------------- the sniffer


def _content_type_kind(content_type: str) -> Optional[str]:
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/vnd.amazon.eventstream":
        return "eventstream"
    if media == "text/event-stream":
        return "sse"
    if media in ("text/html", "application/xhtml+xml"):
        return "html"
    if media.endswith(("/json", "+json")) or media.startswith("application/x-amz-json"):
        return "json"
    if media.endswith(("/xml", "+xml")):
        return "xml"
    if media.startswith("text/"):
        return "text"
    return None


def _sniff_bytes(data: bytes) -> SniffResult:
    if not data:
        return SniffResult("unknown", "no bytes", "the input is empty")
    if looks_like_prelude(data):
        total, headers_length = struct.unpack_from(">II", data)
        return SniffResult(
            "eventstream",
            "an event stream",
            f"a {total}-byte message ({headers_length} bytes of headers) starts at byte 0",
        )
    if data[:2] == b"\x1f\x8b":
        return SniffResult("gzip", "gzip-compressed data", f"{len(data)} bytes starting 1f 8b")
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return SniffResult(
            "zstd", "zstd-compressed data", f"{len(data)} bytes starting 28 b5 2f fd"
        )
    found = _sniff_http(data)
    if found:
        return found
    text = data.decode("utf-8", errors="replace")
    for probe in (_sniff_sse, _sniff_markup, _sniff_json):
        found = probe(text)
        if found:
            return found
    found = _sniff_encoded_text(data) or _sniff_plain_text(data)
    if found:
        return found
    return SniffResult("unknown", "binary data", f"{len(data)} bytes starting {data[:8].hex(' ')}")


def sniff(data: Buffer, content_type: Optional[str] = None) -> SniffResult:
    """What the first bytes of a body are: an event stream, JSON, SSE, HTML, gzip...

    Looks at no more than the first :data:`SNIFF_BYTES` bytes and never
    raises for any content.  ``content_type`` (the response's
    ``Content-Type``, if known) decides only when the bytes do not: bytes
    that are plain text or unrecognisable are reported as the kind the
    header names (except ``eventstream``, which only the bytes can show), and
    the header is mentioned in ``detail``.
    """
    if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"sniff() takes bytes, bytearray or memoryview, got {type(data).__name__}")
    found = _sniff_bytes(_head(data, SNIFF_BYTES))
    if content_type is None:
        return found
    claimed = _content_type_kind(content_type)
    detail = f"{found.detail} (content-type: {_excerpt(content_type, 80)})"
    # The header cannot make bytes an event stream: their prelude already said no.
    if (
        found.kind in ("unknown", "text")
        and claimed is not None
        and claimed not in ("eventstream", found.kind)
    ):
        return found._replace(kind=claimed, detail=detail)
    return found._replace(detail=detail)


# ---------------------------------------------------------------- decode() and Decoder hook

_NOT_A_STREAM_KINDS = frozenset(KINDS) - {"eventstream", "unknown"}


_PRELUDE_BYTES = 12


def upgrade_not_an_event_stream(
    error: errors.DecodeError, first_bytes: Buffer
) -> errors.DecodeError:
    """``error``, or a :class:`~eventstream.errors.NotAnEventStreamError` in its place.

    Called where a decoder raises a fault.  Only a prelude checksum failure of
    the message at stream offset 0 whose bytes (``first_bytes``, from offset 0)
    are recognisably another format is replaced; the replacement keeps the
    original message text, offsets and checksums.
    """
    if (
        type(error) is not errors.PreludeChecksumError
        or error.frame_offset != 0
        or error.code != "prelude_crc"
    ):
        return error
    try:
        # The class is decided by the 12 prelude bytes alone: a decoder fails as soon as it
        # holds them, so what else it holds depends on chunking, and the class must not.
        found = sniff(first_bytes[:_PRELUDE_BYTES])
        if found.kind not in _NOT_A_STREAM_KINDS:
            return error
        # More bytes, where the caller has them, only sharpen the detail (a JSON error text).
        fuller = sniff(first_bytes) if len(first_bytes) > _PRELUDE_BYTES else found
    except Exception:  # never let naming the input hide the codec's own error
        return error
    if fuller.kind == found.kind:
        found = fuller
    detail = found.detail
    upgraded = errors.NotAnEventStreamError(
        f"{error}; not an event stream: the input is {found.what} ({detail})",
        offset=error.offset,
        frame_offset=error.frame_offset,
        code=error.code,
        expected=error.expected,
        actual=error.actual,
        kind=found.kind,
        preview=_head(first_bytes, PREVIEW_BYTES),
        detail=detail,
    )
    upgraded.messages = error.messages
    upgraded._codec_text = str(error)
    upgraded._seen = _head(first_bytes, SNIFF_BYTES)
    return upgraded


_JSON_CUT = "JSON text (cut short or malformed)"


def json_bytes_wanted(error: BaseException) -> int:
    """How many more bytes could complete the cut-short JSON body ``error`` saw (0: none).

    A decoder fed small chunks fails after 12 bytes, before the body's error
    text arrived; :func:`eventstream.iter_events` then reads on (up to
    :data:`SNIFF_BYTES` in all, and only for JSON, whose body ends) and calls
    :func:`complete_json_detail`.
    """
    if (
        not isinstance(error, errors.NotAnEventStreamError)
        or error.kind != "json"
        or not error._codec_text
        or f"the input is {_JSON_CUT} (" not in str(error)
    ):
        return 0
    return max(0, SNIFF_BYTES - len(error._seen))


class JsonCompleter:
    """Feeds more of a cut-short JSON body to a NotAnEventStreamError's detail.

    ``add(chunk)`` returns True while more bytes could still help.  The body is
    re-read each time its length doubles, so the work stays linear.
    """

    def __init__(self, error: errors.NotAnEventStreamError) -> None:
        self.error = error
        self.data = bytearray(error._seen)
        self.sniffed = len(self.data)

    def add(self, chunk: Buffer) -> bool:
        self.data += _head(chunk, SNIFF_BYTES - len(self.data))
        if len(self.data) >= SNIFF_BYTES:
            return self.finish()
        if len(self.data) >= 2 * self.sniffed:
            return not self._update()
        return True

    def finish(self) -> bool:
        self._update()
        return False

    def _update(self) -> bool:
        """Re-sniff; True once the JSON is complete."""
        self.sniffed = len(self.data)
        found = sniff(self.data)
        if found.kind != "json":
            return True
        error = self.error
        error.detail = found.detail
        error._seen = bytes(self.data)
        error.args = (
            f"{error._codec_text}; not an event stream: the input is {found.what} ({found.detail})",
        )
        return found.what != _JSON_CUT
