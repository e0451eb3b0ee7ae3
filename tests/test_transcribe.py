"""eventstream.transcribe: URLs, audio events, the transcript parser and the assembler."""

from __future__ import annotations

import datetime
import json
import platform
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import pytest

import eventstream
from eventstream import Message
from eventstream.events import EventPayloadError, ServiceError, ServiceException
from eventstream.sigv4 import Credentials, EventVerifier
from eventstream.transcribe import (
    MAX_EXPIRES,
    OPTIONS,
    WEBSOCKET_PATH,
    PartialSegment,
    Segment,
    TranscribeError,
    TranscriptAssembler,
    audio_event,
    end_of_stream,
    http2_request,
    item_text,
    parse_transcript_event,
    silence,
    websocket_url,
)

CAPTURES = Path(__file__).parent / "interop" / "captures"
CREDS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
T0 = 1_700_000_000


def query(url: str) -> Dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# ---------------------------------------------------------------- URLs


def test_websocket_url_defaults() -> None:
    url = websocket_url(
        "us-west-2",
        CREDS,
        language_code="en-US",
        media_encoding="pcm",
        sample_rate=16000,
        clock=lambda: T0,
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "wss",
        "transcribestreaming.us-west-2.amazonaws.com:8443",
        WEBSOCKET_PATH,
    )
    q = query(url)
    assert q["language-code"] == "en-US"
    assert q["media-encoding"] == "pcm"
    assert q["sample-rate"] == "16000"
    assert q["X-Amz-Expires"] == "300"
    assert q["X-Amz-Security-Token"] == "session-token"
    assert q["X-Amz-Credential"] == "AKIDEXAMPLE/20231114/us-west-2/transcribe/aws4_request"
    assert url.rsplit("&", 1)[1].startswith("X-Amz-Signature=")


def test_websocket_url_signature_matches_botocore() -> None:
    botocore_auth = pytest.importorskip("botocore.auth")
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    url = websocket_url(
        "eu-west-1",
        CREDS,
        language_code="de-DE",
        media_encoding="flac",
        sample_rate=44100,
        vocabulary_name="Meine Wörter",
        enable_partial_results_stabilization=True,
        partial_results_stability="medium",
        clock=lambda: T0 + 0.9,
        expires=250,
    )
    unsigned = url.split("&X-Amz-Algorithm=", 1)[0]
    request = AWSRequest(method="GET", url=unsigned)
    now = datetime.datetime(2023, 11, 14, 22, 13, 20)
    with mock.patch.object(botocore_auth, "get_current_datetime", lambda *a, **k: now):
        botocore_auth.SigV4QueryAuth(
            BotoCredentials("AKIDEXAMPLE", CREDS.secret_key, "session-token"),
            "transcribe",
            "eu-west-1",
            expires=250,
        ).add_auth(request)
    assert request.url == url


ALL_OPTIONS: Dict[str, Any] = {
    "vocabulary_name": "medical-terms",
    "session_id": "a1b2c3d4-0000-4000-8000-000000000000",
    "vocabulary_filter_name": "no-swearing",
    "vocabulary_filter_method": "mask",
    "show_speaker_label": True,
    "enable_channel_identification": True,
    "number_of_channels": 2,
    "enable_partial_results_stabilization": True,
    "partial_results_stability": "high",
    "content_identification_type": "PII",
    "pii_entity_types": ["NAME", "ADDRESS"],
    "language_model_name": "my-model",
    "preferred_language": "en-US",
    "vocabulary_names": ["v1", "v2"],
    "vocabulary_filter_names": "f1",
}


def test_every_documented_option_reaches_the_query() -> None:
    url = websocket_url(
        "us-east-1",
        CREDS,
        language_code="en-US",
        media_encoding="ogg-opus",
        sample_rate=48000,
        **ALL_OPTIONS,
    )
    q = query(url)
    assert q["vocabulary-name"] == "medical-terms"
    assert q["session-id"] == ALL_OPTIONS["session_id"]
    assert q["vocabulary-filter-method"] == "mask"
    assert q["show-speaker-label"] == "true"
    assert q["enable-channel-identification"] == "true"
    assert q["number-of-channels"] == "2"
    assert q["enable-partial-results-stabilization"] == "true"
    assert q["partial-results-stability"] == "high"
    assert q["content-identification-type"] == "PII"
    assert q["pii-entity-types"] == "NAME,ADDRESS"
    assert q["vocabulary-names"] == "v1,v2"
    assert q["vocabulary-filter-names"] == "f1"
    assert q["language-model-name"] == "my-model"
    # Language identification replaces language-code.
    url = websocket_url(
        "us-east-1",
        CREDS,
        media_encoding="pcm",
        sample_rate=8000,
        identify_language=True,
        language_options=["en-US", "es-US"],
        content_redaction_type="PII",
    )
    q = query(url)
    assert "language-code" not in q
    assert (q["identify-language"], q["language-options"]) == ("true", "en-US,es-US")
    assert q["content-redaction-type"] == "PII"
    url = websocket_url(
        "us-east-1",
        CREDS,
        media_encoding="pcm",
        sample_rate=8000,
        identify_multiple_languages=True,
        language_options="en-US,de-DE",
    )
    assert query(url)["identify-multiple-languages"] == "true"
    assert len(OPTIONS) == 19


def test_endpoint_override_for_a_local_server() -> None:
    url = websocket_url(
        "us-east-1",
        CREDS,
        language_code="en-US",
        media_encoding="pcm",
        sample_rate=16000,
        endpoint="ws://127.0.0.1:54321",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("ws", "127.0.0.1:54321", WEBSOCKET_PATH)
    url = websocket_url(
        "us-east-1",
        CREDS,
        language_code="en-US",
        media_encoding="pcm",
        sample_rate=16000,
        endpoint="wss://proxy.example/custom",
    )
    assert urlsplit(url).path == "/custom"
    with pytest.raises(ValueError, match="endpoint must be a URL with a scheme"):
        websocket_url(
            "us-east-1",
            CREDS,
            language_code="en-US",
            media_encoding="pcm",
            sample_rate=16000,
            endpoint="127.0.0.1:8080",
        )


def test_china_regions_use_their_domain() -> None:
    url = websocket_url(
        "cn-north-1", CREDS, language_code="zh-CN", media_encoding="pcm", sample_rate=16000
    )
    assert urlsplit(url).netloc == "transcribestreaming.cn-north-1.amazonaws.com.cn:8443"


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"expires": 301}, ValueError, "expires must be 1 to 300 seconds"),
        ({"expires": 0}, ValueError, "expires must be 1 to 300"),
        ({"expires": 30.0}, TypeError, "expires must be an int"),
        ({"language_code": None}, TypeError, "give language_code, or identify_language"),
        ({"media_encoding": "mp3"}, ValueError, "media_encoding must be one of pcm"),
        ({"sample_rate": 4000}, ValueError, "sample_rate must be 8000 to 48000"),
        ({"sample_rate": "16000"}, TypeError, "sample_rate must be an int"),
        ({"show_speaker_labels": True}, TypeError, "unknown Transcribe option"),
        ({"show_speaker_label": "yes"}, TypeError, "show_speaker_label needs True or False"),
        ({"partial_results_stability": "low"}, ValueError, "needs enable_partial_results"),
        (
            {"enable_channel_identification": True, "number_of_channels": 0},
            TypeError,
            "number_of_channels needs a positive int",
        ),
        ({"number_of_channels": 2}, ValueError, "needs enable_channel_identification=True"),
        ({"vocabulary_filter_method": "bleep"}, ValueError, "must be one of remove, mask, tag"),
        ({"pii_entity_types": []}, TypeError, "pii_entity_types needs a str or a non-empty"),
    ],
)
def test_websocket_url_argument_errors(kwargs: Dict[str, Any], error: type, text: str) -> None:
    args: Dict[str, Any] = {
        "language_code": "en-US",
        "media_encoding": "pcm",
        "sample_rate": 16000,
        **kwargs,
    }
    with pytest.raises(error, match=text):
        websocket_url("us-east-1", CREDS, **args)


def test_skew_moves_the_presigned_time() -> None:
    url = websocket_url(
        "us-east-1",
        CREDS,
        language_code="en-US",
        media_encoding="pcm",
        sample_rate=16000,
        clock=lambda: T0,
        clock_skew=-86400.0,
    )
    assert query(url)["X-Amz-Date"] == "20231113T221320Z"


def test_http2_request_signs_the_parameters_as_headers() -> None:
    url, signed = http2_request(
        "us-east-1",
        CREDS,
        language_code="en-US",
        media_encoding="pcm",
        sample_rate=16000,
        show_speaker_label=True,
        clock=lambda: T0,
    )
    assert url == "https://transcribestreaming.us-east-1.amazonaws.com/stream-transcription"
    h = signed.headers
    assert h["x-amzn-transcribe-language-code"] == "en-US"
    assert h["x-amzn-transcribe-sample-rate"] == "16000"
    assert h["x-amzn-transcribe-show-speaker-label"] == "true"
    assert h["content-type"] == "application/vnd.amazon.eventstream"
    assert h["x-amz-content-sha256"] == "STREAMING-AWS4-HMAC-SHA256-EVENTS"
    assert "x-amzn-transcribe-show-speaker-label" in h["authorization"]
    signer = signed.event_signer(clock=lambda: T0)
    frames = [signer.sign(audio_event(b"\x01\x00" * 100)), signer.end()]
    verifier = EventVerifier(CREDS, "us-east-1", "transcribe", signed.signature)
    assert verifier.check(frames[0]) == eventstream.decode(audio_event(b"\x01\x00" * 100))
    assert verifier.check(frames[1]) is None
    verifier.finish()


# ---------------------------------------------------------------- audio


def test_audio_event_and_end_of_stream() -> None:
    message = eventstream.decode(audio_event(bytearray(b"\x10\x00" * 160)))
    assert message.headers.to_dict() == {
        ":content-type": "application/octet-stream",
        ":event-type": "AudioEvent",
        ":message-type": "event",
    }
    assert all(h.type is eventstream.HeaderType.STRING for h in message.headers)
    assert message.payload == b"\x10\x00" * 160
    end = eventstream.decode(end_of_stream())
    assert end.headers == message.headers
    assert end.payload == b""
    with pytest.raises(ValueError, match="use end_of_stream"):
        audio_event(b"")
    with pytest.raises(TypeError, match="pcm must be bytes-like, got str"):
        audio_event("pcm")  # type: ignore[arg-type]


def test_audio_event_matches_the_official_sdk() -> None:
    try:
        from amazon_transcribe import model, serialize
    except ImportError:
        if platform.python_implementation() == "CPython":
            raise  # the test extra installs it on CPython
        pytest.skip("amazon-transcribe (awscrt) has no PyPy wheel; the test extra skips it there")
    headers, payload = serialize.AudioEventSerializer().serialize(model.AudioEvent(b"\x01\x02"))
    ours = eventstream.decode(audio_event(b"\x01\x02"))
    assert ours.headers.to_dict() == headers
    assert ours.payload == payload


def test_silence() -> None:
    assert silence(1000, 16000) == bytes(32000)
    assert silence(20, 8000) == bytes(320)
    assert silence(10, 44100, channels=2) == bytes(441 * 4)
    assert silence(0, 16000) == b""
    with pytest.raises(TypeError, match="ms must be an int >= 0"):
        silence(-1, 16000)


# ---------------------------------------------------------------- the parser

PUNCTUATION = {".", ",", "?", "!"}


def items(text: str, stable: Optional[int] = None, start: float = 0.0) -> List[Dict[str, Any]]:
    """Items for the words of ``text`` ('.' split off as punctuation); the first ``stable``
    items are marked Stable (no Stable key at all when ``stable`` is None)."""
    words = text.replace(".", " .").split()
    out = []
    for n, word in enumerate(words):
        item: Dict[str, Any] = {
            "Content": word,
            "Type": "punctuation" if word in PUNCTUATION else "pronunciation",
            "StartTime": start + n * 0.3,
            "EndTime": start + n * 0.3 + 0.25,
            "VocabularyFilterMatch": False,
        }
        if word not in PUNCTUATION:
            item["Confidence"] = 0.9
        if stable is not None:
            item["Stable"] = n < stable
        out.append(item)
    return out


def result(
    rid: str,
    text: str,
    partial: bool,
    channel: Optional[str] = None,
    stable: Optional[int] = None,
    start: float = 0.0,
) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "ResultId": rid,
        "StartTime": start,
        "EndTime": start + 0.3 * len(text.split()),
        "IsPartial": partial,
        "Alternatives": [{"Transcript": text, "Items": items(text, stable, start)}],
    }
    if channel is not None:
        data["ChannelId"] = channel
    return data


def transcript_event(*results: Dict[str, Any]) -> Message:
    payload = json.dumps({"Transcript": {"Results": list(results)}}).encode()
    return Message(
        {
            ":message-type": "event",
            ":event-type": "TranscriptEvent",
            ":content-type": "application/json",
        },
        payload,
    )


def test_parse_a_transcript_event() -> None:
    data = result("r1", "The Amazon is.", True, channel="ch_0", stable=2, start=1.5)
    data["Alternatives"][0]["Items"][0]["Speaker"] = "0"
    data["Alternatives"][0]["Entities"] = [
        {
            "Category": "PII",
            "Type": "NAME",
            "Content": "Amazon",
            "StartTime": 1.8,
            "EndTime": 2.0,
            "Confidence": 0.8,
        }
    ]
    data["LanguageCode"] = "en-US"
    data["LanguageIdentification"] = [{"LanguageCode": "en-US", "Score": 0.95}]
    (parsed,) = parse_transcript_event(transcript_event(data))
    assert parsed.result_id == "r1" and parsed.is_partial
    assert (parsed.start, parsed.channel, parsed.text) == (1.5, "ch_0", "The Amazon is.")
    assert parsed.language_code == "en-US"
    assert parsed.language_identification == (("en-US", 0.95),)
    first = parsed.items[0]
    assert (first.content, first.type, first.start, first.speaker, first.stable) == (
        "The",
        "pronunciation",
        1.5,
        "0",
        True,
    )
    assert parsed.items[-1].type == "punctuation" and parsed.items[-1].confidence is None
    assert parsed.alternatives[0].entities[0].type == "NAME"
    assert item_text(parsed.items) == "The Amazon is."
    # The same from the encoded bytes (one WebSocket binary message).
    assert parse_transcript_event(eventstream.encode(transcript_event(data))) == [parsed]
    assert parse_transcript_event(transcript_event()) == []


def test_the_exception_frame_raises_the_service_exception() -> None:
    raw = (CAPTURES / "transcribe-ws-exception-BadRequest.bin").read_bytes()
    with pytest.raises(ServiceException, match="Unexpected WebSocket frame received") as info:
        parse_transcript_event(raw)
    assert info.value.exception_type == "BadRequestException"
    assert not isinstance(info.value, eventstream.EventStreamError)
    with pytest.raises(ServiceException):
        TranscriptAssembler().feed(raw)


def test_an_error_frame_raises_the_service_error() -> None:
    error = Message(
        {":message-type": "error", ":error-code": "InternalFailure", ":error-message": "oops"}
    )
    with pytest.raises(ServiceError, match="InternalFailure: oops"):
        parse_transcript_event(error)


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        ({"Results": []}, "no Transcript object"),
        ({"Transcript": {"Results": {}}}, r"Transcript: Results must be a list"),
        ({"Transcript": {"Results": [{"IsPartial": True}]}}, r"Results\[0\]: missing ResultId"),
        (
            {"Transcript": {"Results": [{"ResultId": "r", "StartTime": "0"}]}},
            r"Results\[0\]: StartTime must be a number",
        ),
        (
            {
                "Transcript": {
                    "Results": [
                        {"ResultId": "r", "Alternatives": [{"Items": [{"Type": "pronunciation"}]}]}
                    ]
                }
            },
            r"Results\[0\]\.Alternatives\[0\]\.Items\[0\]: missing Content",
        ),
    ],
)
def test_malformed_transcripts_name_the_field(payload: Any, text: str) -> None:
    message = Message(
        {":message-type": "event", ":event-type": "TranscriptEvent"}, json.dumps(payload).encode()
    )
    with pytest.raises(TranscribeError, match=text):
        parse_transcript_event(message)


def test_other_events_and_bad_json() -> None:
    with pytest.raises(TranscribeError, match="expected a TranscriptEvent, got a 'AudioEvent'"):
        parse_transcript_event(audio_event(b"\x00\x00"))
    bad = Message({":message-type": "event", ":event-type": "TranscriptEvent"}, b"{not json")
    with pytest.raises(EventPayloadError, match="not valid JSON"):
        parse_transcript_event(bad)
    with pytest.raises(TypeError, match="message must be a Message or bytes"):
        parse_transcript_event("text")  # type: ignore[arg-type]


# ---------------------------------------------------------------- the assembler

SENTENCE = "The Amazon is the largest rainforest on the planet"
SECOND = "It covers much of South America"


def growing(
    rid: str, text: str, channel: Optional[str] = None, start: float = 0.0, stabilize: bool = False
) -> List[Message]:
    """The documented style: ``The``, ``The Amazon``, ... as partials, then the final."""
    words = text.split()
    messages = [
        transcript_event(
            result(
                rid,
                " ".join(words[:n]),
                True,
                channel,
                stable=(n - 2 if stabilize else None),
                start=start,
            )
        )
        for n in range(1, len(words) + 1)
    ]
    messages.append(transcript_event(result(rid, text + ".", False, channel, start=start)))
    return messages


def feed_all(assembler: TranscriptAssembler, messages: Sequence[Message]) -> List[Segment]:
    out: List[Segment] = []
    for message in messages:
        out += assembler.feed(message)
    return out


def test_one_channel_becomes_exactly_the_final_segments() -> None:
    assembler = TranscriptAssembler()
    first = growing("r-1", SENTENCE)
    second = growing("r-2", SECOND, start=4.0)
    emitted_while_partial: List[Segment] = []
    for message in first[:-1]:
        emitted_while_partial += assembler.feed(message)
        partial = assembler.partial[None]
        assert partial.result_id == "r-1"
        assert SENTENCE.startswith(partial.text)
    assert emitted_while_partial == []
    assert assembler.partial[None].text == SENTENCE
    done = assembler.feed(first[-1])
    assert [s.text for s in done] == [SENTENCE + "."]
    assert assembler.partial == {}
    done = feed_all(assembler, second)
    assert [s.text for s in done] == [SECOND + "."]
    assert [(s.result_id, s.text, s.channel) for s in assembler.finals] == [
        ("r-1", SENTENCE + ".", None),
        ("r-2", SECOND + ".", None),
    ]
    assert assembler.finals[1].start == 4.0
    assert assembler.text() == f"{SENTENCE}. {SECOND}."


def test_two_channels_are_assembled_apart() -> None:
    left = growing("L-1", SENTENCE, channel="ch_0")
    right = growing("R-1", SECOND, channel="ch_1", start=0.5)
    interleaved: List[Message] = []
    for n in range(max(len(left), len(right))):
        interleaved += left[n : n + 1] + right[n : n + 1]
    assembler = TranscriptAssembler()
    # The right channel's sentence is shorter: it is final while the left is still partial.
    done = feed_all(assembler, interleaved[:-2])
    assert [(s.channel, s.result_id, s.text) for s in done] == [("ch_1", "R-1", SECOND + ".")]
    assert list(assembler.partial) == ["ch_0"]
    assert assembler.partial["ch_0"].text == "The Amazon is the largest rainforest on the"
    done += feed_all(assembler, interleaved[-2:])
    assert [(s.channel, s.result_id, s.text) for s in done] == [
        ("ch_1", "R-1", SECOND + "."),
        ("ch_0", "L-1", SENTENCE + "."),
    ]
    assert assembler.finals == done
    assert assembler.partial == {}
    assert assembler.text("ch_0") == SENTENCE + "."


def test_one_message_with_results_of_both_channels() -> None:
    assembler = TranscriptAssembler()
    assembler.feed(
        transcript_event(result("a", "Hello", True, "ch_0"), result("b", "Hi", True, "ch_1"))
    )
    assert {c: p.text for c, p in assembler.partial.items()} == {"ch_0": "Hello", "ch_1": "Hi"}
    done = assembler.feed(
        transcript_event(
            result("a", "Hello there.", False, "ch_0"), result("b", "Hi you", True, "ch_1")
        )
    )
    assert [(s.channel, s.text) for s in done] == [("ch_0", "Hello there.")]
    assert list(assembler.partial) == ["ch_1"]


def test_the_stable_prefix_is_exposed() -> None:
    assembler = TranscriptAssembler()
    messages = growing("r", SENTENCE, stabilize=True)
    assembler.feed(messages[0])
    assert assembler.partial[None].stable_text == ""
    assembler.feed(messages[4])  # "The Amazon is the largest", first 3 stable
    partial = assembler.partial[None]
    assert isinstance(partial, PartialSegment)
    assert partial.stable_text == "The Amazon is"
    assert partial.unstable_text == "the largest"
    assert partial.text == "The Amazon is the largest"
    # Without stabilization nothing is known to be stable.
    plain = TranscriptAssembler()
    plain.feed(growing("p", SENTENCE)[4])
    assert plain.partial[None].stable_text == ""
    assert plain.partial[None].unstable_text == "The Amazon is the largest"


def test_late_partials_and_repeated_finals_change_nothing() -> None:
    assembler = TranscriptAssembler()
    messages = growing("r", SENTENCE)
    feed_all(assembler, messages)
    assert assembler.feed(messages[-1]) == []  # the final again
    assert assembler.feed(messages[3]) == []  # a late partial of the closed result
    assert assembler.partial == {}
    assert [s.text for s in assembler.finals] == [SENTENCE + "."]


def test_a_result_with_no_alternatives_gives_empty_text() -> None:
    assembler = TranscriptAssembler()
    done = assembler.feed(
        transcript_event(
            {"ResultId": "x", "StartTime": 0, "EndTime": 1, "IsPartial": False, "Alternatives": []}
        )
    )
    assert [s.text for s in done] == [""]
    assert assembler.text() == ""


def test_an_assembler_over_a_websocket_style_byte_stream() -> None:
    # Each WebSocket binary message is one encoded event-stream message.
    assembler = TranscriptAssembler()
    finals = []
    for message in growing("r-1", SENTENCE) + growing("r-2", SECOND):
        finals += [s.text for s in assembler.feed(eventstream.encode(message))]
    assert finals == [SENTENCE + ".", SECOND + "."]


def test_max_expires_constant() -> None:
    assert MAX_EXPIRES == 300


def test_an_endpoint_of_the_wrong_scheme_is_refused_before_signing() -> None:
    # A WebSocket client rejecting http:// would quote the whole presigned URL, token and all.
    args: Dict[str, Any] = {"language_code": "en-US", "media_encoding": "pcm", "sample_rate": 16000}
    for endpoint in ("http://127.0.0.1:8080", "https://h.example"):
        with pytest.raises(ValueError, match="endpoint scheme must be ws or wss") as caught:
            websocket_url("us-east-1", CREDS, endpoint=endpoint, **args)
        assert "session-token" not in str(caught.value)
    assert websocket_url("us-east-1", CREDS, endpoint="WSS://h.example", **args)
    with pytest.raises(ValueError, match="endpoint scheme must be http or https"):
        http2_request("us-east-1", CREDS, endpoint="ws://127.0.0.1:8080", **args)
