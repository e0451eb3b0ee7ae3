"""Unit tests of the CLI's building blocks: input decoding, sizes, escaping, the JSON layout."""

from __future__ import annotations

import argparse
import json
import uuid

import pytest
from cli_support import run

import eventstream
from eventstream import Header, HeaderType, Message
from eventstream.cli.errors import CliError
from eventstream.cli.frames import decode_single
from eventstream.cli.hexdump import hexdump_rows
from eventstream.cli.inputs import decode_base64, decode_hex
from eventstream.cli.jsonlayout import (
    LayoutError,
    frame_to_json,
    header_from_json,
    header_to_json,
    iter_json_values,
)
from eventstream.cli.main import parse_size
from eventstream.cli.render import message_kind, quote, safe_text, timestamp_text
from eventstream.cli.scan import Scanner


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("32767", 32767),
        ("128K", 131072),
        ("128kib", 131072),
        ("24M", 25165824),
        ("1g", 1 << 30),
        (" 7 ", 7),
    ],
)
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "-1", "1.5M", "12T", "lots"])
def test_parse_size_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)


def test_decode_hex_and_base64():
    assert decode_hex(b"0x00, 0x3D\n\\xff:aa") == b"\x00\x3d\xff\xaa"
    assert decode_hex(b"") == b""
    assert decode_base64(b"AAEC\n/w") == b"\x00\x01\x02\xff"
    assert decode_base64(b"_-8") == b"\xff\xef"
    for bad in (b"AA=A", b"A"):
        with pytest.raises(CliError) as info:
            decode_base64(bad)
        assert info.value.status == 1


def test_safe_text_escapes_terminal_controls_and_bidi():
    assert safe_text("ok\n\ttab") == "ok\n\ttab"
    assert safe_text("\x1b[31mred") == "\\x1b[31mred"
    assert safe_text("a\u202eb\u200bc\x7f\x9b") == "a\\u202eb\\u200bc\\x7f\\x9b"
    assert quote('say "hi"\n') == '"say \\"hi\\"\\n"'


def test_hostile_headers_and_payloads_cannot_drive_the_terminal(capsys, tmp_path):
    message = Message(
        {"\x1b]0;title\x07": "\x1b[2J", ":content-type": "text/plain"},
        "\x1b[31mred\x1b[0m \u202eevil".encode(),
    )
    path = tmp_path / "hostile.eventstream"
    path.write_bytes(eventstream.encode(message))
    for command in ("dump", "inspect"):
        result = run([command, str(path)], capsys)
        assert result.status == 0
        assert "\x1b" not in result.out and "\x07" not in result.out
        assert "\u202e" not in result.out
        assert "\\x1b[31mred" in result.out


def test_timestamp_text():
    assert timestamp_text(0) == "0 (1970-01-01T00:00:00.000Z)"
    assert timestamp_text(-1) == "-1 (1969-12-31T23:59:59.999Z)"
    assert timestamp_text(1 << 62).endswith("(outside the datetime range)")


def test_message_kind():
    assert (
        message_kind({":message-type": "event", ":event-type": "Records"}, b"x") == "event Records"
    )
    assert (
        message_kind({":message-type": "exception", ":event-type": "Bad"}, b"") == "exception Bad"
    )
    error = {":message-type": "error", ":error-code": "E1", ":error-message": "boom"}
    assert message_kind(error, b"") == "error E1: boom"
    assert (
        message_kind({":chunk-signature": b"s", ":date": 1}, b"")
        == "signed end frame (empty payload)"
    )
    assert message_kind({}, b"") == ""


def test_header_json_both_ways_for_every_type():
    headers = [
        Header.boolean("t", True),
        Header.boolean("f", False),
        Header.int8("b", -49),
        Header.int16("s", -2),
        Header.int32("i", 40972),
        Header.int64("l", -(1 << 63)),
        Header.binary("y", b"\x00\xff"),
        Header.string("u", "h\u00e9llo"),
        Header.timestamp("ts", 8675309),
        Header.uuid("id", uuid.UUID("01020304-0506-0708-090a-0b0c0d0e0f10")),
    ]
    expected_values = [
        True,
        False,
        -49,
        -2,
        40972,
        -(1 << 63),
        "AP8=",
        "aMOpbGxv",
        8675309,
        "AQIDBAUGBwgJCgsMDQ4PEA==",
    ]
    for header, value in zip(headers, expected_values):
        shown = header_to_json(header)
        assert shown == {"name": header.name, "type": int(header.type), "value": value}
        assert header_from_json(json.loads(json.dumps(shown)), "h") == header


def test_bool_headers_may_omit_the_value():
    assert header_from_json({"name": "x", "type": 1}, "h") == Header("x", HeaderType.BOOL_FALSE)


def test_iter_json_values_reports_lines():
    text = '{"a": 1}\n\n[{"b": 2}, {"c": 3}]\n  {"d":\n 4}\n'
    assert list(iter_json_values(text)) == [
        (1, {"a": 1}),
        (3, {"b": 2}),
        (3, {"c": 3}),
        (4, {"d": 4}),
    ]
    with pytest.raises(LayoutError, match="line 2 column 1"):
        list(iter_json_values('{"a": 1}\n}'))
    assert list(iter_json_values("\ufeff{}")) == [(1, {})]


def test_the_scanner_pairs_messages_with_their_bytes_across_chunks():
    frames_in = [eventstream.encode(Message({"n": i}, b"p" * i)) for i in range(5)]
    stream = b"".join(frames_in)
    scanner = Scanner()
    got = []
    for i in range(0, len(stream), 7):
        got.extend(event.frame for event in scanner.feed(stream[i : i + 7]))
    assert scanner.close() == [] and not scanner.faults
    assert [f.raw for f in got] == frames_in
    assert [f.offset for f in got] == [sum(map(len, frames_in[:i])) for i in range(5)]
    assert [f.number for f in got] == list(range(5))
    assert frame_to_json(got[3])["total_length"] == len(frames_in[3])


def test_decode_single_only_accepts_exactly_one_message():
    one = eventstream.encode(Message({}, b"x"))
    assert decode_single(one) is not None
    assert decode_single(one + one) is None
    assert decode_single(one[:-1]) is None
    assert decode_single(b"") is None


def test_hexdump_rows_align_and_mark():
    rows = hexdump_rows(bytes(range(20)), base=8, mark=(10, 2))
    assert (
        rows[0] == "00000000                           00 01 02 03 04 05 06 07  |        ........|"
    )
    assert rows[1] == " " * 41 + "^^ ^^"  # under bytes 10 and 11 (02 03)
    assert rows[2].startswith("00000010  08 09 0a 0b 0c 0d 0e 0f  10 11 12 13")


def test_every_single_flipped_bit_is_located_exactly():
    """CRC-32 tells a one-bit error's position: inspect names the byte and bit for every one."""
    from eventstream.cli.walk import Walker

    frame = eventstream.encode(Message({":event-type": "X", "n": 5, "b": b"\x00\x01"}, b"payload!"))
    for offset in range(12, len(frame)):  # headers, payload and the message_crc field
        for bit in range(8):
            data = bytearray(frame)
            data[offset] ^= 1 << bit
            walk = Walker(bytes(data)).walk_frame(0, len(data), 0)
            assert walk.fault is not None
            notes = [n for n in walk.fault.notes if n.startswith("flipping bit")]
            assert len(notes) == 1, (offset, bit, walk.fault)
            assert notes[0].startswith(f"flipping bit {bit} of byte {offset} "), notes


def test_inspect_points_at_the_flipped_bit_of_the_corrupted_sample(capsys, tmp_path):
    from cli_support import corrupted_sample

    path = tmp_path / "broken.eventstream"
    path.write_bytes(corrupted_sample())
    out = run(["inspect", str(path)], capsys).out
    assert (
        "note: flipping bit 0 of byte 565 (0x75 -> 0x74, 'u' -> 't', in header 1 value) makes "
        "the message CRC match: most likely that one bit was damaged"
    ) in out
