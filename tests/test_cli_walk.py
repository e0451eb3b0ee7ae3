"""``inspect``'s annotated walk is the reference walk put into words: every field it
prints is one :func:`eventstream._reference.walk_frame` found, at the same offset, and
the fault it shows is the reference's, at the same byte (the header block's own fault
where the message CRC or the end of the input hides it from a decoder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Tuple

import pytest
from _frames import frame, header, string_value
from cli_support import ROOT, run
from hypothesis import given
from strategies import message_bytes, small_limits

import eventstream
from eventstream import _reference as R
from eventstream import errors
from eventstream.cli.walk import Walker
from eventstream.limits import Limits

CAPTURES = sorted(
    [*(ROOT / "tests" / "captures").glob("*.bin"), *(ROOT / "tests" / "interop").glob("*.bin")]
)


def _stream(data: bytes) -> Tuple[List[R.FrameWalk], Optional[errors.Fault]]:
    """The reference walk of each message of ``data``, and the first fault."""
    walks = []
    pos = 0
    while pos < len(data):
        walked = R.walk_frame(memoryview(data)[pos:], base=pos)
        walks.append(walked)
        if walked.fault is not None:
            return walks, walked.header_fault or walked.fault
        assert walked.total_length is not None
        pos += walked.total_length
    return walks, None


def _label(field: R.Field) -> str:
    if field.header < 0:
        return field.name
    if field.name == "header":
        return f"header {field.header}"
    return f"header {field.header} {field.name}"


@pytest.mark.parametrize("path", CAPTURES, ids=[p.name for p in CAPTURES])
def test_inspect_prints_the_reference_fields_of_real_captures(
    capsys: Any, backend: str, path: Path
) -> None:
    data = path.read_bytes()
    walks, fault = _stream(data)
    result = run(["inspect", str(path)], capsys)
    lines = result.out.splitlines()
    if "NOT AN EVENT STREAM" in result.out:  # named by the sniffer, not walked
        assert fault is not None and fault[:2] == (errors.FAULT_PRELUDE_CRC, 8)
        return
    shown = 0
    for walked in walks:
        for field in walked.fields:
            if field.name == "value" and field.length == 0 and isinstance(field.value, bool):
                continue  # a boolean's value is its type byte: no line of its own
            start = f"  {field.offset:08x}  "
            label = _label(field)
            assert any(line.startswith(start) and f" {label} " in line for line in lines), (
                field,
                result.out,
            )
            shown += 1
            if field.fault is not None:
                break
    assert shown >= 7 * len(walks)
    if fault is None:
        assert result.status == 0 and lines[-1].endswith(f"{len(data)} bytes: all valid")
    else:
        assert result.status == 1
        assert f"FAULT at byte {fault[1]}" in result.out


def _shown_fault(walked: R.FrameWalk) -> Optional[errors.Fault]:
    return walked.header_fault or walked.fault


@given(data=message_bytes(), limits=small_limits)
def _check_walker(data: bytes, limits: Limits) -> None:
    walked = R.walk_frame(data, limits)
    walk = Walker(data, limits).walk_frame(0, len(data), 0)
    assert walk.total_length == walked.total_length
    expected = _shown_fault(walked)
    if expected is None:
        assert walk.fault is None and walked.total_length is not None
        assert walk.end == walked.total_length
        return
    assert walk.fault is not None, expected
    error = errors.fault_error(expected)
    assert (walk.fault.code, walk.fault.offset, walk.fault.frame_offset) == (
        error.code,
        error.offset,
        error.frame_offset,
    )


def test_the_cli_walk_shows_the_reference_fault_on_arbitrary_input(backend: str) -> None:
    _check_walker()


# A header name whose second byte is not UTF-8, after one valid header.
_BAD_NAME = frame(header(b"ok", 7, string_value(b"v")) + header(b"a\xff", 0), b"pay")


def test_inspect_puts_a_utf8_fault_where_the_decoder_does(capsys: Any, tmp_path: Path) -> None:
    """Before the walk built on the reference, inspect put this fault at the bad byte
    (21), one byte after the decoder's offset (20, the name's first byte)."""
    path = tmp_path / "bad-name.es"
    path.write_bytes(_BAD_NAME)
    with pytest.raises(errors.MalformedHeaderError) as raised:
        eventstream.decode(_BAD_NAME)
    assert raised.value.offset == 20
    out = run(["inspect", str(path)], capsys).out
    assert "  00000013  02                       header 1 name_length       2\n" in out
    assert (
        "  00000014  61 ff                    header 1 name              (not UTF-8) <- fault"
        in out
    )
    assert "FAULT at byte 20, in message 0 (which starts at byte 0):" in out
    assert "header 1's name is not valid UTF-8 (its first invalid byte is byte 21)" in out
    assert out.rstrip().endswith(f"decoder: {raised.value}")


def test_inspect_shows_the_header_count_limit_at_the_extra_header(
    capsys: Any, tmp_path: Path
) -> None:
    """Before, the walk did not check the count limit: it showed every header, the payload
    and an OK message_crc, then only the decoder's one-line verdict."""
    data = frame(header(b"a", 0) * 4, b"pay")
    path = tmp_path / "many.es"
    path.write_bytes(data)
    result = run(["inspect", "--max-headers", "2", str(path)], capsys)
    assert result.status == 1
    out = result.out
    assert "  00000012                           header 2                   6 bytes:" in out
    assert "FAULT at byte 18, in message 0" in out
    assert "header 2 is header number 3, over the limit of 2 headers per message" in out
    assert "expected here: at most 2 headers (--max-headers raises the limit)" in out
    assert "message_crc" not in out
    assert out.rstrip().endswith(
        "decoder: header 3 exceeds the limit of 2 headers per message "
        "(at byte 18, in the message starting at byte 0)"
    )
    assert run(["inspect", str(path)], capsys).status == 0


def test_inspect_of_a_truncated_capture_shows_what_is_there_and_what_is_missing(
    capsys: Any, tmp_path: Path
) -> None:
    data = (ROOT / "tests" / "captures" / "bedrock-invoke-chunk-ai21.bin").read_bytes()
    path = tmp_path / "cut.bin"
    path.write_bytes(data[:150])
    walked = R.walk_frame(data[:150])
    payload = walked.fields[-1]
    assert payload.name == "payload" and payload.missing == len(data) - 4 - 150
    out = run(["inspect", str(path)], capsys).out
    assert (
        f"payload (incomplete)       {payload.length} of {payload.length + payload.missing}" in out
    )
    assert "FAULT at byte 150 (the end of the input), in message 0" in out
    assert f"expected here: {len(data) - 150} more bytes" in out


def test_inspect_counts_every_byte_of_a_long_message_the_input_ends_inside(
    capsys: Any, tmp_path: Path
) -> None:
    """Before, the walk saw only the first MiB (what the scanner keeps after other faults)
    and said the input ended there, against the decoder's line below it."""
    whole = eventstream.encode(eventstream.Message({"x": "y"}, b"\x01" * (3 << 20)))
    path = tmp_path / "cut.es"
    path.write_bytes(whole[: 2 << 20])
    out = run(["inspect", str(path)], capsys).out
    assert "FAULT at byte 2097152 (the end of the input), in message 0" in out
    assert f"2097152 of the message's {len(whole)} bytes are present" in out
    assert f"expected here: {len(whole) - (2 << 20)} more bytes" in out
    assert "decoder: stream ended inside a message: 2097152 bytes present of" in out
