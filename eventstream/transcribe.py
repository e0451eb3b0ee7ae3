"""Amazon Transcribe streaming, sans-IO: URLs, audio events, transcript parsing and assembly.

Over WebSocket (no event loop or SDK needed; any WebSocket library)::

    url = websocket_url("us-east-1", Credentials.from_env(),
                        language_code="en-US", media_encoding="pcm", sample_rate=16000)
    # connect to url; then, one event-stream message per *binary* WebSocket message:
    ws.send(audio_event(pcm_chunk))        # audio (or silence()) at least every 15 s
    ws.send(end_of_stream())               # the empty AudioEvent ends the stream
    assembler = TranscriptAssembler()
    for segment in assembler.feed(received_binary_message):
        print(segment.text)                # each final segment once

Never end a WebSocket stream with a text frame: the service answers any text
frame with ``BadRequestException: Unexpected WebSocket frame received``.

Over HTTP/2, :func:`http2_request` signs the request and its
:meth:`~eventstream.sigv4.SignedRequest.event_signer` signs each
:func:`audio_event` (see :class:`eventstream.sigv4.EventSigner`).

Results arrive as ``TranscriptEvent`` messages whose JSON payload is
``{"Transcript": {"Results": [...]}}``; each result has ``ResultId``,
``StartTime``, ``EndTime``, ``IsPartial``, ``ChannelId`` (with channel
identification) and ``Alternatives[].Items[]`` (``Stable`` on items when
partial-results stabilization is on).  A segment is re-sent, longer, under one
``ResultId`` while ``IsPartial`` is true, and closed by a result with
``IsPartial: false``.  :func:`parse_transcript_event` turns a message into
typed :class:`Result` objects; :class:`TranscriptAssembler` keeps the segments.
"""

from __future__ import annotations

import math
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)
from urllib.parse import quote, urlsplit, urlunsplit

from ._codec import decode, encode
from .errors import EventStreamError
from .events import Event, interpret
from .sigv4 import CredentialsSource, SignedRequest, presign_url, sign_request
from .types import Header, HeaderType, Message

__all__ = [
    "SERVICE",
    "WEBSOCKET_PATH",
    "WEBSOCKET_PORT",
    "HTTP2_PATH",
    "MAX_EXPIRES",
    "OPTIONS",
    "TranscribeError",
    "websocket_url",
    "http2_request",
    "endpoint_host",
    "audio_event",
    "end_of_stream",
    "silence",
    "Item",
    "Entity",
    "Alternative",
    "Result",
    "parse_transcript_event",
    "Segment",
    "PartialSegment",
    "TranscriptAssembler",
    "item_text",
]

SERVICE = "transcribe"
"""The SigV4 signing name of Transcribe streaming."""
WEBSOCKET_PORT = 8443
WEBSOCKET_PATH = "/stream-transcription-websocket"
HTTP2_PATH = "/stream-transcription"
MAX_EXPIRES = 300
"""The longest ``X-Amz-Expires`` the WebSocket endpoint accepts (5 minutes)."""

MEDIA_ENCODINGS = ("pcm", "ogg-opus", "flac")


class TranscribeError(EventStreamError):
    """A Transcribe message or argument that this module cannot use."""


# ---------------------------------------------------------------- request parameters


def _bool(value: object) -> str:
    if not isinstance(value, bool):
        raise TypeError(f"needs True or False, got {type(value).__name__}")
    return "true" if value else "false"


def _int(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TypeError(f"needs a positive int, got {value!r}")
    return str(value)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"needs a non-empty str, got {value!r}")
    return value


def _text_list(value: object) -> str:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, (list, tuple)) and value:
        return ",".join(_text(item) for item in value)
    raise TypeError(f"needs a str or a non-empty list of str, got {value!r}")


def _choice(*allowed: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}; got {value!r}")
        return str(value)

    return check


# Every optional parameter of StartStreamTranscription: Python name -> (wire name, check).
# On the WebSocket URL the wire name is the query parameter; over HTTP/2 it is the header
# x-amzn-transcribe-<wire name>.
OPTIONS: Dict[str, Tuple[str, Callable[[object], str]]] = {
    "vocabulary_name": ("vocabulary-name", _text),
    "session_id": ("session-id", _text),
    "vocabulary_filter_name": ("vocabulary-filter-name", _text),
    "vocabulary_filter_method": ("vocabulary-filter-method", _choice("remove", "mask", "tag")),
    "show_speaker_label": ("show-speaker-label", _bool),
    "enable_channel_identification": ("enable-channel-identification", _bool),
    "number_of_channels": ("number-of-channels", _int),
    "enable_partial_results_stabilization": ("enable-partial-results-stabilization", _bool),
    "partial_results_stability": ("partial-results-stability", _choice("high", "medium", "low")),
    "content_identification_type": ("content-identification-type", _choice("PII")),
    "content_redaction_type": ("content-redaction-type", _choice("PII")),
    "pii_entity_types": ("pii-entity-types", _text_list),
    "language_model_name": ("language-model-name", _text),
    "identify_language": ("identify-language", _bool),
    "identify_multiple_languages": ("identify-multiple-languages", _bool),
    "language_options": ("language-options", _text_list),
    "preferred_language": ("preferred-language", _text),
    "vocabulary_names": ("vocabulary-names", _text_list),
    "vocabulary_filter_names": ("vocabulary-filter-names", _text_list),
}


def _parameters(
    language_code: Optional[str],
    media_encoding: str,
    sample_rate: int,
    options: Mapping[str, Any],
) -> List[Tuple[str, str]]:
    """The request's parameters as (wire name, value), in the documented order."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(
            f"unknown Transcribe option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}"
        )
    params: List[Tuple[str, str]] = []
    if language_code is not None:
        params.append(("language-code", _named("language_code", _text, language_code)))
    elif not (options.get("identify_language") or options.get("identify_multiple_languages")):
        raise TypeError(
            "give language_code, or identify_language=True / identify_multiple_languages=True"
        )
    params.append(
        ("media-encoding", _named("media_encoding", _choice(*MEDIA_ENCODINGS), media_encoding))
    )
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int):
        raise TypeError(f"sample_rate must be an int (Hz), got {sample_rate!r}")
    if not 8000 <= sample_rate <= 48000:
        raise ValueError(f"sample_rate must be 8000 to 48000 Hz, got {sample_rate}")
    params.append(("sample-rate", str(sample_rate)))
    for name, value in options.items():
        if value is None:
            continue
        wire, check = OPTIONS[name]
        params.append((wire, _named(name, check, value)))
    given = {name for name, value in options.items() if value is not None}
    for needs, what in (
        ("partial_results_stability", "enable_partial_results_stabilization"),
        ("number_of_channels", "enable_channel_identification"),
    ):
        if needs in given and options.get(what) is not True:
            raise ValueError(f"{needs} needs {what}=True")
    return params


def _named(name: str, check: Callable[[object], str], value: object) -> str:
    try:
        return check(value)
    except TypeError as exc:
        raise TypeError(f"{name} {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{name} {exc}") from None


def endpoint_host(region: str) -> str:
    """The Transcribe streaming host of ``region``."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"transcribestreaming.{region}.{suffix}"


def _endpoint(
    endpoint: Optional[str], default: str, path: str, schemes: Tuple[str, str]
) -> Tuple[str, str, str]:
    """(scheme, netloc, path) from an optional endpoint override."""
    if endpoint is None:
        parts = urlsplit(default)
    else:
        if not isinstance(endpoint, str):
            raise TypeError(f"endpoint must be a URL str, got {type(endpoint).__name__}")
        parts = urlsplit(endpoint)
        if not parts.scheme or not parts.netloc:
            raise ValueError(
                f"endpoint must be a URL with a scheme, e.g. ws://127.0.0.1:8080; got {endpoint!r}"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"endpoint must not carry a query or fragment: {endpoint!r}")
        if parts.scheme.lower() not in schemes:
            # Caught here, not by the client library, whose error would quote the whole
            # presigned URL, session token included.
            raise ValueError(
                f"endpoint scheme must be {' or '.join(schemes)}, got {parts.scheme!r}"
            )
    return parts.scheme, parts.netloc, parts.path if parts.path not in ("", "/") else path


def websocket_url(
    region: str,
    credentials: CredentialsSource,
    *,
    language_code: Optional[str] = None,
    media_encoding: str,
    sample_rate: int,
    endpoint: Optional[str] = None,
    expires: int = MAX_EXPIRES,
    clock: Optional[Callable[[], float]] = None,
    clock_skew: float = 0.0,
    **options: Any,
) -> str:
    """The presigned ``wss://`` URL that starts a Transcribe WebSocket stream.

    ``endpoint`` replaces ``wss://transcribestreaming.<region>.amazonaws.com:8443``
    (e.g. ``ws://127.0.0.1:8080`` for a local server; its path defaults to
    ``/stream-transcription-websocket``).  ``options`` are the optional
    parameters by their Python names (see :data:`OPTIONS`), e.g.
    ``enable_partial_results_stabilization=True, partial_results_stability="high",
    show_speaker_label=True, enable_channel_identification=True,
    number_of_channels=2``.  ``expires`` is at most 300 seconds (the service's
    limit).  The URL's ``X-Amz-Signature`` is the seed of the stream's event
    signatures.
    """
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise TypeError(f"expires must be an int number of seconds, got {expires!r}")
    if not 1 <= expires <= MAX_EXPIRES:
        raise ValueError(
            f"expires must be 1 to {MAX_EXPIRES} seconds for Transcribe WebSocket streams, "
            f"got {expires}"
        )
    if not isinstance(region, str) or not region:
        raise TypeError(f"region must be a non-empty str, got {region!r}")
    params = _parameters(language_code, media_encoding, sample_rate, options)
    scheme, netloc, path = _endpoint(
        endpoint,
        f"wss://{endpoint_host(region)}:{WEBSOCKET_PORT}",
        WEBSOCKET_PATH,
        ("ws", "wss"),
    )
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params)
    url = urlunsplit((scheme, netloc, path, query, ""))
    return presign_url(
        url, credentials, region, SERVICE, expires=expires, clock=clock, clock_skew=clock_skew
    )


def http2_request(
    region: str,
    credentials: CredentialsSource,
    *,
    language_code: Optional[str] = None,
    media_encoding: str,
    sample_rate: int,
    endpoint: Optional[str] = None,
    clock: Optional[Callable[[], float]] = None,
    clock_skew: float = 0.0,
    **options: Any,
) -> Tuple[str, SignedRequest]:
    """The URL and signed headers of a Transcribe HTTP/2 ``StartStreamTranscription`` POST.

    Send the returned headers with the POST; sign the body's events with
    ``signed.event_signer(...)`` (the request's signature is their seed).
    ``endpoint`` replaces ``https://transcribestreaming.<region>.amazonaws.com``.
    """
    if not isinstance(region, str) or not region:
        raise TypeError(f"region must be a non-empty str, got {region!r}")
    params = _parameters(language_code, media_encoding, sample_rate, options)
    scheme, netloc, path = _endpoint(
        endpoint, f"https://{endpoint_host(region)}", HTTP2_PATH, ("http", "https")
    )
    url = urlunsplit((scheme, netloc, path, "", ""))
    headers = {
        "content-type": "application/vnd.amazon.eventstream",
        "x-amz-target": "com.amazonaws.transcribe.Transcribe.StartStreamTranscription",
    }
    for name, value in params:
        headers[f"x-amzn-transcribe-{name}"] = value
    signed = sign_request(
        "POST",
        url,
        credentials,
        region,
        SERVICE,
        headers=headers,
        clock=clock,
        clock_skew=clock_skew,
    )
    return url, signed


# ---------------------------------------------------------------- audio


_AUDIO_HEADERS = (
    Header(":content-type", HeaderType.STRING, "application/octet-stream"),
    Header(":event-type", HeaderType.STRING, "AudioEvent"),
    Header(":message-type", HeaderType.STRING, "event"),
)


def audio_event(pcm: Union[bytes, bytearray, memoryview]) -> bytes:
    """The encoded ``AudioEvent`` message carrying ``pcm`` (one WebSocket binary message,
    or the payload an :class:`~eventstream.sigv4.EventSigner` signs over HTTP/2)."""
    if not isinstance(pcm, (bytes, bytearray, memoryview)):
        raise TypeError(f"pcm must be bytes-like, got {type(pcm).__name__}")
    if not len(pcm):
        raise ValueError("an empty AudioEvent ends the stream: use end_of_stream() for that")
    return encode(Message(_AUDIO_HEADERS, pcm))


def end_of_stream() -> bytes:
    """The empty ``AudioEvent`` that ends a WebSocket stream (send it as a binary message)."""
    return encode(Message(_AUDIO_HEADERS, b""))


def silence(ms: int, sample_rate: int, *, channels: int = 1) -> bytes:
    """``ms`` milliseconds of 16-bit little-endian PCM silence (zero bytes), to wrap in
    :func:`audio_event`; Transcribe ends a stream that gets no audio for 15 seconds."""
    for name, value in (("ms", ms), ("sample_rate", sample_rate), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TypeError(f"{name} must be an int >= 0, got {value!r}")
    return bytes(ms * sample_rate // 1000 * 2 * channels)


# ---------------------------------------------------------------- transcript results


class Item(NamedTuple):
    """A word or punctuation mark of a result (``Alternatives[].Items[]``)."""

    content: str
    type: str  # "pronunciation" or "punctuation"
    start: Optional[float]
    end: Optional[float]
    confidence: Optional[float] = None
    speaker: Optional[str] = None
    stable: Optional[bool] = None  # None when partial-results stabilization is off
    vocabulary_filter_match: bool = False


class Entity(NamedTuple):
    """A PII entity found in a result (content identification or redaction)."""

    category: Optional[str]
    type: Optional[str]
    content: Optional[str]
    start: Optional[float]
    end: Optional[float]
    confidence: Optional[float] = None


class Alternative(NamedTuple):
    transcript: str
    items: Tuple[Item, ...] = ()
    entities: Tuple[Entity, ...] = ()


class Result(NamedTuple):
    """One result of a ``TranscriptEvent`` (times in seconds from the stream's start)."""

    result_id: str
    start: float
    end: float
    is_partial: bool
    alternatives: Tuple[Alternative, ...]
    channel: Optional[str] = None
    language_code: Optional[str] = None
    language_identification: Tuple[Tuple[str, float], ...] = ()

    @property
    def text(self) -> str:
        """The first alternative's transcript (``""`` when there is none)."""
        return self.alternatives[0].transcript if self.alternatives else ""

    @property
    def items(self) -> Tuple[Item, ...]:
        """The first alternative's items."""
        return self.alternatives[0].items if self.alternatives else ()


def _field(data: Mapping[str, Any], key: str, kind: Any, where: str, required: bool = False) -> Any:
    value = data.get(key)
    if value is None:
        if required:
            raise TranscribeError(f"{where}: missing {key}")
        return None
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TranscribeError(f"{where}: {key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise TranscribeError(f"{where}: {key} must be finite, got {value!r}")
        return float(value)
    if not isinstance(value, kind):
        raise TranscribeError(
            f"{where}: {key} must be {getattr(kind, '__name__', kind)}, got {value!r}"
        )
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> List[Mapping[str, Any]]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TranscribeError(f"{where}: {key} must be a list of objects")
    return value


def _item(data: Mapping[str, Any], where: str) -> Item:
    return Item(
        content=_field(data, "Content", str, where, required=True),
        type=_field(data, "Type", str, where) or "pronunciation",
        start=_field(data, "StartTime", float, where),
        end=_field(data, "EndTime", float, where),
        confidence=_field(data, "Confidence", float, where),
        speaker=_field(data, "Speaker", str, where),
        stable=_field(data, "Stable", bool, where),
        vocabulary_filter_match=bool(_field(data, "VocabularyFilterMatch", bool, where)),
    )


def _entity(data: Mapping[str, Any], where: str) -> Entity:
    return Entity(
        category=_field(data, "Category", str, where),
        type=_field(data, "Type", str, where),
        content=_field(data, "Content", str, where),
        start=_field(data, "StartTime", float, where),
        end=_field(data, "EndTime", float, where),
        confidence=_field(data, "Confidence", float, where),
    )


def _result(data: Mapping[str, Any], where: str) -> Result:
    alternatives = []
    for a, alt in enumerate(_list(data, "Alternatives", where)):
        here = f"{where}.Alternatives[{a}]"
        alternatives.append(
            Alternative(
                transcript=_field(alt, "Transcript", str, here) or "",
                items=tuple(
                    _item(item, f"{here}.Items[{i}]")
                    for i, item in enumerate(_list(alt, "Items", here))
                ),
                entities=tuple(
                    _entity(entity, f"{here}.Entities[{i}]")
                    for i, entity in enumerate(_list(alt, "Entities", here))
                ),
            )
        )
    languages = tuple(
        (
            _field(lang, "LanguageCode", str, f"{where}.LanguageIdentification", required=True),
            _field(lang, "Score", float, f"{where}.LanguageIdentification") or 0.0,
        )
        for lang in _list(data, "LanguageIdentification", where)
    )
    return Result(
        result_id=_field(data, "ResultId", str, where, required=True),
        start=_field(data, "StartTime", float, where) or 0.0,
        end=_field(data, "EndTime", float, where) or 0.0,
        is_partial=bool(_field(data, "IsPartial", bool, where)),
        alternatives=tuple(alternatives),
        channel=_field(data, "ChannelId", str, where),
        language_code=_field(data, "LanguageCode", str, where),
        language_identification=languages,
    )


MessageInput = Union[Message, bytes, bytearray, memoryview]


def parse_transcript_event(message: MessageInput) -> List[Result]:
    """The results of a ``TranscriptEvent`` message (a :class:`~eventstream.Message`, or
    the bytes of one, as one WebSocket binary message carries).

    Raises :class:`eventstream.ServiceException` for an ``exception`` frame
    (e.g. ``BadRequestException``), :class:`eventstream.ServiceError` for an
    ``error`` frame, and :class:`TranscribeError` for an event of another type
    or a payload that is not a transcript.
    """
    if isinstance(message, (bytes, bytearray, memoryview)):
        message = decode(message)
    elif not isinstance(message, Message):
        raise TypeError(f"message must be a Message or bytes, got {type(message).__name__}")
    event: Event = interpret(message)
    if event.event_type != "TranscriptEvent":
        raise TranscribeError(
            f"expected a TranscriptEvent, got a {event.event_type!r} event "
            f"({len(event.payload)} payload bytes)"
        )
    data = event.json()
    where = "TranscriptEvent"
    if not isinstance(data, dict) or not isinstance(data.get("Transcript"), dict):
        raise TranscribeError(f"{where}: the payload has no Transcript object")
    return [
        _result(result, f"{where}.Transcript.Results[{r}]")
        for r, result in enumerate(_list(data["Transcript"], "Results", f"{where}.Transcript"))
    ]


# ---------------------------------------------------------------- assembly


def item_text(items: Sequence[Item]) -> str:
    """Items joined as Transcribe writes a transcript: words spaced, punctuation attached."""
    out: List[str] = []
    for item in items:
        if out and item.type != "punctuation":
            out.append(" ")
        out.append(item.content)
    return "".join(out)


class Segment(NamedTuple):
    """A final segment: the first alternative of a result with ``IsPartial: false``."""

    result_id: str
    text: str
    start: float
    end: float
    channel: Optional[str]
    items: Tuple[Item, ...] = ()


class PartialSegment(NamedTuple):
    """The segment in progress on a channel: the latest partial result of its ``ResultId``.

    ``stable_text`` is the text of its leading items marked ``Stable`` (these
    will not change; ``""`` without partial-results stabilization) and
    ``unstable_text`` the rest, so a client can print the first for good.
    """

    result_id: str
    text: str
    start: float
    end: float
    channel: Optional[str]
    stable_text: str
    unstable_text: str
    items: Tuple[Item, ...] = ()


def _partial(result: Result) -> PartialSegment:
    items = result.items
    stable = 0
    while stable < len(items) and items[stable].stable:
        stable += 1
    return PartialSegment(
        result.result_id,
        result.text,
        result.start,
        result.end,
        result.channel,
        item_text(items[:stable]),
        item_text(items[stable:]),
        items,
    )


class TranscriptAssembler:
    """Turns the ``TranscriptEvent`` messages of a stream into final segments.

    ``feed(message)`` returns the segments that this message finalised (in
    the order the results came); ``finals`` holds every final segment so far
    and ``partial`` the segment in progress per channel (``None`` is the
    channel when channel identification is off).  Results are kept one per
    ``ResultId``: a newer partial replaces the older one, a final result
    closes its segment once, and a late partial or repeated final of a closed
    ``ResultId`` changes nothing.  A subtitles client::

        for segment in assembler.feed(message):
            print(segment.text)
        for channel, partial in assembler.partial.items():
            show(channel, partial.text)
    """

    _CLOSED_MEMORY = 4096  # closed ResultIds remembered to drop late duplicates

    def __init__(self) -> None:
        self.finals: List[Segment] = []
        self.partial: Dict[Optional[str], PartialSegment] = {}
        self._closed: Dict[str, None] = {}

    def feed(self, message: MessageInput) -> List[Segment]:
        """Take one message; the segments it finalised.

        Raises what :func:`parse_transcript_event` raises (a service exception
        frame raises :class:`eventstream.ServiceException`).
        """
        return self.feed_results(parse_transcript_event(message))

    def feed_results(self, results: Sequence[Result]) -> List[Segment]:
        """Like :meth:`feed`, for results already parsed."""
        done: List[Segment] = []
        for result in results:
            if result.result_id in self._closed:
                continue
            current = self.partial.get(result.channel)
            if result.is_partial:
                self.partial[result.channel] = _partial(result)
                continue
            segment = Segment(
                result.result_id,
                result.text,
                result.start,
                result.end,
                result.channel,
                result.items,
            )
            if current is not None and current.result_id == result.result_id:
                del self.partial[result.channel]
            if len(self._closed) >= self._CLOSED_MEMORY:
                self._closed.pop(next(iter(self._closed)))
            self._closed[result.result_id] = None
            self.finals.append(segment)
            done.append(segment)
        return done

    def text(self, channel: Optional[str] = None) -> str:
        """The final segments of ``channel`` joined by spaces (all channels when
        channel identification is off)."""
        return " ".join(s.text for s in self.finals if s.channel == channel and s.text)
