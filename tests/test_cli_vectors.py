"""The CLI on every conformance vector: positive ones round-trip, negative ones are named."""

from __future__ import annotations

import json

import pytest
from cli_support import (
    expected_negative_text,
    json_lines,
    masked,
    negative_vectors,
    positive_vectors,
    run,
)

import eventstream

POSITIVE = positive_vectors()
NEGATIVE = negative_vectors()


def _decoder_error(data: bytes) -> eventstream.DecodeError:
    decoder = eventstream.Decoder()
    try:
        decoder.feed(data)
        decoder.close()
    except eventstream.DecodeError as exc:
        return exc
    raise AssertionError("the vector decoded")


def test_vector_counts():
    # 5 + 3 positive and 4 + 8 negative, as the vectors README says
    assert len(POSITIVE) == 8
    assert len(NEGATIVE) == 12


@pytest.mark.parametrize(("name", "encoded", "decoded"), POSITIVE, ids=[v[0] for v in POSITIVE])
def test_positive_vector_every_command(capsys, tmp_path, name, encoded, decoded):
    data = encoded.read_bytes()
    # verify
    result = run(["verify", str(encoded)], capsys)
    assert result.status == 0
    assert result.out == f"{encoded}: OK, 1 message, {len(data)} bytes\n"
    # dump --json matches the upstream JSON description field for field
    result = run(["dump", "--json", str(encoded)], capsys)
    assert result.status == 0
    (row,) = json_lines(result.out)
    if decoded is not None:
        assert row == masked(json.loads(decoded.read_text()))
    # ... and encodes back to the same bytes
    jsonl = tmp_path / "v.jsonl"
    jsonl.write_text(result.out)
    out = tmp_path / "v.bin"
    assert run(["encode", str(jsonl), "-o", str(out)], capsys) == (0, "", "")
    assert out.read_bytes() == data
    # dump (human) names every header with its wire type
    result = run(["dump", str(encoded)], capsys)
    assert result.status == 0
    message = eventstream.decode(data)
    for header in message.headers:
        assert f"{header.name}" in result.out
        assert f"(type {int(header.type)})" in result.out
    assert result.out.rstrip().endswith(f"1 message, {len(data)} bytes, all valid")
    # inspect
    result = run(["inspect", str(encoded)], capsys)
    assert result.status == 0
    assert f"message 0 at byte 0: {len(data)} bytes" in result.out
    assert result.out.count(" OK") == 2  # both CRCs
    assert f"header {len(message.headers) - 1} type" in result.out or not message.headers
    # split
    corpus = tmp_path / "corpus"
    assert run(["split", str(encoded), "--out", str(corpus)], capsys).status == 0
    assert (corpus / "message-000000.eventstream").read_bytes() == data


@pytest.mark.parametrize(
    ("name", "encoded", "decoded"),
    [v for v in POSITIVE if v[2]],
    ids=[v[0] for v in POSITIVE if v[2]],
)
def test_encode_reads_the_upstream_json_files(capsys, tmp_path, name, encoded, decoded):
    """Pretty-printed, with CRCs written as signed int32 in some files: still byte-exact."""
    out = tmp_path / "v.bin"
    result = run(["encode", str(decoded), "-o", str(out)], capsys)
    assert result == (0, "", "")
    assert out.read_bytes() == encoded.read_bytes()


def test_all_vectors_in_one_stream_round_trip(capsys, tmp_path):
    stream = b"".join(encoded.read_bytes() for _, encoded, _ in POSITIVE)
    path = tmp_path / "all.bin"
    path.write_bytes(stream)
    result = run(["dump", "--json", str(path)], capsys)
    assert len(json_lines(result.out)) == len(POSITIVE)
    jsonl = tmp_path / "all.jsonl"
    jsonl.write_text(result.out)
    out = tmp_path / "copy.bin"
    assert run(["encode", str(jsonl), "-o", str(out)], capsys).status == 0
    assert out.read_bytes() == stream


@pytest.mark.parametrize(("name", "encoded"), NEGATIVE, ids=[v[0] for v in NEGATIVE])
def test_negative_vector_every_command(capsys, tmp_path, name, encoded):
    data = encoded.read_bytes()
    error = _decoder_error(data)
    expected = expected_negative_text(name)
    if expected is not None:  # "Prelude checksum mismatch" / "Message checksum mismatch"
        assert str(error).lower().startswith(expected.lower())
    # verify: exit 1, one line, the decoder's reason and offset
    result = run(["verify", str(encoded)], capsys)
    assert result.status == 1
    assert result.err == f"{encoded}: invalid: message 0: {error}\n"
    assert f"at byte {error.offset}" in result.err
    # dump: nothing on stdout, the reason and a pointer to inspect on stderr
    result = run(["dump", str(encoded)], capsys)
    assert result.status == 1
    assert result.out == ""
    assert str(error) in result.err and f"eventstream inspect {encoded}" in result.err
    # inspect: the walk stops at a fault, and prints the decoder's verdict
    result = run(["inspect", str(encoded)], capsys)
    assert result.status == 1
    assert "FAULT at byte " in result.out
    assert "expected here: " in result.out or "the bytes give: " in result.out
    assert result.out.rstrip().endswith(f"decoder: {error}")
    at_decoder_offset = f"FAULT at byte {error.offset}," in result.out
    if error.code == "message_crc" and not at_decoder_offset:
        # a damaged header block: the walk stops at the header byte and says the CRC fails
        assert "note: the message_crc fails too" in result.out
        assert "<- fault" in result.out
    else:
        assert at_decoder_offset
    # split writes nothing, and makes no directory for nothing
    result = run(["split", str(encoded), "--out", str(tmp_path / "o")], capsys)
    assert result.status == 1
    assert not (tmp_path / "o").exists()


def test_inspect_names_the_damaged_header_byte_that_the_crc_hides(capsys):
    """smithy-rs invalid_header_value_type: the CRC fails first for the decoder; the walk
    points at the type byte 0x60 and says the CRC fails too."""
    (path,) = [p for n, p in NEGATIVE if n.endswith("/invalid_header_value_type")]
    out = run(["inspect", str(path)], capsys).out
    assert "header 2 type              96 (0x60) <- fault" in out
    assert "FAULT at byte 30, in message 0" in out
    assert 'header 2 ("byte") has the unknown type 96 (0x60)' in out
    assert "expected here: a type code from 0 to 9" in out
    assert "note: the message_crc fails too" in out
    assert "decoder: message checksum mismatch" in out


def test_inspect_guesses_the_damaged_length_byte(capsys):
    (path,) = [p for n, p in NEGATIVE if n == "main/corrupted_length"]
    out = run(["inspect", str(path)], capsys).out
    assert (
        "note: changing byte 3 from 0x3e to 0x3d makes the prelude CRC match "
        "(total_length 61): that byte was probably damaged"
    ) in out
    assert "the bytes give: 0x405DF946, the CRC32 of bytes 0-7 (ChecksumError.actual" in out
