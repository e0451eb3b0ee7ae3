"""The README's "Signing events and Transcribe streaming" examples run as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "\n## Signing events and Transcribe streaming\n"


def _section_blocks() -> List[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else len(text)]
    return re.findall(r"<!-- doctest -->\n```python\n(.*?)```", section, re.S)


def test_the_section_has_both_examples() -> None:
    blocks = _section_blocks()
    assert len(blocks) == 2
    assert "EventVerifier" in blocks[0] and "event_signer" in blocks[0]
    assert "TranscriptAssembler" in blocks[1] and "websocket_url" in blocks[1]


@pytest.mark.parametrize("index", [0, 1])
def test_signing_example_runs(index: int) -> None:
    code = compile(_section_blocks()[index], f"README.md (signing, block {index})", "exec")
    exec(code, {"__name__": "readme_example"})
