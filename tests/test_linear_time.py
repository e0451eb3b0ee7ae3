"""The linear-time guarantee of the incremental decoder, tested directly.

The invariant: once a held message's 12-byte prelude has passed its checks, its
length is known and nothing about it can change until all of its bytes are there,
so ``Decoder.feed`` only appends chunks to the held bytes and hands nothing to the
backend until the message is complete.  Every byte therefore reaches the backend's
scan a bounded number of times, however small the chunks: decoding costs time
linear in the bytes fed (a decoder that rescanned the held bytes on every chunk
would be quadratic: 256 KiB in 7-byte chunks is 37,000 rescans).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, List

import pytest

import eventstream
from eventstream import _active


class _CountingBackend(SimpleNamespace):
    """The active backend, with the bytes each scan_frames, check_one or check_next
    call is given counted (``scanned``) and the calls named (``calls``)."""

    def __init__(self, real: Any) -> None:
        super().__init__(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
        self.scanned: List[int] = []
        self.calls: List[str] = []
        real_scan_frames = real.scan_frames

        def scan_frames(buf: Any, pos: int, end: int, *args: Any) -> Any:
            self.scanned.append(end - pos)
            self.calls.append("scan_frames")
            return real_scan_frames(buf, pos, end, *args)

        self.scan_frames = scan_frames
        real_check_one = real.check_one

        def check_one(buf: Any, length: int, *args: Any) -> Any:
            self.scanned.append(length)  # the Decoder's one-message shortcut
            self.calls.append("check_one")
            return real_check_one(buf, length, *args)

        self.check_one = check_one
        real_check_next = real.check_next

        def check_next(buf: Any, total: int, end: int, *args: Any) -> Any:
            self.scanned.append(end)  # feed's completing path: the message and what follows
            self.calls.append("check_next")
            return real_check_next(buf, total, end, *args)

        self.check_next = check_next


def _decode_in_chunks(wire: bytes, chunk: int) -> List[eventstream.Message]:
    """The messages a new Decoder gives for ``wire`` fed ``chunk`` bytes at a time."""
    decoder = eventstream.Decoder()
    got: List[eventstream.Message] = []
    for i in range(0, len(wire), chunk):
        got += decoder.feed(wire[i : i + chunk])
    decoder.close()
    return got


@pytest.mark.parametrize("chunk", [1, 7, 100, 1024, 4096])
def test_a_held_message_reaches_the_backend_only_when_complete(
    backend: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = eventstream.Message({":event-type": "AudioEvent"}, bytes(range(256)) * 256)
    wire = eventstream.encode(message) * 3  # 3 x 64 KiB
    counting = _CountingBackend(_active.backend)
    monkeypatch.setattr(_active, "backend", counting)
    got = _decode_in_chunks(wire, chunk)
    assert got == [message] * 3
    # Until a prelude is complete the held bytes are scanned again (at most 11 bytes
    # plus a chunk each time); after that, only the completing call scans.
    assert sum(counting.scanned) <= 3 * len(wire) + len(counting.scanned) * (11 + chunk)
    assert len(counting.scanned) <= 3 * (12 // chunk + 2) + 3


def _same_block(i: int) -> eventstream.Message:
    return eventstream.Message({":event-type": "TranscriptEvent"}, b"t" * 700)


def _new_block(i: int) -> eventstream.Message:
    # A block no cache holds yet: a sequence number in every message.
    return eventstream.Message({":event-type": "Record", "seq": i}, b"r" * 700)


@pytest.mark.parametrize("make", [_same_block, _new_block], ids=["same-block", "new-blocks"])
@pytest.mark.parametrize("chunk", [1, 7, 100, 509])
def test_small_messages_reach_the_backend_once_each(
    backend: str, chunk: int, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Messages within the pieces budget take feed's completing path: one check_next
    # call per message, given the message and at most one chunk after it; a block
    # no cache holds is walked there too (its CRC is not checked again by a scan).
    messages = [make(i) for i in range(200)]
    wire = b"".join(eventstream.encode(m) for m in messages)
    counting = _CountingBackend(_active.backend)
    monkeypatch.setattr(_active, "backend", counting)
    got = _decode_in_chunks(wire, chunk)
    assert got == messages
    assert counting.calls == ["check_next"] * 200
    assert sum(counting.scanned) <= len(wire) + 200 * chunk
