"""A test run on a pure-Python install says in one line how to run the pure-Python tests."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TARGET = "tests/test_threads.py::test_a_refused_call_changes_nothing"

# Runs pytest with the compiled module made unimportable, as on an install
# whose C extension was not built.
BLOCKED = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "eventstream._eventstream_c":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


# Each run starts a pytest process (about 2 s with hypothesis imported): the only
# way to see what a user on such an install sees.
def run_pytest(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EVENTSTREAM_BACKEND="auto", HYPOTHESIS_PROFILE="dev")
    return subprocess.run(
        [sys.executable, "-c", BLOCKED, "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_pure_python_install_gets_one_line_naming_no_c_backend():
    result = run_pytest(TARGET)
    assert result.returncode == 4, result.stdout + result.stderr
    hint = [line for line in result.stderr.splitlines() if "--no-c-backend" in line]
    assert len(hint) == 1 and "C backend is not available" in hint[0], result.stderr
    assert "FAILED" not in result.stdout and " failed" not in result.stdout


def test_the_hinted_command_runs_the_pure_python_tests():
    result = run_pytest("--no-c-backend", TARGET)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "deselected" in result.stdout
