"""Incremental decoding: a stream fed in fixed-size chunks to a fresh decoder."""

from __future__ import annotations

from typing import Any

import impls as I
import pytest
import workloads as W
from _check import check_decoded, info

CASES = [(w, i) for w in W.STREAM_WORKLOADS for i in I.ALL]


@pytest.mark.parametrize(("workload", "impl"), CASES, ids=[f"{w}-{i}" for w, i in CASES])
def test_stream(benchmark: Any, use_impl: Any, workload: str, impl: str) -> None:
    implementation = use_impl(impl)
    run, normalize = implementation.streamer(workload)
    check_decoded(implementation, workload, run(), normalize)
    info(benchmark, "stream", workload, impl)
    benchmark(run)
