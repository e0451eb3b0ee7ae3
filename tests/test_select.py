"""Backend selection through EVENTSTREAM_BACKEND, in fresh interpreters."""

from __future__ import annotations

import os
import subprocess
import sys

import eventstream

# The subprocess imports the same copy of the package as this test run.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(eventstream.__file__))


def run(env_value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EVENTSTREAM_BACKEND=env_value, PYTHONPATH=PACKAGE_PARENT)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import eventstream; print(eventstream.BACKEND, eventstream.BACKEND_REASON)",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(__file__),
    )


def test_python_forces_the_pure_python_backend():
    result = run("python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "python"
    assert "EVENTSTREAM_BACKEND=python" in result.stdout


def test_an_unknown_choice_is_an_import_error_that_names_the_choices():
    result = run("fortran")
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "auto, c, python" in result.stderr
