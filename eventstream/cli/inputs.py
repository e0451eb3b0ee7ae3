"""Reading the input: a file or stdin, raw bytes, base64 or hex text, optionally followed."""

from __future__ import annotations

import base64
import binascii
import codecs
import io
import os
import re
import stat
import sys
import time
from typing import BinaryIO, Callable, Iterator, NamedTuple, Optional, Tuple

from .errors import EXIT_USAGE, CliError, invalid_input, usage_error

CHUNK_SIZE = 64 * 1024
POLL_INTERVAL = 0.1  # seconds between reads of a followed file that has no new bytes

ENCODINGS = ("binary", "base64", "hex")


class Source(NamedTuple):
    """Where the input comes from and how its bytes are written."""

    path: str  # a file name, or "-" for stdin
    encoding: str = "binary"  # one of ENCODINGS
    json: bool = False  # JSON text (encode's input), which may be typed in

    @property
    def name(self) -> str:
        """The name to show in messages."""
        return "<stdin>" if self.path == "-" else self.path


def _io_error(path: str, exc: OSError) -> CliError:
    shown = "<stdin>" if path == "-" else path
    reason = exc.strerror or str(exc)
    if isinstance(exc, IsADirectoryError):
        reason = "is a directory"
    return CliError(f"cannot read {shown}: {reason}", EXIT_USAGE)


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def open_binary(path: str, *, terminal_ok: bool = True) -> BinaryIO:
    """The binary stream for ``path`` (stdin for ``-``); errors become CliError.

    With ``terminal_ok`` false, a terminal on stdin is refused: nobody types
    binary event-stream bytes, and waiting for them looks like a hang.
    """
    if path == "-":
        stdin = sys.stdin
        if stdin is None:
            raise usage_error("cannot read <stdin>: there is no standard input")
        if not terminal_ok and _is_terminal(stdin):
            raise usage_error(
                "stdin is a terminal: pipe the bytes in, give a FILE, or paste text "
                "with --base64 or --hex"
            )
        return stdin.buffer if hasattr(stdin, "buffer") else stdin  # type: ignore[return-value]
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(21, "is a directory", path)
        return open(path, "rb")
    except OSError as exc:
        raise _io_error(path, exc) from None


def _is_regular_file(stream: BinaryIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return False


def _reader(stream: BinaryIO) -> Callable[[int], bytes]:
    # read1 returns what is available instead of waiting for a full chunk,
    # so messages arriving on a pipe are shown as they come.
    read: Callable[[int], bytes] = getattr(stream, "read1", stream.read)
    return read


class Rewound(bytes):
    """An empty chunk that says a followed file started over (truncated or replaced)."""

    reason: str

    def __new__(cls, reason: str) -> Rewound:
        self = super().__new__(cls, b"")
        self.reason = reason
        return self


def _identity(stat_result: os.stat_result) -> Tuple[int, int]:
    return (stat_result.st_dev, stat_result.st_ino)


def _changed(path: str, stream: BinaryIO, position: int) -> Optional[str]:
    """Why a followed file must be read again from the start, if it must (``tail -f``)."""
    try:
        now = os.stat(path)
        mine = os.fstat(stream.fileno())
    except OSError:
        return None  # moved away and not (yet) replaced: keep the open file
    if _identity(now) != _identity(mine):
        return "the file was replaced (rotated)"
    if now.st_size < position:
        return f"the file was truncated (to {now.st_size} bytes, {position} had been read)"
    return None


def iter_raw_chunks(
    source: Source,
    *,
    follow: bool = False,
    idle_timeout: Optional[float] = None,
    chunk_size: int = CHUNK_SIZE,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[bytes]:
    """The input's bytes in chunks, as they arrive.

    At the end of a regular file, ``follow`` keeps polling for appended bytes
    until ``idle_timeout`` seconds pass without any (forever when ``None``;
    Ctrl-C stops it); when the file is truncated or replaced, a
    :class:`Rewound` marker is yielded and reading starts again from the
    start of the file now at that path.  A pipe or terminal ends at its EOF
    either way.  Text encodings (base64, hex) are decoded as they are read.
    """
    if source.encoding != "binary":
        if follow:
            raise usage_error("--follow reads binary input only (not --base64 or --hex)")
        yield from iter_text_chunks(source, chunk_size)
        return
    stream = open_binary(source.path, terminal_ok=False)
    try:
        read = _reader(stream)
        follow_file = follow and _is_regular_file(stream)
        idle = 0.0
        position = 0
        while True:
            try:
                chunk = read(chunk_size)
            except OSError as exc:
                raise _io_error(source.path, exc) from None
            if chunk:
                idle = 0.0
                position += len(chunk)
                yield chunk
                continue
            if not follow_file or (idle_timeout is not None and idle >= idle_timeout):
                return
            reason = _changed(source.path, stream, position)
            if reason is not None:
                stream.close()
                stream = open_binary(source.path)
                read = _reader(stream)
                position = 0
                idle = 0.0
                yield Rewound(reason)
                continue
            sleep(POLL_INTERVAL)
            idle += POLL_INTERVAL
    finally:
        if source.path != "-":
            stream.close()


def iter_text_chunks(source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of base64 or hex text input, decoded chunk by chunk (memory stays bounded)."""
    stream = open_binary(source.path, terminal_ok=True)
    decode = _Base64Chunks() if source.encoding == "base64" else _HexChunks()
    try:
        while True:
            try:
                text = stream.read(chunk_size)
            except OSError as exc:
                raise _io_error(source.path, exc) from None
            data = decode.feed(text, final=not text)
            if data:
                yield data
            if not text:
                return
    finally:
        if source.path != "-":
            stream.close()


class _Base64Chunks:
    def __init__(self) -> None:
        self.carry = b""
        self.padded = False
        self.seen = 0

    def feed(self, text: bytes, final: bool) -> bytes:
        compact = _SPACE.sub(b"", text)
        bad = _B64_BAD.search(compact)
        if bad:
            char = bad.group().decode("latin-1")
            raise invalid_input(
                f"--base64: the input is not base64 text: character {char!r} "
                f"(byte {bad.group()[0]:#04x}) is not in the base64 alphabet"
            )
        if self.padded and compact.strip(b"="):
            raise invalid_input("--base64: '=' padding in the middle of the text")
        body = compact.rstrip(b"=")
        if b"=" in body:
            raise invalid_input("--base64: '=' padding in the middle of the text")
        self.padded = self.padded or len(body) < len(compact)
        self.seen += len(body)
        body = self.carry + body.translate(_URLSAFE)
        keep = 0 if final else len(body) % 4
        whole, self.carry = body[: len(body) - keep], body[len(body) - keep :]
        if final and len(whole) % 4 == 1:
            raise invalid_input(
                f"--base64: {self.seen} base64 characters cannot encode whole bytes "
                "(is the text cut short?)"
            )
        whole += b"=" * (-len(whole) % 4)
        try:
            return base64.b64decode(whole, validate=True)
        except binascii.Error as exc:  # pragma: no cover - the checks above catch these
            raise invalid_input(f"--base64: {exc}") from None


class _HexChunks:
    def __init__(self) -> None:
        self.carry = b""  # raw text held back: a 0x or \x prefix may be cut
        self.digits = b""  # an odd digit waiting for its pair
        self.count = 0

    def feed(self, text: bytes, final: bool) -> bytes:
        text = self.carry + text
        hold = 0 if final else min(len(text), 2)
        if hold and len(text) > hold and text[-hold - 1 : -hold] in (b"0", b"\\"):
            hold += 1
        body, self.carry = text[: len(text) - hold], text[len(text) - hold :]
        compact = _HEX_NOISE.sub(b"", body)
        bad = _HEX_BAD.search(compact)
        if bad:
            char = bad.group().decode("latin-1")
            raise invalid_input(
                f"--hex: the input is not hex text: character {char!r} is not a hex digit "
                "(for an xxd or hexdump listing, convert it with `xxd -r` first)"
            )
        self.count += len(compact)
        compact = self.digits + compact
        if final and len(compact) % 2:
            raise invalid_input(f"--hex: odd number of hex digits ({self.count})")
        cut = len(compact) - len(compact) % 2
        self.digits = compact[cut:]
        return binascii.unhexlify(compact[:cut])


def iter_text(source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The input as UTF-8 text, piece by piece (for ``encode``; it may be typed in)."""
    stream = open_binary(source.path, terminal_ok=True)
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen = 0
    try:
        while True:
            try:
                data = stream.read(chunk_size)
            except OSError as exc:
                raise _io_error(source.path, exc) from None
            try:
                yield decoder.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise invalid_input(
                    f"{source.name}: the input is not UTF-8 JSON (byte {seen + exc.start}); "
                    "encode reads the JSON lines that `eventstream dump --json` prints"
                ) from None
            if not data:
                return
            seen += len(data)
    finally:
        if source.path != "-":
            stream.close()


_SPACE = re.compile(rb"\s+")
_B64_BAD = re.compile(rb"[^A-Za-z0-9+/=\-_]")
_HEX_NOISE = re.compile(rb"\\x|0[xX]|[\s,:;]")
_HEX_BAD = re.compile(rb"[^0-9A-Fa-f]")
_URLSAFE = bytes.maketrans(b"-_", b"+/")


def decode_base64(text: bytes) -> bytes:
    """Bytes from base64 text; whitespace, the URL-safe alphabet and missing padding are fine."""
    return _Base64Chunks().feed(text, final=True)


def decode_hex(text: bytes) -> bytes:
    """Bytes from hex text; whitespace, ``0x``/``\\x`` prefixes, commas and colons are fine."""
    return _HexChunks().feed(text, final=True)
