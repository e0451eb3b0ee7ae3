"""The CLI as a user runs it: `python -m eventstream`, the console script, pipes, --follow."""

from __future__ import annotations

import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, List, Optional

import pytest
from cli_support import MAKE_SAMPLE, SAMPLE, corrupted_sample, json_lines, sample_bytes

import eventstream

posix_only = pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals and ptys")
COMMAND = [sys.executable, "-m", "eventstream"]
# `python -m` puts the working directory first on sys.path: run outside the checkout so
# the installed package (with its compiled backend) is the one under test.
OUTSIDE = tempfile.mkdtemp(prefix="eventstream-cli-")


def _env(**extra: str) -> dict:
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def spawn(*args: str, **popen: Any) -> subprocess.Popen:  # type: ignore[type-arg]
    """The CLI started in the background with its output piped (for --follow)."""
    return subprocess.Popen(
        [*COMMAND, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
        cwd=OUTSIDE,
        **popen,
    )


def cli(*args: str, stdin: Optional[bytes] = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env=_env(**env),
        cwd=OUTSIDE,
    )


class LineReader:
    """Reads a process's stdout lines on a thread so tests can wait with a timeout."""

    def __init__(self, stream) -> None:
        self.lines: queue.Queue[Optional[bytes]] = queue.Queue()
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream) -> None:
        for line in iter(stream.readline, b""):
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, needle: bytes, timeout: float = 20.0) -> List[bytes]:
        seen: List[bytes] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            seen.append(line)
            if needle in line:
                return seen
        raise AssertionError(f"{needle!r} not seen; got {seen!r}")


def test_python_m_eventstream_dump(tmp_path):
    result = cli("dump", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "message 0 at byte 0: signed frame wrapping event AudioEvent" in out
    assert "message 6 at byte 2288: exception BadRequestException" in out
    assert result.stderr == b""


def test_console_script_is_installed():
    script = shutil.which("eventstream", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the console script is not installed next to this Python")
    result = subprocess.run([script, "verify", str(SAMPLE)], capture_output=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.decode() == f"{SAMPLE}: OK, 8 messages, 2570 bytes\n"


def test_no_arguments_prints_usage_and_exits_2():
    result = cli()
    assert result.returncode == 2
    assert b"usage: eventstream" in result.stderr


def test_stdin_and_a_dump_encode_pipeline_are_byte_exact():
    dumped = cli("dump", "--json", "-", stdin=sample_bytes())
    assert dumped.returncode == 0
    assert len(json_lines(dumped.stdout.decode())) == 8
    encoded = cli("encode", stdin=dumped.stdout)  # JSON from stdin, bytes to stdout
    assert encoded.returncode == 0, encoded.stderr
    assert encoded.stdout == sample_bytes()


def test_verify_exit_codes():
    assert cli("verify", "-q", str(SAMPLE)).returncode == 0
    broken = cli("verify", "-", stdin=corrupted_sample())
    assert broken.returncode == 1
    assert broken.stderr.decode().startswith(
        "<stdin>: invalid: message 2: message checksum mismatch"
    )
    missing = cli("verify", "/nonexistent/file")
    assert missing.returncode == 2
    assert (
        missing.stderr == b"eventstream: cannot read /nonexistent/file: No such file or directory\n"
    )


def test_garbage_and_binary_json_never_traceback():
    noise = bytes(random.Random(7).getrandbits(8) for _ in range(3000))
    for stdin in (noise, b"\x00" * 11, b"\xff" * 64, b"{" * 100):
        for command in ("dump", "inspect", "verify", "encode"):
            result = cli(command, "-", stdin=stdin)
            assert result.returncode == 1, (command, result)
            assert b"Traceback" not in result.stderr


def test_dump_prints_messages_from_a_pipe_as_they_arrive():
    frames = [
        eventstream.encode(eventstream.Message({":event-type": f"E{i}"}, b"x")) for i in range(3)
    ]
    proc = spawn("dump", "--follow", "-", stdin=subprocess.PIPE)
    try:
        reader = LineReader(proc.stdout)
        assert proc.stdin is not None
        for i, frame in enumerate(frames):
            # half a frame first: nothing may be printed for it yet
            proc.stdin.write(frame[:10])
            proc.stdin.flush()
            time.sleep(0.05)
            proc.stdin.write(frame[10:])
            proc.stdin.flush()
            reader.wait_for(f'"E{i}"'.encode())  # shown before the next frame is sent
        proc.stdin.close()
        tail = reader.wait_for(b"all valid")
        assert b"3 messages, " in tail[-1]
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        proc.wait()


def test_follow_a_growing_file_until_idle(tmp_path):
    path = tmp_path / "growing.eventstream"
    raw = sample_bytes()
    path.write_bytes(raw[:600])  # two messages and part of the third
    proc = spawn("dump", "--json", "--follow", "--idle-timeout", "1.5", str(path))
    try:
        reader = LineReader(proc.stdout)
        first = reader.wait_for(b'"total_length": 251')
        first += reader.wait_for(b'"total_length": 251')
        assert len(first) == 2
        with path.open("ab") as handle:
            handle.write(raw[600:])
        rest = reader.wait_for(b'"total_length": 83')  # the end frame
        assert len(rest) == 6
        assert proc.wait(timeout=20) == 0
        assert proc.stderr is not None and proc.stderr.read() == b""
    finally:
        proc.kill()
        proc.wait()


@posix_only
def test_follow_stops_cleanly_on_ctrl_c(tmp_path):
    path = tmp_path / "growing.eventstream"
    path.write_bytes(sample_bytes()[:600])
    proc = spawn(
        "dump",
        "--follow",
        str(path),
        # A test run started with SIGINT ignored (a background job, nohup) passes that on, and
        # Python then never raises KeyboardInterrupt: give the child the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        reader = LineReader(proc.stdout)
        reader.wait_for(b"message 1 at byte 251")
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        assert "stopped following" in err
        assert "98 bytes of an incomplete message were pending" in err
        assert "Traceback" not in err
    finally:
        proc.kill()
        proc.wait()


def test_a_closed_pipe_is_not_an_error(tmp_path):
    many = eventstream.encode(eventstream.Message({":event-type": "Tick"}, b"tick" * 50)) * 3000
    path = tmp_path / "many.eventstream"
    path.write_bytes(many)
    proc = spawn("dump", str(path))
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    status = proc.wait(timeout=60)
    err = proc.stderr.read()
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert status == 0


@posix_only
def test_colour_on_a_terminal_unless_no_color(tmp_path):
    import pty

    def on_tty(**env: str) -> bytes:
        leader, follower = pty.openpty()
        try:
            subprocess.run(
                [*COMMAND, "dump", str(SAMPLE)],
                env=_env(**env),
                stdout=follower,
                timeout=60,
                cwd=OUTSIDE,
            )
            os.close(follower)
            chunks = []
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(leader)

    assert b"\x1b[1;36mmessage 0\x1b[0m" in on_tty()
    plain = on_tty(NO_COLOR="1")
    assert b"message 0 at byte 0" in plain and b"\x1b[" not in plain


def test_sample_generator_is_deterministic_and_makes_the_corrupted_copy(tmp_path):
    check = subprocess.run(
        [sys.executable, str(MAKE_SAMPLE), "--check"], capture_output=True, timeout=60
    )
    assert check.returncode == 0, check.stderr
    broken = tmp_path / "broken.eventstream"
    made = subprocess.run(
        [sys.executable, str(MAKE_SAMPLE), "--corrupt", str(broken)],
        capture_output=True,
        timeout=60,
    )
    assert made.returncode == 0
    assert broken.read_bytes() == corrupted_sample()
    assert cli("verify", "-q", str(broken)).returncode == 1
    fresh = tmp_path / "fresh.eventstream"
    subprocess.run(
        [sys.executable, str(MAKE_SAMPLE), "--output", str(fresh)], check=True, timeout=60
    )
    assert fresh.read_bytes() == sample_bytes()
