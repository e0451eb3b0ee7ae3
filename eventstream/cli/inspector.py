"""``inspect``: an annotated hex view of every field, down to the faulty byte.

The input is read through a :class:`Scanner`, one frame at a time, so memory
stays bounded by the largest message whatever the input's size.
"""

from __future__ import annotations

import struct
from typing import Iterable, List, Optional, TextIO

from eventstream import Limits

from .color import Palette
from .hexdump import ascii_column, hex_bytes, hexdump_rows
from .render import DEFAULT_PREVIEW, Renderer, plural, safe_text
from .scan import Checked, Damaged, Fault, Scanner, Skipped
from .sniff import FILE, Sniffed, find_next_prelude, for_file
from .sniffing import sniff_safely
from .walk import Fault as WalkFault
from .walk import Field, FrameWalk, Walker, Window

ROW = 8  # bytes per row of the annotated view
HEX_WIDTH = ROW * 3 - 1
LABEL_WIDTH = 26
MAX_VALUE_ROWS = 4  # rows of a long header value shown without --full
MAX_MARKED = 32  # bytes of a faulty field marked (and dumped) under its fault


class Inspector:
    def __init__(
        self,
        out: TextIO,
        palette: Palette,
        *,
        limits: Optional[Limits] = None,
        full: bool = False,
        faults_only: bool = False,
        preview: int = DEFAULT_PREVIEW,
        name: str = "",
        nested: bool = True,
    ) -> None:
        self.name = name  # the input's name, for shell commands in hints
        self.out = out
        self.p = palette
        self.limits = limits
        self.full = full
        self.faults_only = faults_only
        self.preview = preview
        self.renderer = Renderer(palette, limits=limits, nested=nested)
        self.window = Window(b"")
        self.shown = 0  # messages printed so far

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
        if field.rows == "none":
            return [self._row(field.offset, b"", p.name(label), value)]
        if field.rows == "dump":
            lines = [self._row(field.offset, b"", p.name(label), value)]
            size = field.length if self.full else min(field.length, self.preview)
            shown = bytes(self.window.span(field.offset, field.offset + size))
            for start in range(0, len(shown), ROW):
                chunk = shown[start : start + ROW]
                ascii_text = p.dim("|" + ascii_column(chunk) + "|")
                lines.append(self._row(field.offset + start, chunk, " " * len(label), ascii_text))
            if len(shown) < field.length:
                more = p.dim(f"... {field.length - len(shown)} more bytes (--full shows them all)")
                lines.append(f"  {'':8}  {'':{HEX_WIDTH}}  {more}")
            return lines
        size = field.length if self.full else min(field.length, ROW * MAX_VALUE_ROWS)
        raw = bytes(self.window.span(field.offset, field.offset + size))
        lines = [self._row(field.offset, raw[:ROW], p.name(label), value)]
        for start in range(ROW, len(raw), ROW):
            lines.append(self._row(field.offset + start, raw[start : start + ROW]))
        hidden = field.length - len(raw)
        if hidden > 0:
            lines.append(f"  {'':8}  {p.dim(f'... {hidden} more bytes (--full shows them all)')}")
        return lines

    # ------------------------------------------------------------ frames

    def title(self, walk: FrameWalk, note: str = "") -> str:
        size = f"{walk.total_length} bytes" if walk.total_length is not None else ""
        parts = [part for part in (size, safe_text(walk.kind), note) if part]
        head = self.p.title(f"message {walk.number}") + f" at byte {walk.offset}"
        return head + (": " + ", ".join(parts) if parts else "")

    def fault_lines(self, fault: WalkFault, number: int, nested: bool = False) -> List[str]:
        p = self.p
        window = self.window
        where = f"byte {fault.offset}"
        at_end = fault.length == 0 and fault.offset == window.end
        if at_end:
            where = f"byte {fault.offset} (the end of the input)"
        inside = (
            f"in the message nested in message {number}'s payload (it starts at byte "
            f"{fault.frame_offset})"
            if nested
            else f"in message {number} (which starts at byte {fault.frame_offset})"
        )
        lines = [
            "",
            p.bad(f"FAULT at {where}") + f", {inside}:",
            f"  {safe_text(fault.reason)}",
            f"  {_what_belongs(fault)}: {safe_text(fault.expected)}",
        ]
        marked = min(fault.length, MAX_MARKED)
        lo = max(window.base, fault.offset - 16)
        hi = min(window.end, fault.offset + max(marked, 1) + 16)
        lines.extend(
            hexdump_rows(
                bytes(window.span(lo, hi)),
                lo,
                mark=(fault.offset, marked) if marked else None,
                palette=p,
                indent="  ",
            )
        )
        if at_end:
            lines.append(f"  {p.dim(f'(end of input after byte {window.end - 1})')}")
        lines.extend(f"  note: {safe_text(note)}" for note in fault.notes)
        return lines

    def resync_hint(self, fault: WalkFault, resync: bool) -> List[str]:
        if fault.code != "prelude_crc" or resync:
            return []
        window = self.window
        found = find_next_prelude(bytes(window.view), fault.frame_offset - window.base)
        if found is None:
            return []
        at = found + window.base
        hint = (
            f"a plausible message prelude starts at byte {at}: to decode from there, "
            f"add --offset {at} (or --resync to skip every damaged stretch)"
        )
        return [f"  note: {safe_text(for_file(hint, self.name))}"]

    def sniff_lines(self, found: Sniffed, offset: int, number: int) -> List[str]:
        p = self.p
        head = self.p.title(f"message {number}") + f" at byte {offset}"
        lines = [
            f"{head}: {p.bad('NOT AN EVENT STREAM')}",
            f"  the bytes from offset {offset} on are {found.what}, not an event-stream message:",
            f"    {safe_text(found.detail)}",
            f"  hint: {safe_text(for_file(found.hint, self.name))}",
        ]
        window = self.window
        lines.extend(
            hexdump_rows(
                bytes(window.view[:64]),
                window.base,
                indent="  ",
            )
        )
        return lines

    def _walk(self, raw: bytes, offset: int, number: int) -> FrameWalk:
        self.window = Window(raw, offset)
        walker = Walker(self.window, self.limits, self.renderer)
        return walker.walk_frame(offset, self.window.end, number)

    def _show(self, walk: FrameWalk, brief: bool) -> None:
        if brief:
            self.emit(self.title(walk))
            return
        if self.shown and not self.faults_only:
            self.emit()
        self.emit(self.title(walk))
        for field in walk.fields:
            for line in self.field_lines(field):
                self.emit(line)

    def _checked(self, event: Checked) -> None:
        frame = event.frame
        walk = self._walk(frame.raw, frame.offset, frame.number)
        bad = walk.fault is not None or walk.nested_faults or event.nested
        self._show(walk, self.faults_only and not bad)
        for fault in walk.nested_faults:
            for line in self.fault_lines(fault, frame.number, nested=True):
                self.emit(line)
        if walk.fault is not None:  # pragma: no cover - the walk and the decoder agree
            for line in self.fault_lines(walk.fault, frame.number):
                self.emit(line)
        for problem in event.nested:
            if not problem.depth:  # the signature: the bytes are fine, the chain is not
                self.emit("")
                self.emit(self.p.bad(f"FAULT: message {frame.number}: {safe_text(problem.text)}"))
        self.shown += 1

    def _damaged(self, event: Damaged, resync: bool) -> None:
        fault = event.fault
        walk = self._walk(event.raw, fault.frame_offset, fault.number)
        if event.fatal and walk.total_length is None:
            found = sniff_safely(event.raw)
            if found is not None:
                for line in self.sniff_lines(found, fault.frame_offset, fault.number):
                    self.emit(line)
                self.sniffed = True
                return
        self._show(walk, False)
        self.shown += 1
        if walk.fault is None:
            self.emit(self.p.bad(f"FAULT: {safe_text(fault.text)}"))
            return
        for line in self.fault_lines(walk.fault, fault.number):
            self.emit(line)
        for line in self.resync_hint(walk.fault, resync):
            self.emit(line)

    def _skipped(self, event: Skipped) -> None:
        size = event.end - event.start
        if event.found:
            text = (
                f"resync: skipped {plural(size, 'byte')} (bytes {event.start}-{event.end - 1}); "
                f"the next valid prelude is at byte {event.end}"
            )
        else:
            text = (
                f"resync: skipped {plural(size, 'byte')} (bytes {event.start}-{event.end - 1}) "
                "to the end of the input: no further valid prelude"
            )
        self.emit("")
        self.emit(self.p.warn(text))

    def run(self, scanner: Scanner, chunks: Iterable[bytes]) -> List[Fault]:
        """Print the view of the stream; returns the faults (empty when the input is valid)."""
        self.sniffed = False
        for chunk in chunks:
            self._events(scanner.feed(chunk), scanner.resync)
            if scanner.done:
                break
        self._events(scanner.close(), scanner.resync)
        self.emit()
        size = scanner.read_bytes
        if not scanner.faults:
            self.emit(
                self.p.ok(f"{plural(scanner.valid, 'message')}, {plural(size, 'byte')}: all valid")
            )
            return []
        if len(scanner.faults) > 1 or scanner.skipped:
            skipped = f", {plural(scanner.skipped, 'byte')} skipped" if scanner.skipped else ""
            self.emit(
                f"{plural(len(scanner.faults), 'fault')} in {plural(scanner.messages, 'message')} "
                f"({scanner.valid} valid){skipped}, {plural(size, 'byte')} read"
            )
        prefix = "what a decoder reports" if self.sniffed else "decoder"
        for fault in scanner.faults:
            said = "verifier" if fault.code.startswith("signature") else prefix
            self.emit(f"{said}: {safe_text(fault.text)}{_ascii_note(fault)}")
        return scanner.faults

    def _events(self, events: Iterable[object], resync: bool) -> None:
        for event in events:
            if isinstance(event, Checked):
                self._checked(event)
            elif isinstance(event, Damaged):
                self._damaged(event, resync)
            elif isinstance(event, Skipped):
                self._skipped(event)


def _what_belongs(fault: WalkFault) -> str:
    """The label of the line that says what should be at the fault.

    For a checksum the library's ``ChecksumError.expected`` is the CRC the field
    holds (what the writer declared); what the bytes give is its ``actual``.
    Saying "expected" for the computed value would contradict it.
    """
    return "the bytes give" if fault.code in ("prelude_crc", "message_crc") else "expected here"


def _ascii_note(fault: Fault) -> str:
    """Point out a "checksum" that is really four bytes of text."""
    raw = fault.stored
    if len(raw) == 4 and all(0x20 <= b < 0x7F for b in raw):
        value = struct.unpack(">I", raw)[0]
        return f" (0x{value:08X} is the text {raw.decode('ascii')!r}, not a checksum)"
    return ""


__all__ = ["FILE", "Inspector"]
