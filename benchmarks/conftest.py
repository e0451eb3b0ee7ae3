"""pytest configuration of the benchmark suite (``pytest benchmarks``).

Pins the process to one CPU (``BENCH_CPU``, default: the last one allowed) to
reduce noise, builds the implementations once per session, and lists in the
report header which peers are installed and why the others are not.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import impls as I
from timing import pin

_PINNED = pin()
_IMPLS: Dict[str, I.Impl] = I.all_impls()
_CRC = I.crc_impls()


def pytest_report_header(config: Any) -> list:
    lines = [f"benchmarks: {_PINNED}; Python {sys.version.split()[0]}"]
    for name, impl in _IMPLS.items():
        state = "available" if impl.available else f"MISSING ({impl.reason})"
        lines.append(f"  {name}: {state}")
    missing = [n for n, (fn, _) in _CRC.items() if fn is None]
    if missing:
        lines.append(f"  crc32 not available: {', '.join(missing)}")
    return lines


def pytest_terminal_summary(terminalreporter: Any) -> None:
    missing = [f"{n} ({i.reason})" for n, i in _IMPLS.items() if not i.available]
    missing += [f"crc32 {n} ({why})" for n, (fn, why) in _CRC.items() if fn is None]
    if missing:
        terminalreporter.write_sep("-", "implementations not benchmarked")
        for line in missing:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def all_impls() -> Dict[str, I.Impl]:
    return _IMPLS


@pytest.fixture(scope="session")
def crc_impls() -> Dict[str, Any]:
    return _CRC


@pytest.fixture
def use_impl(all_impls: Dict[str, I.Impl], request: Any) -> Any:
    """``use_impl(name)`` -> the implementation, made active; skips if missing."""

    def get(name: str) -> I.Impl:
        impl = all_impls[name]
        if not impl.available:
            pytest.skip(f"{name} not available: {impl.reason}")
        impl.activate()
        request.addfinalizer(impl.deactivate)
        return impl

    return get
