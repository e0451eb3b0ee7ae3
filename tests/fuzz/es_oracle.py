"""What a fuzz input must do on the Python API: the oracle shared by the atheris
harness (``atheris_differential.py``) and the regression tests
(``tests/test_fuzz_regressions.py``).

An input is stream bytes followed by one control byte:

* bits 0-4: the chunk size fed to :class:`eventstream.Decoder` (0: all at once);
* bit 5: repair both CRCs of every message first (as the C ``fuzz_fixcrc`` harness
  does), so mutations reach the lengths, limits and headers;
* bit 6: small limits (payload 40, header block 48, header value 6), as the C harnesses;
* bit 7: chunks alternate between ``bytearray`` and ``memoryview`` instead of ``bytes``.

For one backend, :func:`observe` runs ``decode`` and the ``Decoder`` on the stream
and raises :class:`Disagreement` if

* anything raises an exception that is not an :class:`~eventstream.EventStreamError`;
* the ``Decoder`` fed in chunks does not give the same messages and the same error
  (class, code, offsets, text) as the ``Decoder`` fed everything at once, or keeps
  ``pending`` bytes that do not start at the faulty message;
* ``decode`` does not agree with the ``Decoder`` (a valid message; the first error;
  truncation reported by ``close``; trailing data after a valid message);
* ``encode(decode(data)) != data`` for a valid message.

:func:`check` runs :func:`observe` on each requested backend and raises
:class:`Disagreement` if the observations differ in any way.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, Iterable, List, Optional, Sequence, Tuple

import eventstream
from eventstream import _active, _header_cache, _select
from eventstream.limits import DEFAULT_LIMITS, Limits

SMALL_LIMITS = Limits(max_payload=40, max_header_block=48, max_header_value=6, max_headers=5)


class Disagreement(AssertionError):
    """The codec broke one of the rules above (a fuzz finding)."""


def split_input(data: bytes) -> Tuple[bytes, int, Limits, bool]:
    """(stream, chunk size, limits, mixed buffer types) from a fuzz input."""
    if not data:
        return b"", 0, DEFAULT_LIMITS, False
    control = data[-1]
    limits = SMALL_LIMITS if control & 0x40 else DEFAULT_LIMITS
    stream = repair_crcs(data[:-1], True) if control & 0x20 else data[:-1]
    return stream, control & 0x1F, limits, bool(control & 0x80)


def repair_crcs(stream: bytes, message_crc: bool) -> bytes:
    """The CRC repair of the C harnesses (``fz_repair_crcs`` in fuzz_common.h)."""
    buf = bytearray(stream)
    pos = 0
    while len(buf) - pos >= 12:
        total = struct.unpack_from(">I", buf, pos)[0]
        struct.pack_into(">I", buf, pos + 8, zlib.crc32(bytes(buf[pos : pos + 8])))
        if total < 16 or total > len(buf) - pos:
            break
        if message_crc:
            crc = zlib.crc32(bytes(buf[pos : pos + total - 4]))
            struct.pack_into(">I", buf, pos + total - 4, crc)
        pos += total
    return bytes(buf)


def _message_key(message: Any) -> Tuple[Any, ...]:
    """Everything observable about a decoded message, types included."""
    headers = tuple(
        (type(h).__name__, h.name, int(h.type), type(h.value).__name__, h.value)
        for h in message.headers
    )
    return (type(message).__name__, headers, type(message.payload).__name__, message.payload)


def _error_key(exc: BaseException) -> Tuple[Any, ...]:
    if not isinstance(exc, eventstream.EventStreamError):
        raise Disagreement(f"non-EventStreamError escaped: {exc!r}") from exc
    text = str(exc)
    if isinstance(exc, eventstream.NotAnEventStreamError):
        # Its class and kind come from the 12 prelude bytes, the same however the stream was
        # chunked; its detail (a JSON body's error text) may grow with the bytes the decoder
        # held when it failed, so only the codec's own text is compared.
        text = f"{exc._codec_text} [{exc.kind}]"
    return (
        type(exc).__name__,
        getattr(exc, "code", None),
        getattr(exc, "offset", None),
        getattr(exc, "frame_offset", None),
        getattr(exc, "expected", None),
        getattr(exc, "actual", None),
        text,
    )


def _chunks(stream: bytes, size: int, mixed: bool) -> Iterable[Any]:
    if size == 0:
        size = max(len(stream), 1)
    for index, at in enumerate(range(0, len(stream), size)):
        piece = stream[at : at + size]
        if mixed:
            yield bytearray(piece) if index % 2 == 0 else memoryview(piece)
        else:
            yield piece


def _decode_outcome(stream: bytes, limits: Limits) -> Tuple[Any, ...]:
    try:
        message = eventstream.decode(stream, limits=limits)
    except Exception as exc:
        return ("error", _error_key(exc))
    return ("ok", _message_key(message))


def _stream_outcome(
    stream: bytes, chunk: int, limits: Limits, mixed: bool
) -> Tuple[List[Any], Optional[Tuple[Any, ...]], bytes, int, Optional[Tuple[Any, ...]]]:
    """(messages, feed error, pending, position, close error) of one Decoder run."""
    decoder = eventstream.Decoder(limits)
    messages: List[Any] = []
    error = None
    try:
        for piece in _chunks(stream, chunk, mixed):
            messages.extend(_message_key(m) for m in decoder.feed(piece))
    except Exception as exc:
        error = _error_key(exc)
        messages.extend(_message_key(m) for m in getattr(exc, "messages", []))
        if decoder.error is not exc:
            raise Disagreement(f"Decoder.error is {decoder.error!r}, raised {exc!r}") from None
    close_error = None
    if error is None:
        try:
            decoder.close()
        except Exception as exc:
            close_error = _error_key(exc)
    pending = decoder.pending
    position = decoder.position
    if error is not None and position - len(pending) != error[3]:
        raise Disagreement(
            f"after {error[0]} at frame {error[3]} the decoder holds {len(pending)} bytes "
            f"ending at {position}"
        )
    if error is None and close_error is None and pending:
        raise Disagreement(f"close() passed with {len(pending)} bytes pending")
    return messages, error, pending, position, close_error


def observe(data: bytes) -> Tuple[Any, ...]:
    """Run every check on the active backend; return what it observed."""
    stream, chunk, limits, mixed = split_input(data)
    one = _decode_outcome(stream, limits)
    whole = _stream_outcome(stream, 0, limits, False)
    fed = _stream_outcome(stream, chunk, limits, mixed)
    # Chunking changes nothing but how many bytes are held after an error.
    if (fed[0], fed[1], fed[4]) != (whole[0], whole[1], whole[4]):
        raise Disagreement(
            f"chunks of {chunk} disagree with one feed:\n  {fed[:2]} {fed[4]}\n"
            f"  {whole[:2]} {whole[4]}"
        )
    messages, error, _pending, _position, close_error = whole
    kind, detail = one
    if kind == "ok":
        if messages != [detail] or error or close_error:
            raise Disagreement(f"decode() gave one message, the Decoder {whole}")
        encoded = eventstream.encode(eventstream.decode(stream, limits=limits), limits=limits)
        if encoded != stream:
            raise Disagreement(f"encode(decode(x)) != x:\n  {encoded.hex()}\n  {stream.hex()}")
    else:
        name, code, offset = detail[0], detail[1], detail[2]
        if name == "TrailingDataError":
            again = _decode_outcome(stream[:offset], limits)
            if not messages or again != ("ok", messages[0]):
                raise Disagreement(f"trailing data at {offset}, but {again} / {messages[:1]}")
        elif name == "TruncatedStreamError":
            if not stream:
                if messages or error or close_error:  # an empty stream is a valid stream
                    raise Disagreement(f"empty stream: the Decoder {whole}")
            elif messages or error or close_error != detail:
                raise Disagreement(f"decode() says truncated {detail}, the Decoder {whole}")
        elif messages or error != detail:
            raise Disagreement(f"decode() raised {detail}, the Decoder {whole}")
        if code is None:
            raise Disagreement(f"decode error without a code: {detail}")
    return (one, whole, fed)


def check(data: bytes, backends: Sequence[str]) -> None:
    """:func:`observe` on each backend; every backend must observe the same."""
    seen = []
    previous = _active.backend
    try:
        for name in backends:
            _active.restore(_select.load(name))
            _header_cache.clear()  # each backend parses every header block itself
            seen.append((name, observe(data)))
    finally:
        _active.restore(previous)
    first_name, first = seen[0]
    for name, other in seen[1:]:
        if other != first:
            raise Disagreement(f"backends disagree:\n  {first_name}: {first}\n  {name}: {other}")


def available_backends() -> List[str]:
    names = []
    for name in ("c", "python"):
        try:
            _select.load(name)
        except ImportError:
            continue
        names.append(name)
    return names
