"""Walking a frame byte by byte: every field's span and meaning, and the first fault.

This is what ``inspect`` prints.  The fields, their values and their faults
come from :func:`eventstream._reference.walk_frame`, the reference walk that
the codec is held to; this module puts them into words (labels, values for
humans, what was expected, notes that guess the damage).  The codec checks the
message CRC before it parses headers, so for a damaged header block it reports
the CRC; the walk names the header byte and mentions the CRC.
"""

from __future__ import annotations

import struct
from typing import Any, Dict, List, NamedTuple, NoReturn, Optional, Tuple, Union, overload

import eventstream
from eventstream import HeaderType, Limits
from eventstream import _reference as reference
from eventstream import errors as E

from .render import PayloadView, Renderer, message_kind, quote, safe_text, value_text

_U32 = struct.Struct(">I")
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

    # ------------------------------------------------------------ the reference walk

    def _walk(self, f: _Frame, end: int) -> None:
        """Annotate the fields the reference walk finds, up to its first fault.

        The fields, their values and their faults all come from
        :func:`eventstream._reference.walk_frame`, the code that says what the
        codec reports; this only puts them into words.  Where the message CRC
        fails or the input ends later in the message, the header block's own
        fault (which a decoder, checking the CRC first, does not reach) is the
        one shown, with the CRC failure as a note.
        """
        walked = reference.walk_frame(self.data.span(f.pos, end), self.limits, f.pos)
        f.total = walked.total_length
        crc = walked.fault if walked.fault and walked.fault[0] == E.FAULT_MESSAGE_CRC else None
        if crc is not None:
            _, crc_at, frame, stored, actual = crc
            f.payload_at = next(x.offset for x in walked.fields if x.name == "payload")
            f.crc_bit = _flipped_bit(stored ^ actual, frame + 12, crc_at)
            f.crc_note = (
                f"the message_crc fails too (it holds 0x{stored:08X}, the bytes give "
                f"0x{actual:08X}): the bytes were damaged after the message was written, "
                "or its writer computed the CRC wrongly; a decoder, which checks the CRC "
                "first, reports a message checksum mismatch"
            )
        names: Dict[int, str] = {}  # header index -> name
        types: Dict[int, HeaderType] = {}  # header index -> type
        for field in walked.fields:
            if field.header >= 0:
                self._header_field(f, field, names, types)
            else:
                self._message_field(f, field, walked)

    def _message_field(
        self, f: _Frame, field: reference.Field, walked: reference.FrameWalk
    ) -> None:
        data, pos, fault = self.data, f.pos, field.fault
        at, name, value = field.offset, field.name, field.value
        if fault is not None and fault[0] == E.FAULT_TRUNCATED:
            _, end, _, present, total = fault
            size = field.length + field.missing
            if name == "prelude":
                f.add(at, field.length, "prelude (incomplete)", f"{field.length} of 12 bytes")
                f.stop(
                    "truncated",
                    end,
                    0,
                    f"the input ends {present} bytes into a message, inside its 12-byte prelude",
                    "12 prelude bytes (total_length, headers_length, prelude_crc)",
                )
            where = {"header_block": "header block", "payload": "payload"}.get(name, name)
            f.add(
                at,
                field.length,
                f"{where} (incomplete)",
                f"{field.length} of {size} bytes",
                rows="hex" if name == "message_crc" else "dump",
            )
            f.stop(
                "truncated",
                end,
                0,
                f"the input ends inside the {where}: {present} of the message's {total} "
                "bytes are present",
                f"{total - present} more bytes (the capture was cut short or the stream was "
                "closed early)",
            )
        if name in ("total_length", "headers_length"):
            f.add(at, 4, name, str(value))  # a fault of theirs is told after the prelude_crc
        elif name == "prelude_crc":
            if fault is None:
                f.add(at, 4, name, f"0x{value:08X}", "ok")
                length_fault = next((x.fault for x in walked.fields[:2] if x.fault), None)
                if length_fault is not None:
                    self._length_fault(f, length_fault)
                return
            computed = fault[4]
            f.add(at, 4, name, f"0x{value:08X}", "bad")
            f.stop(
                "prelude_crc",
                at,
                4,
                f"prelude checksum mismatch: the prelude_crc field holds 0x{value:08X}, "
                "the CRC its writer declared (ChecksumError.expected, .stored)",
                f"0x{computed:08X}, the CRC32 of bytes {pos}-{pos + 7} "
                "(ChecksumError.actual, .computed)",
                prelude_repair(data, pos) or "",
                "the lengths in a prelude that fails its CRC cannot be trusted, so the walk "
                "stops here",
            )
        elif name == "payload":
            self._payload(f, at, field.length)
        elif name == "message_crc":
            if fault is None:
                f.add(at, 4, name, f"0x{value:08X}", "ok")
                return
            computed = fault[4]
            f.add(at, 4, name, f"0x{value:08X}", "bad")
            f.stop(
                "message_crc",
                at,
                4,
                f"message checksum mismatch: the message_crc field holds 0x{value:08X}, "
                "the CRC its writer declared (ChecksumError.expected, .stored)",
                f"0x{computed:08X}, the CRC32 of bytes {pos}-{at - 1} "
                "(ChecksumError.actual, .computed)",
                "the field is zero: the writer may never have filled it in" if value == 0 else "",
                "the headers and payload shown above come from bytes that fail the checksum",
            )

    def _length_fault(self, f: _Frame, fault: E.Fault) -> NoReturn:
        """Stop at a prelude length that does not fit, or is over a limit."""
        code, at, _, a, b = fault
        if code == E.FAULT_MESSAGE_TOO_SHORT:
            f.stop(
                "message_too_short",
                at,
                4,
                f"total_length {a} is below the 16-byte minimum",
                "a total_length of at least 16 (12 prelude bytes + 4 message_crc bytes)",
            )
        if code == E.FAULT_HEADERS_LENGTH:
            f.stop(
                "headers_length",
                at,
                4,
                f"headers_length {a} does not fit in total_length {b}",
                f"a headers_length of at most {b - 16} (total_length - 16)",
            )
        if code == E.FAULT_HEADERS_LIMIT:
            f.stop(
                "headers_limit",
                at,
                4,
                f"a header block of {a} bytes exceeds the limit of {b}",
                f"at most {b} bytes (--max-header-block raises the limit)",
            )
        assert code == E.FAULT_PAYLOAD_LIMIT, fault
        f.stop(
            "payload_limit",
            at,
            4,
            f"a payload of {a} bytes exceeds the limit of {b}",
            f"at most {b} bytes (--max-payload raises the limit)",
        )

    def _payload(self, f: _Frame, at: int, length: int) -> None:
        payload = self.data.span(at, at + length)
        f.kind = message_kind(f.headers, payload)
        view = self.renderer.payload_view(payload, f.headers.get(":content-type"), f.depth)
        if view.kind not in ("nested", "nested-bad"):
            f.add(at, length, "payload", _payload_summary(view, payload), rows="dump")
            return
        broken = ", which has a fault" if view.kind == "nested-bad" else ""
        f.add(
            at,
            length,
            "payload",
            f"{length} bytes, an event-stream message{broken} (annotated below)",
            rows="none",
        )
        inner = self.walk_frame(at, at + length, 0, f.depth + 1)
        f.fields.extend(inner.fields)
        f.nested_faults.extend(inner.nested_faults)
        if inner.fault is not None:
            f.nested_faults.append(inner.fault)
        if f.kind and inner.kind:
            f.kind = f"{f.kind} wrapping {inner.kind}"

    # ------------------------------------------------------------ headers

    def _header_field(
        self,
        f: _Frame,
        field: reference.Field,
        names: Dict[int, str],
        types: Dict[int, HeaderType],
    ) -> None:
        h = f"header {field.header}"
        at, length, value, fault = field.offset, field.length, field.value, field.fault
        note = f.crc_note
        if field.name == "header":  # one header more than the limit allows
            assert fault is not None
            number, limit = fault[3], fault[4]
            f.add(
                at, length, h, f"{length} bytes: this header and any after it", "bad", rows="dump"
            )
            f.stop(
                "header_count_limit",
                at,
                1,
                f"{h} is header number {number}, over the limit of {limit} headers per message",
                f"at most {limit} headers (--max-headers raises the limit)",
                note,
            )
        if field.name == "name_length":
            if fault is None:
                f.add(at, 1, f"{h} name_length", str(value))
                return
            f.add(at, 1, f"{h} name_length", str(value), "bad")
            if fault[0] == E.FAULT_HEADER_NAME_EMPTY:
                f.stop(
                    "header_name_empty",
                    at,
                    1,
                    f"{h} has an empty name (name length 0)",
                    "a name length from 1 to 255",
                    note,
                )
            left = fault[4]
            f.stop(
                "header_name_overrun",
                at,
                1,
                f"{h}'s name ({value} bytes) runs past the header block ({left} bytes left)",
                f"a name length of at most {left}",
                note,
            )
        if field.name == "name":
            if fault is None:
                names[field.header] = value
                f.add(at, length, f"{h} name", quote(value))
                return
            f.add(at, length, f"{h} name", "(not UTF-8)", "bad")
            bad = self._bad_utf8(at, length)
            f.stop(
                "header_name_utf8",
                at,
                bad - at + 1,
                f"{h}'s name is not valid UTF-8 (its first invalid byte is byte {bad})",
                "a UTF-8 header name",
                note,
            )
        if field.name == "type":
            if fault is None:
                types[field.header] = HeaderType(value)
            self._header_type(f, field, h, names[field.header])
            return
        if field.name == "value_length":
            self._value_length(f, field, h)
            return
        self._header_value(f, field, h, names[field.header], types)

    def _bad_utf8(self, at: int, length: int) -> int:
        """The stream offset of the first byte that makes ``[at, at + length)`` invalid UTF-8."""
        try:
            self.data[at : at + length].decode("utf-8")
        except UnicodeDecodeError as exc:
            return at + exc.start
        return at  # pragma: no cover - only called for bytes the reference walk rejected

    def _header_type(self, f: _Frame, field: reference.Field, h: str, name: str) -> None:
        at, code, fault = field.offset, field.value, field.fault
        if fault is None:
            f.add(at, 1, f"{h} type", f"{code} ({HeaderType(code).name.lower()})")
            return
        if fault[0] == E.FAULT_HEADER_TYPE_MISSING:
            f.stop(
                "header_type_missing",
                at,
                0,
                f"the header block ends after {h}'s name, before its type byte",
                f"a type byte ({TYPE_LIST})",
                f.crc_note,
            )
        f.add(at, 1, f"{h} type", f"{code} (0x{code:02x})", "bad")
        f.stop(
            "header_type_unknown",
            at,
            1,
            f"{h} ({quote(name)}) has the unknown type {code} (0x{code:02x})",
            f"a type code from 0 to 9 ({TYPE_LIST})",
            f.crc_note,
        )

    def _value_length(self, f: _Frame, field: reference.Field, h: str) -> None:
        at, length, size, fault = field.offset, field.length, field.value, field.fault
        if fault is None:
            f.add(at, 2, f"{h} value_length", str(size))
            return
        if length < 2:
            f.add(at, length, f"{h} value_length", f"{length} of 2 bytes (cut short)", "bad")
            f.stop(
                "header_value_overrun",
                at,
                length,
                f"the header block ends inside {h}'s 2-byte value length ({length} byte left)",
                "a 2-byte value length",
                f.crc_note,
            )
        f.add(at, 2, f"{h} value_length", str(size), "bad")
        if fault[0] == E.FAULT_HEADER_VALUE_LIMIT:
            limit = fault[4]
            f.stop(
                "header_value_limit",
                at,
                2,
                f"{h}'s value of {size} bytes exceeds the limit of {limit}",
                f"at most {limit} bytes (--max-header-value raises the limit)",
                f.crc_note,
            )
        left = fault[4] - 2
        f.stop(
            "header_value_overrun",
            at,
            2,
            f"{h}'s value ({size} bytes) runs past the header block ({left} bytes left)",
            f"a value length of at most {left}",
            f.crc_note,
        )

    def _header_value(
        self, f: _Frame, field: reference.Field, h: str, name: str, types: Dict[int, HeaderType]
    ) -> None:
        at, length, value, fault = field.offset, field.length, field.value, field.fault
        htype = types[field.header]
        if fault is None:
            f.headers.setdefault(name, value)
            if htype not in (HeaderType.BOOL_TRUE, HeaderType.BOOL_FALSE):  # no value bytes
                f.add(at, length, f"{h} value", value_text(htype, value))
            return
        if fault[0] == E.FAULT_HEADER_VALUE_UTF8:
            f.add(at, length, f"{h} value", "(not UTF-8)", "bad")
            bad = self._bad_utf8(at, length)
            f.stop(
                "header_value_utf8",
                at,
                bad - at + 1,
                f"{h}'s string value is not valid UTF-8 (its first invalid byte is byte {bad})",
                "UTF-8 text",
                f.crc_note,
            )
        size = length + field.missing
        f.add(at, length, f"{h} value (incomplete)", f"{length} of {size} bytes", "bad")
        f.stop(
            "header_value_overrun",
            at,
            length,
            f"{h}'s {htype.name.lower()} value needs {size} bytes, the header block has "
            f"{length} left",
            f"{size} value bytes",
            f.crc_note,
        )


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
