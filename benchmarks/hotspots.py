"""Where one benchmark body spends its time, by Python function (cProfile).

    python benchmarks/hotspots.py encode audio c
    python benchmarks/hotspots.py stream stream-7b c --top 20

Runs the body from ``impls.py`` (after a warm-up) under cProfile and prints the
functions with the most time of their own.  cProfile adds a fixed cost to every
Python call, so small functions look more expensive than they are: read it for
where the calls go, then check a change with ``instructions.py`` and
``targets.py``.  A cffi call shows as one entry; what C does inside it does not
(``valgrind --tool=callgrind`` and ``callgrind_annotate`` show that).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import impls as I
import timing as T
import workloads as W


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("op", choices=I.OPS)
    ap.add_argument("workload", help="a workload from workloads.py, e.g. audio, stream-7b")
    ap.add_argument("impl", help="c, python, botocore, amazon_transcribe or smithy")
    ap.add_argument("--calls", type=int, default=0, help="profiled calls (default: ~0.2 s)")
    ap.add_argument("--top", type=int, default=15, help="functions to show (default 15)")
    args = ap.parse_args(argv)
    impl = I.all_impls()[args.impl]
    if not impl.available or not impl.supports(args.op):
        sys.exit(f"{args.impl} cannot run {args.op} here ({impl.reason or 'no such operation'})")
    impl.activate()
    run = impl.body(args.op, args.workload)[0]
    calls = args.calls or T.calibrate(run, 0.2)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        run()
    profiler.disable()
    messages = calls * W.messages_per_op(args.workload)
    print(f"{args.op} {args.workload} {args.impl}: {calls} calls, {messages} messages\n")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
