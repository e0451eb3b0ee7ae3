"""Recognising input that is not an event stream at all.

A decoder given a JSON error body, server-sent events or an HTML error page
reports a checksum mismatch whose "expected" value is four ASCII bytes (the
famous ``0x223a7b22`` is ``":{"``).  :func:`sniff` names what the bytes
really are, so the CLI can say that instead.
"""

from __future__ import annotations

import json
import re
import shlex
import struct
import zlib
from typing import Any, List, NamedTuple, Optional

from .errors import CliError
from .inputs import decode_base64, decode_hex

SNIFF_BYTES = 64 * 1024
FILE = "FILE"  # stands for the input's name in hints; see for_file()


def for_file(text: str, name: str) -> str:
    """``text`` with the FILE placeholder replaced by ``name``, quoted for a shell."""
    if name in ("", "-", "<stdin>"):
        return text
    return text.replace(FILE, shlex.quote(name))


class Sniffed(NamedTuple):
    kind: str  # json, sse, html, xml, http, gzip, zstd, base64, hex, text
    what: str  # "a JSON document"
    detail: str  # a short excerpt: the error message, the status line, the first line
    hint: str  # what to do about it


def _excerpt(text: str, size: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 3] + "..."


def _text(data: bytes) -> str:
    return data[:SNIFF_BYTES].decode("utf-8", errors="replace")


def looks_like_prelude(data: bytes, pos: int = 0) -> bool:
    """True when the 12 bytes at ``pos`` have a matching prelude CRC and sane lengths."""
    if len(data) - pos < 12:
        return False
    total, headers_length, crc = struct.unpack_from(">III", data, pos)
    return bool(
        zlib.crc32(data[pos : pos + 8]) == crc and total >= 16 and headers_length <= total - 16
    )


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


def _json_detail(value: Any) -> str:
    parts = _error_fields(value)
    if parts:
        return _excerpt("; ".join(parts))
    return _excerpt(json.dumps(value, ensure_ascii=False))


def _sniff_json(text: str) -> Optional[Sniffed]:
    body = text.lstrip("\ufeff \t\r\n")
    if body[:1] not in ("{", "["):
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(body)
    except ValueError:
        if not re.match(r'[\[{]\s*("|\{|\[|\]|\})', body):
            return None
        return Sniffed(
            "json",
            "JSON text (cut short or malformed)",
            _excerpt(body),
            "an HTTP error response is usually JSON; check the response status and content-type",
        )
    return Sniffed(
        "json",
        "a JSON document",
        _json_detail(value),
        "services answer errors with a JSON body instead of an event stream; "
        "check the HTTP status and content-type of the response",
    )


_SSE_LINE = re.compile(r"^(data|event|id|retry):|^:")


def _sniff_sse(text: str) -> Optional[Sniffed]:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines or not _SSE_LINE.match(lines[0]):
        return None
    if not any(line.startswith(("data:", "event:")) for line in lines):
        return None
    first = next(line for line in lines if line.startswith(("data:", "event:")))
    return Sniffed(
        "sse",
        "server-sent events (text/event-stream)",
        _excerpt(first),
        "this is a different streaming format: the endpoint (or a proxy in front of it) "
        "sent SSE, so read it as text lines, not with an event-stream decoder",
    )


_HTML = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_XML = re.compile(r"\s*<\?xml\b|\s*<(Error|ErrorResponse)>", re.I)


def _sniff_markup(text: str) -> Optional[Sniffed]:
    body = text.lstrip("\ufeff")
    if _HTML.match(body):
        heading = re.search(r"<title[^>]*>(.*?)</title>", body, re.I | re.S) or re.search(
            r"<h1[^>]*>(.*?)</h1>", body, re.I | re.S
        )
        shown = heading.group(1) if heading else body
        return Sniffed(
            "html",
            "an HTML page",
            _excerpt(re.sub(r"<[^>]+>", " ", shown)),
            "usually an error page from a proxy, gateway or load balancer",
        )
    if _XML.match(body):
        code = re.search(r"<Code>(.*?)</Code>", body, re.S)
        message = re.search(r"<Message>(.*?)</Message>", body, re.S)
        parts = [m.group(1) for m in (code, message) if m]
        return Sniffed(
            "xml",
            "an XML document",
            _excerpt(": ".join(parts) if parts else body),
            "REST-XML services (S3 among them) send errors as XML; check the HTTP status",
        )
    return None


_STATUS = re.compile(rb"HTTP/\d(\.\d)? \d{3}[^\r\n]*")


def _sniff_http(data: bytes) -> Optional[Sniffed]:
    status = _STATUS.match(data)
    if not status:
        return None
    head_end = -1
    for separator in (b"\r\n\r\n", b"\n\n"):
        found = data.find(separator)
        if found >= 0 and (head_end < 0 or found < head_end):
            head_end = found + len(separator)
    hint = "the capture includes the HTTP response head; decode only the body"
    if head_end >= 0:
        content_type = re.search(rb"(?im)^content-type:[ \t]*([^\r\n]*)", data[:head_end])
        if content_type:
            hint += f" (content-type: {content_type.group(1).decode('latin-1').strip()})"
        if looks_like_prelude(data, head_end):
            hint += (
                f"; an event stream starts at byte {head_end}: "
                f"tail -c +{head_end + 1} {FILE} | eventstream dump -"
            )
        else:
            hint += f", which starts at byte {head_end}"
    return Sniffed("http", "an HTTP response head", status.group().decode("latin-1"), hint)


_B64_TEXT = re.compile(rb"[A-Za-z0-9+/\-_]+=*")
_HEX_TEXT = re.compile(rb"(?:0[xX]|\\x)?[0-9A-Fa-f]{2}(?:[\s,:]*(?:0[xX]|\\x)?[0-9A-Fa-f]{2})*")


def _sniff_encoded_text(data: bytes) -> Optional[Sniffed]:
    compact = b"".join(data[:SNIFF_BYTES].split())
    if len(compact) < 24:
        return None
    if _HEX_TEXT.fullmatch(data[:SNIFF_BYTES].strip()):
        try:
            decoded = decode_hex(data[: SNIFF_BYTES - SNIFF_BYTES % 2])
        except CliError:
            decoded = b""
        if looks_like_prelude(decoded):
            return Sniffed(
                "hex",
                "hex text of an event stream",
                _excerpt(data[:80].decode("ascii", "replace")),
                "run the command again with --hex",
            )
    if _B64_TEXT.fullmatch(compact):
        try:
            decoded = decode_base64(compact[: len(compact) - len(compact) % 4])
        except CliError:
            decoded = b""
        if looks_like_prelude(decoded):
            return Sniffed(
                "base64",
                "base64 text of an event stream",
                _excerpt(data[:80].decode("ascii", "replace")),
                "run the command again with --base64",
            )
    return None


def _sniff_plain_text(data: bytes) -> Optional[Sniffed]:
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
    return Sniffed(
        "text",
        "plain text",
        _excerpt(first),
        "an event stream is binary; this text may be a log, an error message, or an "
        "encoded capture (try --base64 or --hex if it is one)",
    )


def sniff(data: bytes) -> Optional[Sniffed]:
    """What ``data`` looks like when it is not an event stream; ``None`` if unknown.

    Call it only on bytes that failed to decode: a valid message is never
    second-guessed.
    """
    if not data:
        return None
    if data[:2] == b"\x1f\x8b":
        return Sniffed(
            "gzip",
            "gzip-compressed data",
            f"{len(data)} bytes starting 1f 8b",
            "decompress it first (gunzip); the HTTP response was probably sent with "
            "Content-Encoding: gzip",
        )
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return Sniffed(
            "zstd",
            "zstd-compressed data",
            f"{len(data)} bytes starting 28 b5 2f fd",
            "decompress it first (zstd -d)",
        )
    http = _sniff_http(data)
    if http:
        return http
    text = _text(data)
    for probe in (_sniff_sse, _sniff_markup, _sniff_json):
        found = probe(text)
        if found:
            return found
    return _sniff_encoded_text(data) or _sniff_plain_text(data)


def find_next_prelude(data: bytes, start: int, limit: int = 1 << 20) -> Optional[int]:
    """The first offset after ``start`` where a plausible prelude begins (scans ``limit`` bytes)."""
    crc = zlib.crc32
    unpack = struct.Struct(">III").unpack_from
    end = min(len(data) - 12, start + limit)
    for pos in range(start + 1, end + 1):
        total, headers_length, stored = unpack(data, pos)
        if total >= 16 and headers_length <= total - 16 and crc(data[pos : pos + 8]) == stored:
            return pos
    return None
