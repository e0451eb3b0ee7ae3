"""The CLI's Scanner: the same verdicts whatever the chunking, under every recovery option."""

from __future__ import annotations

import itertools
import random

import pytest

import eventstream
from eventstream import Message
from eventstream.cli.scan import Checked, Damaged, Scanner, Skipped


def _stream(rng: random.Random) -> bytes:
    parts = []
    for number in range(rng.randint(0, 8)):
        frame = bytearray(
            eventstream.encode(
                Message({"n": number, ":message-type": "event"}, rng.randbytes(rng.randint(0, 40)))
            )
        )
        roll = rng.random()
        if roll < 0.15:
            frame[rng.randrange(8, len(frame))] ^= 1 << rng.randrange(8)  # after the prelude CRC
        elif roll < 0.25:
            frame[rng.randrange(0, 8)] ^= 1 << rng.randrange(8)  # the prelude: untrustworthy
        elif roll < 0.3:
            parts.append(rng.randbytes(rng.randint(1, 30)))  # junk between messages
        elif roll < 0.35:  # a message inside a payload, damaged
            inner = bytearray(eventstream.encode(Message({"i": 1}, b"x" * 20)))
            inner[-1] ^= 1
            frame = bytearray(eventstream.encode(Message({"outer": True}, bytes(inner))))
        parts.append(bytes(frame))
    data = b"".join(parts)
    return data[: rng.randint(0, len(data))] if rng.random() < 0.2 else data


def _verdict(data: bytes, sizes, **options):
    scanner = Scanner(**options)
    events = []
    pos = 0
    while pos < len(data) and not scanner.done:
        size = next(sizes)
        events += scanner.feed(data[pos : pos + size])
        pos += size
    events += scanner.close()
    shown = []
    for event in events:
        if isinstance(event, Checked):
            nested = tuple(_plain(fault) for fault in event.nested)
            shown.append(("ok", event.frame.offset, event.frame.raw, nested))
        elif isinstance(event, Damaged):  # (its raw bytes end with context that may vary)
            shown.append(("bad", _plain(event.fault), event.fatal))
        elif isinstance(event, Skipped):
            shown.append(("skip", event.start, event.end, event.found))
    faults = [_plain(fault) for fault in scanner.faults]
    return shown, scanner.messages, scanner.valid, scanner.skipped, faults


def _plain(fault):
    """A fault without its exception object (exceptions compare by identity)."""
    return fault._replace(error=None)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"keep_going": True},
        {"resync": True},
        {"keep_going": True, "resync": True},
        {"keep_going": True, "count": 3},
        {"skip": 5, "keep_going": True, "resync": True},
    ],
    ids=lambda o: ",".join(o) or "strict",
)
def test_chunking_never_changes_the_verdict(options):
    rng = random.Random(2026)
    for _ in range(150):
        data = _stream(rng)
        whole = _verdict(data, itertools.repeat(1 << 30), **options)
        for size in (1, 3, rng.randint(2, 64)):
            assert _verdict(data, itertools.repeat(size), **options) == whole, (data, size)
        if not options.get("skip"):
            # every verdict agrees with the package decoder on where the first fault is
            first_faults = [f for f in whole[4] if f.depth == 0]
            try:
                decoder = eventstream.Decoder()
                decoder.feed(data)
                decoder.close()
                clean = True
            except eventstream.DecodeError as exc:
                clean = False
                if first_faults and not options.get("count"):
                    assert first_faults[0].offset == exc.offset, (data, first_faults[0], exc)
            if clean and not options.get("count"):
                assert not first_faults
