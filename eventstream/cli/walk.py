"""Walking a frame byte by byte: every field's span and meaning, and the first fault.

This is what ``inspect`` prints.  The walk makes the codec's checks in byte
order: the prelude CRC, the length fields, the limits, each header, the
message CRC.  The codec checks the message CRC before it parses headers, so
for a damaged header block it reports the CRC; the walk names the header byte
and mentions the CRC.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any, Dict, List, NamedTuple, NoReturn, Optional, Tuple, Union, overload

import eventstream
from eventstream import HeaderType, Limits

from .render import PayloadView, Renderer, message_kind, quote, safe_text, value_text

_U32 = struct.Struct(">I")
_PRELUDE = struct.Struct(">III")
_U16 = struct.Struct(">H")
_FIXED = {2: (1, ">b"), 3: (2, ">h"), 4: (4, ">i"), 5: (8, ">q"), 8: (8, ">q"), 9: (16, "")}
TYPE_LIST = (
    "0 true, 1 false, 2 byte, 3 int16, 4 int32, 5 int64, 6 bytes, 7 string, 8 timestamp, 9 uuid"
)


class Field(NamedTuple):
    offset: int  # stream offset of the first byte
    length: int
    label: str
    value: str = ""
    status: str = ""  # "", "ok" or "bad"
    depth: int = 0
    rows: str = "hex"  # "hex": value beside the bytes; "dump": titled hex+ASCII rows; "none"


class Fault(NamedTuple):
    code: str  # the codec's fault code (DecodeError.code)
    offset: int  # the faulty byte
    length: int  # bytes of the faulty field (0: the input ended there)
    frame_offset: int
    reason: str
    expected: str
    notes: Tuple[str, ...] = ()


class FrameWalk(NamedTuple):
    number: int
    offset: int
    total_length: Optional[int]  # None when the prelude is incomplete or fails its CRC
    kind: str  # "event TranscriptEvent", "signed frame", ...
    fields: List[Field]
    fault: Optional[Fault]
    end: int  # where the next frame starts (after a fault: the fault's offset)
    nested_faults: Tuple[Fault, ...] = ()  # faults of messages inside the payload


def _crc(data: Union[bytes, memoryview], value: int = 0) -> int:
    return eventstream.crc32(data, value)


class Window:
    """Bytes that start at stream offset ``base``, indexed by stream offsets.

    ``inspect`` reads its input one frame at a time; the walk addresses bytes
    by their offset in the whole stream.
    """

    def __init__(self, data: Union[bytes, bytearray, memoryview], base: int = 0) -> None:
        self.view = memoryview(data)
        self.base = base

    @property
    def end(self) -> int:
        """The stream offset after the last byte."""
        return self.base + len(self.view)

    def __len__(self) -> int:
        return self.end

    @overload
    def __getitem__(self, key: int) -> int: ...

    @overload
    def __getitem__(self, key: slice) -> bytes: ...

    def __getitem__(self, key: Union[int, slice]) -> Union[int, bytes]:
        if isinstance(key, slice):
            return bytes(self.span(key.start, key.stop))
        return int(self.view[key - self.base])

    def span(self, start: int, stop: int) -> memoryview:
        """``[start, stop)`` without a copy."""
        lo = max(0, start - self.base)
        return self.view[lo : max(lo, stop - self.base)]

    def unpack(self, layout: struct.Struct, offset: int) -> Tuple[Any, ...]:
        return layout.unpack_from(self.view, offset - self.base)


def prelude_repair(data: Window, pos: int) -> Optional[str]:
    """A one-byte change to the 8 length bytes that makes the prelude CRC match, if unique."""
    head = bytearray(data[pos : pos + 8])
    stored = data.unpack(_U32, pos + 8)[0]
    found = []
    for i in range(8):
        original = head[i]
        for candidate in range(256):
            head[i] = candidate
            if candidate != original and _crc(bytes(head)) == stored:
                found.append((i, original, candidate, struct.unpack(">II", bytes(head))))
        head[i] = original
    if len(found) != 1:
        return None
    i, original, candidate, (total, headers_length) = found[0]
    field, value = ("total_length", total) if i < 4 else ("headers_length", headers_length)
    return (
        f"changing byte {pos + i} from 0x{original:02x} to 0x{candidate:02x} makes the prelude "
        f"CRC match ({field} {value}): that byte was probably damaged"
    )


_POLY = 0xEDB88320  # CRC-32 (IEEE), reflected
_ZERO_BYTE = []  # _ZERO_BYTE[i]: the CRC register after feeding a zero byte to register i
for _i in range(256):
    _v = _i
    for _ in range(8):
        _v = (_v >> 1) ^ (_POLY if _v & 1 else 0)
    _ZERO_BYTE.append(_v)
MAX_BIT_SEARCH = 256 * 1024  # bytes searched for a single flipped bit


def single_bit_errors(syndrome: int, start: int, end: int) -> List[Tuple[int, int]]:
    """``(offset, bit)`` of each flipped bit in ``[start, end)`` that explains a CRC mismatch.

    ``syndrome`` is the stored CRC xor the CRC of the bytes as received, which end
    at ``end``.  CRC-32 is linear: a flipped bit ``k`` bits before the end changes the
    CRC by a value that depends only on ``k``, so walking back from the end finds
    it.  Stops after two matches (an ambiguous answer is no answer).
    """
    found: List[Tuple[int, int]] = []
    if not syndrome or end - start > MAX_BIT_SEARCH:
        return found
    table = _ZERO_BYTE
    effects = [table[1 << b] for b in range(8)]  # bit b of the last byte
    for offset in range(end - 1, start - 1, -1):
        if syndrome in effects:
            found.append((offset, effects.index(syndrome)))
            if len(found) > 1:
                break
        effects = [(v >> 8) ^ table[v & 0xFF] for v in effects]
    return found


class _Stop(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.reason)
        self.fault = fault


class _Frame:
    """The state of one frame's walk."""

    def __init__(self, data: Window, pos: int, depth: int) -> None:
        self.data = data
        self.pos = pos
        self.depth = depth
        self.fields: List[Field] = []
        self.total: Optional[int] = None
        self.headers: Dict[str, Any] = {}  # first value of each name
        self.kind = ""
        self.crc_note = ""  # set when the message CRC fails too
        self.crc_bit: Optional[Tuple[int, int]] = None  # a flipped bit explaining the CRC
        self.payload_at = 0  # where the header block ends
        self.nested_faults: List[Fault] = []

    def add(
        self,
        offset: int,
        length: int,
        label: str,
        value: str = "",
        status: str = "",
        rows: str = "hex",
    ) -> None:
        self.fields.append(Field(offset, length, label, value, status, self.depth, rows))

    def stop(
        self, code: str, offset: int, length: int, reason: str, expected: str, *notes: str
    ) -> NoReturn:
        kept = tuple(note for note in notes if note)
        if self.crc_bit is not None:
            kept += (self.bit_note(*self.crc_bit),)
        raise _Stop(Fault(code, offset, length, self.pos, reason, expected, kept))

    def bit_note(self, offset: int, bit: int) -> str:
        old = self.data[offset]
        new = old ^ (1 << bit)
        shown = f"0x{old:02x} -> 0x{new:02x}"
        if 0x20 <= old < 0x7F and 0x20 <= new < 0x7F:
            shown += f", {chr(old)!r} -> {chr(new)!r}"
        where = next(
            (
                field.label.strip()
                for field in reversed(self.fields)
                if field.length and field.offset <= offset < field.offset + field.length
            ),
            "",
        )
        if not where:
            where = "the header block" if offset < self.payload_at else "the payload"
        if where == "message_crc":
            where = "the message_crc field itself"
        return (
            f"flipping bit {bit} of byte {offset} ({shown}, in {where}) makes the message CRC "
            "match: most likely that one bit was damaged"
        )


def _flipped_bit(syndrome: int, start: int, crc_at: int) -> Optional[Tuple[int, int]]:
    """The one bit (in the bytes, or in the stored CRC) that explains a CRC mismatch."""
    candidates = single_bit_errors(syndrome, start, crc_at)
    if syndrome and not syndrome & (syndrome - 1):  # one bit of the stored CRC itself
        k = syndrome.bit_length() - 1
        candidates.append((crc_at + 3 - k // 8, k % 8))
    return candidates[0] if len(candidates) == 1 else None


class Walker:
    """Walks the frames of a complete input buffer."""

    def __init__(
        self,
        data: Union[bytes, bytearray, memoryview, Window],
        limits: Optional[Limits] = None,
        renderer: Optional[Renderer] = None,
    ) -> None:
        self.data = data if isinstance(data, Window) else Window(data)
        self.limits = limits or eventstream.DEFAULT_LIMITS
        self.renderer = renderer or Renderer(limits=self.limits)

    def walk_frame(self, pos: int, end: int, index: int, depth: int = 0) -> FrameWalk:
        """Walk the frame at ``pos``; ``end`` bounds the bytes it may use."""
        frame = _Frame(self.data, pos, depth)
        try:
            self._walk(frame, end)
        except _Stop as stop:
            return FrameWalk(
                index,
                pos,
                frame.total,
                frame.kind,
                frame.fields,
                stop.fault,
                stop.fault.offset,
                tuple(frame.nested_faults),
            )
        assert frame.total is not None
        return FrameWalk(
            index,
            pos,
            frame.total,
            frame.kind,
            frame.fields,
            None,
            pos + frame.total,
            tuple(frame.nested_faults),
        )

    # ------------------------------------------------------------ prelude

    def _walk(self, f: _Frame, end: int) -> None:
        data, pos, limits = self.data, f.pos, self.limits
        present = end - pos
        if present < 12:
            f.add(pos, present, "prelude (incomplete)", f"{present} of 12 bytes")
            f.stop(
                "truncated",
                end,
                0,
                f"the input ends {present} bytes into a message, inside its 12-byte prelude",
                "12 prelude bytes (total_length, headers_length, prelude_crc)",
            )
        total, headers_length, prelude_crc = data.unpack(_PRELUDE, pos)
        f.add(pos, 4, "total_length", str(total))
        f.add(pos + 4, 4, "headers_length", str(headers_length))
        computed = _crc(data[pos : pos + 8])
        if computed != prelude_crc:
            f.add(pos + 8, 4, "prelude_crc", f"0x{prelude_crc:08X}", "bad")
            f.stop(
                "prelude_crc",
                pos + 8,
                4,
                f"prelude checksum mismatch: the prelude_crc field holds 0x{prelude_crc:08X}, "
                "the CRC its writer declared (ChecksumError.expected, .stored)",
                f"0x{computed:08X}, the CRC32 of bytes {pos}-{pos + 7} "
                "(ChecksumError.actual, .computed)",
                prelude_repair(data, pos) or "",
                "the lengths in a prelude that fails its CRC cannot be trusted, so the walk "
                "stops here",
            )
        f.add(pos + 8, 4, "prelude_crc", f"0x{prelude_crc:08X}", "ok")
        f.total = total
        if total < 16:
            f.stop(
                "message_too_short",
                pos,
                4,
                f"total_length {total} is below the 16-byte minimum",
                "a total_length of at least 16 (12 prelude bytes + 4 message_crc bytes)",
            )
        if headers_length > total - 16:
            f.stop(
                "headers_length",
                pos + 4,
                4,
                f"headers_length {headers_length} does not fit in total_length {total}",
                f"a headers_length of at most {total - 16} (total_length - 16)",
            )
        if headers_length > limits.max_header_block:
            f.stop(
                "headers_limit",
                pos + 4,
                4,
                f"a header block of {headers_length} bytes exceeds the limit of "
                f"{limits.max_header_block}",
                f"at most {limits.max_header_block} bytes (--max-header-block raises the limit)",
            )
        payload_length = total - 16 - headers_length
        if payload_length > limits.max_payload:
            f.stop(
                "payload_limit",
                pos,
                4,
                f"a payload of {payload_length} bytes exceeds the limit of {limits.max_payload}",
                f"at most {limits.max_payload} bytes (--max-payload raises the limit)",
            )
        self._walk_body(f, end, total, headers_length, prelude_crc)

    # ------------------------------------------------------------ headers, payload, CRC

    def _walk_body(
        self, f: _Frame, end: int, total: int, headers_length: int, prelude_crc: int
    ) -> None:
        data, pos = self.data, f.pos
        frame_end = pos + total
        crc_at = frame_end - 4
        stored = actual = 0
        if frame_end <= end:
            stored = data.unpack(_U32, crc_at)[0]
            actual = _crc(data.span(pos + 8, crc_at), prelude_crc)
            if stored != actual:
                f.payload_at = pos + 12 + headers_length
                f.crc_bit = _flipped_bit(stored ^ actual, pos + 12, crc_at)
                f.crc_note = (
                    f"the message_crc fails too (it holds 0x{stored:08X}, the bytes give "
                    f"0x{actual:08X}): the bytes were damaged after the message was written, "
                    "or its writer computed the CRC wrongly; a decoder, which checks the CRC "
                    "first, reports a message checksum mismatch"
                )

        def truncated(inside: str) -> NoReturn:
            f.stop(
                "truncated",
                end,
                0,
                f"the input ends inside {inside}: {end - pos} of the message's {total} bytes "
                f"are present",
                f"{frame_end - end} more bytes (the capture was cut short or the stream was "
                "closed early)",
            )

        block_start = pos + 12
        block_end = block_start + headers_length
        if block_end > end:
            f.add(
                block_start,
                end - block_start,
                "header block (incomplete)",
                f"{end - block_start} of {headers_length} bytes",
                rows="dump",
            )
            truncated("the header block")
        self._walk_headers(f, block_start, block_end)
        payload_length = crc_at - block_end
        if crc_at > end:
            f.add(
                block_end,
                end - block_end,
                "payload (incomplete)",
                f"{end - block_end} of {payload_length} bytes",
                rows="dump",
            )
            truncated("the payload")
        payload = data.span(block_end, crc_at)
        f.kind = message_kind(f.headers, payload)
        view = self.renderer.payload_view(payload, f.headers.get(":content-type"), f.depth)
        if view.kind in ("nested", "nested-bad"):
            broken = ", which has a fault" if view.kind == "nested-bad" else ""
            f.add(
                block_end,
                payload_length,
                "payload",
                f"{payload_length} bytes, an event-stream message{broken} (annotated below)",
                rows="none",
            )
            inner = self.walk_frame(block_end, crc_at, 0, f.depth + 1)
            f.fields.extend(inner.fields)
            f.nested_faults.extend(inner.nested_faults)
            if inner.fault is not None:
                f.nested_faults.append(inner.fault)
            if f.kind and inner.kind:
                f.kind = f"{f.kind} wrapping {inner.kind}"
        else:
            f.add(
                block_end,
                payload_length,
                "payload",
                _payload_summary(view, payload),
                rows="dump",
            )
        if frame_end > end:
            f.add(crc_at, end - crc_at, "message_crc (incomplete)", f"{end - crc_at} of 4 bytes")
            truncated("the message_crc")
        if stored != actual:
            f.add(crc_at, 4, "message_crc", f"0x{stored:08X}", "bad")
            f.stop(
                "message_crc",
                crc_at,
                4,
                f"message checksum mismatch: the message_crc field holds 0x{stored:08X}, "
                "the CRC its writer declared (ChecksumError.expected, .stored)",
                f"0x{actual:08X}, the CRC32 of bytes {pos}-{crc_at - 1} "
                "(ChecksumError.actual, .computed)",
                "the field is zero: the writer may never have filled it in" if stored == 0 else "",
                "the headers and payload shown above come from bytes that fail the checksum",
            )
        f.add(crc_at, 4, "message_crc", f"0x{stored:08X}", "ok")

    def _walk_headers(self, f: _Frame, p: int, block_end: int) -> None:
        data = self.data
        max_value = self.limits.max_header_value
        note = f.crc_note
        index = 0
        while p < block_end:
            h = f"header {index}"
            name_length = data[p]
            left = block_end - p - 1
            if name_length == 0:
                f.add(p, 1, f"{h} name_length", "0", "bad")
                f.stop(
                    "header_name_empty",
                    p,
                    1,
                    f"{h} has an empty name (name length 0)",
                    "a name length from 1 to 255",
                    note,
                )
            if name_length > left:
                f.add(p, 1, f"{h} name_length", str(name_length), "bad")
                f.stop(
                    "header_name_overrun",
                    p,
                    1,
                    f"{h}'s name ({name_length} bytes) runs past the header block "
                    f"({left} bytes left)",
                    f"a name length of at most {left}",
                    note,
                )
            f.add(p, 1, f"{h} name_length", str(name_length))
            try:
                name = data[p + 1 : p + 1 + name_length].decode("utf-8")
            except UnicodeDecodeError as exc:
                f.add(p + 1, name_length, f"{h} name", "(not UTF-8)", "bad")
                f.stop(
                    "header_name_utf8",
                    p + 1 + exc.start,
                    1,
                    f"{h}'s name is not valid UTF-8 (byte {p + 1 + exc.start})",
                    "a UTF-8 header name",
                    note,
                )
            f.add(p + 1, name_length, f"{h} name", quote(name))
            t = p + 1 + name_length
            if t >= block_end:
                f.stop(
                    "header_type_missing",
                    t,
                    0,
                    f"the header block ends after {h}'s name, before its type byte",
                    f"a type byte ({TYPE_LIST})",
                    note,
                )
            code = data[t]
            if code > 9:
                f.add(t, 1, f"{h} type", f"{code} (0x{code:02x})", "bad")
                f.stop(
                    "header_type_unknown",
                    t,
                    1,
                    f"{h} ({quote(name)}) has the unknown type {code} (0x{code:02x})",
                    f"a type code from 0 to 9 ({TYPE_LIST})",
                    note,
                )
            htype = HeaderType(code)
            f.add(t, 1, f"{h} type", f"{code} ({htype.name.lower()})")
            p = self._walk_value(f, h, htype, t + 1, block_end, max_value, name)
            index += 1

    def _walk_value(
        self,
        f: _Frame,
        h: str,
        htype: HeaderType,
        v: int,
        block_end: int,
        max_value: int,
        name: str,
    ) -> int:
        """Annotate one header value starting at ``v``; returns the offset after it."""
        data, note, code = self.data, f.crc_note, int(htype)
        left = block_end - v
        value: Any
        if code <= 1:
            f.headers.setdefault(name, code == 0)
            return v
        if code in (6, 7):
            if left < 2:
                f.add(v, left, f"{h} value_length", f"{left} of 2 bytes (cut short)", "bad")
                f.stop(
                    "header_value_overrun",
                    v,
                    left,
                    f"the header block ends inside {h}'s 2-byte value length ({left} byte left)",
                    "a 2-byte value length",
                    note,
                )
            size: int = data.unpack(_U16, v)[0]
            if size > max_value:
                f.add(v, 2, f"{h} value_length", str(size), "bad")
                f.stop(
                    "header_value_limit",
                    v,
                    2,
                    f"{h}'s value of {size} bytes exceeds the limit of {max_value}",
                    f"at most {max_value} bytes (--max-header-value raises the limit)",
                    note,
                )
            if size + 2 > left:
                f.add(v, 2, f"{h} value_length", str(size), "bad")
                f.stop(
                    "header_value_overrun",
                    v,
                    2,
                    f"{h}'s value ({size} bytes) runs past the header block "
                    f"({left - 2} bytes left)",
                    f"a value length of at most {left - 2}",
                    note,
                )
            f.add(v, 2, f"{h} value_length", str(size))
            raw = data[v + 2 : v + 2 + size]
            value = raw
            if code == 7:
                try:
                    value = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    f.add(v + 2, size, f"{h} value", "(not UTF-8)", "bad")
                    f.stop(
                        "header_value_utf8",
                        v + 2 + exc.start,
                        1,
                        f"{h}'s string value is not valid UTF-8 (byte {v + 2 + exc.start})",
                        "UTF-8 text",
                        note,
                    )
            f.add(v + 2, size, f"{h} value", value_text(htype, value))
            f.headers.setdefault(name, value)
            return v + 2 + size
        size, fmt = _FIXED[code]
        if size > left:
            f.add(v, left, f"{h} value (incomplete)", f"{left} of {size} bytes", "bad")
            f.stop(
                "header_value_overrun",
                v,
                left,
                f"{h}'s {htype.name.lower()} value needs {size} bytes, the header block has "
                f"{left} left",
                f"{size} value bytes",
                note,
            )
        raw = data[v : v + size]
        value = uuid.UUID(bytes=raw) if code == 9 else struct.unpack(fmt, raw)[0]
        end: int = v + size
        f.add(v, size, f"{h} value", value_text(htype, value))
        f.headers.setdefault(name, value)
        return end


def _payload_summary(view: PayloadView, payload: Union[bytes, memoryview]) -> str:
    size = len(payload)
    if view.kind == "empty":
        return "0 bytes"
    kind = view.summary.split(",")[0]
    text = ""
    if view.kind in ("json", "text"):
        flat = " ".join(safe_text(bytes(payload[:200]).decode("utf-8", "replace")).split())
        text = ": " + (flat if len(flat) <= 40 else flat[:37] + "...")
    return f"{size} bytes, {kind}{text}"
