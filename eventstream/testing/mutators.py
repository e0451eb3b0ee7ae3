"""Stream mutators: the broken, split and swapped streams a client meets in production.

Each takes the bytes of a valid stream and returns bytes, or a list of chunks to feed one at a
time.  Frames are located from their preludes' ``total_length`` fields, so a mutator is only
as valid as its input: give it well-formed streams (the builders make them).
"""

from __future__ import annotations

import json
import random
import struct
from typing import Iterator, List, Optional, Sequence, Tuple, Union

from .. import encode
from ..types import Message
from .builders import error as error_message
from .builders import exception as exception_message

__all__ = [
    "corrupt_message_crc",
    "corrupt_prelude_crc",
    "cut",
    "cut_mid_frame",
    "flip_bit",
    "frame_spans",
    "html_error_page",
    "json_error_body",
    "random_splits",
    "splice",
    "splice_error",
    "splice_exception",
    "split_at",
    "splits",
]

Bytes = Union[bytes, bytearray, memoryview]
_PRELUDE = struct.Struct(">II")


def frame_spans(data: Bytes) -> List[Tuple[int, int]]:
    """``(start, end)`` of every frame, read from the preludes' ``total_length`` fields."""
    view = bytes(data)
    spans = []
    start = 0
    while start < len(view):
        if len(view) - start < 16:
            raise ValueError(f"{len(view) - start} stray bytes at offset {start}, not a frame")
        total, _ = _PRELUDE.unpack_from(view, start)
        if total < 16 or start + total > len(view):
            raise ValueError(f"frame at offset {start} claims {total} bytes; not a valid stream")
        spans.append((start, start + total))
        start += total
    return spans


def _frame(data: Bytes, frame: int) -> Tuple[int, int]:
    spans = frame_spans(data)
    if not spans:
        raise ValueError("the stream holds no frame")
    try:
        return spans[frame]
    except IndexError:
        raise IndexError(f"frame {frame} out of range: the stream holds {len(spans)}") from None


# ---------------------------------------------------------------- splitting


def split_at(data: Bytes, offsets: Sequence[int]) -> List[bytes]:
    """``data`` cut at ``offsets`` (sorted, deduplicated, clipped to the data)."""
    view = bytes(data)
    cuts = sorted({min(max(0, offset), len(view)) for offset in offsets} | {0, len(view)})
    return [view[a:b] for a, b in zip(cuts, cuts[1:])] or [view]


def splits(data: Bytes) -> Iterator[List[bytes]]:
    """Every two-chunk split of ``data``: ``[data[:i], data[i:]]`` for each ``0 < i < len``."""
    view = bytes(data)
    for offset in range(1, len(view)):
        yield [view[:offset], view[offset:]]


def random_splits(data: Bytes, seed: int, *, max_chunk: int = 64) -> List[bytes]:
    """``data`` in chunks of 1 to ``max_chunk`` bytes, the sizes drawn from ``seed``."""
    if max_chunk < 1:
        raise ValueError(f"max_chunk must be at least 1, got {max_chunk}")
    view = bytes(data)
    rng = random.Random(seed)
    chunks = []
    offset = 0
    while offset < len(view):
        size = rng.randint(1, max_chunk)
        chunks.append(view[offset : offset + size])
        offset += size
    return chunks


# ---------------------------------------------------------------- damage


def cut(data: Bytes, length: int) -> bytes:
    """The first ``length`` bytes: a transport that died at that point."""
    return bytes(data)[:length]


def cut_mid_frame(data: Bytes, frame: int = -1, keep: Optional[int] = None) -> bytes:
    """The stream cut inside frame ``frame`` (default: the last), after ``keep`` of its bytes
    (default: half of it).  Frames before it stay whole."""
    start, end = _frame(data, frame)
    size = end - start
    keep = size // 2 if keep is None else keep
    if not 0 < keep < size:
        raise ValueError(f"keep must be between 1 and {size - 1} for a {size}-byte frame")
    return bytes(data)[: start + keep]


def flip_bit(data: Bytes, bit: int) -> bytes:
    """``data`` with bit number ``bit`` inverted (bit 0 is the top bit of byte 0)."""
    out = bytearray(data)
    if not 0 <= bit < 8 * len(out):
        raise IndexError(f"bit {bit} out of range for {len(out)} bytes")
    out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out)


def _corrupt_word(data: Bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset : offset + 4] = bytes(b ^ 0xFF for b in out[offset : offset + 4])
    return bytes(out)


def corrupt_prelude_crc(data: Bytes, frame: int = 0) -> bytes:
    """``data`` with frame ``frame``'s prelude CRC inverted."""
    start, _ = _frame(data, frame)
    return _corrupt_word(data, start + 8)


def corrupt_message_crc(data: Bytes, frame: int = 0) -> bytes:
    """``data`` with frame ``frame``'s message CRC inverted."""
    _, end = _frame(data, frame)
    return _corrupt_word(data, end - 4)


# ---------------------------------------------------------------- substitution


def splice(data: Bytes, inserted: Union[Message, Bytes], after: int) -> bytes:
    """``data`` with ``inserted`` (a message or frame bytes) placed after ``after`` frames;
    the frames after it are dropped, as a service stops after a failure."""
    spans = frame_spans(data)
    if not 0 <= after <= len(spans):
        raise IndexError(f"after={after} out of range: the stream holds {len(spans)} frames")
    head = bytes(data)[: spans[after - 1][1]] if after else b""
    frame = encode(inserted) if isinstance(inserted, Message) else bytes(inserted)
    return head + frame


def splice_exception(
    data: Bytes,
    after: int,
    exception_type: str = "InternalFailureException",
    message: str = "An internal error occurred.",
    *,
    message_key: str = "Message",
) -> bytes:
    """The stream ending in a service ``exception`` frame after ``after`` frames."""
    return splice(data, exception_message(exception_type, message, message_key=message_key), after)


def splice_error(
    data: Bytes,
    after: int,
    code: str = "InternalError",
    message: str = "An internal error occurred.",
) -> bytes:
    """The stream ending in an ``error`` frame after ``after`` frames."""
    return splice(data, error_message(code, message), after)


def json_error_body(error_type: str, message: str, *, message_key: str = "message") -> bytes:
    """The JSON body a service sends instead of a stream when it refuses a request
    (with a 4xx/5xx status and ``x-amzn-ErrorType``): ``{"message": ...}``."""
    return json.dumps({message_key: message, "__type": error_type}).encode("utf-8")


def html_error_page(status: int = 502, reason: str = "Bad Gateway") -> bytes:
    """The HTML page a proxy or load balancer sends instead of a stream."""
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode("ascii")
