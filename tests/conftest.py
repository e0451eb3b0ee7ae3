"""Test configuration: every codec test runs against both backends in one run.

The ``backend`` fixture switches the active backend for one test.  A C backend
that is not built or does not import stops the run with a one-line hint (its
tests never skip silently); pass ``--no-c-backend`` to deselect them
deliberately (e.g. on a pure-Python install).
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest
from hypothesis import HealthCheck, settings

import eventstream
from eventstream import _active, _header_cache, _select

settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("long", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-c-backend",
        action="store_true",
        help="deselect the tests of the C backend (for a pure-Python install)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if not config.getoption("--no-c-backend"):
        if any(item.get_closest_marker("c_backend") for item in items):
            _require_c_backend()
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("c_backend") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _require_c_backend() -> None:
    """Stop with one line, not one error per C test, when the C backend is not built."""
    try:
        _select.load("c")
    except ImportError as exc:
        raise pytest.UsageError(
            f"the C backend is not available ({exc}); on a pure-Python install run "
            "`pytest --no-c-backend`, or build it with `pip install -e .` and a C compiler"
        ) from None


def pytest_report_header(config: pytest.Config) -> str:
    try:
        compiled = __import__("eventstream._eventstream_c", fromlist=["lib"]).__file__
    except ImportError as exc:
        compiled = f"not importable ({exc})"
    return (
        f"eventstream {eventstream.__version__}: BACKEND={eventstream.BACKEND} "
        f"(reason: {eventstream.BACKEND_REASON}); compiled module: {compiled}"
    )


@pytest.fixture(
    params=[pytest.param("c", marks=pytest.mark.c_backend), "python"],
)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Make ``request.param`` the active backend for the test; yields its name."""
    module = _select.load(request.param)
    previous = _active.backend
    _active.restore(module)
    _header_cache.clear()
    try:
        yield request.param
    finally:
        _active.restore(previous)
