"""Measure ``import eventstream`` with ``-X importtime`` and check it stays light.

The package's own time is what its modules cost by themselves: the self times of
``eventstream`` and its submodules, without the standard library modules they import.  A
busy machine adds noise to any single run, so each module's figure is its best over several
fresh interpreters, and the own time is the sum of those; the median of the per-run sums and
the cumulative time of ``import eventstream`` (standard library included) are printed too.
The check also fails when a heavy module that the package needs only in some calls is
imported at load time.

Usage: ``python .ci/importtime.py [--limit-ms 20] [--runs 9]``, run with the interpreter whose
installed eventstream is to be measured, from a directory without an ``eventstream/`` in it.
(A module imported through ``importlib`` is not listed by ``-X importtime``; its time counts in
the self time of the module that imported it, here ``eventstream._active``.)
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from typing import Dict, List, Tuple

# Imported by the package only inside the functions that need them.
MUST_NOT_LOAD = ("asyncio", "json", "datetime", "uuid", "decimal", "typing_extensions")

_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


def one_run(backend: str) -> Tuple[Dict[str, int], int, List[str]]:
    """Self microseconds per package module, cumulative microseconds, heavy modules loaded."""
    probe = (
        "import sys, eventstream; "
        f"print(','.join(m for m in {MUST_NOT_LOAD!r} if m in sys.modules))"
    )
    env = dict(os.environ, EVENTSTREAM_BACKEND=backend)
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if run.returncode:
        raise SystemExit(
            f"import eventstream failed (EVENTSTREAM_BACKEND={backend}):\n{run.stderr}"
        )
    own: Dict[str, int] = {}
    cumulative = 0
    for line in run.stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        self_us, cumulative_us, _, name = match.groups()
        if name == "eventstream" or name.startswith("eventstream."):
            own[name] = int(self_us)
        if name == "eventstream":
            cumulative = int(cumulative_us)
    heavy = [name for name in run.stdout.strip().split(",") if name]
    return own, cumulative, heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--limit-ms", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--backends", default="c,python")
    args = parser.parse_args()
    failures: List[str] = []
    for backend in args.backends.split(","):
        best: Dict[str, int] = {}
        sums: List[int] = []
        cumulatives: List[int] = []
        heavy: List[str] = []
        for _ in range(args.runs):
            own, cumulative, loaded = one_run(backend)
            for name, micros in own.items():
                best[name] = min(micros, best.get(name, micros))
            sums.append(sum(own.values()))
            cumulatives.append(cumulative)
            heavy = sorted(set(heavy) | set(loaded))
        own_ms = sum(best.values()) / 1000
        median_ms = statistics.median(sums) / 1000
        print(
            f"EVENTSTREAM_BACKEND={backend}: package's own time {own_ms:.1f} ms "
            f"(per-module best of {args.runs} runs; median run {median_ms:.1f} ms), "
            f"cumulative with the stdlib it imports {min(cumulatives) / 1000:.1f} ms best, "
            f"{statistics.median(cumulatives) / 1000:.1f} ms median; limit {args.limit_ms:g} ms"
        )
        slowest = sorted(best.items(), key=lambda item: -item[1])[:4]
        print("  largest:", ", ".join(f"{name} {micros / 1000:.1f} ms" for name, micros in slowest))
        if own_ms >= args.limit_ms:
            failures.append(f"{backend}: own time {own_ms:.1f} ms >= {args.limit_ms:g} ms")
        if heavy:
            failures.append(f"{backend}: import eventstream loaded {', '.join(heavy)}")
    for failure in failures:
        print("FAIL", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
