"""The ``eventstream`` command line tool: dump, inspect, verify, encode and split event streams.

``main(argv)`` runs it and returns the exit status; ``python -m eventstream``
and the ``eventstream`` console script both call it.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
