"""The contract between the codec and its two backends, as a Protocol mypy checks.

``_backend_python`` and ``_backend_c`` are modules that satisfy :class:`Backend`
(checked below when mypy runs); ``_active.backend`` is one of them.  Bytes in,
plain records out: a backend checks framing (prelude and message CRCs, lengths,
limits) and header blocks (the checks and fault order of
:mod:`eventstream._reference`), computes CRC32 and writes frames.  It returns
ints, lists of ints and fault tuples ``(code, offset, frame_offset, a, b)``;
no ``Message`` object and no cache crosses this line.
:mod:`eventstream._assemble` turns the records into messages and owns the caches.

Records (all offsets into the caller's buffer unless said otherwise):

* a frame record, a sequence of four ints per complete, CRC-valid message: header block start,
  payload start, payload end (the message CRC follows), and what is known of the
  header block: ``0`` empty, ``-1`` (``HEADERS_SAME``) its bytes equal the previous
  non-empty block of the same scan, ``-2`` (``HEADERS_NOT_WALKED``) anything else;
* a header descriptor, a sequence of five ints per header, offsets into the block: name start,
  name end, type code, then the value for integer and timestamp types, the value's
  start and end for string, bytes and UUID types, ``0, 0`` for booleans.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Protocol, Sequence, Tuple, Union

from .errors import Fault
from .limits import Limits

Buffer = Union[bytes, bytearray, memoryview]


class Backend(Protocol):
    NAME: str
    # The encoder computes the CRC of a payload shorter than this with zlib.crc32
    # itself (a call into the backend would cost more), and calls crc32_of_bytes
    # for a longer one.
    ZLIB_CRC_BELOW: int

    def crc32(self, data: Buffer, value: int = ...) -> int:
        """CRC32 (IEEE, as zlib) of ``data`` continuing from ``value``; any buffer,
        contiguous or not."""

    def crc32_of_bytes(self, value: int, data: bytes, length: int) -> int:
        """``crc32(data, value)`` for an exact ``bytes`` of ``length`` bytes: the
        encoder's one call per message after a memoised head (the C backend binds
        ``es_crc32`` here directly, with no Python call in between)."""

    def check_one(
        self,
        buf: bytes,
        length: int,
        max_payload: int,
        max_header_block: int,
        same: bytes,
        same_len: int,
    ) -> int:
        """The payload start (12 + headers_length) if ``buf`` (of ``length`` bytes)
        is exactly one message whose prelude, lengths, these two limits and message
        CRC check, else 0.  Negated when the header block is not empty and equals
        ``same`` (``same_len`` bytes: the caller's last block, which then needs no
        slice and no lookup).  The header block is not walked."""

    def check_next(
        self, buf: bytes, total: int, end: int, max_payload: int, max_header_block: int
    ) -> int:
        """``next_total << 32 | payload_start`` if ``buf[:total]`` passes
        :meth:`check_one` and ``buf[total:end]`` is the incomplete start of the
        next message (fewer than 12 bytes: ``next_total`` 0; else its prelude
        passes the prelude checks and its ``total_length`` exceeds ``end -
        total``), else 0 (also when ``total > end``).  The Decoder's path for
        bytes that complete a held message."""

    def scan_frames(
        self,
        buf: Buffer,
        pos: int,
        end: int,
        limits: Limits,
        max_frames: int = ...,
        checked: bool = ...,
    ) -> Tuple[Sequence[Sequence[int]], int, Optional[Fault]]:
        """``(frames, pos, fault)`` for ``buf[pos:end]``: the frame records of its
        complete, CRC-valid messages (at most ``max_frames``; -1: no bound), the
        offset after the last one, and the fault of the message there or None.
        Header blocks are not walked (the caller looks them up in its cache first),
        so the faults are framing faults.  ``checked``: the prelude at ``pos``
        passed its checks under ``limits`` already (a hint: a backend may skip
        them or check again)."""

    def walk_headers(
        self,
        block: bytes,
        base: int,
        frame: int,
        limits: Limits,
        start: int = ...,
        count: int = ...,
    ) -> Union[Sequence[Sequence[int]], Fault]:
        """The descriptors of a header block, or the fault of its first invalid
        header (``base``/``frame``: stream offsets of ``block[0]`` and of its
        message, for the fault).  A backend may leave the UTF-8 checks to the
        caller's strict decoding of names and string values.

        ``start``, ``count`` (default 0, 0): walk from ``block[start]``, a header
        boundary after ``count`` headers the caller knows to be valid under these
        limits (a lead it has seen).  The descriptors are those of the headers
        from there (offsets still into ``block``), and the count limit counts from
        ``count``; ValueError if ``start`` is past the end."""

    def encode_frame(self, header_block: bytes, payload: Buffer) -> bytes:
        """The wire bytes of one message (the caller checked the 32-bit total)."""


if TYPE_CHECKING:
    from . import _backend_c, _backend_python

    _python_satisfies: Backend = _backend_python
    _c_satisfies: Backend = _backend_c
