"""Reading the input: a file or stdin, raw bytes, base64 or hex text, optionally followed."""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import stat
import sys
import time
from typing import BinaryIO, Callable, Iterator, NamedTuple, Optional

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
    Ctrl-C stops it).  A pipe or terminal ends at its EOF either way.
    Text encodings (base64, hex) are read whole and decoded once.
    """
    if source.encoding != "binary":
        if follow:
            raise usage_error("--follow reads binary input only (not --base64 or --hex)")
        yield read_all(source)
        return
    stream = open_binary(source.path, terminal_ok=False)
    try:
        read = _reader(stream)
        follow_file = follow and _is_regular_file(stream)
        idle = 0.0
        while True:
            try:
                chunk = read(chunk_size)
            except OSError as exc:
                raise _io_error(source.path, exc) from None
            if chunk:
                idle = 0.0
                yield chunk
                continue
            if not follow_file or (idle_timeout is not None and idle >= idle_timeout):
                return
            sleep(POLL_INTERVAL)
            idle += POLL_INTERVAL
    finally:
        if source.path != "-":
            stream.close()


def read_all(source: Source) -> bytes:
    """The whole input, decoded from base64 or hex when asked (text may be typed in)."""
    stream = open_binary(source.path, terminal_ok=source.encoding != "binary" or source.json)
    try:
        data = stream.read()
    except OSError as exc:
        raise _io_error(source.path, exc) from None
    finally:
        if source.path != "-":
            stream.close()
    if source.encoding == "base64":
        return decode_base64(data)
    if source.encoding == "hex":
        return decode_hex(data)
    return bytes(data)


_SPACE = re.compile(rb"\s+")
_B64_BAD = re.compile(rb"[^A-Za-z0-9+/=\-_]")
_HEX_NOISE = re.compile(rb"\\x|0[xX]|[\s,:;]")
_HEX_BAD = re.compile(rb"[^0-9A-Fa-f]")


def decode_base64(text: bytes) -> bytes:
    """Bytes from base64 text; whitespace, the URL-safe alphabet and missing padding are fine."""
    compact = _SPACE.sub(b"", text)
    bad = _B64_BAD.search(compact)
    if bad:
        char = bad.group().decode("latin-1")
        raise invalid_input(
            f"--base64: the input is not base64 text: character {char!r} "
            f"(byte {bad.group()[0]:#04x}) is not in the base64 alphabet"
        )
    compact = compact.translate(bytes.maketrans(b"-_", b"+/"))
    body = compact.rstrip(b"=")
    if b"=" in body:
        raise invalid_input("--base64: '=' padding in the middle of the text")
    if len(body) % 4 == 1:
        raise invalid_input(
            f"--base64: {len(body)} base64 characters cannot encode whole bytes "
            "(is the text cut short?)"
        )
    body += b"=" * (-len(body) % 4)
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:  # pragma: no cover - the checks above catch these
        raise invalid_input(f"--base64: {exc}") from None


def decode_hex(text: bytes) -> bytes:
    """Bytes from hex text; whitespace, ``0x``/``\\x`` prefixes, commas and colons are fine."""
    compact = _HEX_NOISE.sub(b"", text)
    bad = _HEX_BAD.search(compact)
    if bad:
        char = bad.group().decode("latin-1")
        raise invalid_input(
            f"--hex: the input is not hex text: character {char!r} is not a hex digit "
            "(for an xxd or hexdump listing, convert it with `xxd -r` first)"
        )
    if len(compact) % 2:
        raise invalid_input(f"--hex: odd number of hex digits ({len(compact)})")
    return binascii.unhexlify(compact)
