"""The message layer: Event, interpret, iter_events/aiter_events, service exceptions and errors."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eventstream
from eventstream import (
    Event,
    EventPayloadError,
    EventStreamError,
    IncompleteStreamError,
    Message,
    ServiceError,
    ServiceException,
    ServiceFault,
    TruncatedStreamError,
    UnknownMessageTypeError,
    aiter_events,
    interpret,
    iter_events,
    unwrap_bedrock_chunk,
)

pytestmark = pytest.mark.usefixtures("backend")

INTEROP = Path(__file__).resolve().parent / "interop"
CAPTURES = INTEROP / "captures"
EXPECTED = json.loads((INTEROP / "expected.json").read_text(encoding="utf-8"))


def event(event_type, payload=b"{}", content_type="application/json", **more):
    headers = {":message-type": "event", ":event-type": event_type}
    if content_type is not None:
        headers[":content-type"] = content_type
    headers.update(more)
    return eventstream.encode(Message(headers, payload))


def exception(exception_type, payload, content_type="application/json"):
    headers = {":message-type": "exception", ":exception-type": exception_type}
    if content_type is not None:
        headers[":content-type"] = content_type
    return eventstream.encode(Message(headers, payload))


def error(code, text):
    return eventstream.encode(
        Message({":message-type": "error", ":error-code": code, ":error-message": text})
    )


def chunks_of(data, size):
    return [data[i : i + size] for i in range(0, len(data), size)]


# ---------------------------------------------------------------- interop fixtures and captures


def _value(header):
    _name, type_code, value = header
    if type_code == 6:
        return bytes.fromhex(value)
    return value


def _payload(entry):
    if "payload_utf8" in entry:
        return entry["payload_utf8"].encode("utf-8")
    return bytes.fromhex(entry.get("payload_hex", ""))


def _fixtures():
    for fixture in EXPECTED["fixtures"]:
        if any(any(h[0] == ":message-type" for h in m["headers"]) for m in fixture["messages"]):
            yield pytest.param(fixture, id=fixture["file"])


def _expect(entry, outcome):
    """Check one outcome of interpret() against the fixture's stated headers and payload."""
    headers = {}
    for h in entry["headers"]:
        headers.setdefault(h[0], _value(h))
    payload = _payload(entry)
    message_type = headers.get(":message-type")
    if message_type == "event":
        assert isinstance(outcome, Event)
        assert outcome.event_type == headers.get(":event-type")
        assert outcome.content_type == headers.get(":content-type")
        assert outcome.payload == payload
        assert outcome.is_initial == (
            headers.get(":event-type") in ("initial-request", "initial-response")
        )
    elif message_type == "exception":
        assert type(outcome) is ServiceException
        assert outcome.exception_type == headers[":exception-type"]
        assert outcome.payload == payload
    elif message_type == "error":
        assert type(outcome) is ServiceError
        assert outcome.error_code == headers[":error-code"]
        assert outcome.error_message == headers[":error-message"]
    else:
        assert type(outcome) is UnknownMessageTypeError
        assert outcome.message_type == message_type


def _outcome(message):
    try:
        return interpret(message)
    except (ServiceFault, UnknownMessageTypeError) as exc:
        return exc


@pytest.mark.parametrize("fixture", list(_fixtures()))
def test_every_interop_fixture_is_classified(fixture):
    data = (INTEROP / fixture["file"]).read_bytes()
    decoded = []
    codec_fault = None
    try:
        for message in eventstream.iter_messages(io.BytesIO(data)):
            decoded.append(message)
    except EventStreamError as exc:
        codec_fault = exc
    assert (codec_fault is not None) == bool(fixture["stream_fault"])
    assert len(decoded) == len(fixture["messages"])
    outcomes = [_outcome(message) for message in decoded]
    for entry, outcome in zip(fixture["messages"], outcomes):
        _expect(entry, outcome)
    # The stream API yields the events before the first non-event, then raises it (or the
    # codec fault after the last event), whole or streamed a byte or a few bytes at a time.
    first_fault = next(
        (i for i, o in enumerate(outcomes) if not isinstance(o, Event)), len(outcomes)
    )
    for chunks in ([data], chunks_of(data, 1), chunks_of(data, 7)):
        yielded = []
        raised = None
        try:
            for item in iter_events(chunks):
                yielded.append(item)
        except Exception as exc:
            raised = exc
        assert yielded == outcomes[:first_fault]
        if first_fault < len(outcomes):
            assert type(raised) is type(outcomes[first_fault])
            assert raised.raw == decoded[first_fault]
        elif codec_fault is not None:
            assert type(raised) is type(codec_fault)
        else:
            assert raised is None


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_fixture_set_covers_every_kind_of_frame():
    kinds = set()
    for param in _fixtures():
        for entry in param.values[0]["messages"]:
            names = {h[0]: h[2] for h in entry["headers"]}
            kinds.add(names.get(":message-type", "(none)"))
    assert {"event", "exception", "error", "Test", "(none)"} <= kinds


def test_named_interop_exceptions_carry_their_text():
    cases = {
        "workflowai__bedrock_service_unavailable_exception.bin": (
            "serviceUnavailableException",
            "Bedrock is unable to process your request.",
            503,
            True,
        ),
        "rusoto__parse_error_event.bin": ("KMSAccessDeniedException", None, None, None),
    }
    for name, (kind, text, status, retryable) in cases.items():
        with pytest.raises(ServiceException) as caught:
            list(iter_events(io.BytesIO((INTEROP / name).read_bytes())))
        exc = caught.value
        assert exc.exception_type == kind
        if text is not None:
            assert exc.message == text
            assert str(exc) == f"{kind}: {text}"
        assert exc.http_status == status
        assert exc.retryable is retryable
    with pytest.raises(ServiceError) as caught:
        list(iter_events([(INTEROP / "botocore__error_event_message.bin").read_bytes()]))
    assert (caught.value.error_code, caught.value.error_message) == ("code", "message")
    assert str(caught.value) == "code: message"


def test_bedrock_converse_stream_capture():
    data = (CAPTURES / "bedrock-conversestream-tooluse-envoy.bin").read_bytes()
    events = list(iter_events(io.BytesIO(data), terminal={"messageStop", "metadata"}))
    assert len(events) == 25
    types = [e.event_type for e in events]
    assert types[0] == "messageStart" and types[-2:] == ["messageStop", "metadata"]
    assert "contentBlockDelta" in types and "contentBlockStart" in types
    assert all(e.content_type == "application/json" for e in events)
    stop = events[-2].json()
    assert stop["stopReason"] == "tool_use"
    assert "usage" in events[-1].json()
    start = next(e for e in events if e.event_type == "contentBlockStart").json()
    assert "toolUse" in start["start"]


def test_bedrock_capture_cut_at_every_frame_boundary_before_the_end():
    data = (CAPTURES / "bedrock-conversestream-tooluse-envoy.bin").read_bytes()
    frames = list(eventstream.iter_messages([data]))
    ends, pos = [], 0
    for message in frames:
        pos += len(eventstream.encode(message))
        ends.append(pos)
    assert ends[-1] == len(data)
    terminal = {"messageStop", "metadata"}
    for count, end in enumerate(ends[:-2], start=1):
        with pytest.raises(IncompleteStreamError) as caught:
            list(iter_events([data[:end]], terminal=terminal))
        assert caught.value.events == count
        assert caught.value.last_event_type == frames[count - 1].headers[":event-type"]
        assert caught.value.terminal == frozenset(terminal)
    # Cut after messageStop: a terminal event arrived, so that is a complete stream.
    assert len(list(iter_events([data[: ends[-2]]], terminal=terminal))) == 24
    # An empty stream is incomplete too.
    with pytest.raises(IncompleteStreamError, match="with no event"):
        list(iter_events([b""], terminal=terminal))


def test_bedrock_invoke_chunk_capture_unwraps():
    data = (CAPTURES / "bedrock-invoke-chunk-ai21.bin").read_bytes()
    (chunk,) = iter_events([data])
    assert chunk.event_type == "chunk"
    inner = unwrap_bedrock_chunk(chunk)
    assert inner["choices"][0]["message"]["role"] == "assistant"
    assert unwrap_bedrock_chunk(chunk.payload) == inner
    assert unwrap_bedrock_chunk(chunk.json()) == inner


def test_transcribe_exception_capture():
    data = (CAPTURES / "transcribe-ws-exception-BadRequest.bin").read_bytes()
    with pytest.raises(ServiceException) as caught:
        list(iter_events([data]))
    exc = caught.value
    assert exc.exception_type == "BadRequestException"
    assert exc.message == "Unexpected WebSocket frame received."
    assert exc.body == {"Message": "Unexpected WebSocket frame received."}
    assert (exc.http_status, exc.retryable) == (400, False)
    assert exc.raw == eventstream.decode(data)
    assert not isinstance(exc, EventStreamError)
    assert not isinstance(exc, ValueError)


# ---------------------------------------------------------------- stream order, every chunking

INITIAL = event("initial-response", b'{"session":"s-1"}')
A = event("contentBlockDelta", b'{"delta":{"text":"Hel"}}')
B = event("contentBlockDelta", b'{"delta":{"text":"lo"}}')
THROTTLED = exception("throttlingException", b'{"message":"Too many requests, please wait."}')
ERROR = error("InternalError", "the service broke")
AFTER = event("messageStop", b'{"stopReason":"end_turn"}')


@pytest.mark.parametrize(
    ("fault", "cls", "fields"),
    [
        (THROTTLED, ServiceException, ("throttlingException", "Too many requests, please wait.")),
        (ERROR, ServiceError, ("InternalError", "the service broke")),
    ],
)
def test_faults_raise_after_every_earlier_event_in_chunks_of_every_size(fault, cls, fields):
    stream = INITIAL + A + B + fault + AFTER
    for size in range(1, len(stream) + 1):
        seen = []
        with pytest.raises(cls) as caught:
            for item in iter_events(chunks_of(stream, size)):
                seen.append(item.event_type)
        assert seen == ["initial-response", "contentBlockDelta", "contentBlockDelta"], size
        exc = caught.value
        if cls is ServiceException:
            assert (exc.exception_type, exc.message) == fields
            assert (exc.http_status, exc.retryable) == (429, True)
        else:
            assert (exc.error_code, exc.error_message) == fields
        assert eventstream.encode(exc.raw) == fault


def test_one_read_holds_the_whole_stream():
    stream = INITIAL + A + B + THROTTLED + AFTER
    seen = []
    with pytest.raises(ServiceException):
        for item in iter_events(io.BytesIO(stream), chunk_size=1 << 20):
            seen.append(item)
    assert [e.event_type for e in seen] == ["initial-response"] + ["contentBlockDelta"] * 2


def test_skip_initial_and_is_initial():
    stream = INITIAL + A + AFTER
    events = list(iter_events([stream]))
    assert [e.is_initial for e in events] == [True, False, False]
    skipped = list(iter_events([stream], skip_initial=True))
    assert [e.event_type for e in skipped] == ["contentBlockDelta", "messageStop"]
    # A skipped initial event can still be the terminal one; it counts as arrived.
    assert list(iter_events([INITIAL], skip_initial=True, terminal={"initial-response"})) == []


def test_terminal_is_satisfied_by_any_listed_event_type():
    assert len(list(iter_events([A + AFTER], terminal={"messageStop", "metadata"}))) == 2
    with pytest.raises(IncompleteStreamError) as caught:
        list(iter_events([A + B], terminal={"messageStop"}))
    assert "ended after 2 events" in str(caught.value)
    assert "messageStop" in str(caught.value)
    assert isinstance(caught.value, EventStreamError)


def test_a_stream_cut_inside_a_frame_is_a_codec_fault_not_incomplete():
    stream = A + AFTER
    with pytest.raises(TruncatedStreamError):
        list(iter_events([stream[:-3]], terminal={"messageStop"}))


def test_terminal_must_be_a_set_not_a_string():
    with pytest.raises(TypeError, match="not one string"):
        iter_events([A], terminal="messageStop")
    # An empty set would make every stream incomplete; bytes names would never match.
    for call in (iter_events, aiter_events):
        with pytest.raises(ValueError, match="terminal is empty"):
            call([A], terminal=set())
        with pytest.raises(TypeError, match="event type names"):
            call([A], terminal={b"messageStop"})


def test_s3_select_end_is_terminal():
    data = (INTEROP / "aiobotocore__s3_select_stream.bin").read_bytes()
    events = list(iter_events([data], terminal={"End"}))
    assert [e.event_type for e in events] == ["Records", "Stats", "End"]
    with pytest.raises(EventPayloadError, match="not JSON"):
        events[0].json()  # application/octet-stream
    assert events[0].payload  # the records stay readable


# ---------------------------------------------------------------- unknown message types


def test_unknown_message_type_raises_by_default_and_can_be_let_through():
    odd = eventstream.encode(Message({":message-type": "Test", ":event-type": "X"}, b"1"))
    none = eventstream.encode(Message({":event-type": "FooBar"}, b"2"))
    for data, shown in ((odd, "'Test'"), (none, "no :message-type")):
        with pytest.raises(UnknownMessageTypeError, match=shown) as caught:
            list(iter_events([A + data + B]))
        assert caught.value.raw == eventstream.decode(data)
    events = list(iter_events([A + odd + none + B], unknown="event"))
    assert [(e.message_type, e.event_type) for e in events] == [
        ("event", "contentBlockDelta"),
        ("Test", "X"),
        (None, "FooBar"),
        ("event", "contentBlockDelta"),
    ]
    with pytest.raises(ValueError, match="unknown="):
        iter_events([A], unknown="skip")
    with pytest.raises(ValueError, match="unknown="):
        interpret(eventstream.decode(A), unknown="skip")


def test_a_non_string_message_type_is_unknown():
    data = eventstream.encode(Message({":message-type": 1}))
    with pytest.raises(UnknownMessageTypeError) as caught:
        interpret(eventstream.decode(data))
    assert caught.value.message_type is None


def test_interpret_takes_a_message():
    with pytest.raises(TypeError, match="takes a Message"):
        interpret(A)  # bytes, not a decoded Message


# ---------------------------------------------------------------- payloads


def test_json_by_content_type():
    for content_type in (None, "application/json", "text/json", "application/x-amz-json-1.1"):
        message = eventstream.decode(event("e", b'{"a": 1}', content_type))
        assert interpret(message).json() == {"a": 1}
    cbor = interpret(eventstream.decode(event("e", b"\xa1\x61a\x01", "application/cbor")))
    with pytest.raises(EventPayloadError, match="application/cbor, not JSON") as caught:
        cbor.json()
    assert caught.value.payload == b"\xa1\x61a\x01"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"a": ', "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[" * 100_000, "nested too deep"),
        (b"1" * 5000, "not valid JSON"),  # above CPython's int digit limit (3.11+)
    ],
)
def test_json_failure_keeps_the_raw_bytes(payload, reason):
    ev = interpret(eventstream.decode(event("e", payload)))
    try:
        ev.json()
    except EventPayloadError as exc:
        assert reason in str(exc)
        assert exc.payload == payload
        assert exc.event_type == "e"
        assert isinstance(exc, ValueError)
    else:
        assert payload == b"1" * 5000  # interpreters without the int limit parse it


@pytest.mark.parametrize(
    ("payload", "content_type", "message", "shown"),
    [
        (b"<html>502</html>", "application/json", None, "payload: <html>502</html>"),
        (b'{"message": 5}', "application/json", None, "payload:"),
        (b'["not", "an", "object"]', None, None, "payload:"),
        (b"[" * 100_000, "application/json", None, "payload: [[["),
        (b"plain words", "text/plain", "plain words", "plain words"),
        (b"", "application/json", None, None),
        (b'{"errorMessage": "e"}', "application/json", "e", "e"),
    ],
)
def test_exceptions_with_odd_payloads_still_raise(payload, content_type, message, shown):
    data = exception("SomeException", payload, content_type)
    with pytest.raises(ServiceException) as caught:
        list(iter_events([A + data]))
    exc = caught.value
    assert exc.message == message
    assert exc.payload == payload
    assert exc.http_status is None and exc.retryable is None
    if shown is not None:
        assert shown in str(exc)
    else:
        assert str(exc) == "SomeException"


def test_exception_without_type_header():
    data = eventstream.encode(Message({":message-type": "exception"}, b'{"Message":"m"}'))
    with pytest.raises(ServiceException) as caught:
        interpret(eventstream.decode(data))
    assert caught.value.exception_type is None
    assert str(caught.value) == "exception (no :exception-type): m"


def test_service_faults_pickle_and_share_a_base():
    for data in (THROTTLED, ERROR):
        with pytest.raises(ServiceFault) as caught:
            interpret(eventstream.decode(data))
        copy = pickle.loads(pickle.dumps(caught.value))
        assert type(copy) is type(caught.value)
        assert str(copy) == str(caught.value)
        assert copy.raw == caught.value.raw
    assert not issubclass(ServiceFault, EventStreamError)
    assert issubclass(ServiceException, ServiceFault) and issubclass(ServiceError, ServiceFault)


def test_unwrap_bedrock_chunk_errors():
    def chunk(payload):
        return interpret(eventstream.decode(event("chunk", payload)))

    inner = {"completion": "hi", "stop_reason": None}
    encoded = base64.b64encode(json.dumps(inner).encode()).decode()
    assert unwrap_bedrock_chunk(chunk(json.dumps({"bytes": encoded, "p": "abc"}).encode())) == inner
    with pytest.raises(EventPayloadError, match="'bytes' field"):
        unwrap_bedrock_chunk(chunk(b'{"p": "x"}'))
    with pytest.raises(EventPayloadError, match="not base64"):
        unwrap_bedrock_chunk(chunk(b'{"bytes": "%%%"}'))
    with pytest.raises(EventPayloadError, match="not JSON") as caught:
        unwrap_bedrock_chunk(
            chunk(json.dumps({"bytes": base64.b64encode(b"raw").decode()}).encode())
        )
    assert caught.value.payload == b"raw"
    with pytest.raises(EventPayloadError, match="not valid JSON"):
        unwrap_bedrock_chunk(b"not json")


def test_exception_table_entries_are_sourced_and_consistent():
    from eventstream.exception_types import _ENTRIES, EXCEPTION_TYPES

    assert len(EXCEPTION_TYPES) == len(_ENTRIES)  # no name listed twice
    for entry in _ENTRIES:
        assert entry.source.startswith("https://docs.aws.amazon.com/")
        assert 400 <= entry.http_status <= 599
        assert entry.services
    assert eventstream.exception_type_info("ThrottlingException").http_status == 429
    assert eventstream.exception_type_info("nope") is None
    assert eventstream.exception_type_info(None) is None


# ---------------------------------------------------------------- asyncio


def test_aiter_events_over_an_async_iterable_and_a_stream_reader():
    stream = INITIAL + A + B + THROTTLED + AFTER

    async def chunks():
        for piece in chunks_of(stream, 7):
            yield piece

    async def consume(source, **options):
        seen = []
        try:
            async for item in aiter_events(source, **options):
                seen.append(item.event_type)
        except ServiceException as exc:
            return seen, exc
        return seen, None

    seen, exc = asyncio.run(consume(chunks(), skip_initial=True))
    assert seen == ["contentBlockDelta", "contentBlockDelta"]
    assert exc.exception_type == "throttlingException"

    async def reader_run():
        reader = asyncio.StreamReader()
        reader.feed_data(A + B)
        reader.feed_eof()
        return await consume(reader, terminal={"messageStop"})

    with pytest.raises(IncompleteStreamError):
        asyncio.run(reader_run())


# ---------------------------------------------------------------- sockets, properties, types


def test_iter_events_over_a_socket_that_the_peer_closes():
    import socket
    import threading

    stream = INITIAL + A + B + THROTTLED + AFTER
    left, right = socket.socketpair()

    def send():
        with left:
            for piece in chunks_of(stream, 13):
                try:
                    left.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the reader stopped at the exception and closed its end

    sender = threading.Thread(target=send)
    sender.start()
    seen = []
    with right, right.makefile("rb") as reader, pytest.raises(ServiceException) as caught:
        for item in iter_events(reader, chunk_size=7):
            seen.append(item.event_type)
    sender.join()
    assert seen == ["initial-response", "contentBlockDelta", "contentBlockDelta"]
    assert caught.value.exception_type == "throttlingException"


def test_a_transport_dying_mid_message_is_a_codec_fault_after_the_events():
    stream = A + B + AFTER
    seen = []
    with pytest.raises(TruncatedStreamError):
        for item in iter_events(io.BytesIO(stream[: len(A + B) + 20]), terminal={"messageStop"}):
            seen.append(item)
    assert len(seen) == 2


def test_wrong_source_types_are_type_errors():
    import socket

    # At the call, as iter_messages, and naming what it takes (not "'int' object is not
    # iterable" at the first next()).
    left, right = socket.socketpair()
    with left, right:
        for source in (5, right, "path.bin"):
            with pytest.raises(TypeError, match="takes a binary file-like object"):
                iter_events(source)
            with pytest.raises(TypeError):
                aiter_events(source)
    with pytest.raises(TypeError):
        list(iter_events(["not bytes"]))
    with pytest.raises(EventPayloadError, match="not a Bedrock chunk"):
        unwrap_bedrock_chunk(5)


_FRAMES = {
    "event": lambda i: event(f"e{i}", json.dumps({"i": i}).encode()),
    "initial": lambda i: event("initial-response", b"{}"),
    "exception": lambda i: exception(f"X{i}Exception", json.dumps({"message": f"m{i}"}).encode()),
    "error": lambda i: error(f"E{i}", f"m{i}"),
    "unknown": lambda i: eventstream.encode(Message({":message-type": "other"}, b"")),
}


@settings(max_examples=60)
@given(
    kinds=st.lists(st.sampled_from(sorted(_FRAMES)), max_size=8),
    size=st.integers(min_value=1, max_value=200),
    skip_initial=st.booleans(),
)
def test_events_are_yielded_in_order_until_the_first_non_event(kinds, size, skip_initial):
    stream = b"".join(_FRAMES[kind](i) for i, kind in enumerate(kinds))
    first = next((i for i, k in enumerate(kinds) if k not in ("event", "initial")), len(kinds))
    expected = [
        f"e{i}" if k == "event" else "initial-response"
        for i, k in enumerate(kinds[:first])
        if not (skip_initial and k == "initial")
    ]
    seen = []
    try:
        for item in iter_events(chunks_of(stream, size), skip_initial=skip_initial):
            seen.append(item.event_type)
    except ServiceException as exc:
        assert kinds[first] == "exception" and exc.exception_type == f"X{first}Exception"
        assert exc.message == f"m{first}"
    except ServiceError as exc:
        assert kinds[first] == "error" and exc.error_code == f"E{first}"
    except UnknownMessageTypeError as exc:
        assert kinds[first] == "unknown" and exc.message_type == "other"
    else:
        assert first == len(kinds)
    assert seen == expected


# ---------------------------------------------------------------- eventstream.testing's builders


def test_the_testing_builders_and_mutators_read_back_through_the_layer():
    from eventstream import testing

    answer = testing.stream(testing.converse_stream(["Hel", "lo"]))
    events = list(iter_events([answer], terminal={"messageStop", "metadata"}))
    assert [e.event_type for e in events][-2:] == ["messageStop", "metadata"]
    deltas = [e.json()["delta"]["text"] for e in events if e.event_type == "contentBlockDelta"]
    assert deltas == ["Hel", "lo"]
    spliced = testing.splice_exception(
        answer, 2, "throttlingException", "slow", message_key="message"
    )
    seen = []
    with pytest.raises(ServiceException) as caught:
        for item in iter_events(testing.random_splits(spliced, seed=3)):
            seen.append(item)
    assert len(seen) == 2 and (caught.value.exception_type, caught.value.message) == (
        "throttlingException",
        "slow",
    )
    with pytest.raises(IncompleteStreamError):
        list(
            iter_events(
                [testing.cut(answer, testing.frame_spans(answer)[3][1])], terminal={"metadata"}
            )
        )
    chunks = testing.stream(testing.invoke_stream(["Hi"]))
    inner = [unwrap_bedrock_chunk(e) for e in iter_events([chunks])]
    assert inner[0]["type"] == "message_start" and inner[-1] == {"type": "message_stop"}
    for body, kind in (
        (testing.json_error_body("ValidationException", "bad input"), "json"),
        (testing.html_error_page(502), "html"),
    ):
        with pytest.raises(eventstream.NotAnEventStreamError) as caught:
            list(iter_events([body]))
        assert caught.value.kind == kind
        if kind == "json":
            assert "message: bad input" in caught.value.detail


# ---------------------------------------------------------------- a client's view of the capture


def _capture_with_a_throttle_after(count):
    """The ConverseStream capture with a throttlingException frame after ``count`` events."""
    data = (CAPTURES / "bedrock-conversestream-tooluse-envoy.bin").read_bytes()
    frames = [eventstream.encode(m) for m in eventstream.iter_messages([data])]
    assert b"".join(frames) == data
    return frames, b"".join(frames[:count]) + THROTTLED + b"".join(frames[count:])


@pytest.mark.parametrize("size", [1, 5, 64])
def test_a_converse_stream_client_over_a_socket_meets_the_exception_mid_stream(size):
    # What a Bedrock client does: read a socket as bytes trickle in, collect the text
    # deltas, and meet the service's exception after every earlier event.
    import socket
    import threading

    frames, stream = _capture_with_a_throttle_after(10)
    left, right = socket.socketpair()

    def send():
        # The client hangs up once the exception arrived, as a real one does.
        with left, contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for piece in chunks_of(stream, size):
                left.sendall(piece)

    sender = threading.Thread(target=send)
    sender.start()
    seen = []
    with right, right.makefile("rb") as reader, pytest.raises(ServiceException) as caught:
        for item in iter_events(reader, terminal={"messageStop", "metadata"}, chunk_size=size):
            seen.append(item)
    sender.join()
    assert [e.message for e in seen] == [eventstream.decode(f) for f in frames[:10]]
    assert all(isinstance(e.json(), dict) for e in seen)
    exc = caught.value
    assert (exc.exception_type, exc.message, exc.retryable) == (
        "throttlingException",
        "Too many requests, please wait.",
        True,
    )
    assert not isinstance(exc, EventStreamError)


def test_an_async_converse_stream_client_meets_the_exception_mid_stream():
    frames, stream = _capture_with_a_throttle_after(17)

    async def run():
        reader = asyncio.StreamReader()

        async def feed():
            for piece in chunks_of(stream, 3):
                reader.feed_data(piece)
                await asyncio.sleep(0)
            reader.feed_eof()

        feeding = asyncio.ensure_future(feed())
        seen = []
        try:
            async for item in aiter_events(reader, terminal={"messageStop", "metadata"}):
                seen.append(item.event_type)
        except ServiceException as exc:
            await feeding
            return seen, exc
        raise AssertionError("no ServiceException")

    seen, exc = asyncio.run(run())
    assert seen == [eventstream.decode(f).headers[":event-type"] for f in frames[:17]]
    assert exc.exception_type == "throttlingException"
