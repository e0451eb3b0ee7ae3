"""Helpers shared by the tests/test_cli_*.py files (not a conftest, so it cannot clash)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

import pytest

from eventstream.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "transcribe-session.eventstream"
MAKE_SAMPLE = ROOT / "samples" / "make_sample.py"
SAMPLE_MESSAGES = 8


VECTORS = ROOT / "tests" / "vectors"  # the conformance vectors (see tests/vectors/README.md)


def positive_vectors() -> List[Tuple[str, Path, Optional[Path]]]:
    """``(id, encoded file, decoded JSON file or None)`` for every valid vector."""
    found = []
    for base, tag in ((VECTORS, "main"), (VECTORS / "smithy-rs", "smithy-rs")):
        for path in sorted((base / "encoded" / "positive").glob("*")):
            decoded = base / "decoded" / "positive" / path.name
            found.append((f"{tag}/{path.name}", path, decoded if decoded.exists() else None))
    return found


def negative_vectors() -> List[Tuple[str, Path]]:
    found = []
    for base, tag in ((VECTORS, "main"), (VECTORS / "smithy-rs", "smithy-rs")):
        for path in sorted((base / "encoded" / "negative").glob("*")):
            found.append((f"{tag}/{path.name}", path))
    return found


def expected_negative_text(name: str) -> Optional[str]:
    """The main set's expected error text ("Prelude checksum mismatch", ...)."""
    if not name.startswith("main/"):
        return None
    path = VECTORS / "decoded" / "negative" / name.split("/", 1)[1]
    return path.read_text().strip() if path.exists() else None


class Result(NamedTuple):
    status: int
    out: str
    err: str


def run(
    argv: Sequence[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Optional[pytest.MonkeyPatch] = None,
    stdin: Optional[bytes] = None,
) -> Result:
    """Call ``main(argv)`` in-process with captured output (and optional stdin bytes)."""
    capsys.readouterr()
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    status = main(list(argv))
    captured = capsys.readouterr()
    return Result(status, captured.out, captured.err)


def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


def corrupted_sample() -> bytes:
    """The sample with one bit flipped in message 2's ":event-type" ("TranscriptEvenu")."""
    data = bytearray(sample_bytes())
    data[data.index(b"TranscriptEvent") + 14] ^= 0x01
    return bytes(data)


def masked(layout: Dict[str, Any]) -> Dict[str, Any]:
    """A layout dict with CRCs made unsigned (the Go vectors write some as signed int32)."""
    result = dict(layout)
    for field in ("prelude_crc", "message_crc"):
        if field in result:
            result[field] &= 0xFFFFFFFF
    return result


def json_lines(text: str) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
