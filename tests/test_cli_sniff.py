"""Input that is not an event stream is named as such, not reported as a checksum mismatch."""

from __future__ import annotations

import gzip

import pytest
from cli_support import SAMPLE, run, sample_bytes

from eventstream.cli.sniff import find_next_prelude, looks_like_prelude, sniff

# A Bedrock-style JSON error body: bytes 8-11 are '":{"', so a decoder reports the
# famous "checksum mismatch ... 0x223A7B22".
BEDROCK_ERROR = (
    b'{"Output":{"__type":"com.amazon.coral.service#UnrecognizedClientException"},"Version":"1.0"}'
)
SSE = b'data: {"type":"content_block_delta","delta":{"text":"Hi"}}\n\nevent: ping\ndata: {}\n\n'
HTML = (
    b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1></body></html>\n"
)
XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message></Error>"
)
HTTP_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
    b"x-amzn-RequestId: 5d1c3b9e\r\n\r\n"
)

CASES = {
    "json": (
        BEDROCK_ERROR,
        "a JSON document",
        "Output.__type: com.amazon.coral.service#UnrecognizedClientException",
    ),
    "sse": (SSE, "server-sent events (text/event-stream)", 'data: {"type":"content_block_delta"'),
    "html": (HTML, "an HTML page", "502 Bad Gateway"),
    "xml": (XML, "an XML document", "AccessDenied: Access Denied"),
    "gzip": (gzip.compress(b"hello", mtime=0), "gzip-compressed data", "starting 1f 8b"),
    "text": (b"Internal Server Error\n", "plain text", "Internal Server Error"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_verify_names_what_the_input_is(capsys, tmp_path, kind):
    data, what, detail = CASES[kind]
    path = tmp_path / kind
    path.write_bytes(data)
    result = run(["verify", str(path)], capsys)
    assert result.status == 1
    assert result.err.startswith(f"{path}: not an event stream: the bytes at offset 0 are {what} (")
    assert detail in result.err
    assert len(result.err.splitlines()) == 1
    assert "checksum" not in result.err


@pytest.mark.parametrize("kind", sorted(CASES))
def test_inspect_says_not_an_event_stream(capsys, tmp_path, kind):
    data, what, detail = CASES[kind]
    path = tmp_path / kind
    path.write_bytes(data)
    result = run(["inspect", str(path)], capsys)
    assert result.status == 1
    out = result.out
    assert out.startswith("message 0 at byte 0: NOT AN EVENT STREAM\n")
    assert f"  the bytes from offset 0 on are {what}, not an event-stream message:" in out
    assert detail in out
    assert "  hint: " in out
    assert "FAULT" not in out  # no field-by-field walk of text as if it were a prelude
    assert "total_length" not in out


@pytest.mark.parametrize("kind", sorted(CASES))
def test_dump_says_not_an_event_stream(capsys, tmp_path, kind):
    data, what, _ = CASES[kind]
    path = tmp_path / kind
    path.write_bytes(data)
    result = run(["dump", str(path)], capsys)
    assert result.status == 1
    assert result.out == ""
    assert f"not an event stream: the bytes at offset 0 are {what}" in result.err
    assert "eventstream: hint: " in result.err


def test_the_famous_0x223a7b22_is_explained(capsys, tmp_path):
    path = tmp_path / "bedrock-error.json"
    path.write_bytes(BEDROCK_ERROR)
    out = run(["inspect", str(path)], capsys).out
    assert (
        "what a decoder reports: prelude checksum mismatch: prelude_crc field holds 0x223A7B22"
        in out
    )
    assert "(0x223A7B22 is the text '\":{\"', not a checksum)" in out
    assert "check the HTTP status and content-type" in out


def test_an_http_capture_is_unwrapped_by_itself(capsys, tmp_path):
    path = tmp_path / "capture.http"
    path.write_bytes(HTTP_HEAD + sample_bytes())
    result = run(["verify", str(path)], capsys)
    assert result == (0, f"{path}: OK, 8 messages, 2570 bytes\n", "")
    out = run(["inspect", str(path)], capsys).out
    assert "--- HTTP response body (HTTP/1.1 200 OK; to the end; " in out
    assert f"offsets count in the body, which starts at byte {len(HTTP_HEAD)}" in out
    assert out.rstrip().endswith("8 messages, 2570 bytes: all valid")
    dumped = run(["dump", "--json", str(path)], capsys)
    assert dumped.status == 0 and len(dumped.out.splitlines()) == 8


def test_an_http_error_body_is_named(capsys, tmp_path):
    path = tmp_path / "capture.http"
    body = b'{"__type": "BadRequestException", "message": "no"}'
    path.write_bytes(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n"
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )
    result = run(["verify", str(path)], capsys)
    assert result.status == 1
    assert "not an event stream: the bytes at offset 0 are a JSON document" in result.err
    assert "__type: BadRequestException" in result.err


def test_a_junk_prefix_gets_a_resync_hint(capsys, tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"\x00\x01\x02\xfe\xff" + sample_bytes())
    out = run(["inspect", str(path)], capsys).out
    assert "prelude checksum mismatch" in out
    assert (
        "note: a plausible message prelude starts at byte 5: to decode from there, "
        "add --offset 5 (or --resync to skip every damaged stretch)"
    ) in out
    assert run(["verify", "--offset", "5", str(path)], capsys).status == 0


def test_sniff_leaves_binary_noise_alone():
    assert sniff(b"") is None
    assert sniff(bytes(range(256))) is None
    assert sniff(b"\x00\x00\x00\x10\x00\x00\x00\x00\x01\x02\x03\x04") is None


def test_prelude_helpers():
    data = SAMPLE.read_bytes()
    assert looks_like_prelude(data, 0)
    assert not looks_like_prelude(data, 1)
    assert find_next_prelude(data, 0) == 79  # the nested message of the first signed frame
    assert find_next_prelude(b"\x00" * 40, 0) is None
