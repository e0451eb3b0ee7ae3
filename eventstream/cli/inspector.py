"""``inspect``: an annotated hex view of every field, stopping at the first fault."""

from __future__ import annotations

import struct
from typing import List, Optional, TextIO

from eventstream import DecodeError, Limits

from .color import Palette
from .frames import read_frames
from .hexdump import ascii_column, hex_bytes, hexdump_rows
from .render import DEFAULT_PREVIEW, Renderer, plural, safe_text
from .sniff import FILE, Sniffed, find_next_prelude, for_file, sniff
from .walk import Fault, Field, FrameWalk, Walker

ROW = 8  # bytes per row of the annotated view
HEX_WIDTH = ROW * 3 - 1
LABEL_WIDTH = 26
MAX_VALUE_ROWS = 4  # rows of a long header value shown without --full


class Inspector:
    def __init__(
        self,
        data: bytes,
        out: TextIO,
        palette: Palette,
        *,
        limits: Optional[Limits] = None,
        full: bool = False,
        faults_only: bool = False,
        preview: int = DEFAULT_PREVIEW,
        name: str = "",
    ) -> None:
        self.data = data
        self.name = name  # the input's name, for shell commands in hints
        self.out = out
        self.p = palette
        self.limits = limits
        self.full = full
        self.faults_only = faults_only
        self.preview = preview
        self.walker = Walker(data, limits, Renderer(palette, limits=limits))

    def emit(self, line: str = "") -> None:
        self.out.write(line + "\n")

    # ------------------------------------------------------------ fields

    def _row(self, offset: int, chunk: bytes, label: str = "", value: str = "") -> str:
        hex_part = hex_bytes(chunk).ljust(HEX_WIDTH)
        text = (
            f"  {offset:08x}  {hex_part}  {label.ljust(LABEL_WIDTH)} {value}"
            if label or value
            else f"  {offset:08x}  {hex_part}"
        )
        return text.rstrip()

    def field_lines(self, field: Field) -> List[str]:
        p = self.p
        label = "  " * field.depth + field.label
        status = ""
        if field.status == "ok":
            status = " " + p.ok("OK")
        elif field.status == "bad":
            status = " " + p.bad("MISMATCH" if field.label.endswith("crc") else "<- fault")
        value = safe_text(field.value) + status
        raw = self.data[field.offset : field.offset + field.length]
        if field.rows == "none" or (field.rows == "dump" and not raw):
            return [self._row(field.offset, b"", p.name(label), value)]
        if field.rows == "dump":
            lines = [self._row(field.offset, b"", p.name(label), value)]
            shown = raw if self.full else raw[: self.preview]
            for start in range(0, len(shown), ROW):
                chunk = shown[start : start + ROW]
                ascii_text = p.dim("|" + ascii_column(chunk) + "|")
                lines.append(self._row(field.offset + start, chunk, " " * len(label), ascii_text))
            if len(shown) < len(raw):
                more = p.dim(f"... {len(raw) - len(shown)} more bytes (--full shows them all)")
                lines.append(f"  {'':8}  {'':{HEX_WIDTH}}  {more}")
            return lines
        lines = [self._row(field.offset, raw[:ROW], p.name(label), value)]
        rows = range(ROW, len(raw), ROW)
        limit = len(rows) if self.full else MAX_VALUE_ROWS - 1
        for start in list(rows)[:limit]:
            lines.append(self._row(field.offset + start, raw[start : start + ROW]))
        hidden = len(raw) - min(len(raw), ROW * (limit + 1))
        if hidden > 0:
            lines.append(f"  {'':8}  {p.dim(f'... {hidden} more bytes (--full shows them all)')}")
        return lines

    # ------------------------------------------------------------ frames

    def title(self, walk: FrameWalk, note: str = "") -> str:
        size = f"{walk.total_length} bytes" if walk.total_length is not None else ""
        parts = [part for part in (size, safe_text(walk.kind), note) if part]
        head = self.p.title(f"message {walk.number}") + f" at byte {walk.offset}"
        return head + (": " + ", ".join(parts) if parts else "")

    def fault_lines(self, fault: Fault, walk: FrameWalk) -> List[str]:
        p = self.p
        where = f"byte {fault.offset}"
        if fault.length == 0 and fault.offset == len(self.data):
            where = f"byte {fault.offset} (the end of the input)"
        lines = [
            "",
            p.bad(f"FAULT at {where}")
            + f", in message {walk.number} (which starts at byte {fault.frame_offset}):",
            f"  {safe_text(fault.reason)}",
            f"  expected here: {safe_text(fault.expected)}",
        ]
        lo = max(0, fault.offset - 16)
        hi = min(len(self.data), fault.offset + max(fault.length, 1) + 16)
        lines.extend(
            hexdump_rows(
                self.data,
                start=lo,
                end=hi,
                mark=(fault.offset, fault.length) if fault.length else None,
                palette=p,
                indent="  ",
            )
        )
        if fault.length == 0 and fault.offset == len(self.data):
            lines.append(f"  {p.dim(f'(end of input after byte {len(self.data) - 1})')}")
        lines.extend(f"  note: {safe_text(note)}" for note in fault.notes)
        if fault.code == "prelude_crc":
            resync = find_next_prelude(self.data, fault.frame_offset)
            if resync is not None:
                hint = (
                    f"a plausible message prelude starts at byte {resync}; to decode from "
                    f"there: tail -c +{resync + 1} {FILE} | eventstream dump -"
                )
                lines.append(f"  note: {safe_text(for_file(hint, self.name))}")
        return lines

    def sniff_lines(self, found: Sniffed, walk: FrameWalk) -> List[str]:
        p = self.p
        start = walk.offset
        lines = [
            self.title(walk, p.bad("NOT AN EVENT STREAM")),
            f"  the bytes from offset {start} on are {found.what}, not an event-stream message:",
            f"    {safe_text(found.detail)}",
            f"  hint: {safe_text(for_file(found.hint, self.name))}",
        ]
        lines.extend(
            hexdump_rows(self.data, start=start, end=min(len(self.data), start + 64), indent="  ")
        )
        return lines

    def run(self) -> Optional[DecodeError]:
        """Print the view; returns the decoder's error (``None`` when the input is valid)."""
        data = self.data
        pos = 0
        index = 0
        fault: Optional[Fault] = None
        sniffed: Optional[Sniffed] = None
        while pos < len(data):
            walk = self.walker.walk_frame(pos, len(data), index)
            fault = walk.fault
            if fault is not None and walk.total_length is None:
                sniffed = sniff(data[walk.offset :])
                if sniffed is not None:
                    for line in self.sniff_lines(sniffed, walk):
                        self.emit(line)
                    break
            if fault is None and self.faults_only:
                self.emit(self.title(walk))
            else:
                if index and not self.faults_only:
                    self.emit()
                self.emit(self.title(walk))
                for field in walk.fields:
                    for line in self.field_lines(field):
                        self.emit(line)
            if fault is not None:
                for line in self.fault_lines(fault, walk):
                    self.emit(line)
                break
            pos = walk.end
            index += 1
        frames, error, _ = read_frames([data], self.limits)
        self.emit()
        if error is None:
            self.emit(
                self.p.ok(
                    f"{plural(len(frames), 'message')}, {plural(len(data), 'byte')}: all valid"
                )
            )
        else:
            prefix = "what a decoder reports" if sniffed else "decoder"
            self.emit(f"{prefix}: {safe_text(str(error))}{_ascii_note(error)}")
        return error


def _ascii_note(error: DecodeError) -> str:
    """Point out a "checksum" that is really four bytes of text."""
    expected = getattr(error, "expected", None)
    if not isinstance(expected, int):
        return ""
    raw = struct.pack(">I", expected)
    if all(0x20 <= b < 0x7F for b in raw):
        return f" (0x{expected:08X} is the text {raw.decode('ascii')!r}, not a checksum)"
    return ""
