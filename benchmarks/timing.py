"""Timing helpers shared by ``targets.py`` and ``boundary.py``.

A body is a zero-argument callable.  ``calibrate`` picks how many calls make a
sample of about ``SAMPLE_SECONDS``; ``sample`` returns the CPU time per call of
one such sample (``time.process_time``: time spent descheduled while other
processes run on a shared machine does not count); ``best`` is the least
disturbed of a few samples.  Results are dropped at once unless the body keeps
them itself.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, List, Tuple

Run = Callable[[], Any]
SAMPLE_SECONDS = 0.02


def pin() -> str:
    """Pin this process to one CPU (``BENCH_CPU``, default the last allowed)."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    allowed = sorted(os.sched_getaffinity(0))
    cpu = int(os.environ.get("BENCH_CPU", allowed[-1]))
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as exc:
        return f"not pinned ({exc})"
    return f"pinned to CPU {cpu}"


def unpin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))


def sample(run: Run, calls: int, timer: Callable[[], float] = time.process_time) -> float:
    """Seconds per call over ``calls`` calls."""
    loop = range(calls)
    start = timer()
    for _ in loop:
        run()
    return (timer() - start) / calls


def calibrate(run: Run, seconds: float = SAMPLE_SECONDS) -> int:
    """How many calls of ``run`` take about ``seconds`` (at least 1)."""
    run()
    calls = 1
    while True:
        took = sample(run, calls) * calls
        if took >= seconds / 4 or calls >= 1 << 20:
            return max(1, round(calls * seconds / max(took, 1e-9)))
        calls *= 4


def best(run: Run, calls: int, samples: int = 3) -> float:
    """Seconds per call: the least of ``samples`` samples."""
    return min(sample(run, calls) for _ in range(samples))


def threaded_rate(make_run: Callable[[], Run], threads: int, calls: int) -> Tuple[float, float]:
    """Calls per second (wall clock) of ``threads`` threads, each running its own
    body from ``make_run()`` ``calls`` times, all started together; and the
    process's CPU seconds per wall second meanwhile (about 1 when the threads
    take turns holding the GIL, up to ``threads`` when they run at once and the
    machine has the cores free)."""
    runs: List[Run] = [make_run() for _ in range(threads)]
    gate = threading.Barrier(threads + 1)

    def work(run: Run) -> None:
        gate.wait()
        for _ in range(calls):
            run()

    workers = [threading.Thread(target=work, args=(r,)) for r in runs]
    for w in workers:
        w.start()
    gate.wait()
    start, cpu = time.perf_counter(), time.process_time()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    return threads * calls / wall, (time.process_time() - cpu) / wall
