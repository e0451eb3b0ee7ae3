"""Replay the fuzz regression corpus and the fuzz seeds through the Python API.

Every crash or disagreement a fuzzer found is a file under
``tests/fuzz/regressions/<harness>/`` (format: stream bytes, then the harness's
control byte; see tests/fuzz/README.md).  Each one runs here on both backends
under the rules of ``tests/fuzz/es_oracle.py``, and the two backends must observe
exactly the same results.  The C replay of the same files runs in
``.ci/steps/30-fuzz.sh``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Tuple

import pytest

FUZZ_DIR = Path(__file__).parent / "fuzz"
sys.path.insert(0, str(FUZZ_DIR))

import es_oracle  # noqa: E402
import make_corpus  # noqa: E402

HARNESSES = ("python", "decode", "fixcrc", "roundtrip")


def _as_python_input(harness: str, data: bytes) -> bytes:
    """The input the Python oracle runs for a file found by ``harness``.

    A C harness's file becomes the stream that harness decoded (CRCs repaired as it
    repairs them) with a Python control byte for the same limits and a chunk size
    from the same bits (bit 5 cleared: the stream is already repaired).
    """
    if not data or harness == "python":
        return data
    stream, control = data[:-1], data[-1]
    if harness != "decode":
        message_crc = harness == "roundtrip" or bool(control & 0x80)
        stream = es_oracle.repair_crcs(stream, message_crc)
    return stream + bytes([control & 0x5F])


def _regressions() -> List[Tuple[str, bytes]]:
    cases = []
    for harness in HARNESSES:
        folder = FUZZ_DIR / "regressions" / harness
        for path in sorted(folder.glob("*")) if folder.is_dir() else ():
            if path.is_file() and not path.name.startswith((".", "README")):
                data = _as_python_input(harness, path.read_bytes())
                cases.append((f"{harness}/{path.name}", data))
    return cases


def _seeds() -> List[Tuple[str, bytes]]:
    cases = []
    for index, seed in enumerate(make_corpus.seeds()):
        for control in make_corpus.CONTROLS["python"]:
            cases.append((f"seed{index}-{control:02x}", seed + bytes([control])))
    return cases


REGRESSIONS = _regressions()
SEEDS = _seeds()
CASES = REGRESSIONS + SEEDS


def test_regression_corpus_is_present() -> None:
    assert (FUZZ_DIR / "regressions").is_dir()
    assert SEEDS


@pytest.mark.parametrize(("name", "data"), CASES, ids=[name for name, _ in CASES])
def test_rules_hold(backend: str, name: str, data: bytes) -> None:
    es_oracle.observe(data)


@pytest.mark.c_backend
@pytest.mark.parametrize(("name", "data"), CASES, ids=[name for name, _ in CASES])
def test_backends_agree(name: str, data: bytes) -> None:
    es_oracle.check(data, ["c", "python"])


def test_oracle_catches_a_disagreement(monkeypatch: pytest.MonkeyPatch) -> None:
    """The oracle is not vacuous: a decode() that lies about an offset is caught."""
    import eventstream

    real = eventstream.decode

    def lying(data, *, limits=None):  # type: ignore[no-untyped-def]
        try:
            return real(data, limits=limits)
        except eventstream.DecodeError as exc:
            exc.offset += 1
            raise

    monkeypatch.setattr(eventstream, "decode", lying)
    with pytest.raises(es_oracle.Disagreement):
        es_oracle.observe(b"\x00" * 20 + b"\x00")


def test_oracle_rejects_foreign_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    import eventstream

    def broken(data, *, limits=None):  # type: ignore[no-untyped-def]
        raise IndexError("boom")

    monkeypatch.setattr(eventstream, "decode", broken)
    with pytest.raises(es_oracle.Disagreement, match="non-EventStreamError"):
        es_oracle.observe(b"\x00" * 20 + b"\x00")
