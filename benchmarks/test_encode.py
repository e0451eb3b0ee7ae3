"""One-shot encoding from the user-level input.

``encode``: a dict of headers and a payload, the dict built afresh for every
message (ours: ``encode(Message(headers, payload))``, amazon_transcribe:
``serialize(headers, payload)``); the ``signed`` workload is the two encodes
of a signed Transcribe frame.  ``encode-message`` (ours only, a secondary row)
encodes a prebuilt ``Message``.
"""

from __future__ import annotations

from typing import Any

import pytest
import workloads as W
from _check import check_encoded, info

ENCODERS = ("python", "c", "amazon_transcribe", "smithy")
CASES = [("encode", w, i) for w in W.ENCODE_WORKLOADS for i in ENCODERS]
CASES += [("encode-message", w, i) for w in W.ENCODE_WORKLOADS for i in ("python", "c")]


@pytest.mark.parametrize(
    ("op", "workload", "impl"), CASES, ids=[f"{o}-{w}-{i}" for o, w, i in CASES]
)
def test_encode(benchmark: Any, use_impl: Any, op: str, workload: str, impl: str) -> None:
    implementation = use_impl(impl)
    run = implementation.body(op, workload)[0]
    check_encoded(implementation, workload, run())
    info(benchmark, op, workload, impl)
    benchmark(run)
