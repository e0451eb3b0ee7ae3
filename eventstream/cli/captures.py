"""Captures recognised by themselves: HTTP/1.1 responses and browser HAR files.

People debug with what they captured: a raw HTTP response (with or without its
head, with a ``Content-Length`` or a chunked body), or a HAR export from a
browser's developer tools (response bodies; WebSocket frames as Chrome records
them).  :func:`open_streams` finds the event streams inside and yields one
:class:`Stream` per body or WebSocket message, so the commands never see the
HTTP framing.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
from typing import Any, Iterable, Iterator, List, NamedTuple, Optional, Tuple

from .errors import invalid_input
from .scan import prelude_ok

MAX_HEAD = 64 * 1024  # an HTTP response head longer than this is not one
MAX_CHUNK_LINE = 1024
MAX_HAR = 512 << 20  # bytes of HAR JSON read at most (it is parsed whole)
PEEK = 32  # bytes looked at to recognise a capture (a live pipe is not held up for more)

_STATUS = re.compile(rb"HTTP/(?:1\.[01]|2(?:\.0)?|3) (\d{3})[^\r\n]*")  # as curl -i shows them
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_HAR_START = re.compile(rb'\s*\{\s*"log"\s*:')


class Stream(NamedTuple):
    """One event stream inside the input."""

    label: str  # "" for the input itself; else what part of the capture this is
    chunks: Iterable[bytes]
    note: str = ""  # said once before the stream's messages (where its offsets count from)


class Peeked:
    """A chunk iterator whose first bytes can be looked at before they are consumed."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.head = b""
        self.ended = False

    def peek(self, size: int) -> bytes:
        parts = [self.head]
        have = len(self.head)
        while have < size and not self.ended:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self.ended = True
                break
            parts.append(chunk)
            have += len(chunk)
        self.head = b"".join(parts)
        return self.head

    def __iter__(self) -> Iterator[bytes]:
        if self.head:
            head, self.head = self.head, b""
            yield head
        yield from self._chunks


# ---------------------------------------------------------------- HTTP


def _head_end(data: bytes) -> int:
    """The offset just after the blank line that ends an HTTP head, or -1."""
    ends = [data.find(sep) + len(sep) for sep in (b"\r\n\r\n", b"\n\n") if sep in data]
    return min(ends) if ends else -1


def _header(head: bytes, name: bytes) -> Optional[str]:
    value = None
    for line in head.splitlines()[1:]:
        key, sep, rest = line.partition(b":")
        if sep and key.strip().lower() == name:
            value = rest.strip().decode("latin-1")
    return value


class HttpHead(NamedTuple):
    status: int
    status_line: str
    length: int  # bytes of the head, blank line included
    chunked: bool
    content_length: Optional[int]
    content_type: str


def parse_head(data: bytes) -> Optional[HttpHead]:
    """The HTTP/1.x response head at the start of ``data``, if complete."""
    match = _STATUS.match(data)
    end = _head_end(data[:MAX_HEAD])
    if not match or end < 0:
        return None
    head = data[:end]
    coding = (_header(head, b"transfer-encoding") or "").lower()
    length_text = _header(head, b"content-length")
    length = int(length_text) if length_text and length_text.isdigit() else None
    return HttpHead(
        int(match.group(1)),
        match.group().decode("latin-1"),
        end,
        coding.split(",")[-1].strip() == "chunked",
        length,
        _header(head, b"content-type") or "",
    )


def dechunk(chunks: Iterable[bytes], where: int = 0) -> Iterator[bytes]:
    """The body bytes of a chunked transfer coding (RFC 9112 section 7.1), streamed.

    ``where`` is the capture offset of the first byte, for error messages.
    """
    buf = bytearray()
    state = "size"
    left = 0
    source = iter(chunks)
    ended = False

    def more() -> bool:
        nonlocal ended
        for chunk in source:
            if chunk:
                buf.extend(chunk)
                return True
        ended = True
        return False

    def bad(reason: str) -> Exception:
        return invalid_input(f"the chunked HTTP body is malformed at byte {where}: {reason}")

    while True:
        if state == "size":
            match = _CHUNK_LINE.match(buf)
            if match is None:
                if len(buf) > MAX_CHUNK_LINE or (buf and not re.match(rb"[0-9A-Fa-f]", buf)):
                    raise bad(f"expected a chunk size line, found {bytes(buf[:24])!r}")
                if not more():
                    if buf:
                        raise bad("the capture ends inside a chunk size line")
                    return  # no last-chunk: a capture cut short, the decoder will say so
                continue
            left = int(match.group(1), 16)
            where += match.end()
            del buf[: match.end()]
            state = "data" if left else "trailer"
        elif state == "data":
            if not buf and not more():
                return
            take = min(left, len(buf))
            if take:
                yield bytes(buf[:take])
                del buf[:take]
                left -= take
                where += take
            if not left:
                state = "crlf"
        elif state == "crlf":
            while len(buf) < 2 and not ended and more():
                pass
            if buf[:2] == b"\r\n" or buf[:1] == b"\n":
                size = 2 if buf[:1] == b"\r" else 1
                del buf[:size]
                where += size
                state = "size"
            elif not buf and ended:
                return
            else:
                raise bad(f"expected CRLF after the chunk data, found {bytes(buf[:8])!r}")
        else:  # trailer fields, then the end
            return


def _content_length(chunks: Iterable[bytes], length: int) -> Iterator[bytes]:
    for chunk in chunks:
        if length <= 0:
            return
        yield chunk[:length]
        length -= len(chunk)


def looks_chunked(data: bytes) -> bool:
    """A body in chunked transfer coding whose first chunk starts an event stream."""
    match = _CHUNK_LINE.match(data)
    return bool(match and prelude_ok(data, match.end()))


# ---------------------------------------------------------------- HAR


def _when(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            moment = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return str(value)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return str(value)


def _har_bytes(text: Any, encoding: Any) -> Optional[bytes]:
    if not isinstance(text, str):
        return None
    if encoding == "base64":
        try:
            return base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return None
    return text.encode("utf-8", "surrogateescape")


def har_streams(data: bytes) -> Tuple[List[Stream], int]:
    """The event streams of a HAR file, and how many entries held none."""
    try:
        har = json.loads(data.decode("utf-8-sig"))
        entries = har["log"]["entries"]
        if not isinstance(entries, list):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError):
        raise invalid_input("the input starts like a HAR file but is not one") from None
    streams: List[Stream] = []
    others = 0
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            others += 1
            continue
        request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
        url = str(request.get("url", "?"))  # type: ignore[union-attr]
        found = False
        frames = entry.get("_webSocketMessages")
        if isinstance(frames, list):
            for index, frame in enumerate(frames):
                if not isinstance(frame, dict) or frame.get("opcode") not in (2, None):
                    continue
                raw = _har_bytes(frame.get("data"), "base64")
                if not raw:
                    continue
                label = (
                    f"HAR entry {number} ({url}), WebSocket frame {index}: "
                    f"{frame.get('type', '?')} at {_when(frame.get('time'))}"
                )
                streams.append(Stream(label, [raw]))
                found = True
        response = entry.get("response")
        content = response.get("content") if isinstance(response, dict) else None
        if isinstance(content, dict):
            body = _har_bytes(content.get("text"), content.get("encoding"))
            mime = str(content.get("mimeType", ""))
            if body and ("eventstream" in mime or prelude_ok(body)):
                status = response.get("status", "?") if isinstance(response, dict) else "?"
                label = f"HAR entry {number} ({url}), response body: HTTP {status}, {mime}"
                streams.append(Stream(label, [body]))
                found = True
        others += not found
    return streams, others


# ---------------------------------------------------------------- entry point


def open_streams(chunks: Iterable[bytes], *, unwrap: bool = True) -> Iterator[Stream]:
    """The event streams in the input: itself, or what a capture holds."""
    peeked = Peeked(chunks)
    if not unwrap:
        yield Stream("", peeked)
        return
    start = peeked.peek(12)
    if prelude_ok(start):  # an event stream as it is: decide now, a live pipe is not held up
        yield Stream("", peeked)
        return
    start = peeked.peek(PEEK)
    if _STATUS.match(start):
        yield from _http_streams(peeked)
        return
    if looks_chunked(start):
        yield Stream(
            "HTTP body in chunked transfer coding",
            dechunk(peeked),
            "offsets count in the body without its chunk framing",
        )
        return
    if _HAR_START.match(start):
        data = peeked.peek(MAX_HAR + 1)
        if len(data) > MAX_HAR:
            raise invalid_input(f"a HAR file larger than {MAX_HAR >> 20} MiB is not read")
        streams, others = har_streams(data)
        if not streams:
            raise invalid_input(
                f"a HAR file with {len(streams) + others} entries, none of them an event "
                "stream (response body or binary WebSocket frame)"
            )
        yield from streams
        return
    yield Stream("", peeked)


def _http_streams(peeked: Peeked) -> Iterator[Stream]:
    consumed = 0
    while True:
        data = peeked.peek(consumed + MAX_HEAD)
        head = parse_head(data[consumed:])
        if head is None:
            yield Stream("", peeked)  # not a complete head: let the sniffer name it
            return
        if 100 <= head.status < 200:
            consumed += head.length
            continue
        break
    start = consumed + head.length
    body = _skip(peeked, start)
    kind = (
        "chunked"
        if head.chunked
        else f"Content-Length {head.content_length}"
        if head.content_length is not None
        else "to the end"
    )
    label = (
        f"HTTP response body ({head.status_line}; {kind}; {head.content_type or 'no content-type'})"
    )
    if head.chunked:
        yield Stream(
            label,
            dechunk(body, start),
            "offsets count in the body without its head and chunk framing",
        )
    elif head.content_length is not None:
        yield Stream(
            label,
            _content_length(body, head.content_length),
            f"offsets count in the body, which starts at byte {start} of the capture",
        )
    else:
        yield Stream(label, body, f"offsets count in the body, which starts at byte {start}")


def _skip(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    for chunk in chunks:
        if size >= len(chunk):
            size -= len(chunk)
            continue
        yield chunk[size:]
        size = 0
