"""Issue 16: every regular expression in the package, under a time bound on adversarial input.

``tests/regex_audit.py`` finds the patterns (by reading the source, so new ones are audited
without being listed) and builds the inputs from each pattern's own pieces.  Each pattern
runs in a forked process, so an exponential one fails the test instead of hanging it.
"""

from __future__ import annotations

import os

import pytest
from regex_audit import Found, audit_with_timeout, find_patterns

PATTERNS = find_patterns()


def test_the_audit_finds_the_patterns_it_should():
    wheres = {found.where.split(":")[0] for found in PATTERNS}
    assert "eventstream/cli/inputs.py" in wheres and "eventstream/cli/captures.py" in wheres
    assert "eventstream/_sniff.py" in wheres  # the sniffer that issue 16 item 1 fixed
    assert len(PATTERNS) >= 10


def test_the_audit_catches_a_known_exponential_pattern():
    slow = Found("example", r"\s*(<!--.*?-->\s*)*<(html|body)\b", 0, False)
    problems = audit_with_timeout(slow, 3.0)
    assert problems and any("'<!--' a '-->'" in problem for problem in problems)


@pytest.mark.skipif(os.name != "posix", reason="the audit forks a process per pattern")
@pytest.mark.parametrize("found", PATTERNS, ids=[found.where for found in PATTERNS])
def test_no_pattern_backtracks_super_linearly(found):
    problems = audit_with_timeout(found, 5.0)
    assert not problems, f"{found.where} {found.pattern!r}: " + "; ".join(problems)
