"""atheris harness over the Python API: ``decode`` and ``Decoder.feed`` with
fuzzer-chosen chunking, on every backend, failing on any disagreement.

The rules are in ``es_oracle.py`` (the regression tests apply the same ones).
Usage, with libFuzzer's options::

    python tests/fuzz/atheris_differential.py [-runs=N] [-seed=S] [-max_total_time=T] CORPUS...

``EVENTSTREAM_FUZZ_BACKENDS`` (default ``c,python``) names the backends to compare;
a missing C backend is an error unless it is left out there.  The Python code is
instrumented for coverage; the C core is exercised but not instrumented (its own
libFuzzer harnesses cover it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["eventstream", "es_oracle"]):
    import es_oracle

BACKENDS = [
    name.strip()
    for name in os.environ.get("EVENTSTREAM_FUZZ_BACKENDS", "c,python").split(",")
    if name.strip()
]


def test_one_input(data: bytes) -> None:
    es_oracle.check(data, BACKENDS)


def main() -> None:
    for name in BACKENDS:
        es_oracle._select.load(name)  # fail now, not on the first input
    print(f"atheris_differential: backends {BACKENDS}", file=sys.stderr)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
