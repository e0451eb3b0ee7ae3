"""Many concurrent WebSocket streams on loopback: no result lost or reordered, memory flat.

The CI version runs 50 streams of 3 s of audio (sent as fast as the server takes it) twice.
The full run the issue asks for, 50 streams of 30 s each, five rounds, is opt-in:
``EVENTSTREAM_SOAK=1 pytest -q -s tests/test_server_soak.py`` (it prints its figures).
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import sys
import time
from typing import Any, Dict, List, Tuple

import pytest
from _transcribe_clients import audio_frames, results, websocket_session

from eventstream.testing.servers import ServerLimits
from eventstream.testing.servers.transcribe import TranscribeServer

WORDS_PER_PHRASE = 4


def rss_mib() -> float:
    """Resident memory now (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def script(phrases: int) -> List[str]:
    return [
        f"phrase{n} " + " ".join(f"w{n}x{k}" for k in range(1, WORDS_PER_PHRASE))
        for n in range(phrases)
    ]


def check_stream(messages: Any, phrases: List[str], heard_words: int) -> int:
    """Every final in script order, each phrase's partials growing under its one ResultId."""
    got = results(messages)
    finals = [r["Alternatives"][0]["Transcript"] for r in got if not r["IsPartial"]]
    whole, rest = divmod(heard_words, WORDS_PER_PHRASE)
    expected = phrases[:whole] + ([" ".join(phrases[whole].split()[:rest])] if rest else [])
    assert finals == expected
    current: Dict[str, int] = {}
    closed = set()
    for r in got:
        rid, words = r["ResultId"], len(r["Alternatives"][0]["Items"])
        assert rid not in closed, "a result after its final"
        assert words > current.get(rid, 0), "partials must grow"
        current[rid] = words
        if not r["IsPartial"]:
            closed.add(rid)
    return len(got)


async def soak(streams: int, seconds: float, rounds: int) -> List[Tuple[float, float, int]]:
    seconds_per_word = 0.25
    heard = round(seconds / seconds_per_word)
    phrases = script(heard // WORDS_PER_PHRASE + 2)
    frames = audio_frames(seconds)
    figures = []
    limits = ServerLimits(max_connections=streams)
    async with TranscribeServer(phrases, limits=limits, history=streams) as server:
        for _ in range(rounds):
            start = time.monotonic()
            outcomes = await asyncio.gather(
                *(
                    websocket_session(server.websocket_url(), frames, timeout=120)
                    for _ in range(streams)
                )
            )
            elapsed = time.monotonic() - start
            count = sum(check_stream(messages, phrases, heard) for messages, _ in outcomes)
            assert all(code == 1000 for _, code in outcomes)
            assert [s.outcome for s in server.sessions] == ["completed"] * streams
            del outcomes
            gc.collect()
            figures.append((elapsed, rss_mib(), count))
        assert server.connections == 0
    return figures


def test_fifty_concurrent_streams() -> None:
    figures = asyncio.run(asyncio.wait_for(soak(50, 3.0, 2), 120))
    (_, first_rss, count), (_, last_rss, again) = figures
    # 3 s is 12 words: 3 phrases of 4, each 3 partial results and a final one.
    assert count == again == 50 * 3 * 4
    assert last_rss - first_rss < 16, figures  # MiB: the second round retains nothing new


@pytest.mark.skipif(
    not os.environ.get("EVENTSTREAM_SOAK"), reason="the full soak is opt-in: EVENTSTREAM_SOAK=1"
)
def test_full_soak_fifty_streams_of_thirty_seconds() -> None:
    before = rss_mib()
    figures = asyncio.run(asyncio.wait_for(soak(50, 30.0, 5), 1800))
    for n, (elapsed, rss, count) in enumerate(figures, 1):
        print(f"round {n}: {elapsed:.1f} s, {count} results, RSS {rss:.1f} MiB")
    print(f"RSS before the server: {before:.1f} MiB")
    rss = [r for _, r, _ in figures]
    assert max(rss[1:]) - rss[0] < 16, figures
