"""The eventstream CLI through main(argv): every subcommand on the shipped sample."""

from __future__ import annotations

import base64
import io
import json
import struct
import sys
import zlib

import pytest
from cli_support import (
    SAMPLE,
    SAMPLE_MESSAGES,
    corrupted_sample,
    json_lines,
    run,
    sample_bytes,
)

import eventstream
from eventstream.cli.jsonlayout import FIELDS

# ---------------------------------------------------------------- top level


def test_help_lists_commands_and_exit_codes(capsys):
    result = run(["--help"], capsys)
    assert result.status == 0
    for command in ("dump", "inspect", "verify", "encode", "split"):
        assert command in result.out
    assert "exit status:" in result.out
    assert "1    invalid input" in result.out
    assert "2    usage or I/O error" in result.out


@pytest.mark.parametrize("command", ["dump", "inspect", "verify", "encode", "split"])
def test_each_command_help_documents_exit_codes(capsys, command):
    result = run([command, "--help"], capsys)
    assert result.status == 0
    assert "exit status:" in result.out
    assert "0    success" in result.out


def test_version_names_package_version_and_backend(capsys):
    result = run(["--version"], capsys)
    assert result.status == 0
    assert eventstream.__version__ in result.out
    assert f"backend: {eventstream.BACKEND}" in result.out


def test_no_command_is_a_usage_error(capsys):
    result = run([], capsys)
    assert result.status == 2
    assert "choose a command" in result.err


def test_unknown_option_is_a_usage_error(capsys):
    result = run(["dump", "--bogus", str(SAMPLE)], capsys)
    assert result.status == 2
    assert "unrecognized arguments: --bogus" in result.err


# ---------------------------------------------------------------- dump


def test_dump_sample_shows_every_message_with_wire_details(capsys):
    result = run(["dump", str(SAMPLE)], capsys)
    assert result.status == 0, result.err
    out = result.out
    assert "message 0 at byte 0: signed frame wrapping event AudioEvent" in out
    # lengths and both CRCs of the first frame, as on the wire
    raw = sample_bytes()
    total, headers_length, prelude_crc = struct.unpack_from(">III", raw)
    message_crc = struct.unpack_from(">I", raw, total - 4)[0]
    assert f"total_length {total}  headers_length {headers_length}" in out
    assert f"prelude_crc 0x{prelude_crc:08X}  message_crc 0x{message_crc:08X}" in out
    # headers with their wire types
    assert ":date             timestamp (type 8) 1704067200000 (2024-01-01T00:00:00.000Z)" in out
    assert ":chunk-signature  bytes (type 6)" in out and "(32 bytes)" in out
    # the signed wrapper's payload decoded as a nested message
    assert "payload: an event-stream message, 168 bytes, decoded:" in out
    assert "    message 0.0 at byte 79: event AudioEvent" in out
    assert ':content-type  string (type 7)    "application/octet-stream"' in out
    assert "payload: binary, 64 bytes" in out
    # JSON payloads pretty-printed
    assert "message 2 at byte 502: event TranscriptEvent" in out
    assert '"IsPartial": true,' in out and '"IsPartial": false,' in out
    assert '"Transcript": "Hello world."' in out
    # the exception and the end frame
    assert "message 6 at byte 2288: exception BadRequestException" in out
    assert '"Message": "Your request timed out' in out
    assert "message 7 at byte 2487: signed end frame (empty payload)" in out
    assert "payload: empty" in out
    assert out.rstrip().endswith(f"{SAMPLE_MESSAGES} messages, {len(raw)} bytes, all valid")
    assert result.err == ""


def test_dump_no_nested_shows_the_wrapped_message_as_binary(capsys):
    result = run(["dump", "--no-nested", str(SAMPLE)], capsys)
    assert result.status == 0
    assert "message 0.0" not in result.out
    assert "payload: binary, 168 bytes" in result.out


def test_dump_preview_and_full(capsys):
    short = run(["dump", "--preview", "16", str(SAMPLE)], capsys).out
    assert "... 48 more bytes (--full shows them all)" in short
    full = run(["dump", "--full", str(SAMPLE)], capsys).out
    assert "more bytes" not in full


def test_dump_json_is_the_debug_layout(capsys):
    result = run(["dump", "--json", str(SAMPLE)], capsys)
    assert result.status == 0
    rows = json_lines(result.out)
    assert len(rows) == SAMPLE_MESSAGES
    raw = sample_bytes()
    offset = 0
    for row in rows:
        assert tuple(row) == FIELDS
        total = row["total_length"]
        frame = raw[offset : offset + total]
        assert struct.unpack_from(">II", frame) == (total, row["headers_length"])
        assert row["prelude_crc"] == zlib.crc32(frame[:8])
        assert row["message_crc"] == zlib.crc32(frame[:-4])
        message = eventstream.decode(frame)
        assert base64.b64decode(row["payload"]) == message.payload
        assert [h["name"] for h in row["headers"]] == message.headers.names()
        offset += total
    assert offset == len(raw)
    first = rows[0]["headers"]
    assert first[0] == {"name": ":date", "type": 8, "value": 1704067200000}
    assert first[1]["type"] == 6 and len(base64.b64decode(first[1]["value"])) == 32
    assert rows[2]["headers"][0] == {"name": ":message-type", "type": 7, "value": "ZXZlbnQ="}


def test_dump_json_round_trips_through_encode(capsys, tmp_path):
    result = run(["dump", "--json", str(SAMPLE)], capsys)
    jsonl = tmp_path / "sample.jsonl"
    jsonl.write_text(result.out)
    out = tmp_path / "copy.eventstream"
    encoded = run(["encode", str(jsonl), "-o", str(out)], capsys)
    assert encoded.status == 0, encoded.err
    assert encoded.err == ""
    assert out.read_bytes() == sample_bytes()


def test_dump_of_a_broken_stream_prints_what_came_before_then_the_fault(capsys, tmp_path):
    path = tmp_path / "broken.eventstream"
    path.write_bytes(corrupted_sample())
    result = run(["dump", str(path)], capsys)
    assert result.status == 1
    assert "message 1 at byte 251" in result.out
    assert "message 2 at" not in result.out
    assert f"{path}: invalid: message 2: message checksum mismatch" in result.err
    assert "(at byte 902, in the message starting at byte 502)" in result.err
    assert f"eventstream inspect {path}" in result.err


def test_dump_json_of_a_broken_stream_keeps_stdout_clean(capsys, tmp_path):
    path = tmp_path / "broken.eventstream"
    path.write_bytes(corrupted_sample())
    result = run(["dump", "--json", str(path)], capsys)
    assert result.status == 1
    assert len(json_lines(result.out)) == 2
    assert "message checksum mismatch" in result.err


# ---------------------------------------------------------------- verify


def test_verify_sample(capsys):
    result = run(["verify", str(SAMPLE)], capsys)
    assert result.status == 0
    assert result.out == f"{SAMPLE}: OK, 8 messages, 2570 bytes\n"


def test_verify_corrupted_copy_gives_one_line_with_the_offset(capsys, tmp_path):
    path = tmp_path / "broken.eventstream"
    path.write_bytes(corrupted_sample())
    result = run(["verify", str(path)], capsys)
    assert result.status == 1
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: invalid: message 2: message checksum mismatch")
    assert "at byte 902" in lines[0]


def test_verify_quiet_prints_nothing(capsys, tmp_path):
    assert run(["verify", "-q", str(SAMPLE)], capsys) == (0, "", "")
    path = tmp_path / "broken.eventstream"
    path.write_bytes(corrupted_sample())
    assert run(["verify", "--quiet", str(path)], capsys) == (1, "", "")


def test_every_cut_of_the_sample_is_caught(capsys, tmp_path):
    raw = sample_bytes()
    boundaries = set()
    offset = 0
    for frame_json in json_lines(run(["dump", "--json", str(SAMPLE)], capsys).out):
        offset += frame_json["total_length"]
        boundaries.add(offset)
    path = tmp_path / "cut.eventstream"
    near_boundaries = {b + d for b in boundaries | {0} for d in range(-13, 14)}
    cuts = sorted(c for c in near_boundaries | set(range(1, len(raw), 19)) if 0 < c < len(raw))
    for cut in cuts:
        path.write_bytes(raw[:cut])
        result = run(["verify", str(path)], capsys)
        if cut in boundaries:
            assert result.status == 0, cut
        else:
            assert result.status == 1, cut
            assert "stream ended inside a message" in result.err, (cut, result.err)
            assert f"(at byte {cut}," in result.err


# ---------------------------------------------------------------- inspect


def test_inspect_sample_annotates_every_field(capsys):
    result = run(["inspect", str(SAMPLE)], capsys)
    assert result.status == 0
    out = result.out
    assert "message 0 at byte 0: 251 bytes, signed frame wrapping event AudioEvent" in out
    assert "  00000000  00 00 00 fb              total_length               251" in out
    assert "  00000004  00 00 00 43              headers_length             67" in out
    assert "prelude_crc                0xB513AE0F OK" in out
    assert 'header 0 name              ":date"' in out
    assert "header 0 type              8 (timestamp)" in out
    assert "header 1 value_length      32" in out
    # the nested message is annotated with absolute offsets, indented
    assert "  0000004f  00 00 00 a8                total_length             168" in out
    assert '  header 2 value           "application/octet-stream"' in out
    assert "MISMATCH" not in out and "FAULT" not in out
    assert out.rstrip().endswith("8 messages, 2570 bytes: all valid")


def test_inspect_corrupted_copy_stops_at_the_crc(capsys, tmp_path):
    path = tmp_path / "broken.eventstream"
    data = corrupted_sample()
    path.write_bytes(data)
    result = run(["inspect", str(path)], capsys)
    assert result.status == 1
    out = result.out
    stored = struct.unpack_from(">I", data, 902)[0]
    computed = zlib.crc32(data[502:902])
    assert f"message_crc                0x{stored:08X} MISMATCH" in out
    assert "FAULT at byte 902, in message 2 (which starts at byte 502):" in out
    assert f"the bytes give: 0x{computed:08X}, the CRC32 of bytes 502-901" in out
    assert 'header 1 value             "TranscriptEvenu"' in out  # the damage is visible
    assert "message 2 at byte 502: 404 bytes, event TranscriptEvenu" in out
    row = "  00000380  31 32 7d 5d 7d 7d 7b e4  24 28 00 00 00 fb 00 00  |12}]}}{.$(......|"
    assert row + "\n" + " " * 30 + "^^ ^^  ^^ ^^\n" in out
    assert "message 3" not in out
    assert f"decoder: message checksum mismatch: message_crc field holds 0x{stored:08X}" in out


def test_inspect_faults_only(capsys, tmp_path):
    path = tmp_path / "broken.eventstream"
    path.write_bytes(corrupted_sample())
    out = run(["inspect", "--faults-only", str(path)], capsys).out
    first = "message 0 at byte 0: 251 bytes, signed frame wrapping event AudioEvent\n"
    assert first + "message 1 at byte 251:" in out
    assert "total_length               404" in out  # message 2 is annotated


def test_inspect_truncated_input_says_how_many_bytes_are_missing(capsys, tmp_path):
    path = tmp_path / "cut.eventstream"
    path.write_bytes(sample_bytes()[:600])
    result = run(["inspect", str(path)], capsys)
    assert result.status == 1
    assert "FAULT at byte 600 (the end of the input), in message 2" in result.out
    assert (
        "the input ends inside the payload: 98 of the message's 404 bytes are present" in result.out
    )
    assert "expected here: 306 more bytes" in result.out


# ---------------------------------------------------------------- split


def test_split_writes_each_message_to_a_predictably_named_file(capsys, tmp_path):
    out_dir = tmp_path / "corpus"
    result = run(["split", str(SAMPLE), "--out", str(out_dir)], capsys)
    assert result.status == 0
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [f"message-{i:06d}.eventstream" for i in range(SAMPLE_MESSAGES)]
    assert b"".join((out_dir / name).read_bytes() for name in names) == sample_bytes()
    for name in names:
        eventstream.decode((out_dir / name).read_bytes())
    assert "wrote 8 messages" in result.out
    assert "message-000000.eventstream .. message-000007.eventstream" in result.out


def test_split_refuses_to_overwrite_without_force(capsys, tmp_path):
    assert run(["split", str(SAMPLE), "--out", str(tmp_path)], capsys).status == 0
    again = run(["split", str(SAMPLE), "--out", str(tmp_path)], capsys)
    assert again.status == 2
    assert "exists; use --force" in again.err
    assert run(["split", str(SAMPLE), "--out", str(tmp_path), "--force"], capsys).status == 0
    other = run(["split", str(SAMPLE), "--out", str(tmp_path), "--prefix", "b-"], capsys)
    assert other.status == 0
    assert (tmp_path / "b-000007.eventstream").exists()


def test_split_prefix_must_not_be_a_path(capsys, tmp_path):
    result = run(["split", str(SAMPLE), "--out", str(tmp_path), "--prefix", "../x"], capsys)
    assert result.status == 2
    assert "--prefix is a file name prefix" in result.err


def test_split_of_a_broken_stream_writes_the_valid_messages(capsys, tmp_path):
    path = tmp_path / "broken.eventstream"
    path.write_bytes(corrupted_sample())
    out_dir = tmp_path / "out"
    result = run(["split", str(path), "--out", str(out_dir)], capsys)
    assert result.status == 1
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "message-000000.eventstream",
        "message-000001.eventstream",
    ]
    assert "wrote 2 messages" in result.err
    assert "message checksum mismatch" in result.err


# ---------------------------------------------------------------- encode


def _encode(capsys, tmp_path, text, *extra):
    source = tmp_path / "in.json"
    source.write_text(text)
    out = tmp_path / "out.eventstream"
    result = run(["encode", str(source), "-o", str(out), *extra], capsys)
    return result, (out.read_bytes() if out.exists() else None)


def _layout(message: eventstream.Message) -> dict:
    from eventstream.cli.frames import decode_single
    from eventstream.cli.jsonlayout import frame_to_json

    frame = decode_single(eventstream.encode(message))
    assert frame is not None
    return frame_to_json(frame)


def test_encode_accepts_arrays_pretty_printing_and_no_lengths(capsys, tmp_path):
    message = eventstream.Message({"a": 1, "b": "two"}, b"payload")
    layout = _layout(message)
    del layout["total_length"], layout["prelude_crc"], layout["message_crc"]
    text = json.dumps([layout, layout], indent=4)
    result, data = _encode(capsys, tmp_path, text)
    assert result.status == 0, result.err
    assert data == eventstream.encode(message) * 2


def test_encode_recomputes_stale_fields_with_a_warning(capsys, tmp_path):
    layout = _layout(eventstream.Message({"a": 1}, b"old"))
    layout["payload"] = base64.b64encode(b"new payload").decode()
    result, data = _encode(capsys, tmp_path, json.dumps(layout))
    assert result.status == 0
    assert eventstream.decode(data).payload == b"new payload"
    assert "warning: message 0 (line 1): total_length 26 stated, 34 encoded" in result.err
    assert "message_crc 0x" in result.err and "wrote the encoded value" in result.err


def test_encode_verbatim_keeps_stated_fields_to_build_broken_frames(capsys, tmp_path):
    layout = _layout(eventstream.Message({"a": 1}, b"abc"))
    layout["message_crc"] = 0
    result, data = _encode(capsys, tmp_path, json.dumps(layout), "--verbatim")
    assert result.status == 0
    assert data[-4:] == b"\0\0\0\0"
    with pytest.raises(eventstream.MessageChecksumError):
        eventstream.decode(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"headers": [], "payload": ""', "line 1 column"),
        ("[1]", "expected a JSON object describing a message, got a number"),
        ('{"headers": [], "payload": "***"}', "'payload' is not valid standard base64"),
        (
            '{"headers": [{"name": "x", "type": 10, "value": 1}]}',
            "'type' must be an integer from 0 to 9",
        ),
        ('{"headers": [{"type": 4, "value": 1}]}', "'name' must be a string"),
        (
            '{"headers": [{"name": "x", "type": 2, "value": 300}]}',
            "outside the BYTE range -128..127",
        ),
        (
            '{"headers": [{"name": "x", "type": 0, "value": false}]}',
            "has the value true, got false",
        ),
        (
            '{"headers": [{"name": "x", "type": 4, "value": "1"}]}',
            "needs an integer value, got a string",
        ),
        ('{"headers": [{"name": "x", "type": 7, "value": "/w=="}]}', "these bytes are not UTF-8"),
        ('{"headers": [{"name": "x", "type": 9, "value": "AAAA"}]}', "must be 16 bytes, got 3"),
        ('{"headers": [{"name": "", "type": 0}]}', "header name must be 1 to 255"),
        ('{"headers": [], "payload": "", "extra": 1}', "unknown field 'extra'"),
        ('{"headers": 5}', "'headers' must be an array"),
        ('{"prelude_crc": "1"}', "'prelude_crc' must be a 32-bit integer"),
        ("", "no messages in the input"),
    ],
)
def test_encode_rejects_bad_json_with_a_clear_reason(capsys, tmp_path, text, expected):
    result, data = _encode(capsys, tmp_path, text)
    assert result.status == 1
    assert expected in result.err
    assert result.err.startswith("eventstream: ")
    assert data is None


def test_encode_rejects_non_utf8_input(capsys, tmp_path):
    source = tmp_path / "in.json"
    source.write_bytes(b"\xff\xfe{}")
    result = run(["encode", str(source), "-o", str(tmp_path / "o")], capsys)
    assert result.status == 1
    assert "not UTF-8 JSON" in result.err


def test_encode_reads_stdin_and_refuses_a_terminal(capsys, monkeypatch, tmp_path):
    layout = _layout(eventstream.Message({"k": "v"}, b"x"))
    out = tmp_path / "o.bin"
    result = run(["encode", "-o", str(out)], capsys, monkeypatch, stdin=json.dumps(layout).encode())
    assert result.status == 0
    assert eventstream.decode(out.read_bytes()).payload == b"x"

    class Terminal:
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(json.dumps(layout).encode())))
    monkeypatch.setattr("sys.stdout", Terminal())
    from eventstream.cli import main

    assert main(["encode"]) == 2


def test_encode_unwritable_output_is_an_io_error(capsys, tmp_path):
    layout = _layout(eventstream.Message({}, b""))
    source = tmp_path / "in.json"
    source.write_text(json.dumps(layout))
    result = run(["encode", str(source), "-o", str(tmp_path / "missing" / "x.bin")], capsys)
    assert result.status == 2
    assert "cannot write" in result.err


# ---------------------------------------------------------------- inputs


def test_missing_file_is_an_io_error(capsys, tmp_path):
    for command in ("dump", "inspect", "verify", "encode"):
        result = run([command, str(tmp_path / "nope")], capsys)
        assert result.status == 2, command
        assert f"cannot read {tmp_path / 'nope'}: No such file or directory" in result.err
        assert "Traceback" not in result.err


def test_directory_is_an_io_error(capsys, tmp_path):
    result = run(["verify", str(tmp_path)], capsys)
    assert result.status == 2
    assert "is a directory" in result.err


@pytest.mark.parametrize("command", ["dump", "inspect", "verify"])
def test_empty_input_is_invalid(capsys, tmp_path, command):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    result = run([command, str(path)], capsys)
    assert result.status == 1
    assert "empty" in result.err


def test_stdin_input(capsys, monkeypatch):
    result = run(["verify", "-"], capsys, monkeypatch, stdin=sample_bytes())
    assert result.status == 0
    assert result.out == "<stdin>: OK, 8 messages, 2570 bytes\n"
    result = run(["dump", "--json", "-"], capsys, monkeypatch, stdin=sample_bytes())
    assert len(json_lines(result.out)) == 8


def test_binary_input_is_not_read_from_a_terminal(capsys, monkeypatch):
    class TerminalStdin(io.TextIOWrapper):
        def isatty(self):
            return True

    for command in ("dump", "inspect", "verify"):
        monkeypatch.setattr(sys, "stdin", TerminalStdin(io.BytesIO(b"")))
        result = run([command, "-"], capsys)
        assert result.status == 2
        assert "stdin is a terminal: pipe the bytes in, give a FILE" in result.err
    # text can be pasted
    text = base64.b64encode(sample_bytes())
    monkeypatch.setattr(sys, "stdin", TerminalStdin(io.BytesIO(text)))
    assert run(["verify", "--base64", "-"], capsys).status == 0


def test_base64_input_tolerates_whitespace_urlsafe_and_missing_padding(capsys, tmp_path):
    raw = sample_bytes()
    text = base64.b64encode(raw).decode()
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"
    for variant in (wrapped, base64.urlsafe_b64encode(raw).decode().rstrip("=")):
        path = tmp_path / "b64.txt"
        path.write_text(variant)
        result = run(["verify", "--base64", str(path)], capsys)
        assert result.status == 0, result.err
        assert "8 messages" in result.out
    assert run(["inspect", "--base64", str(path)], capsys).status == 0


def test_bad_base64_is_invalid_input(capsys, tmp_path):
    path = tmp_path / "b64.txt"
    path.write_text("AAAA*AAA")
    result = run(["dump", "--base64", str(path)], capsys)
    assert result.status == 1
    assert "character '*' (byte 0x2a) is not in the base64 alphabet" in result.err
    path.write_text("AAAAA")
    result = run(["dump", "--base64", str(path)], capsys)
    assert result.status == 1
    assert "cannot encode whole bytes" in result.err


def test_hex_input_tolerates_whitespace_and_prefixes(capsys, tmp_path):
    raw = eventstream.encode(eventstream.Message({"k": "v"}, b"hi"))
    variants = [
        raw.hex(),
        " ".join(f"{b:02x}" for b in raw) + "\n",
        ", ".join(f"0x{b:02X}" for b in raw),
        "".join(f"\\x{b:02x}" for b in raw),
        ":".join(f"{b:02x}" for b in raw),
    ]
    path = tmp_path / "hex.txt"
    for variant in variants:
        path.write_text(variant)
        result = run(["dump", "--json", "--hex", str(path)], capsys)
        assert result.status == 0, (variant, result.err)
        assert base64.b64decode(json_lines(result.out)[0]["payload"]) == b"hi"


def test_bad_hex_is_invalid_input(capsys, tmp_path):
    path = tmp_path / "hex.txt"
    path.write_text("00 0g")
    result = run(["verify", "--hex", str(path)], capsys)
    assert result.status == 1
    assert "'g' is not a hex digit" in result.err
    path.write_text("000")
    assert "odd number of hex digits (3)" in run(["verify", "--hex", str(path)], capsys).err


def test_base64_and_hex_are_exclusive(capsys):
    result = run(["dump", "--base64", "--hex", str(SAMPLE)], capsys)
    assert result.status == 2
    assert "not allowed with argument" in result.err


def test_follow_needs_binary_and_idle_timeout_needs_follow(capsys):
    result = run(["dump", "--follow", "--base64", str(SAMPLE)], capsys)
    assert result.status == 2
    assert "--follow reads binary input only" in result.err
    result = run(["dump", "--idle-timeout", "1", str(SAMPLE)], capsys)
    assert result.status == 2
    assert "--idle-timeout needs --follow" in result.err


# ---------------------------------------------------------------- limits


def test_limits_map_to_eventstream_limits(capsys):
    result = run(["verify", "--max-payload", "300", str(SAMPLE)], capsys)
    assert result.status == 1
    assert "payload of 303 bytes exceeds the limit of 300" in result.err
    assert run(["verify", "--max-payload", "1K", str(SAMPLE)], capsys).status == 0
    result = run(["inspect", "--max-header-block", "64", str(SAMPLE)], capsys)
    assert result.status == 1
    assert "at most 64 bytes (--max-header-block raises the limit)" in result.out
    result = run(["dump", "--max-header-value", "16", str(SAMPLE)], capsys)
    assert result.status == 1
    assert "message 0: header value of 32 bytes exceeds the limit of 16" in result.err
    assert run(["verify", "--no-limits", str(SAMPLE)], capsys).status == 0


def test_bad_limits_are_usage_errors(capsys):
    result = run(["verify", "--max-payload", "lots", str(SAMPLE)], capsys)
    assert result.status == 2
    assert "not a size: 'lots'" in result.err
    result = run(["verify", "--max-header-value", "64K", str(SAMPLE)], capsys)
    assert result.status == 2
    assert "max_header_value must be an int from 0 to 65535" in result.err


def test_encode_honours_limits(capsys, tmp_path):
    layout = _layout(eventstream.Message({}, b"x" * 100))
    result, _ = _encode(capsys, tmp_path, json.dumps(layout), "--max-payload", "10")
    assert result.status == 1
    assert "payload of 100 bytes exceeds the limit of 10" in result.err


# ---------------------------------------------------------------- colour


def test_colour_only_when_asked_or_on_a_terminal(capsys, monkeypatch):
    plain = run(["dump", str(SAMPLE)], capsys).out
    assert "\x1b[" not in plain
    coloured = run(["dump", "--color", "always", str(SAMPLE)], capsys).out
    assert "\x1b[1;36mmessage 0\x1b[0m" in coloured
    assert "\x1b[" not in run(["inspect", "--no-color", str(SAMPLE)], capsys).out


def test_want_color_respects_no_color_and_dumb_terminals():
    from eventstream.cli.color import want_color

    class Tty:
        def isatty(self):
            return True

    assert want_color("auto", Tty(), {}) is True
    assert want_color("auto", Tty(), {"NO_COLOR": "1"}) is False
    assert want_color("auto", Tty(), {"NO_COLOR": ""}) is True
    assert want_color("auto", Tty(), {"TERM": "dumb"}) is False
    assert want_color("always", object(), {"NO_COLOR": "1"}) is True
    assert want_color("never", Tty(), {}) is False
    assert want_color("auto", object(), {}) is False


# ---------------------------------------------------------------- robustness


def _garbage(seed: int, size: int) -> bytes:
    import random

    return (
        random.Random(seed).randbytes(size)
        if hasattr(random.Random, "randbytes")
        else bytes(random.Random(seed).getrandbits(8) for _ in range(size))
    )


@pytest.mark.parametrize("seed", range(12))
def test_garbage_never_gives_a_traceback(capsys, tmp_path, seed):
    data = _garbage(seed, seed * 37 + 1)
    path = tmp_path / "garbage"
    path.write_bytes(data)
    for argv in (
        ["dump", str(path)],
        ["dump", "--json", str(path)],
        ["inspect", str(path)],
        ["verify", str(path)],
        ["split", str(path), "--out", str(tmp_path / "o"), "--force"],
        ["dump", "--hex", str(path)],
        ["dump", "--base64", str(path)],
        ["encode", str(path), "-o", str(tmp_path / "enc")],
    ):
        result = run(argv, capsys)
        assert result.status == 1, (argv, result)
        assert "Traceback" not in result.err and "internal error" not in result.err


def test_mutated_sample_never_gives_a_traceback(capsys, tmp_path):
    """Damage each region of the sample in turn: every command reports, none crashes."""
    raw = sample_bytes()
    path = tmp_path / "mutated"
    for position in range(0, len(raw), 29):
        for flip in (0x01, 0xFF):
            data = bytearray(raw)
            data[position] ^= flip
            path.write_bytes(bytes(data))
            for command in ("inspect", "verify"):
                result = run([command, str(path)], capsys)
                assert result.status == 1, (position, flip, command)
                assert "internal error" not in result.err
