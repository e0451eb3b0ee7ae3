"""The active backend: chosen once at import, swappable for tests and benchmarks.

Every codec entry point reads ``_active.backend`` at call time, so
:func:`use` switches all of them at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ._select import load, select

if TYPE_CHECKING:
    from ._backend import Backend

backend: Backend
fallback_reason: Optional[str]
backend, fallback_reason = select()


def use(name: str) -> Backend:
    """Switch the active backend to ``"c"`` or ``"python"``; returns the previous one.

    For tests and benchmarks that compare the backends in one process.
    ``eventstream.BACKEND`` keeps naming the backend chosen at import.
    """
    global backend
    previous = backend
    backend = load(name)
    return previous


def restore(module: Backend) -> None:
    global backend
    backend = module
