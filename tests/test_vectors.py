"""The cross-SDK conformance vectors (tests/vectors), on both backends."""

from __future__ import annotations

import struct

import pytest
from _frames import fix_crcs
from _vectors import (
    expected_headers,
    expected_payload,
    main_negative_vectors,
    positive_vectors,
    smithy_negative_vectors,
)

import eventstream
from eventstream import (
    Decoder,
    InvalidLengthError,
    LimitExceededError,
    MalformedHeaderError,
    MessageChecksumError,
    PreludeChecksumError,
    UnknownHeaderTypeError,
)

pytestmark = pytest.mark.usefixtures("backend")

POSITIVE = positive_vectors()


@pytest.mark.parametrize("vector", POSITIVE, ids=[v.name for v in POSITIVE])
def test_positive_vector_decodes_to_its_description(vector):
    message = eventstream.decode(vector.raw)
    assert list(message.headers) == expected_headers(vector.expected)
    assert message.payload == expected_payload(vector.expected)
    total, headers_len, prelude_crc = struct.unpack_from(">III", vector.raw)
    assert total == vector.expected["total_length"] == len(vector.raw)
    assert headers_len == vector.expected["headers_length"]
    # The JSON stores some CRCs as signed int32.
    assert prelude_crc == vector.expected["prelude_crc"] & 0xFFFFFFFF
    assert eventstream.crc32(vector.raw[:8]) == prelude_crc
    message_crc = struct.unpack_from(">I", vector.raw, total - 4)[0]
    assert message_crc == vector.expected["message_crc"] & 0xFFFFFFFF
    assert eventstream.crc32(vector.raw[: total - 4]) == message_crc


@pytest.mark.parametrize("vector", POSITIVE, ids=[v.name for v in POSITIVE])
def test_positive_vector_reencodes_byte_identically(vector):
    assert eventstream.encode(eventstream.decode(vector.raw)) == vector.raw
    rebuilt = eventstream.Message(
        expected_headers(vector.expected), expected_payload(vector.expected)
    )
    assert eventstream.encode(rebuilt) == vector.raw


@pytest.mark.parametrize("vector", POSITIVE, ids=[v.name for v in POSITIVE])
def test_positive_vector_fed_one_byte_at_a_time(vector):
    decoder = Decoder()
    messages = []
    for i in range(len(vector.raw)):
        messages += decoder.feed(vector.raw[i : i + 1])
    decoder.close()
    assert messages == [eventstream.decode(vector.raw)]


ERROR_FOR_TEXT = {
    "Prelude checksum mismatch": PreludeChecksumError,
    "Message checksum mismatch": MessageChecksumError,
}


@pytest.mark.parametrize("name, raw, text", main_negative_vectors(), ids=lambda v: str(v)[:30])
def test_main_negative_vector_raises_the_documented_error(name, raw, text):
    with pytest.raises(ERROR_FOR_TEXT[text]) as info:
        eventstream.decode(raw)
    assert info.value.frame_offset == 0
    # The same verdict arrives incrementally, as soon as the bytes are there.
    decoder = Decoder()
    with pytest.raises(ERROR_FOR_TEXT[text]):
        for i in range(len(raw)):
            decoder.feed(raw[i : i + 1])
        decoder.close()


# This decoder checks both CRCs before it parses headers (as aws-c and Go do),
# so the vectors whose header bytes were changed fail on the message CRC.
SMITHY_AS_IS = {
    "invalid_prelude_checksum": (PreludeChecksumError, 8),
    "invalid_message_checksum": (MessageChecksumError, 146),
    "invalid_headers_length": (InvalidLengthError, 4),
    "invalid_header_value_type": (MessageChecksumError, 146),
    "invalid_header_name_length": (MessageChecksumError, 146),
    "invalid_header_string_value_length": (MessageChecksumError, 146),
    "invalid_header_string_length_cut_off": (MessageChecksumError, 89),
    "invalid_header_name_length_too_long": (MessageChecksumError, 89),
}

# With their CRCs repaired, the header-mutated vectors reach the header walk.
SMITHY_CRC_REPAIRED = {
    "invalid_header_value_type": (UnknownHeaderTypeError, "header_type_unknown"),
    "invalid_header_name_length": (MalformedHeaderError, "header_name_overrun"),
    "invalid_header_string_value_length": (LimitExceededError, "header_value_limit"),
    "invalid_header_string_length_cut_off": (MalformedHeaderError, "header_value_overrun"),
    "invalid_header_name_length_too_long": (MalformedHeaderError, "header_name_overrun"),
}


@pytest.mark.parametrize("name, raw", smithy_negative_vectors(), ids=lambda v: str(v)[:40])
def test_smithy_negative_vector_raises_the_documented_error(name, raw):
    error, offset = SMITHY_AS_IS[name]
    with pytest.raises(error) as info:
        eventstream.decode(raw)
    assert info.value.offset == offset


@pytest.mark.parametrize("name", sorted(SMITHY_CRC_REPAIRED))
def test_smithy_header_vectors_with_repaired_crcs_fail_in_the_header_walk(name):
    raw = dict(smithy_negative_vectors())[name]
    total = struct.unpack_from(">I", raw)[0]
    repaired = fix_crcs(raw[:total])
    error, code = SMITHY_CRC_REPAIRED[name]
    with pytest.raises(error) as info:
        eventstream.decode(repaired)
    assert info.value.code == code
    assert 12 <= info.value.offset < 12 + struct.unpack_from(">I", raw, 4)[0]
