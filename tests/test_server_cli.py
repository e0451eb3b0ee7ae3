"""`eventstream serve` from the command line, and the pytest fixtures of the test kit."""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Any, Awaitable, List, TypeVar

import httpx
import pytest
from _transcribe_clients import audio_frames, transcript, websocket_session

from eventstream.cli.serve import FAULT_KINDS
from eventstream.testing.servers.bedrock import BEDROCK_FAULTS

pytest_plugins = ["pytester"]
T = TypeVar("T")


def run(coroutine: Awaitable[T], timeout: float = 30) -> T:
    return asyncio.run(asyncio.wait_for(coroutine, timeout))  # type: ignore[arg-type]


async def serve(*args: str, use: Any) -> Any:
    """Start `eventstream serve ARGS`, read its announcement, run `use(lines)`, stop it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "eventstream",
        "serve",
        *args,
        "--duration",
        "20",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines: List[str] = []
        while not lines or not lines[-1].startswith(("  fault:", "  a presigned URL")):
            line = await asyncio.wait_for(process.stdout.readline(), 15)
            assert line, "the server ended before announcing itself"
            lines.append(line.decode().rstrip("\n"))
        return await use(lines)
    finally:
        process.terminate()  # SIGTERM: a clean stop, exit status 0
        _, err = await asyncio.wait_for(process.communicate(), 10)
        assert process.returncode == 0, err
        assert b"server stopped" in err


def test_serve_bedrock_with_a_fault() -> None:
    async def use(lines: List[str]) -> Any:
        url = re.search(r"POST (\S+/converse-stream)", "\n".join(lines)).group(1)  # type: ignore[union-attr]
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(url.replace("MODEL", "m1"), json={})
        return lines, response.status_code, response.json()

    lines, status, body = run(serve("bedrock", "--fault", "json-error", use=use))
    assert lines[0].startswith("bedrock test server on http://127.0.0.1:")
    assert lines[-1] == "  fault: json-error@2"
    assert status == 400 and body["message"].startswith("Malformed input request")


def test_serve_transcribe_prints_credentials_and_a_working_url(tmp_path: Any) -> None:
    script = tmp_path / "script.txt"
    script.write_text("Hello offline world.\n", encoding="utf-8")

    async def use(lines: List[str]) -> Any:
        url = lines[-1].split(": ", 1)[1]
        return lines, await websocket_session(url, audio_frames(0.5))

    lines, (messages, _) = run(
        serve("transcribe", "--script", str(script), "--seconds-per-word", "0.1", use=use)
    )
    assert "    AWS_ACCESS_KEY_ID=AKIDEVENTSTREAMTEST" in lines
    assert any(line.startswith("    AWS_SECRET_ACCESS_KEY=") for line in lines)
    assert transcript(messages)[-1] == (False, "Hello offline world.")


def test_serve_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from eventstream.cli import main

    assert main(["serve", "bedrock", "--fault", "boom"]) == 2
    assert "unknown fault 'boom'" in capsys.readouterr().err
    assert main(["serve", "transcribe", "--fault", "cut"]) == 2
    assert main(["serve", "bedrock", "--host", "0.0.0.0"]) == 2
    assert "not a loopback address" in capsys.readouterr().err
    assert main(["serve", "bedrock", "--port", "70000"]) == 2
    assert main(["serve", "bedrock", "--tls"]) == 2
    assert main(["serve", "transcribe", "--script", "/nonexistent/x"]) == 2


def test_cli_fault_list_matches_the_server() -> None:
    assert set(FAULT_KINDS) == set(BEDROCK_FAULTS)


def test_pytest_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["eventstream.testing.pytest_plugin"]\n')
    pytester.makepyfile(
        """
        import json
        import httpx

        def test_bedrock(bedrock_server):
            r = httpx.post(bedrock_server.url(), json={"messages": []}, timeout=5)
            assert r.status_code == 200
            assert r.headers["content-type"] == "application/vnd.amazon.eventstream"

        def test_factory(bedrock_server_factory, transcribe_server_factory):
            server = bedrock_server_factory(fault="throttle")
            assert httpx.post(server.url(), json={}, timeout=5).status_code == 429
            transcribe = transcribe_server_factory(script=["a b"], audio_timeout=1)
            assert transcribe.script == ["a b"]
            assert transcribe.websocket_endpoint.startswith("ws://127.0.0.1:")

        def test_transcribe(transcribe_server):
            assert transcribe_server.credentials.access_key == "AKIDEVENTSTREAMTEST"
            assert transcribe_server.http2_endpoint.startswith("http://127.0.0.1:")
        """
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_servers_load_from_the_package() -> None:
    from eventstream import testing

    assert testing.TranscribeServer.__name__ == "TranscribeServer"
    assert testing.BedrockServer.__name__ == "BedrockServer"
