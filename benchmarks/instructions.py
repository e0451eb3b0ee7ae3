"""Instructions per message of one benchmark body, counted by valgrind (callgrind).

    python benchmarks/instructions.py decode transcript c
    python benchmarks/instructions.py encode transcript amazon_transcribe --calls 2000

Timings on a shared virtual machine move by 10-50% from run to run; instruction
counts do not (the same binary and input give the same count), so small
changes are compared with this before they are confirmed by ``compare.py``.
It runs the body from ``impls.py`` (after 20 warm-up calls) 0 and N times
under callgrind and divides the difference by the messages decoded or encoded.
Instructions are not time (a cache miss costs more than an add), so the
ratios against peers are only indicative.  Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _body(op: str, workload: str, impl: str, calls: int) -> None:
    sys.path.insert(0, HERE)
    import impls as I
    import workloads as W

    chosen = I.all_impls()[impl]
    if not chosen.available:
        sys.exit(f"{impl} is not available: {chosen.reason}")
    chosen.activate()
    if op == "decode":
        run = chosen.decoder(workload)[0]
    elif op == "encode":
        run = chosen.encoder(workload)
    else:
        run = chosen.streamer(workload)[0]
    del W
    for _ in range(20):
        run()
    for _ in range(calls):
        run()


def _count(args: argparse.Namespace, calls: int) -> int:
    cmd = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--body", args.op, args.workload, args.impl,
        "--calls", str(calls),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    found = re.search(r"Collected : ([\d,]+)", out)
    if found is None:
        sys.exit(f"no instruction count in valgrind's output:\n{out}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("op", choices=("decode", "encode", "stream"))
    ap.add_argument(
        "workload", help="a workload name from workloads.py, e.g. transcript, stream-4k"
    )
    ap.add_argument("impl", help="c, python, botocore, amazon_transcribe or smithy")
    ap.add_argument("--calls", type=int, default=0, help="timed calls (default: by workload)")
    ap.add_argument("--body", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.body:
        _body(args.op, args.workload, args.impl, args.calls)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    sys.path.insert(0, HERE)
    import workloads as W

    per_call = W.messages_per_op(args.workload)
    calls = args.calls or max(2, 2000 // per_call)
    extra = _count(args, calls) - _count(args, 0)
    print(
        f"{args.op} {args.workload} {args.impl}: "
        f"{extra / (calls * per_call):,.0f} instructions per message"
    )


if __name__ == "__main__":
    main()
