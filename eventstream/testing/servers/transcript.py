"""A scripted, deterministic "recogniser": audio bytes in, TranscriptEvents out (sans-IO).

Each scripted word is "heard" once ``seconds_per_word`` of audio has arrived.  While a phrase
is being heard the results are partial (``IsPartial: true``), all under the phrase's one
``ResultId``, each repeating the words so far (``The``, ``The Amazon``, ...); the phrase's last
word closes it with a final result.  :meth:`Transcriber.finish` (the empty AudioEvent)
finalises a phrase heard in part.  Phrases go to channel ``ch_0``, ``ch_1``, ... in turn when
channel identification is on.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List, Optional, Sequence

from ...types import Message
from ..builders import transcript_event, transcript_item, transcript_result

__all__ = ["Transcriber", "tokens"]

_TOKEN = re.compile(r"[\w'-]+|[^\w\s'-]")
# Words after the last stable one, by stability level (how many may still change).
_UNSTABLE_TAIL = {"high": 1, "medium": 2, "low": 3}


def tokens(phrase: str) -> List[str]:
    """Words and punctuation marks of a phrase: ``"Hi, you."`` -> Hi , you ."""
    return _TOKEN.findall(phrase)


class _Phrase:
    def __init__(self, text: str, channel: Optional[str]) -> None:
        self.tokens = tokens(text)
        self.words = sum(1 for t in self.tokens if _is_word(t))
        self.channel = channel
        self.result_id = str(uuid.uuid4())
        self.heard = 0  # words heard so far
        self.start_word = 0  # words of audio before this phrase began


def _is_word(token: str) -> bool:
    return any(c.isalnum() for c in token)


class Transcriber:
    """Turns received audio into the service's TranscriptEvents, following a script."""

    def __init__(
        self,
        phrases: Sequence[str],
        *,
        bytes_per_second: int,
        seconds_per_word: float = 0.25,
        channels: int = 1,
        channel_identification: bool = False,
        stability: Optional[str] = None,
        partial_results: bool = True,
    ) -> None:
        if bytes_per_second < 1 or seconds_per_word <= 0:
            raise ValueError("bytes_per_second and seconds_per_word must be positive")
        if stability is not None and stability not in _UNSTABLE_TAIL:
            raise ValueError(f"stability must be low, medium or high, got {stability!r}")
        self.seconds_per_word = seconds_per_word
        self.bytes_per_word = max(1, round(bytes_per_second * seconds_per_word))
        self.stability = stability
        self.partial_results = partial_results
        ids = [f"ch_{n}" for n in range(channels)] if channel_identification else [None]
        self._phrases = [
            _Phrase(text, ids[n % len(ids)]) for n, text in enumerate(phrases) if tokens(text)
        ]
        self._next = 0  # index of the phrase being heard
        self._assigned = 0  # words heard and given to phrases
        self.audio_bytes = 0
        self.finished = False

    @property
    def words_heard(self) -> int:
        return self.audio_bytes // self.bytes_per_word

    def feed(self, audio: bytes) -> List[Message]:
        """Audio received: the TranscriptEvents it produces (possibly none)."""
        if self.finished:
            raise RuntimeError("audio after the end of the stream")
        self.audio_bytes += len(audio)
        events: List[Message] = []
        budget = self.words_heard - self._assigned
        while budget > 0 and self._next < len(self._phrases):
            phrase = self._phrases[self._next]
            if phrase.heard == 0:
                phrase.start_word = self._assigned
            step = min(budget, phrase.words - phrase.heard)
            phrase.heard += step
            self._assigned += step
            budget -= step
            if phrase.heard == phrase.words:
                events.append(self._event(phrase, partial=False))
                self._next += 1
            elif self.partial_results:
                events.append(self._event(phrase, partial=True))
        return events

    def finish(self) -> List[Message]:
        """The empty AudioEvent: finalise whatever was heard of the current phrase."""
        self.finished = True
        if self._next < len(self._phrases):
            phrase = self._phrases[self._next]
            if phrase.heard:
                self._next += 1
                return [self._event(phrase, partial=False)]
        return []

    def _event(self, phrase: _Phrase, *, partial: bool) -> Message:
        items: List[Dict[str, Any]] = []
        words = 0
        spw = self.seconds_per_word
        stable_words = phrase.heard - _UNSTABLE_TAIL[self.stability] if self.stability else 0
        for token in phrase.tokens:
            if _is_word(token):
                if words == phrase.heard:
                    break
                start = (phrase.start_word + words) * spw
                words += 1
                end = start + spw
            else:  # punctuation sits at the end of the word before it, without duration
                start = end = (phrase.start_word + words) * spw
            stable: Optional[bool] = None
            if self.stability:
                stable = (not partial) or words <= stable_words
            items.append(
                transcript_item(
                    token, start, end, stable=stable, confidence=None if partial else 1.0
                )
            )
        result = transcript_result(
            items, result_id=phrase.result_id, is_partial=partial, channel_id=phrase.channel
        )
        return transcript_event([result])
