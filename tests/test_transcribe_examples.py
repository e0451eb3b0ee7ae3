"""The Transcribe examples against a small in-test WebSocket server.

The server checks the presigned URL's signature, takes one AudioEvent per binary message until
the empty one, then answers with TranscriptEvents in the service's shape (or the captured
BadRequestException) and closes.  The full offline server (eventstream.testing) has its own
tests, including runs of these examples.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sys
import threading
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

import pytest

import eventstream
from eventstream import Message
from eventstream.events import ServiceException
from eventstream.sigv4 import Credentials, presign_url
from eventstream.transcribe import WEBSOCKET_PATH, audio_event

pytest.importorskip("websockets", reason="the examples' WebSocket client (test extra)")
from websockets.asyncio.server import serve

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import transcribe_audio  # noqa: E402
import transcribe_websocket  # noqa: E402

CREDS = Credentials("AKIDTEST", "test-secret-key-for-the-examples")
CAPTURE = Path(__file__).parent / "interop" / "captures" / "transcribe-ws-exception-BadRequest.bin"


def transcript(rid: str, text: str, partial: bool, channel: Optional[str] = None) -> bytes:
    result: dict = {
        "ResultId": rid,
        "StartTime": 0.0,
        "EndTime": 1.0,
        "IsPartial": partial,
        "Alternatives": [{"Transcript": text, "Items": []}],
    }
    if channel:
        result["ChannelId"] = channel
    payload = json.dumps({"Transcript": {"Results": [result]}}).encode()
    headers = {
        ":message-type": "event",
        ":event-type": "TranscriptEvent",
        ":content-type": "application/json",
    }
    return eventstream.encode(Message(headers, payload))


SCRIPT = [
    transcript("r1", "Hello", True),
    transcript("r1", "Hello world", True),
    transcript("r1", "Hello world.", False),
    transcript("r2", "Second", True),
    transcript("r2", "Second line.", False),
]


def url_is_signed(url: str) -> bool:
    """Recompute the presigned URL from its own parameters (what the service checks)."""
    query = dict(parse_qsl(urlsplit(url).query))
    import calendar
    import time

    when = calendar.timegm(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    base = url.split("&X-Amz-Algorithm=", 1)[0]
    again = presign_url(
        base,
        CREDS,
        "us-east-1",
        "transcribe",
        expires=int(query["X-Amz-Expires"]),
        clock=lambda: when,
    )
    return again == url


class FakeTranscribe:
    """A WebSocket server on a thread: records what it got, answers with ``replies``."""

    def __init__(self, replies: List[bytes]) -> None:
        self.replies = replies
        self.received: List[Tuple[str, Any]] = []
        self.paths: List[str] = []
        self.port = 0
        self._ready = threading.Event()
        self._stop: Optional[asyncio.Future] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handler(self, conn: Any) -> None:
        self.paths.append(conn.request.path)
        async for message in conn:
            self.received.append(("text" if isinstance(message, str) else "binary", message))
            if isinstance(message, bytes) and eventstream.decode(message).payload == b"":
                break
        for reply in self.replies:
            await conn.send(reply)
        await conn.close()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop

    def __enter__(self) -> FakeTranscribe:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set_result, None)
        self._thread.join(10)

    @property
    def endpoint(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def audio_payloads(self) -> List[bytes]:
        return [eventstream.decode(m).payload for kind, m in self.received if kind == "binary"]


def run_main(args: List[str], monkeypatch: pytest.MonkeyPatch) -> Tuple[int, str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDS.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    out = io.StringIO()
    status = transcribe_websocket.main(args, out=out)
    return status, out.getvalue()


def test_websocket_example_prints_the_final_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeTranscribe(SCRIPT) as server:
        status, output = run_main(
            ["--silence", "0.35", "--endpoint", server.endpoint, "--pace", "0"], monkeypatch
        )
    assert status == 0
    assert output == "Hello world.\nSecond line.\n"
    # 0.35 s of 16 kHz mono silence in 100 ms chunks, then the empty AudioEvent.
    assert [len(p) for p in server.audio_payloads()] == [3200, 3200, 3200, 1600, 0]
    assert all(kind == "binary" for kind, _ in server.received)
    assert server.paths[0].startswith(WEBSOCKET_PATH + "?")
    assert url_is_signed(server.endpoint + server.paths[0])


def test_websocket_example_shows_partials_in_place_on_a_terminal() -> None:
    out = io.StringIO()
    printer = transcribe_websocket.LivePrinter(out, live=True)
    with FakeTranscribe(SCRIPT[:3]) as server:
        url = presign_url(server.endpoint + WEBSOCKET_PATH, CREDS, "us-east-1", "transcribe")
        assembler = asyncio.run(
            transcribe_websocket.transcribe(url, [b"\x00\x00" * 160], on_update=printer)
        )
    assert [s.text for s in assembler.finals] == ["Hello world."]
    assert out.getvalue() == "Hello\r\x1b[KHello world\r\x1b[KHello world.\n"


def test_websocket_example_ends_the_stream_when_the_audio_fails() -> None:
    def broken_microphone() -> Iterator[bytes]:
        yield b"\x01\x00" * 160
        raise OSError("device unplugged")

    with FakeTranscribe([]) as server:
        url = presign_url(server.endpoint + WEBSOCKET_PATH, CREDS, "us-east-1", "transcribe")
        with pytest.raises(OSError, match="device unplugged"):
            asyncio.run(transcribe_websocket.transcribe(url, broken_microphone()))
        for _ in range(100):  # the server thread records the end frame asynchronously
            if len(server.received) == 2:
                break
            threading.Event().wait(0.02)
    assert server.audio_payloads() == [b"\x01\x00" * 160, b""]


def test_websocket_example_reports_the_service_exception(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeTranscribe([CAPTURE.read_bytes()]) as server:
        status, output = run_main(
            ["--silence", "0.1", "--endpoint", server.endpoint, "--pace", "0"], monkeypatch
        )
        url = presign_url(server.endpoint + WEBSOCKET_PATH, CREDS, "us-east-1", "transcribe")
        with pytest.raises(ServiceException, match="BadRequestException"):
            asyncio.run(transcribe_websocket.transcribe(url, [b"\x00\x00"]))
    assert status == 1
    assert output == ""
    assert "service: BadRequestException: Unexpected WebSocket frame received." in (
        capsys.readouterr().err
    )


def test_websocket_example_two_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    replies = [
        transcript("a", "Left", True, "ch_0"),
        transcript("b", "Right side.", False, "ch_1"),
        transcript("a", "Left side.", False, "ch_0"),
    ]
    with FakeTranscribe(replies) as server:
        status, output = run_main(
            ["--silence", "0.1", "--channels", "2", "--endpoint", server.endpoint, "--pace", "0"],
            monkeypatch,
        )
    assert status == 0
    assert output == "[ch_1] Right side.\n[ch_0] Left side.\n"
    assert "enable-channel-identification=true" in server.paths[0]
    assert "number-of-channels=2" in server.paths[0]
    assert [len(p) for p in server.audio_payloads()] == [6400, 0]  # stereo: 4 bytes a frame


def test_example_argument_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    assert transcribe_websocket.main(["--silence", "1"], out=io.StringIO()) == 2
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set" in capsys.readouterr().err
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert transcribe_websocket.main([], out=io.StringIO()) == 2
    assert "give an audio file" in capsys.readouterr().err


def test_audio_input_reads_wav_and_raw(tmp_path: Path) -> None:
    import wave

    pcm = bytes(range(256)) * 25  # 6400 bytes
    wav_path = tmp_path / "a.wav"
    with wave.open(str(wav_path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(pcm)
    audio = transcribe_audio.open_audio(str(wav_path), chunk_ms=100)
    assert (audio.sample_rate, audio.channels) == (8000, 2)
    assert b"".join(audio.chunks) == pcm
    raw = tmp_path / "a.raw"
    raw.write_bytes(pcm)
    audio = transcribe_audio.open_audio(str(raw), sample_rate=16000, chunk_ms=100)
    assert [len(c) for c in audio.chunks] == [3200, 3200]
    assert audio_event(pcm)  # any chunk is a valid AudioEvent payload


# ---------------------------------------------------------------- the HTTP/2 sender

h2_connection = pytest.importorskip("h2.connection", reason="the HTTP/2 example's client")
import socket  # noqa: E402

import h2.config  # noqa: E402
import h2.events  # noqa: E402
import transcribe_http2_sender  # noqa: E402

from eventstream.sigv4 import EventVerifier, VerificationError, sign_request  # noqa: E402


class FakeTranscribeH2:
    """An h2c server for one request: checks the SigV4 request and every event's signature
    (EventVerifier), then answers 200 with ``replies``, or 403 when a check fails."""

    def __init__(self, replies: List[bytes]) -> None:
        self.replies = replies
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.headers: dict = {}
        self.payloads: List[Optional[bytes]] = []
        self.failure: Optional[str] = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeTranscribeH2:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(10)
        self.listener.close()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _check_request(self) -> EventVerifier:
        import calendar
        import time

        headers = dict(self.headers)
        when = calendar.timegm(time.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ"))
        mine = {
            k: v
            for k, v in headers.items()
            if not k.startswith(":") and k not in ("authorization", "x-amz-date")
        }
        again = sign_request(
            "POST",
            f"http://{headers[':authority']}{headers[':path']}",
            CREDS,
            "us-east-1",
            "transcribe",
            headers=mine,
            clock=lambda: when,
        )
        if again.headers["authorization"] != headers["authorization"]:
            raise VerificationError("request signature", frame=0, reason="request")
        return EventVerifier(CREDS, "us-east-1", "transcribe", again.signature)

    def _serve(self) -> None:
        sock, _ = self.listener.accept()
        sock.settimeout(10)
        conn = h2_connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        decoder = eventstream.Decoder()
        verifier: Optional[EventVerifier] = None
        stream_id = 0
        ended = False
        try:
            while not ended:
                data = sock.recv(65536)
                if not data:
                    break
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        stream_id = event.stream_id
                        self.headers = {k.decode(): v.decode() for k, v in event.headers}
                        verifier = self._check_request()
                    elif isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                        assert verifier is not None
                        for frame in decoder.feed(event.data):
                            self.payloads.append(verifier.check_payload(frame))
                    elif isinstance(event, h2.events.StreamEnded):
                        ended = True
                with contextlib.suppress(OSError):  # the client may have closed already
                    sock.sendall(conn.data_to_send())
            assert verifier is not None
            verifier.finish()
            status, replies = "200", self.replies
        except VerificationError as exc:
            self.failure = str(exc)
            status, replies = "403", [json.dumps({"Message": str(exc)}).encode()]
        if conn.state_machine.state is h2.connection.ConnectionState.CLOSED:
            sock.close()  # the client went away after its last frame
            return
        conn.send_headers(
            stream_id, [(":status", status), ("content-type", "application/vnd.amazon.eventstream")]
        )
        for reply in replies:
            conn.send_data(stream_id, reply)
        conn.end_stream(stream_id)
        with contextlib.suppress(OSError):  # a client that gave up has closed already
            sock.sendall(conn.data_to_send())
            # Linger until the client closes, as servers do, so no reset loses the answer.
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
        sock.close()


def test_http2_example_signs_every_event_and_prints_the_finals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDS.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    out = io.StringIO()
    with FakeTranscribeH2(SCRIPT) as server:
        # 5 s of audio: 160 KB, more than HTTP/2's initial 64 KiB window.
        status = transcribe_http2_sender.main(
            ["--silence", "5", "--endpoint", server.endpoint, "--pace", "0"], out=out
        )
    assert server.failure is None
    assert status == 0
    assert out.getvalue() == "Hello world.\nSecond line.\n"
    assert server.headers[":path"] == "/stream-transcription"
    assert server.headers["x-amz-content-sha256"] == "STREAMING-AWS4-HMAC-SHA256-EVENTS"
    assert server.headers["x-amzn-transcribe-sample-rate"] == "16000"
    assert len(server.payloads) == 51 and server.payloads[-1] is None  # 50 events + end frame
    assert all(eventstream.decode(p).payload == bytes(3200) for p in server.payloads[:-1])


def test_http2_example_sends_the_end_frame_when_the_audio_fails() -> None:
    def broken_microphone() -> Iterator[bytes]:
        yield b"\x01\x00" * 160
        raise OSError("device unplugged")

    with FakeTranscribeH2([]) as server:
        url, signed = transcribe_http2_sender.http2_request(
            "us-east-1",
            CREDS,
            language_code="en-US",
            media_encoding="pcm",
            sample_rate=16000,
            endpoint=server.endpoint,
        )
        with pytest.raises(OSError, match="device unplugged"):
            transcribe_http2_sender.transcribe_http2(url, signed, broken_microphone())
    assert server.failure is None
    assert len(server.payloads) == 2 and server.payloads[-1] is None


def test_http2_example_reports_a_refused_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another-secret")
    with FakeTranscribeH2(SCRIPT) as server:
        status = transcribe_http2_sender.main(
            ["--silence", "0.2", "--endpoint", server.endpoint, "--pace", "0"], out=io.StringIO()
        )
    assert status == 1
    assert "HTTP 403" in capsys.readouterr().err


# ---------------------------------------------------------------- against the offline server


@pytest.mark.parametrize("client", ["websocket", "http2"])
@pytest.mark.parametrize("channels", [1, 2])
def test_examples_against_the_offline_transcribe_server(
    client: str, channels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventstream.testing.servers._thread import ServerThread
    from eventstream.testing.servers.transcribe import DEFAULT_CREDENTIALS, TranscribeServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DEFAULT_CREDENTIALS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DEFAULT_CREDENTIALS.secret_key)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    module = transcribe_websocket if client == "websocket" else transcribe_http2_sender
    with ServerThread(
        TranscribeServer(["One two three.", "Four five."], seconds_per_word=0.1)
    ) as s:
        endpoint = s.websocket_endpoint if client == "websocket" else s.http2_endpoint
        out = io.StringIO()
        args = ["--silence", "2", "--endpoint", endpoint, "--pace", "0", "--stability", "high"]
        status = module.main([*args, "--channels", str(channels)], out=out)
    assert status == 0
    if channels == 1:
        assert out.getvalue() == "One two three.\nFour five.\n"
    else:
        assert out.getvalue() == "[ch_0] One two three.\n[ch_1] Four five.\n"


def test_websocket_example_errors_never_print_the_session_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from websockets.exceptions import InvalidURI

    token = "session-token-that-must-stay-private"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDS.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDS.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    args = ["--silence", "0.1", "--pace", "0", "--endpoint"]
    # A wrong scheme is refused before a URL exists (the client library would quote it).
    assert transcribe_websocket.main([*args, "http://127.0.0.1:9"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "endpoint scheme must be ws or wss" in err and token not in err

    # Whatever else the client library refuses, quoting the URL, is printed redacted.
    def refuse(url: str, **_: Any) -> Any:
        raise InvalidURI(url, "refused for the test")

    monkeypatch.setattr(transcribe_websocket.websockets, "connect", refuse)
    assert transcribe_websocket.main([*args, "ws://127.0.0.1:9"], out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "X-Amz-Security-Token=<hidden>" in err and "refused for the test" in err
    assert token not in err and CREDS.secret_key not in err
