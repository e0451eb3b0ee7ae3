"""AWS Signature Version 4 for event streams: sign events, verify them, sign the request.

Sans-IO and standard library only.  A client that streams events to a service
(Transcribe over HTTP/2 or WebSocket, Bedrock, SageMaker, Lex, Polly) does:

1. sign the initial request: :func:`sign_request` (HTTP/2; its signature is the
   *seed*) or :func:`presign_url` (WebSocket; the URL's ``X-Amz-Signature`` is
   the seed);
2. sign every event with an :class:`EventSigner` built from the same seed;
3. end with the signed empty frame (:meth:`EventSigner.end`), which the
   documented patterns below send even when the sending loop raises.

Each signed frame is an outer message whose payload is the encoded event and
whose headers are, **in this order**, ``:date`` (TIMESTAMP, whole seconds) and
``:chunk-signature`` (BYTES, the 32 raw signature bytes).  (SDKs differ in this
order and services accept both: the signature covers the ``:date`` header alone.)

The signature of one event chains from the one before::

    AWS4-HMAC-SHA256-PAYLOAD
    <YYYYMMDDTHHMMSSZ>
    <YYYYMMDD>/<region>/<service>/aws4_request
    <prior signature, hex>
    hex(sha256(<encoded non-signature headers>))
    hex(sha256(<payload>))

Credentials are taken as :class:`Credentials` or as a callable returning them;
a callable is called once per stream (per signer, verifier, signed request or
URL), so a stream keeps one set of credentials from start to end even when the
provider rotates them.  The secret key and session token never appear in a
``repr``, a log line or an error message of this module.

Not thread-safe for concurrent use of one signer: events of one stream are
ordered by nature, so sign them from one thread (a lock guards the chain anyway).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import inspect
import math
import os
import re
import struct
import threading
import time
from types import TracebackType
from typing import (
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Type,
    Union,
)
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from ._codec import decode, encode
from .errors import DecodeError, EventStreamError
from .types import Header, HeaderType, Message

__all__ = [
    "Credentials",
    "CredentialsSource",
    "resolve_credentials",
    "chunk_signature",
    "date_header_bytes",
    "EventSigner",
    "EventVerifier",
    "SignedRequest",
    "sign_request",
    "presign_url",
    "redact_url",
    "STREAMING_EVENTS_PAYLOAD",
    "SigningError",
    "CredentialsError",
    "SignerClosedError",
    "VerificationError",
    "MissingEndFrameError",
]

STREAMING_EVENTS_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-EVENTS"
"""The ``x-amz-content-sha256`` value of a request whose body is a signed event stream."""

_ALGORITHM = "AWS4-HMAC-SHA256"
_EVENT_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_MAX_PRESIGN_EXPIRES = 7 * 24 * 3600  # SigV4's limit for presigned URLs
_HEX = re.compile(r"(?:[0-9a-f]{2})*")
# Headers a proxy or client library may add, drop or rewrite: signing them breaks requests.
_UNSIGNED_HEADERS = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


# ---------------------------------------------------------------- errors


class SigningError(EventStreamError):
    """Base class of the errors of this module (never carries a secret)."""


class CredentialsError(SigningError):
    """Credentials that cannot be used (wrong type, empty key, a failing provider)."""


class SignerClosedError(SigningError):
    """:meth:`EventSigner.sign` or :meth:`EventSigner.end` after the end frame."""


class VerificationError(SigningError):
    """A received frame that does not verify.

    ``frame`` is the 1-based number of the frame in the stream (0 when the
    error is about the stream as a whole), ``reason`` one of ``"malformed"``,
    ``"missing_signature"``, ``"missing_date"``, ``"date_milliseconds"``,
    ``"clock_skew"``, ``"signature_mismatch"``, ``"replayed"``,
    ``"reordered"``, ``"altered"``, ``"after_end"``, ``"failed_before"``,
    ``"missing_end_frame"``.
    """

    def __init__(self, message: str, *, frame: int, reason: str) -> None:
        super().__init__(message)
        self.frame = frame
        self.reason = reason


class MissingEndFrameError(VerificationError):
    """The stream stopped without the signed empty end frame."""


# ---------------------------------------------------------------- credentials


class Credentials:
    """AWS credentials: ``access_key``, ``secret_key`` and an optional ``session_token``.

    The secret key and the session token are kept out of ``repr``/``str`` and of
    every error message.  Signing keys derived from them are cached per
    (date, region, service), so a long stream derives one key per day.
    """

    __slots__ = ("_keys", "_secret_key", "_session_token", "access_key")

    def __init__(
        self, access_key: str, secret_key: str, session_token: Optional[str] = None
    ) -> None:
        for name, value in (("access_key", access_key), ("secret_key", secret_key)):
            if not isinstance(value, str):
                raise CredentialsError(f"{name} must be str, got {type(value).__name__}")
            if not value:
                raise CredentialsError(f"{name} is empty")
        if session_token is not None and not isinstance(session_token, str):
            raise CredentialsError(
                f"session_token must be str or None, got {type(session_token).__name__}"
            )
        self.access_key = access_key
        self._secret_key = secret_key
        self._session_token = session_token or None
        self._keys: Dict[Tuple[str, str, str], bytes] = {}

    @property
    def secret_key(self) -> str:
        return self._secret_key

    @property
    def session_token(self) -> Optional[str]:
        return self._session_token

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Credentials:
        """Credentials from ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and
        ``AWS_SESSION_TOKEN`` (optional) in ``environ`` (default ``os.environ``)."""
        env = os.environ if environ is None else environ
        missing = [
            name for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if not env.get(name)
        ]
        if missing:
            raise CredentialsError(f"environment variable {' and '.join(missing)} not set")
        return cls(
            env["AWS_ACCESS_KEY_ID"],
            env["AWS_SECRET_ACCESS_KEY"],
            env.get("AWS_SESSION_TOKEN") or None,
        )

    def signing_key(self, date: str, region: str, service: str) -> bytes:
        """The SigV4 signing key for ``date`` (``YYYYMMDD``), ``region`` and ``service``."""
        cache_key = (date, region, service)
        key = self._keys.get(cache_key)
        if key is None:
            key = _hmac(("AWS4" + self._secret_key).encode("utf-8"), date)
            for part in (region, service, "aws4_request"):
                key = _hmac(key, part)
            if len(self._keys) >= 8:  # a stream needs one per day: keep the cache tiny
                self._keys.clear()
            self._keys[cache_key] = key
        return key

    def __repr__(self) -> str:
        token = "None" if self._session_token is None else "'<hidden>'"
        return (
            f"Credentials(access_key={self.access_key!r}, secret_key='<hidden>', "
            f"session_token={token})"
        )

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (
            self.access_key == other.access_key
            and hmac.compare_digest(
                self._secret_key.encode("utf-8"), other._secret_key.encode("utf-8")
            )
            and (self._session_token or "") == (other._session_token or "")
        )

    def __hash__(self) -> int:
        return hash(self.access_key)

    def __copy__(self) -> Credentials:
        return self  # immutable

    def __deepcopy__(self, memo: object) -> Credentials:
        return self

    def __reduce__(self) -> str:
        # Pickling would write the secret to wherever the pickle goes.
        raise TypeError("Credentials cannot be pickled (they hold a secret key)")


CredentialsSource = Union[Credentials, Callable[[], Credentials]]
""":class:`Credentials`, or a callable returning them (called once per stream)."""


def resolve_credentials(source: CredentialsSource) -> Credentials:
    """The :class:`Credentials` of ``source``: itself, or what the callable returns."""
    if isinstance(source, Credentials):
        return source
    if not callable(source):
        raise CredentialsError(
            f"credentials must be Credentials or a callable returning them, "
            f"got {type(source).__name__}"
        )
    try:
        result = source()
    except CredentialsError:
        raise
    except Exception as exc:
        # The provider's own message may quote what it read; name only its type.
        raise CredentialsError(f"the credentials callable raised {type(exc).__name__}") from None
    if not isinstance(result, Credentials):
        raise CredentialsError(
            f"the credentials callable returned {type(result).__name__}, expected Credentials"
        )
    return result


# ---------------------------------------------------------------- primitives


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _check_name(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, got {type(value).__name__}")
    if not value or "/" in value or "\n" in value:
        raise ValueError(f"{what} must be non-empty, without '/' or newlines: {value!r}")
    return value


def _check_prior(value: object, what: str) -> str:
    if not isinstance(value, str):
        hint = " (for raw signature bytes, pass bytes.hex())" if isinstance(value, bytes) else ""
        raise TypeError(f"{what} must be hex text (str), got {type(value).__name__}{hint}")
    if not _HEX.fullmatch(value):
        raise ValueError(f"{what} must be lowercase hex text, got {value[:80]!r}")
    return value


def _whole_seconds(when: object, what: str = "when") -> int:
    if isinstance(when, bool) or not isinstance(when, (int, float)):
        raise TypeError(
            f"{what} must be seconds since the epoch (int or float), got {type(when).__name__}"
        )
    if isinstance(when, float) and not math.isfinite(when):
        raise ValueError(f"{what} must be finite, got {when}")
    return math.floor(when)


def _now(clock: Optional[Callable[[], float]], skew: float) -> int:
    """``floor(clock() + skew)``: the signing time in whole seconds."""
    value = (time.time if clock is None else clock)()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"clock() must return seconds (int or float), got {type(value).__name__}")
    return _whole_seconds(value + skew, "clock() + clock_skew")


def _check_skew(skew: object) -> float:
    if isinstance(skew, bool) or not isinstance(skew, (int, float)) or not math.isfinite(skew):
        raise TypeError(f"clock_skew must be a finite number of seconds, got {skew!r}")
    return skew


def _check_clock(clock: object) -> Optional[Callable[[], float]]:
    if clock is not None and not callable(clock):
        raise TypeError(f"clock must be a callable returning seconds, got {type(clock).__name__}")
    return clock


def _amz_date(seconds: int) -> str:
    """``YYYYMMDDTHHMMSSZ`` for a time in whole seconds since the epoch (UTC)."""
    try:
        t = time.gmtime(seconds)
    except (OverflowError, OSError, ValueError):
        raise ValueError(
            f"time {seconds} s is outside the range this platform can format"
        ) from None
    return (
        f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}T{t.tm_hour:02d}{t.tm_min:02d}{t.tm_sec:02d}Z"
    )


_DATE_PREFIX = b"\x05:date\x08"


def date_header_bytes(seconds: int) -> bytes:
    """The encoded ``:date`` header (TIMESTAMP) for a time in whole seconds: the
    non-signature header bytes that an event signature covers."""
    return _DATE_PREFIX + struct.pack(">q", seconds * 1000)


def _chunk_signature(
    credentials: Credentials,
    region: str,
    service: str,
    seconds: int,
    prior_signature: str,
    headers_bytes: bytes,
    payload: bytes,
) -> bytes:
    amz_date = _amz_date(seconds)
    date = amz_date[:8]
    string_to_sign = "\n".join(
        (
            _EVENT_ALGORITHM,
            amz_date,
            f"{date}/{region}/{service}/aws4_request",
            prior_signature,
            hashlib.sha256(headers_bytes).hexdigest(),
            hashlib.sha256(payload).hexdigest(),
        )
    )
    key = credentials.signing_key(date, region, service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).digest()


def _as_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes-like, got {type(value).__name__}")


def chunk_signature(
    credentials: CredentialsSource,
    region: str,
    service: str,
    when: float,
    prior_signature: str,
    headers_bytes: bytes,
    payload: bytes,
) -> bytes:
    """The 32-byte signature of one event.

    ``when`` is the signing time in seconds since the epoch (floored to whole
    seconds), ``prior_signature`` the hex text of the previous signature (the
    request's for the first event; ``""`` is allowed), ``headers_bytes`` the
    encoded non-signature headers (normally :func:`date_header_bytes` of
    ``when``) and ``payload`` the payload (the encoded event; empty for the end
    frame).  :class:`EventSigner` and :class:`EventVerifier` are built on it.
    """
    return _chunk_signature(
        resolve_credentials(credentials),
        _check_name(region, "region"),
        _check_name(service, "service"),
        _whole_seconds(when),
        _check_prior(prior_signature, "prior_signature"),
        _as_bytes(headers_bytes, "headers_bytes"),
        _as_bytes(payload, "payload"),
    )


def _frame(seconds: int, signature: bytes, payload: bytes) -> bytes:
    headers = (
        Header(":date", HeaderType.TIMESTAMP, seconds * 1000),
        Header(":chunk-signature", HeaderType.BYTES, signature),
    )
    return encode(Message(headers, payload))


# ---------------------------------------------------------------- signer


EventInput = Union[Message, bytes, bytearray, memoryview]


_ASYNC_SEND = (
    "send returned an awaitable: EventSigner calls send synchronously, so the frame would "
    "never be sent; with an async transport, await transport.send(signer.sign(event)) and "
    "send signer.end() in a finally block"
)


class EventSigner:
    """Signs the events of one stream, each chained to the one before.

    ``seed_signature`` is the hex signature of the initial request
    (:attr:`SignedRequest.signature`, or the ``X-Amz-Signature`` of a presigned
    URL).  ``clock`` returns seconds since the epoch (default ``time.time``) and
    ``clock_skew`` is added to it: each event is dated ``floor(clock() +
    clock_skew)``.  ``credentials`` may be a callable; it is called once, here.

    ``sign(event)`` returns the signed frame to send; ``end()`` returns the
    signed empty frame and closes the signer (``sign`` then raises
    :class:`SignerClosedError`).  So that the end frame cannot be forgotten, use
    one of these patterns:

    * with a ``send`` callable, as a context manager: every event goes through
      ``signer.send(event)``, and leaving the block sends the end frame, also
      when the block raises (the block's exception then propagates; if sending
      the end frame fails too, that second error is dropped in its favour)::

          with EventSigner(creds, region, "transcribe", seed, send=ws.send) as signer:
              for chunk in audio:
                  signer.send(audio_event(chunk))

      ``send`` is called synchronously (a socket's ``sendall``, a sync client's
      ``send``); one that returns an awaitable (an ``async def`` send) raises
      ``TypeError``, since its frames would never go out.  With an async
      transport, ``await`` the sends of ``sign(event)`` and of ``end()`` (in a
      ``finally`` block) yourself.

    * as an iterator over the frames of an iterable of events, which yields the
      end frame after the last event, and also when the events' iterable raises
      (the error follows on the next step)::

          for frame in signer.frames(events):
              transport.write(frame)
    """

    def __init__(
        self,
        credentials: CredentialsSource,
        region: str,
        service: str,
        seed_signature: str,
        *,
        clock: Optional[Callable[[], float]] = None,
        clock_skew: float = 0.0,
        send: Optional[Callable[[bytes], object]] = None,
    ) -> None:
        self._region = _check_name(region, "region")
        self._service = _check_name(service, "service")
        self._prior = _check_prior(seed_signature, "seed_signature")
        self._clock = _check_clock(clock)
        self._skew = _check_skew(clock_skew)
        if send is not None and not callable(send):
            raise TypeError(f"send must be a callable taking bytes, got {type(send).__name__}")
        if send is not None and inspect.iscoroutinefunction(send):
            raise TypeError(_ASYNC_SEND)
        self._send = send
        self._credentials = resolve_credentials(credentials)
        self._lock = threading.Lock()
        self._count = 0
        self._ended = False

    @property
    def signature(self) -> str:
        """Hex text of the latest signature (the seed before the first event)."""
        return self._prior

    @property
    def events_signed(self) -> int:
        """Frames signed so far, the end frame included."""
        return self._count

    @property
    def ended(self) -> bool:
        return self._ended

    def _sign_payload(self, payload: bytes, *, ending: bool) -> bytes:
        with self._lock:
            if self._ended:
                raise SignerClosedError(
                    f"the signer has sent its end frame (after {self._count - 1} events): "
                    "a stream cannot continue past it"
                )
            seconds = _now(self._clock, self._skew)
            signature = _chunk_signature(
                self._credentials,
                self._region,
                self._service,
                seconds,
                self._prior,
                date_header_bytes(seconds),
                payload,
            )
            frame = _frame(seconds, signature, payload)
            self._prior = signature.hex()
            self._count += 1
            self._ended = ending
            return frame

    def sign(self, event: EventInput) -> bytes:
        """The signed frame carrying ``event`` (a :class:`Message`, or any bytes,
        normally an encoded message)."""
        if isinstance(event, Message):
            payload = encode(event)
        else:
            payload = _as_bytes(event, "event")
            if not payload:
                raise SigningError(
                    "an empty payload is the end-of-stream frame: call end() to finish the stream"
                )
        return self._sign_payload(payload, ending=False)

    def end(self) -> bytes:
        """The signed empty frame that ends the stream; the signer is closed after it."""
        return self._sign_payload(b"", ending=True)

    def send(self, event: EventInput) -> None:
        """Sign ``event`` and pass the frame to the ``send`` callable given at construction."""
        if self._send is None:
            raise TypeError("send() needs the signer to be built with send=callable")
        self._deliver(self.sign(event))

    def _deliver(self, frame: bytes) -> None:
        assert self._send is not None
        result = self._send(frame)
        if inspect.isawaitable(result):
            # Never awaited, the frame would silently not be sent.
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TypeError(_ASYNC_SEND)

    def frames(self, events: Iterable[EventInput]) -> Iterator[bytes]:
        """Yield the signed frame of each event, then the end frame.

        If ``events`` (or signing one of them) raises, the end frame is yielded
        first and the exception is raised on the following step, so a plain
        ``for`` loop over this sends the end frame in every case where its own
        body keeps working.
        """
        try:
            for event in events:
                yield self.sign(event)
        except GeneratorExit:
            raise  # the consumer stopped iterating: nothing more can be yielded
        except BaseException:
            if not self._ended:
                yield self.end()
            raise
        if not self._ended:
            yield self.end()

    def __enter__(self) -> EventSigner:
        if self._send is None:
            raise TypeError(
                "using EventSigner as a context manager needs send=callable, "
                "so that leaving the block can send the end frame"
            )
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._ended or self._send is None:
            return
        if exc_type is None:
            self._deliver(self.end())
            return
        # The block's own exception is the one to report; a failing send (the
        # transport is likely what broke) must not replace it.
        with contextlib.suppress(Exception):
            self._deliver(self.end())

    def __repr__(self) -> str:
        return (
            f"EventSigner(region={self._region!r}, service={self._service!r}, "
            f"events_signed={self._count}, ended={self._ended})"
        )


# ---------------------------------------------------------------- verifier


class _Pending(NamedTuple):
    """A frame that failed to verify, kept to explain the failure later."""

    number: int
    seconds: int
    headers_bytes: bytes
    payload: bytes
    signature: bytes


class EventVerifier:
    """Verifies the signed frames of one stream, in order (what a service does).

    ``check(frame)`` takes each received frame (bytes or :class:`Message`),
    verifies its signature against the chain (constant-time comparison) and
    returns the inner message, or ``None`` for the end frame.  ``finish()``
    raises :class:`MissingEndFrameError` if the end frame never came.  No time
    window is applied unless ``max_skew`` (seconds between a frame's ``:date``
    and ``clock()``, default ``time.time``) is given.

    Errors are :class:`VerificationError` with the frame number and a reason.
    A frame that fails leaves the verifier failed (later frames raise too);
    the frames after it are used to tell what happened: a frame that chains
    from the failed frame's signature shows it was altered, a failed frame
    that chains from a later one shows the two were reordered.
    """

    _RECENT = 1024  # signatures remembered to recognise a replayed frame

    def __init__(
        self,
        credentials: CredentialsSource,
        region: str,
        service: str,
        seed_signature: str,
        *,
        max_skew: Optional[float] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        self._region = _check_name(region, "region")
        self._service = _check_name(service, "service")
        self._prior = _check_prior(seed_signature, "seed_signature")
        if max_skew is not None and (
            isinstance(max_skew, bool)
            or not isinstance(max_skew, (int, float))
            or not max_skew >= 0
        ):
            raise TypeError(f"max_skew must be None or seconds >= 0, got {max_skew!r}")
        self._max_skew = max_skew
        self._clock = _check_clock(clock)
        self._credentials = resolve_credentials(credentials)
        self._count = 0
        self._end_frame = 0
        self._recent: Dict[bytes, int] = {}
        self._failure: Optional[VerificationError] = None
        self._pending: Optional[_Pending] = None

    @property
    def frames_checked(self) -> int:
        return self._count

    @property
    def ended(self) -> bool:
        return self._end_frame > 0

    @property
    def signature(self) -> str:
        """Hex text of the last verified signature (the seed before the first frame)."""
        return self._prior

    def check(self, frame: Union[Message, bytes, bytearray, memoryview]) -> Optional[Message]:
        """Verify the next frame; the inner message, or ``None`` for the end frame."""
        payload = self.check_payload(frame)
        if payload is None:
            return None
        try:
            return decode(payload)
        except DecodeError as exc:
            raise VerificationError(
                f"frame {self._count}: the signature is valid but the payload is not an "
                f"event-stream message ({exc})",
                frame=self._count,
                reason="malformed",
            ) from None

    def check_payload(self, frame: Union[Message, bytes, bytearray, memoryview]) -> Optional[bytes]:
        """Like :meth:`check`, for opaque payloads: the verified payload bytes, or
        ``None`` for the end frame."""
        self._count += 1
        number = self._count
        if self._end_frame:
            raise VerificationError(
                f"frame {number}: received after the end frame (frame {self._end_frame})",
                frame=number,
                reason="after_end",
            )
        try:
            seconds, headers_bytes, payload, signature = self._parse(number, frame)
        except VerificationError as exc:
            if self._failure is None:
                self._failure = exc
            raise
        if self._failure is not None:
            raise self._explain_after_failure(number, seconds, headers_bytes, payload, signature)
        self._check_skew(number, seconds)
        expected = self._expected(self._prior, seconds, headers_bytes, payload)
        if not hmac.compare_digest(expected, signature):
            raise self._fail(number, seconds, headers_bytes, payload, signature)
        self._prior = signature.hex()
        if len(self._recent) >= self._RECENT:
            self._recent.pop(next(iter(self._recent)))
        self._recent[signature] = number
        if not payload:
            self._end_frame = number
            return None
        return payload

    def finish(self) -> None:
        """Raise unless the stream ended with its end frame (call at end of input)."""
        if self._failure is not None:
            raise self._failure
        if not self._end_frame:
            last = f"after frame {self._count}" if self._count else "before any frame"
            raise MissingEndFrameError(
                f"the stream stopped {last} without the signed empty end frame",
                frame=self._count + 1,
                reason="missing_end_frame",
            )

    # -- internals

    def _expected(self, prior: str, seconds: int, headers_bytes: bytes, payload: bytes) -> bytes:
        return _chunk_signature(
            self._credentials, self._region, self._service, seconds, prior, headers_bytes, payload
        )

    def _parse(
        self, number: int, frame: Union[Message, bytes, bytearray, memoryview]
    ) -> Tuple[int, bytes, bytes, bytes]:
        if isinstance(frame, Message):
            message = frame
        elif isinstance(frame, (bytes, bytearray, memoryview)):
            try:
                message = decode(frame)
            except DecodeError as exc:
                raise VerificationError(
                    f"frame {number}: not a valid event-stream message ({exc})",
                    frame=number,
                    reason="malformed",
                ) from None
        else:
            raise TypeError(f"frame must be bytes or Message, got {type(frame).__name__}")
        signature: Optional[bytes] = None
        date: Optional[int] = None
        unsigned: List[Header] = []
        for header in message.headers:
            if header.name == ":chunk-signature":
                if header.type is not HeaderType.BYTES or signature is not None:
                    raise VerificationError(
                        f"frame {number}: ':chunk-signature' must be one BYTES header",
                        frame=number,
                        reason="missing_signature",
                    )
                signature = header.value  # type: ignore[assignment]
                continue
            if header.name == ":date" and date is None:
                if header.type is not HeaderType.TIMESTAMP:
                    raise VerificationError(
                        f"frame {number}: ':date' is a {header.type.name} header, "
                        "it must be a TIMESTAMP",
                        frame=number,
                        reason="missing_date",
                    )
                date = header.value  # type: ignore[assignment]
            unsigned.append(header)
        if signature is None or len(signature) != 32:
            what = (
                "no ':chunk-signature' header"
                if signature is None
                else (f"a ':chunk-signature' of {len(signature)} bytes (it must be 32)")
            )
            raise VerificationError(
                f"frame {number}: {what}", frame=number, reason="missing_signature"
            )
        if date is None:
            raise VerificationError(
                f"frame {number}: no ':date' header", frame=number, reason="missing_date"
            )
        if date % 1000:
            raise VerificationError(
                f"frame {number}: ':date' is {date} ms, not whole seconds "
                "(signers must write the signing time floored to seconds)",
                frame=number,
                reason="date_milliseconds",
            )
        seconds = date // 1000
        if len(unsigned) == 1:
            headers_bytes = date_header_bytes(seconds)
        else:
            headers_bytes = encode(Message(unsigned))[12:-4]
        return seconds, headers_bytes, message.payload, signature

    def _check_skew(self, number: int, seconds: int) -> None:
        if self._max_skew is None:
            return
        now = (time.time if self._clock is None else self._clock)()
        off = seconds - now
        if abs(off) > self._max_skew:
            raise self._set_failure(
                VerificationError(
                    f"frame {number}: ':date' is {abs(off):.0f} s "
                    f"{'ahead of' if off > 0 else 'behind'} the verifier's clock "
                    f"(max_skew {self._max_skew} s)",
                    frame=number,
                    reason="clock_skew",
                )
            )

    def _set_failure(self, error: VerificationError) -> VerificationError:
        self._failure = error
        return error

    def _fail(
        self, number: int, seconds: int, headers_bytes: bytes, payload: bytes, signature: bytes
    ) -> VerificationError:
        replayed = self._recent.get(signature)
        if replayed is not None:
            return self._set_failure(
                VerificationError(
                    f"frame {number}: replays frame {replayed} (same signature); "
                    "every frame must chain from the one before",
                    frame=number,
                    reason="replayed",
                )
            )
        self._pending = _Pending(number, seconds, headers_bytes, payload, signature)
        source = f"frame {number - 1}" if number > 1 else "the seed signature"
        return self._set_failure(
            VerificationError(
                f"frame {number}: wrong signature: it does not chain from {source} "
                "(the frame was altered, arrived out of order, or was signed with other "
                "credentials, region, service or seed)",
                frame=number,
                reason="signature_mismatch",
            )
        )

    def _explain_after_failure(
        self, number: int, seconds: int, headers_bytes: bytes, payload: bytes, signature: bytes
    ) -> VerificationError:
        """The error for a frame after a failure, naming what the failure was if possible."""
        failure = self._failure
        assert failure is not None
        pending = self._pending
        if signature in self._recent:
            return VerificationError(
                f"frame {number}: replays frame {self._recent[signature]} "
                f"(the stream already failed at frame {failure.frame})",
                frame=number,
                reason="replayed",
            )
        if pending is not None:
            prior = pending.signature.hex()
            if hmac.compare_digest(
                self._expected(prior, seconds, headers_bytes, payload), signature
            ):
                return self._set_failure(
                    VerificationError(
                        f"frame {pending.number} was altered: frame {number} chains from its "
                        f"signature, but frame {pending.number}'s content does not match it",
                        frame=pending.number,
                        reason="altered",
                    )
                )
            if hmac.compare_digest(
                self._expected(self._prior, seconds, headers_bytes, payload), signature
            ) and hmac.compare_digest(
                self._expected(
                    signature.hex(), pending.seconds, pending.headers_bytes, pending.payload
                ),
                pending.signature,
            ):
                return self._set_failure(
                    VerificationError(
                        f"frames {pending.number} and {number} arrived in the wrong order "
                        f"(frame {pending.number} chains from frame {number})",
                        frame=pending.number,
                        reason="reordered",
                    )
                )
        return VerificationError(
            f"frame {number}: the stream already failed at frame {failure.frame} ({failure})",
            frame=number,
            reason="failed_before",
        )

    def __repr__(self) -> str:
        return (
            f"EventVerifier(region={self._region!r}, service={self._service!r}, "
            f"frames_checked={self._count}, ended={self.ended})"
        )


# ---------------------------------------------------------------- request signing


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, also collapsing repeated slashes (as AWS does)."""
    if not path:
        return "/"
    out: List[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
        else:
            out.append(segment)
    lead = "/" if path.startswith("/") else ""
    trail = "/" if path.endswith("/") and out else ""
    return lead + "/".join(out) + trail


def _canonical_uri(path: str) -> str:
    # Non-S3 services sign the path as sent, encoded once more (so '%' becomes '%25').
    return quote(_remove_dot_segments(path), safe="/~")


def _canonical_query(pairs: Iterable[Tuple[str, str]]) -> str:
    encoded = sorted((_uri_encode(key), _uri_encode(value)) for key, value in pairs)
    return "&".join(f"{key}={value}" for key, value in encoded)


def _host(url: str) -> Tuple[str, str, str, str, str]:
    """(scheme, host header value, path, query, fragment) of ``url``."""
    if not isinstance(url, str):
        raise TypeError(f"url must be str, got {type(url).__name__}")
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"url must be absolute (scheme://host/path), got {url[:200]!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("url must not carry user information (user:password@)")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    return parts.scheme, host, parts.path, parts.query, parts.fragment


def _trim(value: str) -> str:
    return " ".join(value.split())


def _scope(date: str, region: str, service: str) -> str:
    return f"{date}/{region}/{service}/aws4_request"


def _request_signature(
    credentials: Credentials,
    region: str,
    service: str,
    amz_date: str,
    canonical_request: str,
) -> str:
    date = amz_date[:8]
    string_to_sign = "\n".join(
        (
            _ALGORITHM,
            amz_date,
            _scope(date, region, service),
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        )
    )
    key = credentials.signing_key(date, region, service)
    return hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class SignedRequest(NamedTuple):
    """The result of :func:`sign_request`.

    ``headers`` holds the request's headers with the signing headers added
    (lower-case names: ``authorization``, ``x-amz-date``,
    ``x-amz-content-sha256``, and ``x-amz-security-token`` with a session
    token); send them all.  ``signature`` is the hex seed signature for the
    stream's :class:`EventSigner`, which :meth:`event_signer` builds with the
    same credentials (so a credentials callable is not called a second time).
    """

    headers: Dict[str, str]
    signature: str
    credentials: Credentials
    region: str
    service: str

    def event_signer(
        self,
        *,
        clock: Optional[Callable[[], float]] = None,
        clock_skew: float = 0.0,
        send: Optional[Callable[[bytes], object]] = None,
    ) -> EventSigner:
        """An :class:`EventSigner` seeded with this request's signature and credentials."""
        return EventSigner(
            self.credentials,
            self.region,
            self.service,
            self.signature,
            clock=clock,
            clock_skew=clock_skew,
            send=send,
        )

    def __repr__(self) -> str:
        shown = {
            name: ("<hidden>" if name == "x-amz-security-token" else value)
            for name, value in self.headers.items()
        }
        return (
            f"SignedRequest(headers={shown!r}, signature={self.signature!r}, "
            f"credentials={self.credentials!r}, region={self.region!r}, "
            f"service={self.service!r})"
        )


def sign_request(
    method: str,
    url: str,
    credentials: CredentialsSource,
    region: str,
    service: str,
    *,
    headers: Optional[Mapping[str, str]] = None,
    payload_hash: str = STREAMING_EVENTS_PAYLOAD,
    clock: Optional[Callable[[], float]] = None,
    clock_skew: float = 0.0,
) -> SignedRequest:
    """Sign the initial request of an event stream (SigV4, ``Authorization`` header).

    ``headers`` are the request's own headers (e.g. ``content-type`` and the
    service's parameters); all are signed except hop-by-hop ones a proxy may
    change (``user-agent``, ``expect``, ...).  The ``host`` header is signed
    as the URL's host (with the port unless it is the scheme's default) unless
    given.  ``payload_hash`` is the ``x-amz-content-sha256`` value, by default
    :data:`STREAMING_EVENTS_PAYLOAD`.  The signing time is ``floor(clock() +
    clock_skew)``.
    """
    if not isinstance(method, str) or not method:
        raise TypeError(f"method must be a non-empty str, got {method!r}")
    if not isinstance(payload_hash, str) or not payload_hash:
        raise TypeError(f"payload_hash must be a non-empty str, got {payload_hash!r}")
    region = _check_name(region, "region")
    service = _check_name(service, "service")
    _, host, path, query, _fragment = _host(url)
    seconds = _now(_check_clock(clock), _check_skew(clock_skew))
    creds = resolve_credentials(credentials)
    amz_date = _amz_date(seconds)

    out: Dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"header names and values must be str, got {name!r}")
        lname = name.lower()
        if lname in ("x-amz-date", "x-amz-security-token", "x-amz-content-sha256"):
            continue  # set below from this call's time, credentials and payload_hash
        out[lname] = value
    out["x-amz-date"] = amz_date
    out["x-amz-content-sha256"] = payload_hash
    if creds.session_token is not None:
        out["x-amz-security-token"] = creds.session_token

    signed = {name: value for name, value in out.items() if name not in _UNSIGNED_HEADERS}
    signed.setdefault("host", host)
    names = sorted(signed)
    signed_names = ";".join(names)
    canonical_request = "\n".join(
        (
            method.upper(),
            _canonical_uri(path),
            _canonical_query(parse_qsl(query, keep_blank_values=True)),
            "".join(f"{name}:{_trim(signed[name])}\n" for name in names),
            signed_names,
            payload_hash,
        )
    )
    signature = _request_signature(creds, region, service, amz_date, canonical_request)
    out["authorization"] = (
        f"{_ALGORITHM} Credential={creds.access_key}/{_scope(amz_date[:8], region, service)}, "
        f"SignedHeaders={signed_names}, Signature={signature}"
    )
    return SignedRequest(out, signature, creds, region, service)


def presign_url(
    url: str,
    credentials: CredentialsSource,
    region: str,
    service: str,
    *,
    method: str = "GET",
    expires: int = 300,
    clock: Optional[Callable[[], float]] = None,
    clock_skew: float = 0.0,
) -> str:
    """``url`` with SigV4 query authentication (for a WebSocket upgrade request).

    The URL's own query parameters are kept (re-encoded canonically), followed
    by ``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``,
    ``X-Amz-Expires``, ``X-Amz-SignedHeaders`` (``host``), the session token as
    ``X-Amz-Security-Token`` (signed, as the services expect) and last
    ``X-Amz-Signature``, which is the seed signature of the stream's events.
    The signing time is ``floor(clock() + clock_skew)``; the payload hash is
    that of an empty body.
    """
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise TypeError(f"expires must be an int number of seconds, got {expires!r}")
    if not 1 <= expires <= _MAX_PRESIGN_EXPIRES:
        raise ValueError(f"expires must be 1 to {_MAX_PRESIGN_EXPIRES} seconds, got {expires}")
    if not isinstance(method, str) or not method:
        raise TypeError(f"method must be a non-empty str, got {method!r}")
    region = _check_name(region, "region")
    service = _check_name(service, "service")
    scheme, host, path, query, fragment = _host(url)
    netloc = urlsplit(url).netloc
    seconds = _now(_check_clock(clock), _check_skew(clock_skew))
    creds = resolve_credentials(credentials)
    amz_date = _amz_date(seconds)

    params: List[Tuple[str, str]] = parse_qsl(query, keep_blank_values=True)
    auth: List[Tuple[str, str]] = [
        ("X-Amz-Algorithm", _ALGORITHM),
        ("X-Amz-Credential", f"{creds.access_key}/{_scope(amz_date[:8], region, service)}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if creds.session_token is not None:
        auth.append(("X-Amz-Security-Token", creds.session_token))
    every = params + auth
    canonical_request = "\n".join(
        (
            method.upper(),
            _canonical_uri(path),
            _canonical_query(every),
            f"host:{host}\n",
            "host",
            _EMPTY_SHA256,
        )
    )
    signature = _request_signature(creds, region, service, amz_date, canonical_request)
    query_text = "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in every)
    return urlunsplit((scheme, netloc, path, f"{query_text}&X-Amz-Signature={signature}", fragment))


# The query parameters that make a presigned URL a credential: the session token, and the
# signature that lets anyone holding the URL open the stream until it expires.
_URL_SECRETS = re.compile(r"([?&]X-Amz-(?:Security-Token|Signature)=)[^&#\s'\"]*", re.IGNORECASE)


def redact_url(text: str) -> str:
    """``text`` (a presigned URL, or a message quoting one) with the values of
    ``X-Amz-Security-Token`` and ``X-Amz-Signature`` replaced by ``<hidden>``.

    A presigned URL carries the session token and opens the stream until it
    expires: pass it, and any error that may quote it, through this before
    logging or printing.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    return _URL_SECRETS.sub(r"\1<hidden>", text)
