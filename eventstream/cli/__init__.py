"""The ``eventstream`` command line tool (placeholder until the CLI lands)."""

from __future__ import annotations

import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    print("eventstream: the command line tool is not built yet", file=sys.stderr)
    return 2
