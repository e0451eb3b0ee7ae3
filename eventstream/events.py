"""The message layer: events, service exceptions and service errors.

The Smithy specification's "Amazon event semantics" give three kinds of
message, named by the ``:message-type`` header:

``event``
    ``:event-type`` names the event (``initial-request`` and
    ``initial-response`` are the RPC protocols' first events),
    ``:content-type`` the payload's format.  :func:`interpret` returns an
    :class:`Event`.
``exception``
    A modelled error: ``:exception-type`` names it, the payload is the
    error's fields (for JSON protocols an object with ``message`` or
    ``Message``).  :func:`interpret` raises :class:`ServiceException`.
``error``
    An unmodelled error: ``:error-code`` and ``:error-message`` (strings).
    :func:`interpret` raises :class:`ServiceError`.

A frame with no ``:message-type``, or one of another value, raises
:class:`UnknownMessageTypeError` (``unknown="raise"``, the default) or, with
``unknown="event"``, is returned as an :class:`Event` whose ``message_type``
says what it was: never skipped in silence.

:class:`ServiceException` and :class:`ServiceError` derive from
:class:`ServiceFault`, not from :class:`~eventstream.errors.EventStreamError`:
a service saying no is not a fault of the bytes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    BinaryIO,
    FrozenSet,
    Iterable,
    Iterator,
    NamedTuple,
    Optional,
    Union,
)

from ._decoder import DEFAULT_CHUNK_SIZE, aiter_messages, iter_messages
from ._sniff import JsonCompleter, json_bytes_wanted
from .errors import EventStreamError, NotAnEventStreamError
from .exception_types import ExceptionType, exception_type_info
from .limits import Limits
from .types import Message


def _json_loads(data: Union[str, bytes, bytearray]) -> Any:
    import json  # loaded on first use: `import eventstream` must not load json

    return json.loads(data)


__all__ = [
    "Event",
    "EventPayloadError",
    "IncompleteStreamError",
    "INITIAL_EVENT_TYPES",
    "ServiceError",
    "ServiceException",
    "ServiceFault",
    "UnknownMessageTypeError",
    "aiter_events",
    "interpret",
    "is_json_content_type",
    "iter_events",
    "unwrap_bedrock_chunk",
]

INITIAL_EVENT_TYPES = frozenset({"initial-request", "initial-response"})
"""The event types of the RPC protocols' first message in each direction."""

UNKNOWN_POLICIES = ("raise", "event")

_PREVIEW = 120


def _preview(payload: bytes) -> str:
    text = payload[: _PREVIEW * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


def _string_header(message: Message, name: str) -> Optional[str]:
    value = message.headers.get(name)
    return value if isinstance(value, str) else None


def is_json_content_type(content_type: Optional[str]) -> bool:
    """True for the JSON media types services use (``None`` counts: the header is optional)."""
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media in ("application/json", "text/json")
        or media.endswith("+json")
        or media.startswith("application/x-amz-json")
    )


# ---------------------------------------------------------------- errors of the layer


class EventPayloadError(EventStreamError):
    """An event's payload is not what it was read as (not JSON, not a Bedrock chunk).

    ``payload`` holds the raw bytes, ``content_type`` and ``event_type`` what
    the message said about them.
    """

    def __init__(
        self,
        text: str,
        *,
        payload: bytes,
        content_type: Optional[str] = None,
        event_type: Optional[str] = None,
    ) -> None:
        super().__init__(text)
        self.payload = payload
        self.content_type = content_type
        self.event_type = event_type


class UnknownMessageTypeError(EventStreamError):
    """A frame whose ``:message-type`` is missing or not event/exception/error.

    ``message_type`` is the header's value (``None`` when missing or not a
    string) and ``raw`` the :class:`~eventstream.Message`.
    """

    def __init__(self, raw: Message) -> None:
        self.raw = raw
        value = raw.headers.get(":message-type")
        self.message_type = value if isinstance(value, str) else None
        if ":message-type" not in raw.headers.names():
            what = "has no :message-type header"
        else:
            what = f"has :message-type {value!r} (expected 'event', 'exception' or 'error')"
        super().__init__(f"a message {what}; headers: {raw.headers.names()}")

    def __reduce__(self) -> Any:
        return (type(self), (self.raw,))


class IncompleteStreamError(EventStreamError):
    """The stream ended cleanly, on a message boundary, before a terminal event.

    ``terminal`` is the set of event types that would have ended it,
    ``events`` how many events arrived and ``last_event_type`` the type of
    the last one (``None`` if there was none).
    """

    def __init__(
        self, terminal: FrozenSet[str], events: int, last_event_type: Optional[str]
    ) -> None:
        self.terminal = terminal
        self.events = events
        self.last_event_type = last_event_type
        wanted = ", ".join(sorted(terminal))
        after = (
            f"after {events} events (the last {last_event_type!r})" if events else "with no event"
        )
        super().__init__(f"the stream ended {after} before a terminal event ({wanted})")

    def __reduce__(self) -> Any:
        return (type(self), (self.terminal, self.events, self.last_event_type))


class ServiceFault(Exception):
    """A service's exception or error frame: what the service said, not a codec fault.

    ``raw`` is the :class:`~eventstream.Message`.  ``http_status`` and
    ``retryable`` come from :mod:`eventstream.exception_types` (``None`` for
    a name the table does not list).
    """

    raw: Message

    def __init__(self, raw: Message) -> None:
        super().__init__(raw)
        self.raw = raw

    @property
    def type_name(self) -> Optional[str]:
        """The exception type or error code."""
        raise NotImplementedError

    @property
    def info(self) -> Optional[ExceptionType]:
        """The exception table's entry for this type, or ``None``."""
        return exception_type_info(self.type_name)

    @property
    def http_status(self) -> Optional[int]:
        info = self.info
        return info.http_status if info else None

    @property
    def retryable(self) -> Optional[bool]:
        info = self.info
        return info.retryable if info else None

    def __reduce__(self) -> Any:
        return (type(self), (self.raw,))


class ServiceException(ServiceFault):
    """An ``exception`` frame: a modelled error the service sent in the stream.

    ``exception_type`` (``:exception-type``), ``content_type``, ``payload``
    (raw bytes), ``body`` (the payload parsed as JSON, or ``None`` when it is
    not JSON) and ``message`` (the body's ``message``/``Message`` field; for
    a ``text/*`` payload, its text; otherwise ``None``).
    """

    def __init__(self, raw: Message) -> None:
        super().__init__(raw)
        self.exception_type = _string_header(raw, ":exception-type")
        self.content_type = _string_header(raw, ":content-type")
        self.payload: bytes = raw.payload
        self.body: Any = None
        self.message: Optional[str] = None
        if is_json_content_type(self.content_type):
            # A payload that is not JSON leaves body None: the exception stands, and
            # its bytes stay readable in .payload.
            with contextlib.suppress(ValueError, RecursionError):
                self.body = _json_loads(raw.payload)
        if isinstance(self.body, dict):
            for key in ("message", "Message", "errorMessage"):
                value = self.body.get(key)
                if isinstance(value, str):
                    self.message = value
                    break
        elif self.content_type is not None and self.content_type.lower().startswith("text/"):
            self.message = raw.payload.decode("utf-8", errors="replace")

    @property
    def type_name(self) -> Optional[str]:
        return self.exception_type

    def __str__(self) -> str:
        name = self.exception_type or "exception (no :exception-type)"
        if self.message is not None:
            return f"{name}: {self.message}"
        if self.payload:
            return f"{name} (payload: {_preview(self.payload)})"
        return name


class ServiceError(ServiceFault):
    """An ``error`` frame: ``error_code`` (``:error-code``) and ``error_message``."""

    def __init__(self, raw: Message) -> None:
        super().__init__(raw)
        self.error_code = _string_header(raw, ":error-code")
        self.error_message = _string_header(raw, ":error-message")
        self.payload: bytes = raw.payload

    @property
    def type_name(self) -> Optional[str]:
        return self.error_code

    def __str__(self) -> str:
        name = self.error_code or "error (no :error-code)"
        return f"{name}: {self.error_message}" if self.error_message is not None else name


# ---------------------------------------------------------------- events


class Event(NamedTuple):
    """An ``event`` frame.

    ``event_type`` (``:event-type``; ``None`` if absent), ``content_type``
    (``:content-type``; ``None`` if absent), ``payload`` (bytes), ``message``
    (the :class:`~eventstream.Message`) and ``message_type`` (``"event"``,
    or what an unknown frame said when ``unknown="event"`` let it through).
    """

    event_type: Optional[str]
    content_type: Optional[str]
    payload: bytes
    message: Message
    message_type: Optional[str] = "event"

    @property
    def is_initial(self) -> bool:
        """True for ``initial-request`` and ``initial-response``."""
        return self.event_type in INITIAL_EVENT_TYPES

    def json(self) -> Any:
        """The payload parsed as JSON.

        Raises :class:`EventPayloadError` (``.payload`` keeps the bytes) when
        the content type is not a JSON one or the payload does not parse.
        An absent content type is read as JSON.
        """
        if not is_json_content_type(self.content_type):
            raise self._payload_error(
                f"is {self.content_type}, not JSON ({len(self.payload)} bytes: "
                f"{_preview(self.payload)})"
            )
        try:
            return _json_loads(self.payload)
        except (ValueError, RecursionError) as exc:
            reason = "nested too deep" if isinstance(exc, RecursionError) else str(exc)
            raise self._payload_error(
                f"is not valid JSON ({reason}); {len(self.payload)} bytes: {_preview(self.payload)}"
            ) from None

    def _payload_error(self, what: str) -> EventPayloadError:
        return EventPayloadError(
            f"the {self.event_type!r} event's payload {what}",
            payload=self.payload,
            content_type=self.content_type,
            event_type=self.event_type,
        )

    def __repr__(self) -> str:
        return (
            f"Event(event_type={self.event_type!r}, content_type={self.content_type!r}, "
            f"payload={self.payload[:64]!r}{'...' if len(self.payload) > 64 else ''})"
        )


def interpret(message: Message, *, unknown: str = "raise") -> Event:
    """Classify one message by its ``:message-type``.

    Returns an :class:`Event` for an event; raises :class:`ServiceException`
    for an exception and :class:`ServiceError` for an error.  A frame with no
    or another ``:message-type`` raises :class:`UnknownMessageTypeError`, or
    with ``unknown="event"`` comes back as an :class:`Event` whose
    ``message_type`` is that value (``None`` when missing).
    """
    if not isinstance(message, Message):
        raise TypeError(f"interpret() takes a Message, got {type(message).__name__}")
    if unknown not in UNKNOWN_POLICIES:
        raise ValueError(f"unknown={unknown!r}: choose 'raise' or 'event'")
    # One pass over the headers (the first of each name counts, as in Headers.get).
    message_type: Any = None
    event_type: Any = None
    content_type: Any = None
    for header in message[0]:
        name = header[0]
        if name == ":message-type":
            if message_type is None:
                message_type = header[2]
        elif name == ":event-type":
            if event_type is None:
                event_type = header[2]
        elif name == ":content-type" and content_type is None:
            content_type = header[2]
    if message_type != "event":
        if message_type == "exception":
            raise ServiceException(message)
        if message_type == "error":
            raise ServiceError(message)
        if unknown == "raise":
            raise UnknownMessageTypeError(message)
    return Event(
        event_type if type(event_type) is str else None,
        content_type if type(content_type) is str else None,
        message[1],
        message,
        message_type if type(message_type) is str else None,
    )


# ---------------------------------------------------------------- streams


class _Tracker:
    """The per-stream state of iter_events/aiter_events: skipping and the terminal check."""

    def __init__(self, terminal: Optional[Iterable[str]], skip_initial: bool, unknown: str) -> None:
        if isinstance(terminal, str):
            raise TypeError("terminal must be a set of event types, not one string")
        if unknown not in UNKNOWN_POLICIES:
            raise ValueError(f"unknown={unknown!r}: choose 'raise' or 'event'")
        self.terminal: Optional[FrozenSet[str]] = (
            frozenset(terminal) if terminal is not None else None
        )
        if self.terminal is not None and not self.terminal:
            # No event could end it: every stream would be "incomplete" at its end.
            raise ValueError("terminal is empty: name the ending event types, or pass None")
        if self.terminal is not None and not all(isinstance(t, str) for t in self.terminal):
            raise TypeError(
                f"terminal must hold event type names (str), got {sorted(map(repr, self.terminal))}"
            )
        self.skip_initial = skip_initial
        self.unknown = unknown
        self.count = 0
        self.last: Optional[str] = None
        self.ended = False

    def take(self, message: Message) -> Optional[Event]:
        """The event to yield for ``message`` (``None`` to skip an initial one); raises faults."""
        event = interpret(message, unknown=self.unknown)
        self.count += 1
        self.last = event.event_type
        if self.terminal is not None and event.event_type in self.terminal:
            self.ended = True
        if self.skip_initial and event.is_initial:
            return None
        return event

    def finish(self) -> None:
        if self.terminal is not None and not self.ended:
            raise IncompleteStreamError(self.terminal, self.count, self.last)


def iter_events(
    source: Union[BinaryIO, Iterable[Any]],
    *,
    terminal: Optional[Iterable[str]] = None,
    skip_initial: bool = False,
    unknown: str = "raise",
    limits: Optional[Limits] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[Event]:
    """:class:`Event` objects from the same sources as :func:`eventstream.iter_messages`.

    Every event before an exception or error frame is yielded first; then
    :class:`ServiceException` or :class:`ServiceError` is raised.  With
    ``skip_initial``, ``initial-request``/``initial-response`` events are not
    yielded.  With ``terminal`` (a set of event types such as
    ``{"messageStop", "metadata"}``), a stream that ends before one of them
    arrived raises :class:`IncompleteStreamError`.  Codec faults propagate as
    from ``iter_messages``.

    When the body is a JSON document (``NotAnEventStreamError`` with kind
    ``json``) that arrived in chunks too small to hold its error text when the
    decoder failed, the rest of the body is read (up to 64 KiB, until the JSON
    is complete or the source ends) so the error carries the service's message.
    """
    tracker = _Tracker(terminal, skip_initial, unknown)
    if not hasattr(source, "read") and not isinstance(source, (bytes, bytearray, memoryview, str)):
        # One iterator, so the JSON reader below can go on with it.  What is not
        # iterable goes to iter_messages as it is, for its TypeError naming the sources.
        with contextlib.suppress(TypeError):
            source = iter(source)
    # Built here, not in the generator, so a wrong source fails at the call, as there.
    messages = iter_messages(source, limits=limits, chunk_size=chunk_size)
    return _iter_events(source, messages, tracker, chunk_size)


_END = object()


def _iter_events(
    source: Any, messages: Iterator[Message], tracker: _Tracker, chunk_size: int
) -> Iterator[Event]:
    try:
        for message in messages:
            event = tracker.take(message)
            if event is not None:
                yield event
    except NotAnEventStreamError as exc:
        _read_rest_of_json(exc, source, chunk_size)
        raise
    tracker.finish()


def _read_rest_of_json(error: NotAnEventStreamError, source: Any, chunk_size: int) -> None:
    if not json_bytes_wanted(error):
        return
    completer = JsonCompleter(error)
    # read1, as iter_messages reads: a buffered socket's read(n) would wait for n
    # bytes, or for the peer to close a connection it keeps open after the body.
    read = getattr(source, "read1", None) or getattr(source, "read", None)
    # The source failing now must not replace the error being reported.
    with contextlib.suppress(Exception):
        while True:
            if read is not None:
                chunk = read(max(1, min(chunk_size, json_bytes_wanted(error))))
                if not chunk:  # end of file, or None: nothing more without waiting
                    break
            else:
                chunk = next(source, _END)
                if chunk is _END:
                    break
            if not completer.add(chunk):
                return
    completer.finish()


def aiter_events(
    source: Union[AsyncIterable[Any], Any],
    *,
    terminal: Optional[Iterable[str]] = None,
    skip_initial: bool = False,
    unknown: str = "raise",
    limits: Optional[Limits] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> AsyncIterator[Event]:
    """The asynchronous :func:`iter_events`, over :func:`eventstream.aiter_messages` sources."""
    tracker = _Tracker(terminal, skip_initial, unknown)
    if not hasattr(source, "read") and hasattr(source, "__aiter__"):
        source = source.__aiter__()
    messages = aiter_messages(source, limits=limits, chunk_size=chunk_size)  # checks source
    return _aiter_events(source, messages, tracker, chunk_size)


async def _aiter_events(
    source: Any, messages: AsyncIterator[Message], tracker: _Tracker, chunk_size: int
) -> AsyncIterator[Event]:
    try:
        async for message in messages:
            event = tracker.take(message)
            if event is not None:
                yield event
    except NotAnEventStreamError as exc:
        await _aread_rest_of_json(exc, source, chunk_size)
        raise
    tracker.finish()


async def _aread_rest_of_json(error: NotAnEventStreamError, source: Any, chunk_size: int) -> None:
    if not json_bytes_wanted(error):
        return
    completer = JsonCompleter(error)
    read = getattr(source, "read", None)
    with contextlib.suppress(Exception):
        while True:
            if read is not None:
                chunk = await read(max(1, min(chunk_size, json_bytes_wanted(error))))
                if not chunk:
                    break
            else:
                try:
                    chunk = await source.__anext__()
                except StopAsyncIteration:
                    break
            if not completer.add(chunk):
                return
    completer.finish()


# ---------------------------------------------------------------- Bedrock


def unwrap_bedrock_chunk(chunk: Union[Event, bytes, Any]) -> Any:
    """The JSON inside a Bedrock InvokeModelWithResponseStream ``chunk`` event.

    The event's payload is ``{"bytes": "<base64 of the model's JSON>"}`` (with
    a ``"p"`` padding field that is ignored).  ``chunk`` is the
    :class:`Event`, its payload bytes, or the payload already parsed.
    Raises :class:`EventPayloadError` when it is not such an envelope or the
    inner bytes are not JSON.
    """
    event_type: Optional[str] = None
    if isinstance(chunk, Event):
        event_type = chunk.event_type
        envelope = chunk.json()
        raw = chunk.payload
    elif isinstance(chunk, (bytes, bytearray, memoryview)):
        raw = bytes(chunk)
        envelope = Event("chunk", None, raw, Message(None, raw)).json()
    else:
        envelope, raw = chunk, b""
    encoded = envelope.get("bytes") if isinstance(envelope, dict) else None
    if not isinstance(encoded, str):
        raise EventPayloadError(
            "not a Bedrock chunk: expected a JSON object with a base64 'bytes' field"
            + (f"; got {_preview(raw)}" if raw else ""),
            payload=raw,
            event_type=event_type,
        )
    try:
        inner = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventPayloadError(
            f"the Bedrock chunk's 'bytes' field is not base64 ({exc})",
            payload=raw,
            event_type=event_type,
        ) from None
    try:
        return _json_loads(inner)
    except (ValueError, RecursionError):
        raise EventPayloadError(
            f"the Bedrock chunk's decoded bytes are not JSON: {_preview(inner)}",
            payload=inner,
            event_type=event_type,
        ) from None
