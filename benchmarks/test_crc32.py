"""CRC32 throughput: this package's backends against zlib and the SIMD libraries."""

from __future__ import annotations

import zlib
from typing import Any, Dict

import pytest
import workloads as W

IMPLS = ("python", "c", "zlib", "isal", "zlib-ng", "awscrt")
CASES = [(s, i) for s in W.CRC_SIZES for i in IMPLS]


@pytest.mark.parametrize(("size", "impl"), CASES, ids=[f"{s}-{i}" for s, i in CASES])
def test_crc32(benchmark: Any, crc_impls: Dict[str, Any], size: str, impl: str) -> None:
    crc, reason = crc_impls[impl]
    if crc is None:
        pytest.skip(f"{impl} not available: {reason}")
    data = W.crc_data(size)
    assert crc(b"123456789") == 0xCBF43926
    assert crc(data) == zlib.crc32(data)
    half = len(data) // 2
    assert crc(data[half:], crc(data[:half])) == zlib.crc32(data)
    benchmark.group = f"crc32 {size}"
    benchmark.extra_info.update(op="crc32", workload=size, impl=impl, bytes=len(data), messages=1)
    benchmark(crc, data)
