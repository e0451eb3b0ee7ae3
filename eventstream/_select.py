"""Choosing the backend at import time.

``EVENTSTREAM_BACKEND`` decides:

* unset or ``auto``: the C backend when its compiled module is installed, else
  pure Python.  Only a *missing* compiled module falls back; a module that is
  present but broken (wrong version, missing symbol) raises ImportError.
* ``c``: the C backend or ImportError.
* ``python``: the pure-Python backend, even where C is available.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Optional, Tuple, cast

if TYPE_CHECKING:
    from ._backend import Backend

COMPILED_MODULE = "eventstream._eventstream_c"
CHOICES = ("auto", "c", "python")


def load(name: str) -> Backend:
    """Import one backend module by its ``NAME``."""
    if name in ("c", "python"):
        return cast("Backend", importlib.import_module(f"eventstream._backend_{name}"))
    raise ValueError(f"unknown backend {name!r}; choose 'c' or 'python'")


def select() -> Tuple[Backend, Optional[str]]:
    """The backend to use, and why the C backend is not used (``None`` if it is)."""
    choice = os.environ.get("EVENTSTREAM_BACKEND", "").strip().lower() or "auto"
    if choice not in CHOICES:
        raise ImportError(f"EVENTSTREAM_BACKEND={choice!r} is not one of {', '.join(CHOICES)}")
    if choice == "python":
        return load("python"), "EVENTSTREAM_BACKEND=python"
    if choice == "c":
        return load("c"), None
    try:
        return load("c"), None
    except ModuleNotFoundError as exc:
        if exc.name not in (COMPILED_MODULE, "eventstream._backend_c"):
            raise
        return load("python"), f"the C extension is not built ({exc.name} not found)"
