"""The signing issue's Transcribe examples, run against the offline server: they print the
scripted transcript (finals kept, the partial one replaced in place on a terminal)."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from eventstream.testing.servers._thread import ServerThread
from eventstream.testing.servers.transcribe import TranscribeServer

EXAMPLES = Path(__file__).parent.parent / "examples"
SCRIPT = ["The Amazon is a river.", "It flows to the Atlantic."]


@pytest.fixture
def server() -> Iterator[TranscribeServer]:
    with ServerThread(TranscribeServer(SCRIPT, seconds_per_word=0.1)) as running:
        yield running


def arguments(server: TranscribeServer, endpoint: str, secret: str = "") -> List[str]:
    return [
        "--silence",
        "2",
        "--pace",
        "0",
        "--endpoint",
        endpoint,
        "--region",
        server.region,
        "--access-key",
        server.credentials.access_key,
        "--secret-key",
        secret or server.credentials.secret_key,
    ]


def run_example(name: str, args: List[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("example", "endpoint"),
    [("transcribe_websocket.py", "websocket"), ("transcribe_http2_sender.py", "http2")],
)
def test_example_prints_the_scripted_transcript(
    server: TranscribeServer, example: str, endpoint: str
) -> None:
    url = server.websocket_endpoint if endpoint == "websocket" else server.http2_endpoint
    done = run_example(example, arguments(server, url))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == SCRIPT
    assert server.sessions[-1].outcome == "completed"


def test_example_reports_a_refused_signature(server: TranscribeServer) -> None:
    args = arguments(server, server.websocket_endpoint, secret="not-the-secret")
    done = run_example("transcribe_websocket.py", args)
    assert done.returncode == 1
    assert "403" in done.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_partials_are_replaced_in_place_on_a_terminal(
    server: TranscribeServer, monkeypatch: Any
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    example = importlib.import_module("transcribe_websocket")
    out = _Terminal()
    assert example.main(arguments(server, server.websocket_endpoint), out=out) == 0
    text = out.getvalue()
    lines = [line.rsplit("\r\x1b[K", 1)[-1] for line in text.split("\n") if line]
    assert lines == SCRIPT  # what stays on screen: each final, over its partials
    assert "The Amazon is\r\x1b[K" in text  # a partial shown, then cleared in place
