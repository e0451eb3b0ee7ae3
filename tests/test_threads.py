"""One Decoder used from several threads at once (issue 16 item 6).

Every overlapping call is either refused with ``RuntimeError`` (and changes
nothing) or runs whole: no byte fed is ever lost or duplicated.
"""

from __future__ import annotations

import sys
import threading

import pytest

import eventstream
from eventstream import Decoder

pytestmark = pytest.mark.usefixtures("backend")

MESSAGE = eventstream.Message({":event-type": "T"}, b"p" * 300)
FRAME = eventstream.encode(MESSAGE)


def test_feed_reset_close_and_pending_from_several_threads_lose_no_bytes():
    decoder = Decoder()
    stop = threading.Event()
    lock = threading.Lock()  # guards the tallies below, not the decoder
    tally = {"fed": 0, "decoded": 0, "reset": 0, "refused": 0}
    unexpected = []
    chunk_sizes = (1, 7, 100, len(FRAME), 3 * len(FRAME) + 5)

    def count(key, n):
        with lock:
            tally[key] += n

    def feeder():
        data = FRAME * 40
        pos = 0
        i = 0
        while not stop.is_set():
            size = chunk_sizes[i % len(chunk_sizes)]
            i += 1
            chunk = data[pos % len(data) : pos % len(data) + size]
            try:
                messages = decoder.feed(chunk)
            except RuntimeError:
                count("refused", 1)
                continue
            except eventstream.DecodeError as exc:
                # A reset mid-message cuts the stream: what follows is garbage
                # to the decoder, and is held, not lost.
                count("fed", len(chunk))
                count("decoded", len(exc.messages) * len(FRAME))
                pos += len(chunk)
                continue
            except eventstream.DecoderStateError:
                continue
            except Exception as exc:  # anything else is a bug
                unexpected.append(exc)
                return
            count("fed", len(chunk))
            count("decoded", len(messages) * len(FRAME))
            pos += len(chunk)

    def resetter():
        while not stop.is_set():
            try:
                count("reset", len(decoder.reset()))
            except RuntimeError:
                count("refused", 1)
            except Exception as exc:
                unexpected.append(exc)
                return

    def closer():
        while not stop.is_set():
            try:
                decoder.close()
            except (RuntimeError, eventstream.EventStreamError):
                pass
            except Exception as exc:
                unexpected.append(exc)
                return

    def reader():
        while not stop.is_set():
            try:
                pending = decoder.pending
                assert decoder.position >= len(pending)
            except Exception as exc:
                unexpected.append(exc)
                return

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    threads = [threading.Thread(target=f) for f in (feeder, feeder, resetter, closer, reader)]
    try:
        for thread in threads:
            thread.start()
        stop.wait(0.6)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        sys.setswitchinterval(interval)
    assert unexpected == []
    held = len(decoder.reset())
    assert tally["fed"] > 0 and tally["refused"] > 0, tally
    # Every byte fed was decoded, handed back by reset(), or is still held.
    assert tally["fed"] == tally["decoded"] + tally["reset"] + held, tally
    # The position counts every byte accepted, none twice.
    assert decoder.position == tally["fed"]


def test_a_refused_call_changes_nothing():
    decoder = Decoder()
    decoder.feed(FRAME[:10])
    decoder._turn.pop()  # as if another thread were inside feed()
    try:
        for call in (lambda: decoder.feed(FRAME[10:]), decoder.reset, decoder.close):
            with pytest.raises(RuntimeError, match="two threads"):
                call()
    finally:
        decoder._turn.append(True)
    assert decoder.pending == FRAME[:10]
    assert decoder.feed(FRAME[10:]) == [MESSAGE]
