"""Recognising input that is not an event stream at all.

A decoder given a JSON error body, server-sent events or an HTML error page
reports a checksum mismatch whose "expected" value is four ASCII bytes (the
famous ``0x223a7b22`` is ``":{"``).  The library's :func:`eventstream.sniff`
names what the bytes really are; this module adds the CLI's wording and hints.
"""

from __future__ import annotations

import shlex
import struct
import zlib
from typing import Dict, NamedTuple, Optional

from eventstream._sniff import SNIFF_BYTES, looks_like_prelude
from eventstream._sniff import sniff as sniff_bytes

__all__ = [
    "FILE",
    "SNIFF_BYTES",
    "Sniffed",
    "find_next_prelude",
    "for_file",
    "looks_like_prelude",
    "sniff",
]

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


_HINTS: Dict[str, str] = {
    "json": "services answer errors with a JSON body instead of an event stream; "
    "check the HTTP status and content-type of the response",
    "sse": "this is a different streaming format: the endpoint (or a proxy in front of it) "
    "sent SSE, so read it as text lines, not with an event-stream decoder",
    "html": "usually an error page from a proxy, gateway or load balancer",
    "xml": "REST-XML services (S3 among them) send errors as XML; check the HTTP status",
    "gzip": "decompress it first (gunzip); the HTTP response was probably sent with "
    "Content-Encoding: gzip",
    "zstd": "decompress it first (zstd -d)",
    "hex": "run the command again with --hex",
    "base64": "run the command again with --base64",
    "text": "an event stream is binary; this text may be a log, an error message, or an "
    "encoded capture (try --base64 or --hex if it is one)",
}
_JSON_CUT_HINT = (
    "an HTTP error response is usually JSON; check the response status and content-type"
)


def _http_hint(data: bytes, body_offset: Optional[int], content_type: Optional[str]) -> str:
    hint = "the capture includes the HTTP response head; decode only the body"
    if body_offset is None:
        return hint
    if content_type:
        hint += f" (content-type: {content_type})"
    if looks_like_prelude(data, body_offset):
        return hint + (
            f"; an event stream starts at byte {body_offset}: "
            f"tail -c +{body_offset + 1} {FILE} | eventstream dump -"
        )
    return hint + f", which starts at byte {body_offset}"


def sniff(data: bytes) -> Optional[Sniffed]:
    """What ``data`` looks like when it is not an event stream; ``None`` if unknown.

    Call it only on bytes that failed to decode: a valid message is never
    second-guessed.
    """
    found = sniff_bytes(data)
    if found.kind in ("eventstream", "unknown"):
        return None
    if found.kind == "http":
        hint = _http_hint(data[:SNIFF_BYTES], found.body_offset, found.body_content_type)
    elif found.kind == "json" and found.what != "a JSON document":
        hint = _JSON_CUT_HINT
    else:
        hint = _HINTS[found.kind]
    return Sniffed(found.kind, found.what, found.detail, hint)


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
