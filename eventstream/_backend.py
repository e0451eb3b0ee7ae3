"""The contract between the codec and its two backends, as a Protocol mypy checks.

``_backend_python`` and ``_backend_c`` are modules that satisfy :class:`Backend`
(checked below when mypy runs); ``_active.backend`` is one of them.  What a
backend does: framing and validation (prelude and message CRCs, lengths,
limits, the header walk with the fault order of :mod:`eventstream._reference`),
CRC32, and writing a frame.  What it returns is plain data (fault tuples,
offsets) apart from the decoded messages, which both build with the fast
constructors of :mod:`eventstream.types` and the caches of
:mod:`eventstream._header_cache` they are given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Protocol, Tuple, Union

from ._header_cache import DecodeCache
from .errors import Fault
from .limits import Limits
from .types import Message

Buffer = Union[bytes, bytearray, memoryview]


class Backend(Protocol):
    NAME: str

    def crc32(self, data: Buffer, value: int = ...) -> int:
        """CRC32 (IEEE, as zlib) of ``data`` continuing from ``value``; any buffer,
        contiguous or not."""

    def decode_bytes(
        self, buf: bytes, limits: Limits, cache: DecodeCache, copy: bool = ...
    ) -> Optional[Message]:
        """``buf`` as exactly one valid message, else None (the caller then asks
        :meth:`decode_frames`, which says what is wrong)."""

    def decode_frames(
        self,
        buf: Buffer,
        pos: int,
        end: int,
        limits: Limits,
        cache: DecodeCache,
        max_frames: int = ...,
        copy: bool = ...,
    ) -> Tuple[List[Message], int, Optional[Fault]]:
        """The complete messages in ``buf[pos:end]``, the offset after them, and
        the fault of the next message or None.  ``copy=False`` with a ``bytes``
        buffer: payloads are read-only views of it."""

    def encode_frame(self, header_block: bytes, payload: Buffer) -> bytes:
        """The wire bytes of one message (the caller checked the 32-bit total)."""


if TYPE_CHECKING:
    from . import _backend_c, _backend_python

    _python_satisfies: Backend = _backend_python
    _c_satisfies: Backend = _backend_c
