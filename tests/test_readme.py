"""Every README Python block marked ``<!-- doctest -->`` runs as written.

Each block runs in a fresh namespace, from the repository root, on the active
backend, so the tour cannot drift from the API (no top-level ``async for``,
no undefined names).  Mark a block by putting ``<!-- doctest -->`` on the
line right before its opening fence.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^<!-- doctest -->\n```python\n(.*?)^```", re.S | re.M)


def marked_blocks():
    text = README.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start(1)) + 1
        found.append(pytest.param(match.group(1), line, id=f"README.md:{line}"))
    return found


def test_the_tour_and_the_botocore_section_are_marked():
    text = README.read_text(encoding="utf-8")
    for heading in ("## A short tour\n", "## Coming from botocore\n"):
        section = text[text.index(heading) :]
        section = section[: section.index("\n## ", 1)]
        assert BLOCK.search(section), f"no <!-- doctest --> block under {heading.strip()}"


@pytest.mark.parametrize(("code", "line"), marked_blocks())
def test_readme_block_runs(code, line, monkeypatch):
    monkeypatch.chdir(ROOT)
    compiled = compile("\n" * (line - 1) + code, str(README), "exec")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compiled, {"__name__": "__readme__"})
    assert os.getcwd() == str(ROOT)
