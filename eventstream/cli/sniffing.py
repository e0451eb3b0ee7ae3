"""The CLI's one call into the sniffer, guarded so hostile bytes can only be "unknown".

Naming what a non-event-stream input is (JSON, HTML, SSE, ...) is a courtesy:
whatever goes wrong inside it (deeply nested JSON, say) must not turn a clear
"invalid input" into an internal error.
"""

from __future__ import annotations

from typing import Optional

from .sniff import Sniffed, sniff

SNIFF_LIMIT = 64 * 1024  # bytes looked at


def sniff_safely(data: bytes) -> Optional[Sniffed]:
    """What ``data`` looks like when it is not an event stream; ``None`` if unknown."""
    try:
        return sniff(bytes(data[:SNIFF_LIMIT]))
    except (RecursionError, ValueError, MemoryError):
        return None
