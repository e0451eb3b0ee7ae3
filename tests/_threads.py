"""Running test work in several threads at once."""

from __future__ import annotations

import threading
from typing import Callable, List


def run_together(work: Callable[[int], None], threads: int = 4) -> None:
    """``work(k)`` in ``threads`` threads started at once; the first failure is raised."""
    errors: List[BaseException] = []
    gate = threading.Barrier(threads)

    def run(k: int) -> None:
        gate.wait()
        try:
            work(k)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors, errors[0]
