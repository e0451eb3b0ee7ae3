"""Hex formatting shared by ``dump`` (binary payload previews) and ``inspect``."""

from __future__ import annotations

from typing import List, Optional, Tuple

from .color import PLAIN, Palette

ROW = 16


def hex_bytes(data: bytes) -> str:
    """``00 00 00 3d`` style."""
    return " ".join(f"{b:02x}" for b in data)


def ascii_column(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)


def hexdump_rows(
    data: bytes,
    base: int = 0,
    *,
    start: Optional[int] = None,
    end: Optional[int] = None,
    mark: Optional[Tuple[int, int]] = None,
    palette: Palette = PLAIN,
    indent: str = "",
) -> List[str]:
    """Classic 16-byte rows (offset, hex, ASCII) of ``data[start:end]``.

    ``base`` is the stream offset of ``data[0]``; rows are aligned to 16 bytes
    of the stream.  ``mark = (offset, length)`` (stream offsets) underlines
    those bytes with ``^^`` on the line below each row that has any.
    """
    lo = 0 if start is None else max(0, start)
    hi = len(data) if end is None else min(len(data), end)
    lines: List[str] = []
    if lo >= hi:
        return lines
    row_start = ((base + lo) // ROW) * ROW - base
    while row_start < hi:
        cells: List[str] = []
        carets: List[str] = []
        text: List[str] = []
        any_mark = False
        for col in range(ROW):
            i = row_start + col
            sep = " " if col == 8 else ""
            if lo <= i < hi:
                cell = f"{data[i]:02x}"
                char = ascii_column(data[i : i + 1])
            else:
                cell, char = "  ", " "
            marked = mark is not None and mark[0] <= base + i < mark[0] + mark[1] and lo <= i < hi
            any_mark = any_mark or marked
            cells.append(sep + (palette.mark(cell) if marked else cell))
            carets.append(sep + ("^^" if marked else "  "))
            text.append(char)
        lines.append(f"{indent}{base + row_start:08x}  {' '.join(cells)}  |{''.join(text)}|")
        if any_mark:
            lines.append(f"{indent}{'':8}  {' '.join(carets)}".rstrip())
        row_start += ROW
    return lines
