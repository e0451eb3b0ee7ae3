"""Instructions per message of benchmark bodies, counted by valgrind (callgrind).

    python benchmarks/instructions.py decode transcript c
    python benchmarks/instructions.py encode audio amazon_transcribe
    python benchmarks/instructions.py stream stream-7b python

Timings on a shared virtual machine move by 10-50% from run to run; instruction
counts do not (the same binary and input give the same count), so small
changes are compared with this before they are confirmed in time.

How: one Python process under callgrind builds each body from ``impls.py``,
warms it up, then runs it N times and 2N times, calling ``os.getppid()`` (a
libc call nothing else makes) between the phases; ``--dump-before=getppid``
makes callgrind write one count per phase.  The 2N phase minus the N phase,
divided by the messages, is the count per message: start-up, set-up and the
phases' fixed overhead cancel.  Objects alive before a body's phases are
frozen (``gc.freeze``), so the collector's share of a count depends on the
body, not on the bodies counted before it in the same process.
``count_many`` counts many bodies in one valgrind run (``targets.py`` uses
it).  The many-message workloads are scaled down to 1,000 messages here
(callgrind runs ~50x slower); per message that changes nothing, as no two of
their header blocks repeat anyway.

Instructions are not time (a cache miss costs more than an add, and the
kernel's work, e.g. page faults on fresh 16 MiB buffers, is not counted), so
ratios against peers from counts are indicative.  Needs valgrind.
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
Body = Tuple[str, str, str]  # (op, workload, implementation)
COUNTED_MESSAGES = 1_000  # many-message workloads are scaled down to this


def _phases(workload: str) -> Tuple[int, int]:
    """(warm-up calls, N) for a body: enough calls that N is well above noise."""
    if _messages(workload) > 1:
        return 1, 1
    if workload in ("1mib", "16mib"):
        return 2, 2
    return 20, 200


def _messages(workload: str) -> int:
    """Messages per call of a body, as scaled for counting."""
    import workloads as W

    if workload in ("unique-headers", "stream-4k", "stream-100b"):
        return COUNTED_MESSAGES
    if workload == "stream-7b":
        return W.SMALL_STREAM_COUNT
    return 1


def _run_bodies(bodies: Sequence[Body]) -> None:
    """The child under callgrind: three getppid() markers per body."""
    sys.path.insert(0, HERE)
    import workloads as W

    W.UNIQUE_COUNT = W.STREAM_COUNT = W.MEDIUM_STREAM_COUNT = COUNTED_MESSAGES
    import boundary
    import impls as I

    found = I.all_impls()
    marker = os.getppid
    for op, workload, impl in bodies:
        # A floor body (boundary.py) runs with the C backend active, as in targets.py.
        chosen = found["c" if impl == "floor" else impl]
        chosen.activate()
        run = boundary.floor_body(op, workload) if impl == "floor" else chosen.body(op, workload)[0]
        # Set-up data (and other bodies') out of the collector's sight: what the
        # collector costs then depends on the body alone, not on what ran before.
        gc.collect()
        getattr(gc, "freeze", lambda: None)()  # CPython 3.7+; PyPy has none
        warm, n = _phases(workload)
        for _ in range(warm):
            run()
        marker()
        for _ in range(n):
            run()
        marker()
        for _ in range(2 * n):
            run()
        marker()
        chosen.deactivate()
        del run


def count_many(bodies: Sequence[Body], log: Optional[str] = None) -> Dict[Body, float]:
    """Instructions per message of each body, from one valgrind run.

    Bodies whose implementation is missing or lacks the operation are left out
    of the result (and of the run)."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed (Debian: apt-get install valgrind)")
    sys.path.insert(0, HERE)
    import boundary
    import impls as I

    found = I.all_impls()

    def can_run(op: str, workload: str, impl: str) -> bool:
        if impl == "floor":
            return boundary.has_floors() and (op, workload) in boundary.FLOORS
        return found[impl].available and found[impl].supports(op)

    runnable = [b for b in bodies if can_run(*b)]
    if not runnable:
        return {}
    with tempfile.TemporaryDirectory(prefix="es-callgrind-") as tmp:
        spec = os.path.join(tmp, "bodies.json")
        with open(spec, "w") as f:
            json.dump(runnable, f)
        cmd = [
            "valgrind", "--tool=callgrind", "--dump-before=getppid",
            f"--callgrind-out-file={tmp}/cg.out", sys.executable, __file__, "--bodies", spec,
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if log:
            with open(log, "w") as f:
                f.write(proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"callgrind run failed:\n{proc.stderr[-3000:]}")
        counts: Dict[int, int] = {}
        for path in glob.glob(os.path.join(tmp, "cg.out.*")):
            with open(path) as f:
                text = f.read()
            part = re.search(r"^part: (\d+)", text, re.M)
            total = re.search(r"^summary: (\d+)", text, re.M)
            if part and total:
                counts[int(part.group(1))] = int(total.group(1))
    if len(counts) != 3 * len(runnable):
        raise RuntimeError(
            f"expected {3 * len(runnable)} callgrind dumps, found {len(counts)}: "
            "something else called getppid()"
        )
    out: Dict[Body, float] = {}
    for i, (op, workload, impl) in enumerate(runnable):
        once, twice = counts[3 * i + 2], counts[3 * i + 3]
        out[(op, workload, impl)] = (twice - once) / (_phases(workload)[1] * _messages(workload))
    return out


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("op", nargs="?", help="decode, decode-keep, encode, encode-message, stream")
    ap.add_argument("workload", nargs="?", help="a workload from workloads.py, e.g. transcript")
    ap.add_argument(
        "impl",
        nargs="?",
        help="c, python, botocore, amazon_transcribe, smithy, or floor (boundary.py's floor body)",
    )
    ap.add_argument("--bodies", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.bodies:
        with open(args.bodies) as f:
            _run_bodies([tuple(b) for b in json.load(f)])  # type: ignore[misc]
        return
    if not (args.op and args.workload and args.impl):
        ap.error("give an operation, a workload and an implementation")
    body = (args.op, args.workload, args.impl)
    try:
        result = count_many([body])
    except RuntimeError as exc:
        sys.exit(str(exc))
    if body not in result:
        sys.exit(f"{args.impl} cannot run {args.op} (not installed, or no such operation)")
    print(f"{args.op} {args.workload} {args.impl}: {result[body]:,.0f} instructions per message")


if __name__ == "__main__":
    main()
