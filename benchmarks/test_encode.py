"""One-shot encoding of a prebuilt message (each implementation's own input type)."""

from __future__ import annotations

from typing import Any

import pytest
import workloads as W
from _check import check_encoded, info

ENCODERS = ("python", "c", "amazon_transcribe", "smithy")
CASES = [(w, i) for w in W.ENCODE_WORKLOADS for i in ENCODERS]


@pytest.mark.parametrize(("workload", "impl"), CASES, ids=[f"{w}-{i}" for w, i in CASES])
def test_encode(benchmark: Any, use_impl: Any, workload: str, impl: str) -> None:
    implementation = use_impl(impl)
    run = implementation.encoder(workload)
    check_encoded(implementation, workload, run())
    info(benchmark, "encode", workload, impl)
    benchmark(run)
