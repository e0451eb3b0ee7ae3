"""The CLI as a debugger of real captures (issue 15): each numbered problem with the capture
that shows it, built with the package's own encoder."""

from __future__ import annotations

import base64
import json
import os

import pytest
from cli_support import SAMPLE, json_lines, run, sample_bytes

import eventstream
from eventstream import Header, HeaderType, Message

# ---------------------------------------------------------------- captures


def event(number: int, payload: bytes = b'{"Transcript":{"Results":[]}}') -> bytes:
    return eventstream.encode(
        Message(
            [
                Header(":message-type", HeaderType.STRING, "event"),
                Header(":event-type", HeaderType.STRING, "TranscriptEvent"),
                Header(":content-type", HeaderType.STRING, "application/json"),
                Header("n", HeaderType.INT32, number),
            ],
            payload,
        )
    )


def signed_frame(inner: bytes) -> bytes:
    return eventstream.encode(
        Message(
            [
                Header(":date", HeaderType.TIMESTAMP, 1704067200000),
                Header(":chunk-signature", HeaderType.BYTES, b"\xaa" * 32),
            ],
            inner,
        )
    )


def audio_event(damaged: bool) -> bytes:
    inner = bytearray(
        eventstream.encode(
            Message(
                [
                    Header(":message-type", HeaderType.STRING, "event"),
                    Header(":event-type", HeaderType.STRING, "AudioEvent"),
                    Header(":content-type", HeaderType.STRING, "application/octet-stream"),
                ],
                bytes(range(64)),
            )
        )
    )
    if damaged:
        inner[-1] ^= 0x40  # the inner message's CRC, inside an intact signed wrapper
    return bytes(inner)


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- 1. nested corruption


def test_a_corrupt_message_inside_a_signed_frame_is_found_and_located(capsys, tmp_path):
    first = signed_frame(audio_event(damaged=False))
    broken = signed_frame(audio_event(damaged=True))
    path = write(tmp_path, "signed.es", first + broken + event(2))
    inner_start = len(first) + 12 + 67  # the wrapper's prelude and its two headers
    crc_at = len(first) + len(broken) - 4 - 4  # the inner CRC ends where the payload does
    result = run(["verify", str(path)], capsys)
    assert result.status == 1
    assert f"{path}: invalid: message 1: the message inside the payload: message checksum" in (
        result.err
    )
    assert f"(at byte {crc_at}, in the message starting at byte {inner_start})" in result.err
    dumped = run(["dump", str(path)], capsys)
    assert dumped.status == 1
    assert "payload: an event-stream message, 168 bytes, that does not decode" in dumped.out
    assert "FAULT in a nested message: message 1: the message inside the payload" in dumped.out
    assert "message 2 at" not in dumped.out  # strict by default
    inspected = run(["inspect", str(path)], capsys)
    assert inspected.status == 1
    out = inspected.out
    assert "payload" in out and "an event-stream message, which has a fault" in out
    assert f"FAULT at byte {crc_at}, in the message nested in message 1's payload" in out
    assert f"(it starts at byte {inner_start})" in out
    assert "decoder: the message inside the payload: message checksum mismatch" in out
    # --keep-going reads on; --no-nested leaves payloads alone
    assert run(["verify", "--keep-going", str(path)], capsys).status == 1
    assert "3 messages" in run(["dump", "--keep-going", str(path)], capsys).err
    assert run(["verify", "--no-nested", str(path)], capsys).status == 0


def test_valid_nested_messages_still_verify(capsys):
    result = run(["verify", str(SAMPLE)], capsys)
    assert result == (0, f"{SAMPLE}: OK, 8 messages, 2570 bytes\n", "")


# ---------------------------------------------------------------- 2. keep going, resync


def _two_damaged() -> bytes:
    frames = [bytearray(event(n)) for n in range(5)]
    frames[1][-2] ^= 0x01  # the message CRC field
    frames[3][40] ^= 0x04  # a header byte: the message CRC fails
    return b"".join(frames)


def test_keep_going_reports_every_fault_of_a_stream_with_two_damaged_messages(capsys, tmp_path):
    path = write(tmp_path, "two.es", _two_damaged())
    size = len(event(0))
    strict = run(["verify", str(path)], capsys)
    assert strict.status == 1 and "message 1:" in strict.err
    result = run(["verify", "--keep-going", str(path)], capsys)
    assert result.status == 1
    assert result.err.startswith(f"{path}: invalid: 2 faults in 5 messages; first: message 1:")
    dumped = run(["dump", "--keep-going", str(path)], capsys)
    faults = [line for line in dumped.out.splitlines() if line.startswith("FAULT")]
    assert len(faults) == 2
    assert f"in the message starting at byte {size})" in faults[0]
    assert f"in the message starting at byte {3 * size})" in faults[1]
    for number in (0, 2, 4):
        assert f"message {number} at byte {number * size}:" in dumped.out
    inspected = run(["inspect", "--keep-going", str(path)], capsys).out
    assert inspected.count("FAULT at byte") == 2
    assert "2 faults in 5 messages (3 valid)" in inspected
    # --json keeps stdout to the valid messages; faults go to stderr
    as_json = run(["dump", "--json", "--keep-going", str(path)], capsys)
    assert len(json_lines(as_json.out)) == 3
    assert as_json.err.count("FAULT: message") == 2


def test_resync_over_100_junk_bytes(capsys, tmp_path):
    junk = bytes((i * 37 + 11) % 256 for i in range(100))
    path = write(tmp_path, "junk.es", event(0) + junk + event(1) + event(2))
    size = len(event(0))
    strict = run(["verify", str(path)], capsys)
    assert strict.status == 1 and "prelude checksum mismatch" in strict.err
    result = run(["verify", "--resync", str(path)], capsys)
    assert result.status == 1
    assert "1 fault in 3 messages, 100 bytes skipped" in result.err
    dumped = run(["dump", "--resync", str(path)], capsys)
    assert (
        f"resync: skipped 100 bytes (bytes {size}-{size + 99}); next valid prelude at "
        f"byte {size + 100}" in dumped.out
    )
    assert f"message 1 at byte {size + 100}" in dumped.out
    assert f"message 2 at byte {2 * size + 100}" in dumped.out
    inspected = run(["inspect", "--resync", "--faults-only", str(path)], capsys).out
    assert "resync: skipped 100 bytes" in inspected
    # junk up to the end: the skip is reported too
    path.write_bytes(event(0) + junk)
    tail = run(["dump", "--resync", str(path)], capsys)
    assert "to the end: no further valid prelude" in tail.out


def test_offset_and_count(capsys, tmp_path):
    size = len(event(0))
    path = write(tmp_path, "s.es", b"".join(event(n) for n in range(6)))
    result = run(["verify", "--offset", str(2 * size), "--count", "3", str(path)], capsys)
    assert result == (0, f"{path}: OK, 3 messages, {3 * size} bytes\n", "")
    dumped = run(["dump", "--offset", str(2 * size), "--count", "1", str(path)], capsys).out
    assert f"message 0 at byte {2 * size}:" in dumped
    assert dumped.count("message ") == 1 and dumped.rstrip().endswith(
        "1 message, 137 bytes, all valid"
    )


# ---------------------------------------------------------------- 3. HTTP and HAR captures


def _chunked(body: bytes, size: int = 50) -> bytes:
    parts = [
        b"%x;ext=1\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\nx-trailer: y\r\n\r\n"


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"


@pytest.mark.parametrize("with_head", [True, False])
def test_a_chunked_http_capture_is_decoded(capsys, tmp_path, with_head):
    body = b"".join(event(n) for n in range(3))
    head = HEAD + b"Transfer-Encoding: chunked\r\n\r\n" if with_head else b""
    path = write(tmp_path, "chunked.http", head + _chunked(body))
    result = run(["verify", str(path)], capsys)
    assert result == (0, f"{path}: OK, 3 messages, {len(body)} bytes\n", "")
    inspected = run(["inspect", str(path)], capsys).out
    assert "chunked" in inspected
    assert "offsets count in the body without" in inspected
    assert inspected.rstrip().endswith(f"3 messages, {len(body)} bytes: all valid")
    dumped = run(["dump", "--json", str(path)], capsys)
    copy = tmp_path / "copy.es"
    (tmp_path / "c.jsonl").write_text(dumped.out)
    assert run(["encode", str(tmp_path / "c.jsonl"), "-o", str(copy)], capsys).status == 0
    assert copy.read_bytes() == body


def test_a_chunked_capture_with_a_damaged_message_points_into_the_body(capsys, tmp_path):
    frames = bytearray(event(0) + event(1))
    frames[-1] ^= 1
    path = write(
        tmp_path, "c.http", HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(frames)
    )
    result = run(["inspect", str(path)], capsys)
    assert result.status == 1
    assert f"FAULT at byte {len(frames) - 4}, in message 1" in result.out
    assert "tail -c" not in result.out  # no byte offset into the capture that cannot work


def test_a_malformed_chunked_body_is_reported(capsys, tmp_path):
    body = event(0)
    path = write(
        tmp_path,
        "c.http",
        HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(body) + body + b"XX",
    )
    result = run(["verify", str(path)], capsys)
    assert result.status == 1
    assert "the chunked HTTP body is malformed" in result.err


def test_a_content_length_capture_is_decoded(capsys, tmp_path):
    body = b"".join(event(n) for n in range(2))
    path = write(
        tmp_path,
        "cl.http",
        b"HTTP/1.1 100 Continue\r\n\r\n"
        + HEAD
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
        + b"next response bytes",
    )
    result = run(["verify", str(path)], capsys)
    assert result == (0, f"{path}: OK, 2 messages, {len(body)} bytes\n", "")


def _har(entries) -> bytes:
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": entries,
        }
    }
    return json.dumps(har, indent=2).encode()


def test_a_chrome_har_with_websocket_frames(capsys, tmp_path):
    sent = signed_frame(audio_event(damaged=False))
    received = event(0)
    entry = {
        "request": {"method": "GET", "url": "wss://transcribestreaming.example:8443/ws"},
        "response": {"status": 101, "content": {"size": 0, "mimeType": "x-unknown"}},
        "_resourceType": "websocket",
        "_webSocketMessages": [
            {
                "type": "send",
                "time": 1704067200.123,
                "opcode": 2,
                "data": base64.b64encode(sent).decode(),
            },
            {
                "type": "receive",
                "time": 1704067200.5,
                "opcode": 2,
                "data": base64.b64encode(received).decode(),
            },
            {"type": "receive", "time": 1704067201.0, "opcode": 1, "data": "text frame"},
        ],
    }
    other = {
        "request": {"url": "https://x/"},
        "response": {"status": 200, "content": {"mimeType": "text/html", "text": "<p>"}},
    }
    path = write(tmp_path, "ws.har", _har([other, entry]))
    result = run(["verify", str(path)], capsys)
    assert result == (
        0,
        f"{path}: OK, 2 messages, {len(sent) + len(received)} bytes in 2 streams of a capture\n",
        "",
    )
    dumped = run(["dump", str(path)], capsys).out
    assert "WebSocket frame 0: send at 2024-01-01T00:00:00.123Z" in dumped
    assert "WebSocket frame 1: receive at 2024-01-01T00:00:00.500Z" in dumped
    assert "signed frame wrapping event AudioEvent" in dumped
    assert "event TranscriptEvent" in dumped


def test_a_har_with_an_event_stream_response_body(capsys, tmp_path):
    body = b"".join(event(n) for n in range(3))
    entry = {
        "request": {"method": "POST", "url": "https://bedrock-runtime.example/invoke"},
        "response": {
            "status": 200,
            "content": {
                "size": len(body),
                "mimeType": "application/vnd.amazon.eventstream",
                "text": base64.b64encode(body).decode(),
                "encoding": "base64",
            },
        },
    }
    path = write(tmp_path, "body.har", _har([entry]))
    assert run(["verify", str(path)], capsys) == (
        0,
        f"{path}: OK, 3 messages, {len(body)} bytes\n",
        "",
    )
    inspected = run(["inspect", str(path)], capsys).out
    assert "response body: HTTP 200, application/vnd.amazon.eventstream" in inspected
    empty = write(tmp_path, "none.har", _har([]))
    result = run(["verify", str(empty)], capsys)
    assert result.status == 1 and "none of them an event stream" in result.err


# ---------------------------------------------------------------- 4. readable JSON


def test_dump_json_readable_is_plain_and_encodes_back_byte_for_byte(capsys, tmp_path):
    result = run(["dump", "--json-readable", str(SAMPLE)], capsys)
    assert result.status == 0
    rows = json_lines(result.out)
    assert len(rows) == 8
    headers = rows[0]["headers"]
    assert {"name": ":date", "type": "timestamp", "value": "2024-01-01T00:00:00.000Z"} in headers
    assert rows[0]["payload_base64"]  # a signed frame's payload is bytes
    kinds = {h["value"] for row in rows for h in row["headers"] if h["name"] == ":message-type"}
    assert "exception" in kinds  # strings as text, not base64
    source = tmp_path / "r.jsonl"
    source.write_text(result.out)
    out = tmp_path / "copy.es"
    assert run(["encode", str(source), "-o", str(out)], capsys) == (0, "", "")
    assert out.read_bytes() == sample_bytes()


def test_readable_json_payloads_inline_only_when_exact(capsys, tmp_path):
    exact = event(0, b'{"a":[1,2.5,"x"]}')
    spaced = event(1, b'{"a": 1.10}')
    binary = event(2, b"\x00\xff")
    path = write(tmp_path, "p.es", exact + spaced + binary)
    rows = json_lines(run(["dump", "--json-readable", str(path)], capsys).out)
    assert rows[0]["payload_json"] == {"a": [1, 2.5, "x"]}
    assert rows[1]["payload_text"] == '{"a": 1.10}'
    assert rows[2]["payload_base64"] == "AP8="
    source = tmp_path / "r.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "o.es"
    assert run(["encode", str(source), "-o", str(out)], capsys).status == 0
    assert out.read_bytes() == exact + spaced + binary


def test_a_hand_written_readable_file_is_encoded(capsys, tmp_path):
    text = """
    {"headers": [{"name": ":message-type", "type": "string", "value": "event"},
                 {"name": ":event-type", "value": "AudioEvent"},
                 {"name": "flag", "type": "bool", "value": true},
                 {"name": "id", "type": "uuid", "value": "01234567-89ab-cdef-0123-456789abcdef"},
                 {"name": "at", "type": "timestamp", "value": "2024-05-01T12:00:00.250Z"},
                 {"name": "n", "type": "int16", "value": -2},
                 {"name": "raw", "type": "bytes", "value": "AAE="}],
     "payload_json": {"Transcript": {"Results": []}}}
    {"headers": {":message-type": "event", "count": 7}, "payload_text": "hello"}
    """
    source = tmp_path / "hand.json"
    source.write_text(text)
    out = tmp_path / "hand.es"
    result = run(["encode", str(source), "-o", str(out)], capsys)
    assert result == (0, "", "")
    first, second = eventstream.Decoder().feed(out.read_bytes())
    assert first.headers[":event-type"] == "AudioEvent"
    assert first.headers["flag"] is True
    assert str(first.headers["id"]) == "01234567-89ab-cdef-0123-456789abcdef"
    assert first.headers["n"] == -2 and first.headers["raw"] == b"\x00\x01"
    at = next(h for h in first.headers if h.name == "at")
    assert at.type is HeaderType.TIMESTAMP and at.value == 1714564800250
    assert first.payload == b'{"Transcript":{"Results":[]}}'
    assert second.headers["count"] == 7 and second.payload == b"hello"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"headers": [{"name": "x", "type": "int99", "value": 1}]}', "unknown type 'int99'"),
        ('{"headers": [{"name": "x", "type": "uuid", "value": "nope"}]}', "a uuid value is text"),
        ('{"headers": [{"name": "x", "type": "timestamp", "value": "May"}]}', "not an ISO-8601"),
        ('{"payload_text": "a", "payload_base64": "YQ=="}', "give one payload field"),
        ('{"payload_json": 1, "bogus": 2}', "unknown field 'bogus'"),
        ('{"headers": [{"name": "x", "type": "byte", "value": 300}]}', "BYTE range"),
    ],
)
def test_readable_json_errors_are_one_clear_line(capsys, tmp_path, text, expected):
    source = tmp_path / "bad.json"
    source.write_text(text)
    result = run(["encode", str(source), "-o", str(tmp_path / "o")], capsys)
    assert result.status == 1
    assert expected in result.err and len(result.err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- 5. the smaller items


def test_several_files_one_verdict_line_each(capsys, tmp_path):
    good = write(tmp_path, "a.es", event(0))
    bad = write(tmp_path, "b.es", event(0)[:-1])
    missing = tmp_path / "c.es"
    result = run(["verify", str(good), str(bad), str(missing)], capsys)
    assert result.status == 2  # the unreadable file is the worst verdict
    assert result.out == f"{good}: OK, 1 message, {len(event(0))} bytes\n"
    lines = result.err.splitlines()
    assert lines[0].startswith(f"{bad}: invalid: message 0: stream ended inside a message")
    assert lines[1] == f"eventstream: cannot read {missing}: No such file or directory"
    assert run(["verify", str(good), str(bad)], capsys).status == 1
    dumped = run(["dump", str(good), str(good)], capsys).out
    assert dumped.count(f"==> {good} <==") == 2


def test_header_types_do_not_read_as_lengths(capsys):
    out = run(["dump", str(SAMPLE)], capsys).out
    assert "string (type 7)" in out and "string(7)" not in out


def test_a_payload_over_the_limit_names_the_options(capsys, tmp_path):
    path = write(tmp_path, "big.es", event(0, b"x" * 400))
    result = run(["dump", "--max-payload", "100", str(path)], capsys)
    assert result.status == 1
    assert "--max-payload SIZE, or lift all limits with --no-limits" in result.err
    assert "eventstream inspect" not in result.err
    assert run(["verify", "--no-limits", str(path)], capsys).status == 0


def test_split_of_empty_input_creates_nothing_and_out_may_not_be_a_file(capsys, tmp_path):
    empty = write(tmp_path, "empty", b"")
    result = run(["split", str(empty), "--out", str(tmp_path / "corpus")], capsys)
    assert result.status == 1 and "empty" in result.err
    assert not (tmp_path / "corpus").exists()
    result = run(["split", str(SAMPLE), "--out", str(empty)], capsys)
    assert result.status == 2
    assert "is a file; split writes into a directory" in result.err


def test_the_json_pretty_printer_keeps_numbers_as_written(capsys, tmp_path):
    path = write(tmp_path, "n.es", event(0, b'{"price": 1.10, "big": ' + b"9" * 5000 + b"}"))
    out = run(["dump", str(path)], capsys).out
    assert '"price": 1.10,' in out
    assert '"big": ' + "9" * 5000 in out


def test_inspect_streams_a_stream_with_a_fault_deep_inside(capsys, tmp_path):
    frames = [event(n) for n in range(2000)]
    damaged = bytearray(b"".join(frames))
    damaged[-3] ^= 1
    path = write(tmp_path, "long.es", bytes(damaged))
    result = run(["inspect", "--faults-only", str(path)], capsys)
    assert result.status == 1
    assert "message 1999 at byte" in result.out and "FAULT at byte" in result.out
    assert os.path.getsize(path) == len(damaged)


# ---------------------------------------------------------------- 1b. the signature chain

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SEED = "ab" * 32


def _signed_stream():
    from eventstream import sigv4

    credentials = sigv4.Credentials("AKIDEXAMPLE", SECRET)
    signer = sigv4.EventSigner(
        credentials, "us-east-1", "transcribe", SEED, clock=lambda: 1704067200.0
    )
    return [signer.sign(audio_event(damaged=False)) for _ in range(3)] + [signer.end()]


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


CHAIN = ["--seed-signature", SEED, "--region", "us-east-1"]


def test_the_chunk_signature_chain_is_checked(capsys, tmp_path, aws_env):
    frames = _signed_stream()
    good = write(tmp_path, "good.es", b"".join(frames))
    result = run(["verify", *CHAIN, str(good)], capsys)
    assert result.status == 0, result.err
    size = sum(map(len, frames))
    assert result.out.endswith(f"4 messages, {size} bytes, 4 signatures verified\n")
    # a frame whose bytes are intact but whose payload was swapped: the chain breaks there
    swapped = eventstream.decode(frames[1])
    forged = eventstream.encode(
        Message(
            list(swapped.headers),
            audio_event(damaged=False)[:-8] + b"\0" * 4 + audio_event(damaged=False)[-4:],
        )
    )
    bad = write(tmp_path, "bad.es", frames[0] + forged + frames[2] + frames[3])
    result = run(["verify", *CHAIN, str(bad)], capsys)
    assert result.status == 1
    assert "message 1: chunk signature chain: frame 2: wrong signature" in result.err
    assert f"(the message starting at byte {len(frames[0])})" in result.err
    inspected = run(["inspect", "--faults-only", *CHAIN, str(bad)], capsys).out
    assert "FAULT: message 1: chunk signature chain" in inspected
    # the end frame is missing
    cut = write(tmp_path, "cut.es", b"".join(frames[:-1]))
    result = run(["dump", *CHAIN, str(cut)], capsys)
    assert result.status == 1
    assert "without the signed empty end frame" in result.out
    for text in (result.out, result.err, inspected):
        assert SECRET not in text


def test_the_chain_check_needs_credentials_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    path = write(tmp_path, "s.es", b"".join(_signed_stream()))
    result = run(["verify", *CHAIN, str(path)], capsys)
    assert result.status == 2 and "AWS_ACCESS_KEY_ID" in result.err
    result = run(["verify", "--seed-signature", SEED, str(path)], capsys)
    assert result.status == 2 and "--seed-signature needs --region" in result.err


def test_curl_i_output_of_an_http2_response_is_unwrapped(capsys, tmp_path):
    head = b"HTTP/2 200\r\ncontent-type: application/vnd.amazon.eventstream\r\n\r\n"
    path = write(tmp_path, "curl.out", head + sample_bytes())
    assert run(["verify", str(path)], capsys) == (0, f"{path}: OK, 8 messages, 2570 bytes\n", "")
