"""Offline servers that behave like AWS event-stream services (the ``server`` extra).

The Transcribe server needs ``websockets`` and ``h2`` (``pip install 'eventstream[server]'``);
the Bedrock server needs only the standard library.
"""

from __future__ import annotations

from ._base import ServerLimits

__all__ = ["ServerLimits"]
