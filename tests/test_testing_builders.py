"""eventstream.testing builders: realistic messages, down to the bytes services send."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import eventstream
from eventstream import Message, testing

CAPTURES = Path(__file__).parent / "captures"


def _capture(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


def test_exception_matches_the_transcribe_capture(backend: str) -> None:
    built = testing.exception("BadRequestException", "Unexpected WebSocket frame received.")
    assert eventstream.encode(built) == _capture("transcribe-ws-exception-BadRequest.bin")


def test_bedrock_chunk_matches_the_capture(backend: str) -> None:
    captured = _capture("bedrock-invoke-chunk-ai21.bin")
    body = json.loads(eventstream.decode(captured).payload)
    built = testing.bedrock_chunk(base64.b64decode(body["bytes"]), pad=len(body["p"]))
    assert eventstream.encode(built) == captured


def test_bedrock_events_match_a_recorded_converse_stream(backend: str) -> None:
    captured = list(
        eventstream.iter_messages([_capture("bedrock-conversestream-tooluse-envoy.bin")])
    )
    assert len(captured) == 25
    for message in captured:
        body = json.loads(message.payload)
        pad = body.pop("p")
        built = testing.bedrock_event(message.headers[":event-type"], body, pad=len(pad))
        assert eventstream.encode(built) == eventstream.encode(message)


def test_event_payload_kinds_and_headers(backend: str) -> None:
    as_json = testing.event("Records", {"a": [1, "é"]})
    assert as_json.headers.names() == [":event-type", ":content-type", ":message-type"]
    assert as_json.headers[":content-type"] == "application/json"
    assert json.loads(as_json.payload) == {"a": [1, "é"]}
    assert testing.event("Stats", "text", content_type="text/plain").payload == b"text"
    bare = testing.event("End", content_type=None)
    assert bare.headers.names() == [":event-type", ":message-type"] and bare.payload == b""
    assert eventstream.decode(eventstream.encode(as_json)) == as_json


def test_error_and_initial_response(backend: str) -> None:
    err = testing.error("ThrottlingException", "Rate exceeded")
    assert err.headers.to_dict() == {
        ":message-type": "error",
        ":error-code": "ThrottlingException",
        ":error-message": "Rate exceeded",
    }
    assert err.payload == b""
    first = testing.initial_response()
    assert first.headers[":event-type"] == "initial-response" and first.payload == b"{}"
    assert eventstream.decode(eventstream.encode(err)) == err


def test_bedrock_padding_is_deterministic_and_rounds_payloads() -> None:
    first = testing.bedrock_event("contentBlockDelta", {"delta": {"text": "Hi"}})
    again = testing.bedrock_event("contentBlockDelta", {"delta": {"text": "Hi"}})
    assert first == again
    assert len(first.payload) % 32 == 0
    assert json.loads(first.payload)["p"] == testing.padding(len(json.loads(first.payload)["p"]))
    assert testing.padding(65)[60:] == "89abc"
    with pytest.raises(ValueError, match="0 or more"):
        testing.padding(-1)


def test_converse_and_invoke_streams(backend: str) -> None:
    messages = list(
        eventstream.iter_messages([testing.stream(testing.converse_stream(["He", "llo"]))])
    )
    kinds = [m.headers[":event-type"] for m in messages]
    assert kinds == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    text = "".join(json.loads(m.payload)["delta"]["text"] for m in messages[1:3])
    assert text == "Hello"
    assert json.loads(messages[-1].payload)["usage"]["outputTokens"] == 2
    chunks = testing.invoke_stream(["Hi", "!"])
    bodies = [json.loads(base64.b64decode(json.loads(m.payload)["bytes"])) for m in chunks]
    assert bodies[0]["type"] == "message_start" and bodies[-1]["type"] == "message_stop"
    assert [b["delta"]["text"] for b in bodies if b["type"] == "content_block_delta"] == ["Hi", "!"]
    assert all(m.headers[":event-type"] == "chunk" for m in chunks)


def test_audio_and_transcript_events(backend: str) -> None:
    audio = testing.audio_event(b"\x01\x02" * 8)
    assert audio.headers[":content-type"] == "application/octet-stream"
    assert audio.headers[":event-type"] == "AudioEvent"
    assert testing.audio_event(b"").payload == b""
    items = [
        testing.transcript_item("Hello", 0.0, 0.25, stable=True),
        testing.transcript_item("world", 0.25, 0.5, stable=False),
        testing.transcript_item(".", 0.5, 0.5),
    ]
    result = testing.transcript_result(items, result_id="r1", is_partial=True, channel_id="ch_0")
    message = testing.transcript_event([result])
    assert message.headers[":event-type"] == "TranscriptEvent"
    body = json.loads(eventstream.decode(eventstream.encode(message)).payload)
    (got,) = body["Transcript"]["Results"]
    assert got["Alternatives"][0]["Transcript"] == "Hello world."
    assert [i["Type"] for i in got["Alternatives"][0]["Items"]] == [
        "pronunciation",
        "pronunciation",
        "punctuation",
    ]
    assert got["Alternatives"][0]["Items"][0]["Stable"] is True
    assert "Stable" not in got["Alternatives"][0]["Items"][2]
    assert (got["StartTime"], got["EndTime"], got["IsPartial"], got["ResultId"]) == (
        0.0,
        0.5,
        True,
        "r1",
    )
    assert got["ChannelId"] == "ch_0"


def test_stream_concatenates_frames(backend: str) -> None:
    messages = [testing.event("A", {"n": n}) for n in range(3)]
    assert list(eventstream.iter_messages([testing.stream(messages)])) == messages
    assert all(isinstance(m, Message) for m in messages)


def test_servers_load_lazily_and_unknown_names_fail() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        testing.Nope  # noqa: B018


def test_signed_frames_verify_with_the_event_verifier(backend: str) -> None:
    from eventstream.sigv4 import Credentials, EventVerifier, VerificationError

    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    seed = "ab" * 32
    audio = [testing.audio_event(bytes([n]) * 32) for n in range(3)]
    frames = testing.signed_frames(audio, credentials=creds, seed_signature=seed, when=1.7e9)
    assert [f.headers.names() for f in frames] == [[":date", ":chunk-signature"]] * 4
    assert frames[-1].payload == b""
    verifier = EventVerifier(creds, "us-east-1", "transcribe", seed)
    got = [verifier.check(eventstream.encode(frame)) for frame in frames]
    assert got == [*audio, None]
    verifier.finish()
    one = testing.signed_frame(
        audio[0], credentials=creds, prior_signature=seed, when=1.7e9, region="eu-west-1"
    )
    with pytest.raises(VerificationError):
        EventVerifier(creds, "us-east-1", "transcribe", seed).check(one)


def test_the_readme_example_runs(backend: str) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Testing your client offline", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert len(list(eventstream.iter_messages([namespace["data"]]))) == 6
