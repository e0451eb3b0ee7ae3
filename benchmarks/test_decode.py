"""One-shot decoding: bytes -> message, headers and payload read once."""

from __future__ import annotations

from typing import Any

import impls as I
import pytest
import workloads as W
from _check import check_decoded, info

CASES = [(w, i) for w in W.DECODE_WORKLOADS for i in I.ALL]


@pytest.mark.parametrize(("workload", "impl"), CASES, ids=[f"{w}-{i}" for w, i in CASES])
def test_decode(benchmark: Any, use_impl: Any, workload: str, impl: str) -> None:
    implementation = use_impl(impl)
    run, normalize = implementation.decoder(workload)
    check_decoded(implementation, workload, run(), normalize)
    info(benchmark, "decode", workload, impl)
    benchmark(run)
