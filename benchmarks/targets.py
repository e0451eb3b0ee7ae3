"""Issue 10's target table, for both backends, from one run.

    python benchmarks/targets.py                 # ~5 minutes: timings, callgrind, floors
    python benchmarks/targets.py --reps 3 --no-instructions   # time only, quicker
    python benchmarks/targets.py --smoke         # CI: every body checked and run once

For every row (``TARGETS``) it times the C backend, the Python backend, the peer
and, for the C backend, the floor body from ``boundary.py``, interleaved, in
``--reps`` repetitions (each the best of 3 samples of ~20 ms of CPU time, on
one pinned CPU).  A ratio is peer time / our time; the table gives the median
over repetitions and their range.  The same bodies are then counted under
callgrind (``instructions.py``, one valgrind run) and the ratio by
instructions is given too; those counts repeat exactly from run to run, so on
a shared machine they are the figure to trust for small differences.

The floor share is floor time / C time: the fraction of the best ratio a cffi
binding could reach that the C backend reaches.  The 2-thread rows time
decodes of a 16 MiB message in 1 and then 2 threads (each thread its own
message, the process unpinned) by the wall clock; their ratio is
(2-thread throughput) / (1-thread throughput), where 2.0 is the ideal.  Next
to it, the CPU seconds per wall second of the 2-thread run: about 1 when the
threads take turns holding the GIL, near 2 when they run at once; below 2
for code that releases the GIL, it says the machine's other load kept the
second core busy (then the scaling figure says little).

Every body is checked against the workload's canonical bytes or headers and
payload before anything is timed.  Rows whose operation this version of the
package lacks (``decode(copy=False)``) are reported as not available.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boundary
import impls as I
import timing as T
import workloads as W
from _check import check_decoded, check_encoded

HERE = os.path.dirname(os.path.abspath(__file__))
CODE = ("../eventstream", "../csrc", "../setup.py", "*.py")  # what the figures depend on
Body = Tuple[str, str, str]  # (op, workload, implementation)

# (label, op, workload, peer, C target, Python target); None: no target.
TARGETS: Tuple[Tuple[str, str, str, str, Optional[float], Optional[float]], ...] = (
    ("encode from a dict (audio)", "encode", "audio", "amazon_transcribe", 3, 2),
    ("signed frame encode (2 encodes)", "encode", "signed", "amazon_transcribe", 2, 1.5),
    ("transcript decode", "decode", "transcript", "botocore", 10, 5),
    ("stream, 4 KiB chunks", "stream", "stream-4k", "botocore", 12, 5),
    ("stream, 100-byte chunks", "stream", "stream-100b", "botocore", 4, 2.5),
    ("stream, 7-byte chunks", "stream", "stream-7b", "botocore", 2, 1.5),
    ("unique headers decode", "decode", "unique-headers", "botocore", 3, 2.5),
    ("16 MiB decode, result dropped", "decode", "16mib", "botocore", 4, 1),
    ("16 MiB decode, result kept", "decode-keep", "16mib", "botocore", 4, 1),
    ("16 MiB zero-copy decode, dropped", "decode-zerocopy", "16mib", "botocore", 12, None),
    ("16 MiB zero-copy decode, kept", "decode-zerocopy-keep", "16mib", "botocore", 12, None),
    ("(secondary) encode a prebuilt Message", "encode-message", "audio", "amazon_transcribe",
     None, None),
)  # fmt: skip
# (label, keep results, C target)
THREAD_ROWS = (
    ("16 MiB decode, 2 threads vs 1, dropped", False, 1.7),
    ("16 MiB decode, 2 threads vs 1, kept", True, 1.7),
)
THREAD_CALLS = 20  # decodes per thread per measurement (2 in a smoke run)
OURS = ("c", "python")
TIMES = "\u00d7"
NONE = "-"


def peer_op(op: str) -> str:
    """The peer's operation for one of ours: it has no zero-copy or prebuilt message."""
    if op == "encode-message":
        return "encode"
    return op.replace("-zerocopy", "")


def bodies_of(row: Tuple[Any, ...]) -> Dict[str, Body]:
    _, op, workload, peer = row[:4]
    return {"c": (op, workload, "c"), "python": (op, workload, "python"),
            "peer": (peer_op(op), workload, peer)}  # fmt: skip


# ---------------------------------------------------------------- building and checking


def build(found: Dict[str, I.Impl], body: Body) -> Optional[I.Run]:
    """The checked, timed callable for a body, or None where it cannot run here."""
    op, workload, name = body
    impl = found[name]
    if not impl.available or not impl.supports(op):
        return None
    impl.activate()
    try:
        run, normalize = impl.body(op, workload)
        result = run()
        if normalize is None:
            check_encoded(impl, workload, result)
        else:
            check_decoded(impl, workload, result, normalize)
    finally:
        impl.deactivate()
    return run


def _normal_list(ours: Any, result: Any) -> List[W.Normal]:
    items = result if isinstance(result, list) else [result]
    return [ours._normal(m) for m in items]


class Timed:
    """One body: its callable, its implementation (activated around each sample)
    and the calls that make one sample."""

    def __init__(self, impl: I.Impl, run: I.Run, messages: int) -> None:
        self.impl, self.run, self.messages = impl, run, messages
        impl.activate()
        try:
            self.calls = T.calibrate(run)
        finally:
            impl.deactivate()

    def per_message(self) -> float:
        self.impl.activate()
        try:
            return T.best(self.run, self.calls) / self.messages
        finally:
            self.impl.deactivate()


# ---------------------------------------------------------------- threads


def thread_scaling(backend: str, keep: bool, calls: int) -> Optional[Tuple[float, float]]:
    """2-thread throughput / 1-thread throughput for 16 MiB decodes (wall clock),
    and the CPU seconds per wall second of the 2-thread run."""
    impl = I.Ours(backend)
    if not impl.available:
        return None
    import eventstream

    impl.activate()
    wire = W.single("16mib").wire
    decode = eventstream.decode

    def make_run() -> I.Run:
        data = bytes(bytearray(wire))  # each thread its own message
        held: List[Any] = [None]

        def run() -> None:
            m = decode(data)
            len(m.payload)
            if keep:
                held[0] = m

        return run

    try:
        T.unpin()
        one = T.threaded_rate(make_run, 1, calls)[0]
        two, busy = T.threaded_rate(make_run, 2, calls)
    finally:
        T.pin()
        impl.deactivate()
    return two / one, busy


# ---------------------------------------------------------------- the run


def run_all(reps: int, instructions: bool, smoke: bool) -> Dict[str, Any]:
    found = I.all_impls()
    wanted: List[Body] = []
    for row in TARGETS:
        for body in bodies_of(row).values():
            if body not in wanted:
                wanted.append(body)
    print(f"checking {len(wanted)} bodies", flush=True)
    runs = {b: build(found, b) for b in wanted}
    floors = boundary.floor_bodies()
    for (op, workload), run in floors.items():  # a floor must decode right too
        if not op.startswith("encode"):
            found["c"].activate()
            try:
                check_decoded(found["c"], workload, run(), lambda r: _normal_list(found["c"], r))
            finally:
                found["c"].deactivate()
    # Floors are ours-independent callables; the C backend is active around them
    # (it is for the decode() that _message_parts makes once).
    timed: Dict[Any, Timed] = {}
    for body, run in runs.items():
        if run is not None:
            timed[body] = Timed(found[body[2]], run, W.messages_per_op(body[1]))
    for key, run in floors.items():
        timed[("floor", *key)] = Timed(found["c"], run, W.messages_per_op(key[1]))
    if smoke:
        for t in timed.values():
            t.calls = 1
        reps = 1
    # The workloads (10,000-message lists, 16 MiB buffers) out of the collector's
    # sight, as in instructions.py: a full collection then costs what the body's
    # own objects cost, whichever rows were built.
    gc.collect()
    getattr(gc, "freeze", lambda: None)()  # CPython 3.7+; PyPy has none
    samples: Dict[Any, List[float]] = {k: [] for k in timed}
    keys = list(timed)
    for rep in range(reps):
        print(f"timing: repetition {rep + 1} of {reps}", flush=True)
        order = keys[rep % len(keys) :] + keys[: rep % len(keys)] if keys else []
        for key in order:
            samples[key].append(timed[key].per_message())
    threads: Dict[Tuple[str, bool], List[Tuple[float, float]]] = {}
    for _, keep, _ in THREAD_ROWS:
        for backend in OURS:
            calls = 2 if smoke else THREAD_CALLS
            got = [thread_scaling(backend, keep, calls) for _ in range(1 if smoke else reps)]
            threads[(backend, keep)] = [g for g in got if g is not None]
    counts: Dict[Body, float] = {}
    if instructions and not smoke:
        print("counting instructions under callgrind (one valgrind run)", flush=True)
        floors_wanted = [(op, w, "floor") for op, w in floors]
        counts = __import__("instructions").count_many(
            [b for b, r in runs.items() if r] + floors_wanted
        )
    return {"samples": samples, "threads": threads, "counts": counts, "reps": reps}


# ---------------------------------------------------------------- the table


def _x(x: Optional[float]) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1f}{TIMES}" if x >= 10 else f"{x:.2f}{TIMES}"


def _ratios(samples: Dict[Any, List[float]], peer: Any, ours: Any) -> List[float]:
    a, b = samples.get(peer), samples.get(ours)
    if not a or not b:
        return []
    return [p / o for p, o in zip(a, b)]


def _spread(values: List[float]) -> str:
    if not values:
        return "n/a"
    med = statistics.median(values)
    if len(values) == 1:
        return _x(med)
    return f"{_x(med)} ({min(values):.2f}-{max(values):.2f})"


def _met(value: Optional[float], need: Optional[float]) -> str:
    if need is None:
        return NONE
    if value is None:
        return "n/a"
    return "yes" if value >= need else "**no**"


def render(result: Dict[str, Any]) -> str:
    samples, counts, threads = result["samples"], result["counts"], result["threads"]
    head = (
        "| path | backend | target | by time: median (range) | by instructions "
        "| met (time / instr) | floor: peer/floor | share of floor |"
    )
    lines = [head, "|" + "---|" * 8]
    detail = ["| body | time per message (median) | instructions per message |", "|---|---|---|"]
    for row in TARGETS:
        label, op, workload, peer, c_need, py_need = row
        bodies = bodies_of(row)
        for backend, need in (("c", c_need), ("python", py_need)):
            ratios = _ratios(samples, bodies["peer"], bodies[backend])
            by_time = statistics.median(ratios) if ratios else None
            ci, cp = counts.get(bodies[backend]), counts.get(bodies["peer"])
            by_instr = cp / ci if ci and cp else None
            floor_cells = ["", ""]
            floor = ("floor", op, workload)
            if backend == "c" and samples.get(floor):
                # share = floor time / C time, per repetition
                share = [1 / r for r in _ratios(samples, bodies["c"], floor)]
                floor_cells = [
                    _spread(_ratios(samples, bodies["peer"], floor)),
                    f"{statistics.median(share):.0%}" if share else "n/a",
                ]
                cf = counts.get((op, workload, "floor"))
                if cf and cp and ci:
                    floor_cells[0] += f"; instr {_x(cp / cf)}"
                    floor_cells[1] += f"; instr {cf / ci:.0%}"
            elif backend == "c":
                floor_cells = [NONE, NONE]
            target = NONE if need is None else f"≥ {need:g}{TIMES}"
            met = f"{_met(by_time, need)} / {_met(by_instr, need)}" if need else NONE
            lines.append(
                f"| {label} vs {peer} | {backend} | {target} | {_spread(ratios)} | {_x(by_instr)} "
                f"| {met} | {floor_cells[0]} | {floor_cells[1]} |"
            )
    for label, keep, need in THREAD_ROWS:
        for backend in OURS:
            pairs = threads.get((backend, keep), [])
            got = [ratio for ratio, _ in pairs]
            busy = [b for _, b in pairs]
            value = statistics.median(got) if got else None
            target = f"≥ {need:g}{TIMES}" if backend == "c" else NONE
            met = f"{_met(value, need)} / -" if backend == "c" else NONE
            ideal = f"2.00{TIMES} (ideal)" if backend == "c" else ""
            share = f"{value / 2:.0%}" if backend == "c" and value else ""
            cpu = f"; CPU/wall {statistics.median(busy):.2f}" if busy else ""
            lines.append(
                f"| {label} | {backend} | {target} | {_spread(got)}{cpu} | n/a (wall clock) "
                f"| {met} | {ideal} | {share} |"
            )
    for key in sorted(samples, key=str):
        if not samples[key]:
            continue
        name = " ".join(key)
        count = counts.get((*key[1:], "floor") if key[0] == "floor" else key)
        detail.append(
            f"| {name} | {_time(statistics.median(samples[key]))} | "
            f"{'n/a' if count is None else f'{count:,.0f}'} |"
        )
    return "\n".join(lines) + "\n\nPer body (medians over repetitions):\n\n" + "\n".join(detail)


HEADLINE = {  # README rows: (op, workload) -> label
    ("encode", "audio"): "encode from a header dict (AudioEvent, 3,200 B)",
    ("encode", "signed"): "signed Transcribe frame (two encodes)",
    ("decode", "transcript"): "transcript decode",
    ("stream", "stream-4k"): "stream, 4 KiB chunks",
    ("stream", "stream-100b"): "stream, 100-byte chunks",
    ("stream", "stream-7b"): "stream, 7-byte chunks",
    ("decode", "unique-headers"): "unique headers decode",
    ("decode", "16mib"): "16 MiB decode",
    ("decode-zerocopy", "16mib"): "16 MiB decode, `copy=False`",
}


def headline(result: Dict[str, Any]) -> str:
    """The like-for-like rows for the README: time ratio (instruction ratio)."""
    samples, counts = result["samples"], result["counts"]
    lines = ["| path | vs | C backend | Python backend |", "|---|---|---|---|"]
    for row in TARGETS:
        label = HEADLINE.get((row[1], row[2]))
        if label is None:
            continue
        bodies = bodies_of(row)
        cells = []
        for backend in OURS:
            ratios = _ratios(samples, bodies["peer"], bodies[backend])
            ci, cp = counts.get(bodies[backend]), counts.get(bodies["peer"])
            cell = _x(statistics.median(ratios)) if ratios else "n/a"
            if ci and cp:
                cell += f" ({_x(cp / ci)})"
            cells.append(cell)
        if cells != ["n/a", "n/a"]:
            peer = row[3].replace("_", "-")
            lines.append(f"| {label} | {peer} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _time(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f} µs" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


def _jsonable(result: Dict[str, Any]) -> Dict[str, Any]:
    """The raw figures, tuple keys joined with spaces."""

    def keyed(d: Dict[Any, Any]) -> Dict[str, Any]:
        return {" ".join(map(str, k)): v for k, v in d.items()}

    return {name: keyed(v) if isinstance(v, dict) else v for name, v in result.items()}


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "?"


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reps", type=int, default=7, help="timing repetitions (default 7)")
    ap.add_argument("--no-instructions", action="store_true", help="skip the callgrind counts")
    ap.add_argument("--smoke", action="store_true", help="check and run each body once (CI)")
    ap.add_argument("--out", help="also write the table (markdown) to this file")
    ap.add_argument("--note", default="", help="a note for the header, e.g. which code was run")
    args = ap.parse_args(argv)
    import eventstream

    pinned = T.pin()
    started = time.time()
    result = run_all(args.reps, not args.no_instructions, args.smoke)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),)
    header = [
        "# Issue 10 targets"
        + (" (smoke run: the numbers mean nothing)" if args.smoke else ", from one run"),
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; commit "
        f"{_git('rev-parse', '--short', 'HEAD')}"
        f"{' (with uncommitted changes)' if _git('status', '--porcelain', *CODE) else ''}; "
        f"eventstream {eventstream.__version__}; Python {platform.python_version()} "
        f"({platform.python_implementation()}); {pinned}; {result['reps']} timing repetitions; "
        f"load average at the end {load[0]:.1f}; {time.time() - started:.0f} s."
        + (f" {args.note}" if args.note else ""),
        "",
        "Command: `python benchmarks/"
        + shlex.join([os.path.basename(__file__), *(argv or sys.argv[1:])])
        + "`",
        "",
        "Ratios are peer time / our time (above 1: we are faster); by time, the median over "
        "repetitions with the range in brackets; by instructions, peer instructions / ours "
        "(callgrind, exact from run to run, blind to the kernel's page faults). "
        "Floor: peer time / floor-body time (`boundary.py`, the best ratio a cffi binding "
        'could reach); share: floor time / C time; "instr": the same from instruction counts.',
        "",
        "",
    ]
    text = "\n".join(header) + render(result) + "\n"
    text += "\nHeadline (the README's table: by time, by instructions in brackets):\n\n"
    text += headline(result) + "\n"
    print()
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        raw = os.path.splitext(args.out)[0] + ".json"
        with open(raw, "w", encoding="utf-8") as f:
            json.dump(_jsonable(result), f, indent=1)
        print(f"wrote {args.out} and {raw}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
