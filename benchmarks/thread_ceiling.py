"""What 2 threads can reach on this machine for a 16 MiB decode, in plain C.

    python benchmarks/thread_ceiling.py [--calls 20] [--reps 5]

Issue 10 asks a 16 MiB ``decode()`` in 2 threads to reach 1.7x the throughput
of 1 thread (``targets.py`` measures it).  This builds ``thread_ceiling.c``
with the C compiler and runs the C part of such a decode (the CRC pass over
the message, the payload copy into fresh memory) in 1 and 2 POSIX threads,
with no Python and no GIL, so its "2 vs 1" is the most any binding could show
here.  The first row (CRC of a small, cache-resident buffer) tells whether the
machine gives 2 threads 2 cores at all; run it with the machine otherwise
idle.  Needs a C compiler (``cc``).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join(os.path.dirname(HERE), "csrc")


def build(workdir: str) -> str:
    """The compiled program's path (the CRC code from csrc/, with the package's -O3)."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("thread_ceiling.py needs a C compiler (cc or gcc)")
    program = os.path.join(workdir, "thread_ceiling")
    sources = [os.path.join(HERE, "thread_ceiling.c")]
    sources += sorted(glob.glob(os.path.join(CSRC, "es_crc32*.c")))
    command = [compiler, "-O3", "-std=c99", "-pthread", "-I", CSRC, "-o", program]
    subprocess.run(command + sources, check=True)
    return program


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20, help="messages per thread per run")
    parser.add_argument("--reps", type=int, default=5, help="runs; the best is shown")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        program = build(workdir)
        sys.stdout.flush()
        return subprocess.run([program, str(args.calls), str(args.reps)]).returncode


if __name__ == "__main__":
    sys.exit(main())
