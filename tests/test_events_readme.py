"""The README's "Message semantics" examples run, on both backends.

(tests/test_readme.py, where present, runs every ``<!-- doctest -->`` block of the README; this
keeps the message-layer examples checked on their own, and on each backend.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _section_blocks():
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Message semantics\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end >= 0 else len(text)]
    return re.findall(r"<!-- doctest -->\n```python\n(.*?)```", section, re.S)


def test_the_section_has_both_examples():
    blocks = _section_blocks()
    assert len(blocks) == 2
    assert "iter_events" in blocks[0] and "unwrap_bedrock_chunk" in blocks[0]
    assert "aiter_events" in blocks[1] and "BadRequestException" in blocks[1]


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("index", [0, 1])
def test_message_semantics_example_runs(index):
    code = compile(
        _section_blocks()[index], f"README.md (Message semantics, block {index})", "exec"
    )
    exec(code, {"__name__": "readme_example"})
