"""Builders of realistic messages: the headers, header order and payload shapes services send.

Every builder returns an :class:`eventstream.Message`; :func:`stream` encodes several into the
bytes of one stream.  Header order follows what the services put on the wire (``:event-type``
or ``:exception-type`` first, ``:message-type`` last), so a client that depends on order, or on
a header being present, meets what it will meet in production.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Union

from .. import encode
from ..types import Header, HeaderType, Message

if TYPE_CHECKING:
    from ..sigv4 import CredentialsSource

__all__ = [
    "JSON",
    "OCTET_STREAM",
    "Payload",
    "audio_event",
    "bedrock_chunk",
    "bedrock_event",
    "converse_stream",
    "error",
    "event",
    "exception",
    "initial_response",
    "invoke_stream",
    "padding",
    "signed_frame",
    "signed_frames",
    "stream",
    "transcript_event",
    "transcript_item",
    "transcript_result",
]

JSON = "application/json"
OCTET_STREAM = "application/octet-stream"

# bytes go out as they are, str as UTF-8, anything else as compact JSON.
Payload = Union[bytes, bytearray, memoryview, str, Dict[str, Any], List[Any], None]

# Bedrock pads JSON payloads with a "p" field of this alphabet (so that payload lengths do not
# reveal token lengths); the recorded streams show prefixes of it.
_PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _payload_bytes(payload: Payload) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def stream(messages: Iterable[Message]) -> bytes:
    """The bytes of a stream holding ``messages`` in order."""
    return b"".join(encode(message) for message in messages)


def event(
    event_type: str,
    payload: Payload = None,
    *,
    content_type: Optional[str] = JSON,
    extra_headers: Sequence[Header] = (),
) -> Message:
    """An ``event`` message; ``content_type=None`` leaves out ``:content-type``."""
    headers = [Header.string(":event-type", event_type)]
    if content_type is not None:
        headers.append(Header.string(":content-type", content_type))
    headers.append(Header.string(":message-type", "event"))
    headers.extend(extra_headers)
    return Message(headers, _payload_bytes(payload))


def exception(
    exception_type: str,
    message: str,
    *,
    message_key: str = "Message",
) -> Message:
    """A modelled service exception, as sent mid-stream (JSON ``{"Message": ...}``).

    Transcribe writes ``Message``, Bedrock ``message``: pass ``message_key="message"``.
    """
    return Message(
        [
            Header.string(":exception-type", exception_type),
            Header.string(":content-type", JSON),
            Header.string(":message-type", "exception"),
        ],
        _payload_bytes({message_key: message}),
    )


def error(code: str, message: str) -> Message:
    """An unmodelled ``error`` message: code and text in headers, empty payload."""
    return Message(
        [
            Header.string(":message-type", "error"),
            Header.string(":error-code", code),
            Header.string(":error-message", message),
        ]
    )


def initial_response(payload: Payload = None, *, content_type: str = JSON) -> Message:
    """The ``initial-response`` event that opens RPC-style streams (``{}`` by default)."""
    return event("initial-response", {} if payload is None else payload, content_type=content_type)


def padding(length: int) -> str:
    """Bedrock's ``"p"`` padding value of ``length`` characters."""
    if length < 0:
        raise ValueError(f"padding length must be 0 or more, got {length}")
    repeats = length // len(_PADDING_ALPHABET) + 1
    return (_PADDING_ALPHABET * repeats)[:length]


def _padded(body: Dict[str, Any], pad: Optional[int]) -> Dict[str, Any]:
    if pad is None:
        # Round the JSON up to a multiple of 32 bytes: lengths vary the way real ones do,
        # and the builder stays deterministic.
        plain = len(_payload_bytes({**body, "p": ""}))
        pad = 1 + (-(plain + 1)) % 32
    return {**body, "p": padding(pad)}


def bedrock_event(event_type: str, body: Dict[str, Any], *, pad: Optional[int] = None) -> Message:
    """A Bedrock stream event: JSON ``body`` plus the ``"p"`` padding field (keys sorted, as
    the service writes them)."""
    padded = _padded(body, pad)
    return event(event_type, json.dumps(padded, separators=(",", ":"), sort_keys=True))


def bedrock_chunk(body: Union[Dict[str, Any], bytes], *, pad: Optional[int] = None) -> Message:
    """An InvokeModelWithResponseStream ``chunk``: ``{"bytes": base64(model JSON), "p": ...}``."""
    raw = body if isinstance(body, bytes) else _payload_bytes(body)
    return bedrock_event("chunk", {"bytes": base64.b64encode(raw).decode("ascii")}, pad=pad)


def converse_stream(
    deltas: Sequence[str],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    latency_ms: int = 250,
) -> List[Message]:
    """A ConverseStream answer: messageStart, one contentBlockDelta per text piece,
    contentBlockStop, messageStop and metadata with usage."""
    output_tokens = len(deltas)
    messages = [bedrock_event("messageStart", {"role": "assistant"})]
    messages.extend(
        bedrock_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}})
        for text in deltas
    )
    messages.append(bedrock_event("contentBlockStop", {"contentBlockIndex": 0}))
    messages.append(bedrock_event("messageStop", {"stopReason": stop_reason}))
    usage = {
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "totalTokens": input_tokens + output_tokens,
    }
    messages.append(
        bedrock_event("metadata", {"usage": usage, "metrics": {"latencyMs": latency_ms}})
    )
    return messages


def invoke_stream(deltas: Sequence[str], *, stop_reason: str = "end_turn") -> List[Message]:
    """An InvokeModelWithResponseStream answer in the Anthropic messages shape, one ``chunk``
    per model event (message_start, content_block_delta per piece, ..., message_stop)."""
    bodies: List[Dict[str, Any]] = [
        {"type": "message_start", "message": {"role": "assistant", "content": []}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    bodies.extend(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
        for text in deltas
    )
    bodies.append({"type": "content_block_stop", "index": 0})
    bodies.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason},
            "usage": {"output_tokens": len(deltas)},
        }
    )
    bodies.append({"type": "message_stop"})
    return [bedrock_chunk(body) for body in bodies]


# ---------------------------------------------------------------- Transcribe


def audio_event(chunk: Union[bytes, bytearray, memoryview]) -> Message:
    """A Transcribe ``AudioEvent`` carrying raw audio; an empty one ends the audio stream."""
    return event("AudioEvent", bytes(chunk), content_type=OCTET_STREAM)


def transcript_item(
    content: str,
    start_time: float,
    end_time: float,
    *,
    stable: Optional[bool] = None,
    confidence: Optional[float] = None,
) -> Dict[str, Any]:
    """One item of an alternative: a word (``pronunciation``) or a punctuation mark."""
    kind = "punctuation" if content and not any(c.isalnum() for c in content) else "pronunciation"
    item: Dict[str, Any] = {
        "Content": content,
        "EndTime": round(end_time, 3),
        "StartTime": round(start_time, 3),
        "Type": kind,
        "VocabularyFilterMatch": False,
    }
    if confidence is not None:
        item["Confidence"] = confidence
    if stable is not None:
        item["Stable"] = stable
    return item


def transcript_result(
    items: Sequence[Dict[str, Any]],
    *,
    result_id: str,
    is_partial: bool,
    channel_id: Optional[str] = None,
) -> Dict[str, Any]:
    """A result in the service's shape; its transcript is the items joined the service's way
    (a space before each word, none before punctuation)."""
    text = ""
    for item in items:
        if item["Type"] == "pronunciation" and text:
            text += " "
        text += item["Content"]
    result: Dict[str, Any] = {
        "Alternatives": [{"Items": list(items), "Transcript": text}],
        "EndTime": items[-1]["EndTime"] if items else 0.0,
        "IsPartial": is_partial,
        "ResultId": result_id,
        "StartTime": items[0]["StartTime"] if items else 0.0,
    }
    if channel_id is not None:
        result["ChannelId"] = channel_id
    return result


def transcript_event(results: Sequence[Dict[str, Any]]) -> Message:
    """A ``TranscriptEvent``: ``{"Transcript": {"Results": [...]}}``."""
    return event("TranscriptEvent", {"Transcript": {"Results": list(results)}})


# ---------------------------------------------------------------- signed frames


def signed_frame(
    inner: Union[Message, bytes, None],
    *,
    credentials: CredentialsSource,
    prior_signature: str,
    when: float,
    region: str = "us-east-1",
    service: str = "transcribe",
) -> Message:
    """The signed frame a client sends: ``:date`` and ``:chunk-signature`` headers around the
    encoded ``inner`` event (``None`` or ``b""`` for the empty end frame), its signature
    chained from ``prior_signature`` (hex).  Signing is :mod:`eventstream.sigv4`'s."""
    from ..sigv4 import chunk_signature, date_header_bytes

    payload = encode(inner) if isinstance(inner, Message) else bytes(inner or b"")
    seconds = int(when)
    signature = chunk_signature(
        credentials,
        region,
        service,
        seconds,
        prior_signature,
        date_header_bytes(seconds),
        payload,
    )
    return Message(
        [
            Header(":date", HeaderType.TIMESTAMP, seconds * 1000),
            Header(":chunk-signature", HeaderType.BYTES, signature),
        ],
        payload,
    )


def signed_frames(
    events: Iterable[Union[Message, bytes]],
    *,
    credentials: CredentialsSource,
    seed_signature: str,
    when: float,
    region: str = "us-east-1",
    service: str = "transcribe",
    end: bool = True,
) -> List[Message]:
    """A chain of signed frames for ``events`` (then the end frame, unless ``end=False``),
    all dated ``when``, the first chained from ``seed_signature``."""
    frames: List[Message] = []
    prior = seed_signature
    chain: List[Union[Message, bytes, None]] = list(events)
    if end:
        chain.append(None)
    for inner in chain:
        frame = signed_frame(
            inner,
            credentials=credentials,
            prior_signature=prior,
            when=when,
            region=region,
            service=service,
        )
        prior = bytes(frame.headers[":chunk-signature"]).hex()  # type: ignore[arg-type]
        frames.append(frame)
    return frames
