"""ANSI colour, used only when writing to a terminal."""

from __future__ import annotations

import os
from typing import Optional, TextIO

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def want_color(choice: str, stream: TextIO, environ: Optional[dict] = None) -> bool:  # type: ignore[type-arg]
    """Resolve ``--color auto|always|never`` for ``stream``.

    ``auto`` colours a terminal unless ``NO_COLOR`` is set to a non-empty value
    (https://no-color.org) or ``TERM`` is ``dumb``.
    """
    if choice == "always":
        return True
    if choice == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Palette:
    """Wraps text in ANSI styles, or leaves it alone when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def style(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles or not text:
            return text
        codes = ";".join(_CODES[name] for name in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def title(self, text: str) -> str:
        return self.style(text, "bold", "cyan")

    def name(self, text: str) -> str:
        return self.style(text, "green")

    def kind(self, text: str) -> str:
        return self.style(text, "magenta")

    def dim(self, text: str) -> str:
        return self.style(text, "dim")

    def ok(self, text: str) -> str:
        return self.style(text, "green")

    def bad(self, text: str) -> str:
        return self.style(text, "bold", "red")

    def warn(self, text: str) -> str:
        return self.style(text, "yellow")

    def mark(self, text: str) -> str:
        return self.style(text, "bold", "red")


PLAIN = Palette(False)
