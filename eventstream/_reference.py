"""The header block of the event-stream format, walked the plain way.

This is the reference the fast walks are held to (``tests/test_reference_walk.py``
checks the Python backend's walk and the C core's ``es_walk_headers`` against it
on arbitrary input), and the Python backend reports its header faults with it.
It is written to be read next to the format, not to be fast.

A header block is a sequence of headers::

    name_length u8 | name (name_length bytes, UTF-8) | type u8 | value

where the value depends on the type: nothing for the booleans, a big-endian
signed integer of 1, 2, 4 or 8 bytes, a timestamp (signed 64-bit milliseconds),
16 UUID bytes, or a u16 length followed by that many bytes (bytes) or UTF-8
(string).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from . import errors as E
from .limits import Limits

# Header value types, by their wire code.
TYPE_BOOL_TRUE = 0
TYPE_BOOL_FALSE = 1
TYPE_BYTE = 2
TYPE_INT16 = 3
TYPE_INT32 = 4
TYPE_INT64 = 5
TYPE_BYTES = 6
TYPE_STRING = 7
TYPE_TIMESTAMP = 8
TYPE_UUID = 9
TYPE_COUNT = 10

# Bytes of the value of each fixed-width type.
FIXED_VALUE_SIZE: Dict[int, int] = {
    TYPE_BOOL_TRUE: 0,
    TYPE_BOOL_FALSE: 0,
    TYPE_BYTE: 1,
    TYPE_INT16: 2,
    TYPE_INT32: 4,
    TYPE_INT64: 8,
    TYPE_TIMESTAMP: 8,
    TYPE_UUID: 16,
}
# Types whose value is a u16 length and that many bytes.
LENGTH_PREFIXED = (TYPE_BYTES, TYPE_STRING)

HeaderRecord = Tuple[int, int, int, int, int]
"""One header as the C core describes it (offsets into the block): name start, name
end, type, and then for integers and timestamps (value, 0), for bytes, strings and
UUIDs (value start, value end), for booleans (0, 0)."""


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def walk(
    block: bytes, limits: Limits, base: int = 0, frame: int = 0
) -> Tuple[List[HeaderRecord], Optional[E.Fault]]:
    """The headers of ``block`` up to the first invalid one, and its fault (or None).

    ``block[0]`` is at stream offset ``base`` in the message at ``frame``; fault
    offsets are stream offsets.  Each header is checked in this order (the order
    both backends report):

    1. it would be header number ``limits.max_headers + 1``;
    2. its name length is 0;
    3. its name runs past the block;
    4. its name is not UTF-8;
    5. the block ends before its type byte;
    6. its type byte is not 0-9;
    7. its value (or the u16 length of a bytes/string value) runs past the block;
    8. a bytes/string length is above ``limits.max_header_value``;
    9. that many bytes run past the block;
    10. a string value is not UTF-8.
    """
    records: List[HeaderRecord] = []
    end = len(block)
    p = 0

    def fault(code: int, at: int, a: int = 0, b: int = 0) -> E.Fault:
        return (code, base + at, frame, a, b)

    while p < end:
        if len(records) == limits.max_headers:
            return records, fault(
                E.FAULT_HEADER_COUNT_LIMIT, p, len(records) + 1, limits.max_headers
            )
        name_length = block[p]
        name_start = p + 1
        name_end = name_start + name_length
        if name_length == 0:
            return records, fault(E.FAULT_HEADER_NAME_EMPTY, p)
        if name_end > end:
            return records, fault(E.FAULT_HEADER_NAME_OVERRUN, p, name_length, end - name_start)
        if not _is_utf8(block[name_start:name_end]):
            return records, fault(E.FAULT_HEADER_NAME_UTF8, name_start)
        if name_end == end:
            return records, fault(E.FAULT_HEADER_TYPE_MISSING, name_end)
        value_type = block[name_end]
        if value_type >= TYPE_COUNT:
            return records, fault(E.FAULT_HEADER_TYPE_UNKNOWN, name_end, value_type)
        value_at = name_end + 1
        left = end - value_at
        if value_type in LENGTH_PREFIXED:
            if left < 2:
                return records, fault(E.FAULT_HEADER_VALUE_OVERRUN, value_at, 2, left)
            length = int.from_bytes(block[value_at : value_at + 2], "big")
            if length > limits.max_header_value:
                return records, fault(
                    E.FAULT_HEADER_VALUE_LIMIT, value_at, length, limits.max_header_value
                )
            if 2 + length > left:
                return records, fault(E.FAULT_HEADER_VALUE_OVERRUN, value_at, 2 + length, left)
            value_start, value_end = value_at + 2, value_at + 2 + length
            if value_type == TYPE_STRING and not _is_utf8(block[value_start:value_end]):
                return records, fault(E.FAULT_HEADER_VALUE_UTF8, value_start)
            records.append((name_start, name_end, value_type, value_start, value_end))
            p = value_end
            continue
        size = FIXED_VALUE_SIZE[value_type]
        if size > left:
            return records, fault(E.FAULT_HEADER_VALUE_OVERRUN, value_at, size, left)
        raw = block[value_at : value_at + size]
        if value_type == TYPE_UUID:
            records.append((name_start, name_end, value_type, value_at, value_at + size))
        elif size:
            value = int.from_bytes(raw, "big", signed=True)
            records.append((name_start, name_end, value_type, value, 0))
        else:
            records.append((name_start, name_end, value_type, 0, 0))
        p = value_at + size
    return records, None
