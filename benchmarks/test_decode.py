"""One-shot decoding: bytes -> message, headers and payload read once.

``decode`` drops each result at once; for the 16 MiB message ``decode-keep``
holds it until the next decode has returned (a consumer's pattern: every fresh
payload then lands in fresh pages), and ``decode-zerocopy[-keep]`` times
``decode(data, copy=False)`` where the package has it (skipped otherwise).
"""

from __future__ import annotations

from typing import Any

import impls as I
import pytest
import workloads as W
from _check import check_decoded, info

CASES = [("decode", w, i) for w in W.DECODE_WORKLOADS for i in I.ALL]
CASES += [(op, "16mib", i) for op in I.DECODE_OPS[1:] for i in I.ALL]


@pytest.mark.parametrize(
    ("op", "workload", "impl"), CASES, ids=[f"{o}-{w}-{i}" for o, w, i in CASES]
)
def test_decode(benchmark: Any, use_impl: Any, op: str, workload: str, impl: str) -> None:
    implementation = use_impl(impl)
    if not implementation.supports(op):
        pytest.skip(f"{impl} has no {op}")
    run, normalize = implementation.body(op, workload)
    check_decoded(implementation, workload, run(), normalize)
    info(benchmark, op, workload, impl)
    benchmark(run)
