"""eventstream.crc32 against crcmod, an independent CRC implementation."""

from __future__ import annotations

import os
import zlib

import crcmod.predefined
import pytest
from hypothesis import given
from hypothesis import strategies as st

import eventstream

pytestmark = pytest.mark.usefixtures("backend")

oracle = crcmod.predefined.mkCrcFun("crc-32")
DATA = os.urandom(1024 + 64)


def test_every_length_from_0_to_1024_and_unaligned_starts():
    for start in range(0, 9):
        for length in range(0, 1025):
            chunk = DATA[start : start + length]
            assert eventstream.crc32(chunk) == oracle(chunk), (start, length)


def test_running_value_continues_like_zlib():
    whole = eventstream.crc32(DATA)
    assert eventstream.crc32(DATA[500:], eventstream.crc32(DATA[:500])) == whole == zlib.crc32(DATA)


@given(st.binary(max_size=5000), st.integers(0, 0xFFFFFFFF))
def test_matches_the_oracle_and_zlib_for_any_data_and_start_value(data, value):
    assert eventstream.crc32(data) == oracle(data)
    assert eventstream.crc32(data, value) == zlib.crc32(data, value)


def test_large_buffers_and_buffer_types():
    big = os.urandom(3 * 1024 * 1024 + 13)
    assert eventstream.crc32(big) == zlib.crc32(big)
    assert (
        eventstream.crc32(bytearray(big)) == eventstream.crc32(memoryview(big)) == zlib.crc32(big)
    )
