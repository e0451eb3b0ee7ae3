"""Run the shared decode layer on one backend module (tests comparing the backends)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, List, Sequence, Tuple

from eventstream import _active


@contextlib.contextmanager
def using(module: Any) -> Iterator[None]:
    """``_active.backend`` is ``module`` inside the block."""
    previous = _active.backend
    _active.restore(module)
    try:
        yield
    finally:
        _active.restore(previous)


def records(
    scanned: Tuple[Sequence[Sequence[int]], int, Any],
) -> Tuple[List[Tuple[int, ...]], int, Any]:
    """A scan_frames result with its records as tuples and ``HEADERS_SAME`` marks
    (the C batch's; the Python scan makes none) as ``HEADERS_NOT_WALKED``."""
    frames, pos, fault = scanned
    out = [(bs, ps, pe, -2 if info == -1 else info) for bs, ps, pe, info in frames]
    return out, pos, fault
