"""Behaviour of eventstream.sigv4: the end frame, the chain, clocks, credentials, secrets."""

from __future__ import annotations

import copy
import logging
import pickle
from typing import Any, Callable, Iterator, List, Optional
from urllib.parse import parse_qs, urlsplit

import pytest

import eventstream
from eventstream import Header, HeaderType, Message
from eventstream.sigv4 import (
    STREAMING_EVENTS_PAYLOAD,
    Credentials,
    CredentialsError,
    EventSigner,
    EventVerifier,
    MissingEndFrameError,
    SignerClosedError,
    SigningError,
    VerificationError,
    chunk_signature,
    date_header_bytes,
    presign_url,
    redact_url,
    resolve_credentials,
    sign_request,
)

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENsecret"
SEED = "9d9ab996c81f32c9d4e6fc166c92584f3741d1cb5ce325cd11a77d1f962c8de2"
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def creds(token: Optional[str] = TOKEN) -> Credentials:
    return Credentials("AKIDEXAMPLE", SECRET, token)


def fixed(seconds: float) -> Callable[[], float]:
    return lambda: seconds


def event(n: int) -> Message:
    return Message({":event-type": "AudioEvent", ":message-type": "event"}, bytes([n]) * n)


def signer(**kwargs: Any) -> EventSigner:
    kwargs.setdefault("clock", fixed(T0 + 0.5))
    return EventSigner(creds(), "us-east-1", "transcribe", SEED, **kwargs)


def verifier(**kwargs: Any) -> EventVerifier:
    return EventVerifier(creds(), "us-east-1", "transcribe", SEED, **kwargs)


def signed_stream(count: int = 3) -> List[bytes]:
    s = signer()
    return [s.sign(event(n)) for n in range(1, count + 1)] + [s.end()]


# ---------------------------------------------------------------- the end frame


class Transport:
    def __init__(self, fail_after: Optional[int] = None) -> None:
        self.frames: List[bytes] = []
        self.fail_after = fail_after

    def send(self, frame: bytes) -> None:
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            raise ConnectionResetError("peer went away")
        self.frames.append(frame)


def test_context_manager_sends_the_end_frame() -> None:
    transport = Transport()
    with signer(send=transport.send) as s:
        for n in range(1, 4):
            s.send(event(n))
    assert len(transport.frames) == 4
    assert eventstream.decode(transport.frames[-1]).payload == b""
    v = verifier()
    assert [v.check(f) for f in transport.frames] == [event(1), event(2), event(3), None]
    v.finish()


def test_context_manager_sends_the_end_frame_when_the_loop_raises() -> None:
    transport = Transport()

    def microphone() -> Iterator[bytes]:
        yield b"\x01\x02"
        raise OSError("microphone unplugged")

    with pytest.raises(OSError, match="microphone unplugged"), signer(send=transport.send) as s:
        for chunk in microphone():
            s.send(chunk)
    assert s.ended
    assert len(transport.frames) == 2
    v = verifier()
    assert v.check_payload(transport.frames[0]) == b"\x01\x02"
    assert v.check_payload(transport.frames[1]) is None
    v.finish()


def test_a_dead_transport_does_not_hide_the_loop_error() -> None:
    transport = Transport(fail_after=1)
    with pytest.raises(ConnectionResetError), signer(send=transport.send) as s:
        s.send(event(1))
        s.send(event(2))  # the transport dies here; the end frame cannot go either
    assert s.ended


def test_context_manager_needs_a_send_callable() -> None:
    with pytest.raises(TypeError, match="send=callable"), signer():
        pass
    with pytest.raises(TypeError, match="send=callable"):
        signer().send(event(1))
    with pytest.raises(TypeError, match="send must be a callable"):
        signer(send="socket")


def test_frames_yields_the_end_frame_after_the_last_event() -> None:
    frames = list(signer().frames(event(n) for n in range(1, 4)))
    v = verifier()
    assert [v.check(f) for f in frames] == [event(1), event(2), event(3), None]
    v.finish()


def test_frames_yields_the_end_frame_when_the_source_raises() -> None:
    def source() -> Iterator[Message]:
        yield event(1)
        raise RuntimeError("encoder crashed")

    sent: List[bytes] = []
    with pytest.raises(RuntimeError, match="encoder crashed"):
        for frame in signer().frames(source()):
            sent.append(frame)
    assert len(sent) == 2
    v = verifier()
    v.check(sent[0])
    assert v.check(sent[1]) is None
    v.finish()


def test_frames_of_nothing_is_just_the_end_frame() -> None:
    frames = list(signer().frames([]))
    assert len(frames) == 1
    v = verifier()
    assert v.check(frames[0]) is None
    v.finish()


def test_sign_after_end_raises() -> None:
    s = signer()
    s.sign(event(1))
    s.end()
    with pytest.raises(SignerClosedError, match="end frame"):
        s.sign(event(2))
    with pytest.raises(SignerClosedError):
        s.end()
    assert s.events_signed == 2
    assert isinstance(SignerClosedError("x"), eventstream.EventStreamError)


def test_an_empty_payload_must_go_through_end() -> None:
    s = signer()
    with pytest.raises(SigningError, match=r"call end\(\)"):
        s.sign(b"")
    assert not s.ended


def test_sign_takes_messages_and_any_bytes() -> None:
    s = signer()
    v = verifier()
    encoded = eventstream.encode(event(2))
    assert v.check(s.sign(event(2))) == event(2)
    assert v.check(s.sign(bytearray(encoded))) == event(2)
    assert v.check(s.sign(memoryview(encoded))) == event(2)
    assert v.check_payload(s.sign(b"opaque")) == b"opaque"
    with pytest.raises(TypeError, match="event must be bytes-like, got str"):
        s.sign("text")  # type: ignore[arg-type]


# ---------------------------------------------------------------- clocks


def test_date_is_whole_seconds_of_clock_plus_skew() -> None:
    times = iter([T0 + 0.999, T0 + 1.2, T0 + 59.5])
    s = signer(clock=lambda: next(times), clock_skew=-1.5)
    dates = [eventstream.decode(s.sign(event(1))).headers[":date"] for _ in range(3)]
    assert dates == [(T0 - 1) * 1000, (T0 - 1) * 1000, (T0 + 58) * 1000]


def test_the_clock_is_read_for_every_event() -> None:
    now = [float(T0)]
    s = signer(clock=lambda: now[0])
    v = verifier()
    for step in range(5):
        now[0] = T0 + step * 86399.7  # across day boundaries: the signing key changes
        frame = s.sign(event(1))
        assert eventstream.decode(frame).headers[":date"] == int(now[0]) * 1000
        assert v.check(frame) == event(1)


def test_skew_moves_the_date_and_the_presigned_time_alike() -> None:
    skew = 3600.0 * 5 + 0.75

    def date_of(frame: bytes) -> int:
        return int(eventstream.decode(frame).headers[":date"]) // 1000

    clock = fixed(T0 + 0.5)
    url = presign_url(
        "wss://h.example:8443/p", creds(), "us-east-1", "transcribe", clock=clock, clock_skew=skew
    )
    request = sign_request(
        "POST",
        "https://h.example/p",
        creds(),
        "us-east-1",
        "transcribe",
        clock=clock,
        clock_skew=skew,
    )
    frame = request.event_signer(clock=clock, clock_skew=skew).sign(event(1))
    expected = "20231115T031321Z"  # floor(T0 + 0.5 + skew) = T0 + 18001
    assert parse_qs(urlsplit(url).query)["X-Amz-Date"] == [expected]
    assert request.headers["x-amz-date"] == expected
    assert date_of(frame) == T0 + 18001
    plain = presign_url("wss://h.example:8443/p", creds(), "us-east-1", "transcribe", clock=clock)
    assert parse_qs(urlsplit(plain).query)["X-Amz-Date"] == ["20231114T221320Z"]


def test_clock_errors_are_clear() -> None:
    with pytest.raises(TypeError, match="clock must be a callable"):
        signer(clock=12)
    with pytest.raises(TypeError, match=r"clock\(\) must return seconds"):
        signer(clock=lambda: "now").sign(event(1))
    with pytest.raises(TypeError, match="clock_skew must be a finite number"):
        signer(clock_skew=float("nan"))
    with pytest.raises(ValueError, match="must be finite"):
        signer(clock=lambda: float("inf")).sign(event(1))


# ---------------------------------------------------------------- credentials


def test_a_credentials_callable_is_called_once_per_stream() -> None:
    calls: List[int] = []

    def rotating() -> Credentials:
        calls.append(1)
        # A provider that rotates: every call gives another secret.
        return Credentials("AKIDEXAMPLE", f"{SECRET}{len(calls)}")

    s = EventSigner(rotating, "us-east-1", "transcribe", SEED, clock=fixed(T0))
    frames = [s.sign(event(n)) for n in range(1, 6)] + [s.end()]
    assert len(calls) == 1
    v = EventVerifier(Credentials("AKIDEXAMPLE", f"{SECRET}1"), "us-east-1", "transcribe", SEED)
    for frame in frames:
        v.check(frame)
    v.finish()

    v2 = EventVerifier(rotating, "us-east-1", "transcribe", SEED)
    assert len(calls) == 2
    with pytest.raises(VerificationError, match="wrong signature"):
        v2.check(frames[0])  # it got the rotated secret, once, and keeps it
    assert len(calls) == 2

    request = sign_request("POST", "https://h.example/", rotating, "us-east-1", "transcribe")
    assert len(calls) == 3
    s3 = request.event_signer(clock=fixed(T0))
    s3.sign(event(1))
    s3.end()
    assert len(calls) == 3  # the request's credentials are reused for its events

    presign_url("wss://h.example/", rotating, "us-east-1", "transcribe")
    assert len(calls) == 4


def test_credentials_provider_errors() -> None:
    def leaky() -> Credentials:
        raise RuntimeError(f"could not parse secret {SECRET}")

    with pytest.raises(CredentialsError, match="callable raised RuntimeError") as info:
        EventSigner(leaky, "us-east-1", "transcribe", SEED)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(CredentialsError, match="returned tuple, expected Credentials"):
        resolve_credentials(lambda: ("AKID", SECRET))  # type: ignore[arg-type,return-value]
    with pytest.raises(CredentialsError, match="got str"):
        resolve_credentials(SECRET)  # type: ignore[arg-type]
    with pytest.raises(CredentialsError, match="secret_key is empty"):
        Credentials("AKID", "")
    with pytest.raises(CredentialsError, match="secret_key must be str, got bytes"):
        Credentials("AKID", SECRET.encode())  # type: ignore[arg-type]


def test_credentials_from_env() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": SECRET}
    c = Credentials.from_env(env)
    assert (c.access_key, c.secret_key, c.session_token) == ("AKID", SECRET, None)
    c = Credentials.from_env({**env, "AWS_SESSION_TOKEN": TOKEN})
    assert c.session_token == TOKEN
    with pytest.raises(CredentialsError, match="AWS_SECRET_ACCESS_KEY not set"):
        Credentials.from_env({"AWS_ACCESS_KEY_ID": "AKID"})


def test_credentials_compare_and_refuse_pickling() -> None:
    assert creds() == creds()
    assert creds() != creds(token=None)
    assert creds() != Credentials("AKIDEXAMPLE", SECRET + "x", TOKEN)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(creds())
    c = creds()
    assert copy.copy(c) is c and copy.deepcopy({"c": c})["c"] is c


# ---------------------------------------------------------------- secrets never shown


def _everything_printable(caplog: pytest.LogCaptureFixture) -> List[str]:
    """Reprs, strs and error messages of every object and failure the module produces."""
    texts: List[str] = []
    c = creds()
    request = sign_request("POST", "https://h.example/", c, "us-east-1", "transcribe")
    s = request.event_signer(clock=fixed(T0))
    v = EventVerifier(c, "us-east-1", "transcribe", request.signature)
    texts += [repr(c), str(c), repr(request), str(request), repr(s), repr(v)]
    frames = [s.sign(event(1)), s.sign(event(2)), s.end()]
    texts += [repr(eventstream.decode(f)) for f in frames]

    def failure(call: Callable[[], object]) -> None:
        try:
            call()
        except Exception as exc:  # collect every error text
            texts.extend([str(exc), repr(exc)])
            if exc.__cause__ is not None:
                texts.append(str(exc.__cause__))
        else:
            raise AssertionError("expected a failure")

    failure(lambda: s.sign(event(3)))
    failure(lambda: EventVerifier(c, "us-east-1", "transcribe", SEED).check(frames[0]))
    failure(lambda: EventVerifier(c, "us-east-1", "transcribe", SEED).finish())
    failure(lambda: EventVerifier(lambda: 1, "us-east-1", "transcribe", SEED))  # type: ignore
    failure(lambda: chunk_signature(c, "us-east-1", "transcribe", T0, "XYZ", b"", b""))
    failure(lambda: presign_url("wss://h.example/", c, "us-east-1", "transcribe", expires=0))
    failure(lambda: sign_request("POST", "h.example", c, "us-east-1", "transcribe"))
    texts += [record.getMessage() for record in caplog.records]
    return texts


def test_no_secret_in_any_repr_log_or_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts = _everything_printable(caplog)
    assert len(texts) > 15
    for text in texts:
        assert SECRET not in text
        assert TOKEN not in text
        assert SECRET[:12] not in text
    assert "AKIDEXAMPLE" in repr(creds())
    assert "<hidden>" in repr(creds())


# ---------------------------------------------------------------- the verifier


def test_verifier_accepts_a_good_stream() -> None:
    frames = signed_stream()
    v = verifier()
    assert [v.check(f) for f in frames] == [event(1), event(2), event(3), None]
    v.finish()
    assert v.ended and v.frames_checked == 4


def test_verifier_rejects_a_reordered_chain() -> None:
    frames = signed_stream()
    v = verifier()
    v.check(frames[0])
    with pytest.raises(VerificationError, match="frame 2: wrong signature") as first:
        v.check(frames[2])
    assert (first.value.frame, first.value.reason) == (2, "signature_mismatch")
    with pytest.raises(VerificationError, match="frames 2 and 3 arrived in the wrong order") as e:
        v.check(frames[1])
    assert (e.value.frame, e.value.reason) == (2, "reordered")
    with pytest.raises(VerificationError, match="wrong order"):
        v.finish()


def test_verifier_rejects_an_altered_frame() -> None:
    frames = signed_stream()
    outer = eventstream.decode(frames[1])
    altered = eventstream.encode(Message(outer.headers, outer.payload[:-1] + b"\x00"))
    v = verifier()
    v.check(frames[0])
    with pytest.raises(VerificationError, match="frame 2: wrong signature"):
        v.check(altered)
    with pytest.raises(VerificationError, match="frame 2 was altered") as e:
        v.check(frames[2])
    assert e.value.reason == "altered"


def test_verifier_rejects_a_corrupted_frame() -> None:
    frames = signed_stream()
    corrupted = bytearray(frames[0])
    corrupted[-10] ^= 1
    with pytest.raises(VerificationError, match="frame 1: not a valid event-stream message") as e:
        verifier().check(bytes(corrupted))
    assert e.value.reason == "malformed"


def test_verifier_rejects_a_replayed_frame() -> None:
    frames = signed_stream()
    v = verifier()
    v.check(frames[0])
    v.check(frames[1])
    with pytest.raises(VerificationError, match=r"frame 3: replays frame 2") as e:
        v.check(frames[1])
    assert e.value.reason == "replayed"


def test_verifier_rejects_a_truncated_stream() -> None:
    frames = signed_stream()
    v = verifier()
    for frame in frames[:-1]:
        v.check(frame)
    with pytest.raises(MissingEndFrameError, match="stopped after frame 3 without") as e:
        v.finish()
    assert e.value.reason == "missing_end_frame"
    with pytest.raises(MissingEndFrameError, match="before any frame"):
        verifier().finish()


def test_verifier_rejects_frames_after_the_end() -> None:
    frames = signed_stream(1)
    v = verifier()
    v.check(frames[0])
    v.check(frames[1])
    with pytest.raises(VerificationError, match=r"frame 3: received after the end frame \(frame 2"):
        v.check(frames[0])


def _hand_signed(date_ms: int, payload: bytes, prior: str = SEED) -> bytes:
    """A frame signed over exactly the ``:date`` header it carries (milliseconds allowed)."""
    date = Header(":date", HeaderType.TIMESTAMP, date_ms)
    block = eventstream.encode(Message([date]))[12:-4]
    signature = chunk_signature(
        creds(), "us-east-1", "transcribe", date_ms // 1000, prior, block, payload
    )
    return eventstream.encode(
        Message([date, Header(":chunk-signature", HeaderType.BYTES, signature)], payload)
    )


def test_verifier_rejects_a_millisecond_date() -> None:
    good = _hand_signed(T0 * 1000, eventstream.encode(event(1)))
    assert verifier().check(good) == event(1)
    bad = _hand_signed(T0 * 1000 + 250, eventstream.encode(event(1)))
    with pytest.raises(VerificationError, match=r"frame 1: ':date' is \d+ ms, not whole") as e:
        verifier().check(bad)
    assert e.value.reason == "date_milliseconds"


def test_verifier_accepts_either_header_order() -> None:
    payload = eventstream.encode(event(1))
    signature = chunk_signature(
        creds(), "us-east-1", "transcribe", T0, SEED, date_header_bytes(T0), payload
    )
    frame = Message(
        [
            Header(":chunk-signature", HeaderType.BYTES, signature),
            Header(":date", HeaderType.TIMESTAMP, T0 * 1000),
        ],
        payload,
    )
    assert verifier().check(frame) == event(1)
    assert verifier().check(eventstream.encode(frame)) == event(1)


def test_verifier_names_missing_or_mistyped_headers() -> None:
    payload = eventstream.encode(event(1))
    sig = Header(":chunk-signature", HeaderType.BYTES, b"\x00" * 32)
    cases = [
        (
            Message([Header(":date", HeaderType.TIMESTAMP, T0 * 1000)], payload),
            "no ':chunk-signature' header",
        ),
        (Message([sig], payload), "no ':date' header"),
        (
            Message([sig, Header(":date", HeaderType.STRING, "now")], payload),
            "':date' is a STRING header",
        ),
        (
            Message(
                [
                    Header(":date", HeaderType.TIMESTAMP, T0 * 1000),
                    Header(":chunk-signature", HeaderType.BYTES, b"\x00" * 31),
                ],
                payload,
            ),
            "of 31 bytes",
        ),
    ]
    for frame, text in cases:
        with pytest.raises(VerificationError, match=text):
            verifier().check(frame)
    with pytest.raises(TypeError, match="frame must be bytes or Message, got str"):
        verifier().check("frame")  # type: ignore[arg-type]


def test_verifier_max_skew() -> None:
    frames = signed_stream()  # dated T0
    v = verifier(max_skew=300, clock=fixed(T0 + 200))
    assert v.check(frames[0]) == event(1)
    v = verifier(max_skew=300, clock=fixed(T0 + 400))
    with pytest.raises(VerificationError, match="400 s behind the verifier's clock") as e:
        v.check(frames[0])
    assert e.value.reason == "clock_skew"
    with pytest.raises(TypeError, match="max_skew"):
        verifier(max_skew=-1)


def test_wrong_credentials_region_service_or_seed_fail_at_frame_one() -> None:
    frame = signed_stream()[0]
    others = [
        EventVerifier(Credentials("AKIDEXAMPLE", "other"), "us-east-1", "transcribe", SEED),
        EventVerifier(creds(), "us-west-2", "transcribe", SEED),
        EventVerifier(creds(), "us-east-1", "transcribestreaming", SEED),
        EventVerifier(creds(), "us-east-1", "transcribe", "00" * 32),
    ]
    for v in others:
        with pytest.raises(VerificationError, match="does not chain from the seed signature"):
            v.check(frame)


# ---------------------------------------------------------------- arguments


def test_argument_errors_are_clear() -> None:
    with pytest.raises(TypeError, match=r"seed_signature must be hex text \(str\), got bytes"):
        EventSigner(creds(), "us-east-1", "transcribe", bytes(32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed_signature must be lowercase hex"):
        EventSigner(creds(), "us-east-1", "transcribe", SEED.upper())
    with pytest.raises(ValueError, match="region must be non-empty"):
        EventSigner(creds(), "", "transcribe", SEED)
    with pytest.raises(TypeError, match="service must be str"):
        EventSigner(creds(), "us-east-1", None, SEED)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="when must be seconds"):
        chunk_signature(creds(), "r", "s", "2020", SEED, b"", b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="headers_bytes must be bytes-like"):
        chunk_signature(creds(), "r", "s", T0, SEED, "h", b"")  # type: ignore[arg-type]


def test_repr_shows_progress() -> None:
    s = signer()
    s.sign(event(1))
    assert repr(s) == (
        "EventSigner(region='us-east-1', service='transcribe', events_signed=1, ended=False)"
    )
    assert s.signature != SEED and len(s.signature) == 64


def test_sign_request_headers() -> None:
    request = sign_request(
        "post",
        "https://transcribestreaming.us-east-1.amazonaws.com:8443/stream-transcription",
        creds(),
        "us-east-1",
        "transcribe",
        headers={
            "Content-Type": "application/vnd.amazon.eventstream",
            "User-Agent": "not signed",
            "x-amzn-transcribe-language-code": "en-US",
        },
        clock=fixed(T0),
    )
    headers = request.headers
    assert headers["x-amz-content-sha256"] == STREAMING_EVENTS_PAYLOAD
    assert headers["x-amz-security-token"] == TOKEN
    assert headers["user-agent"] == "not signed"
    assert (
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-security-token;x-amzn-transcribe-language-code," in headers["authorization"]
    )
    assert headers["authorization"].endswith(f"Signature={request.signature}")
    assert (
        "Credential=AKIDEXAMPLE/20231114/us-east-1/transcribe/aws4_request"
        in (headers["authorization"])
    )
    assert TOKEN not in repr(request)


def test_presign_url_layout() -> None:
    url = presign_url(
        "wss://transcribestreaming.us-east-1.amazonaws.com:8443/stream-transcription-websocket"
        "?language-code=en-US&sample-rate=16000",
        creds(),
        "us-east-1",
        "transcribe",
        clock=fixed(T0),
    )
    parts = urlsplit(url)
    assert parts.netloc == "transcribestreaming.us-east-1.amazonaws.com:8443"
    names = [pair.split("=")[0] for pair in parts.query.split("&")]
    assert names == [
        "language-code",
        "sample-rate",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ]
    query = parse_qs(parts.query)
    assert query["X-Amz-Security-Token"] == [TOKEN]
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Credential"] == ["AKIDEXAMPLE/20231114/us-east-1/transcribe/aws4_request"]
    with pytest.raises(ValueError, match="expires must be 1 to 604800"):
        presign_url(url, creds(), "us-east-1", "transcribe", expires=604801)
    with pytest.raises(ValueError, match="must not carry user information"):
        presign_url("wss://u:p@h.example/", creds(), "us-east-1", "transcribe")


def test_redact_url_hides_the_token_and_the_signature() -> None:
    url = presign_url(
        "wss://transcribestreaming.us-east-1.amazonaws.com:8443/stream-transcription-websocket"
        "?language-code=en-US",
        creds(),
        "us-east-1",
        "transcribe",
        clock=fixed(T0),
    )
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    hidden = redact_url(url)
    assert TOKEN not in hidden and signature not in hidden
    assert "X-Amz-Security-Token=<hidden>&" in hidden and hidden.endswith(
        "X-Amz-Signature=<hidden>"
    )
    assert hidden.split("X-Amz-Security-Token")[0] == url.split("X-Amz-Security-Token")[0]
    # Inside an error message that quotes the URL, in any letter case.
    message = f"{url.lower()} isn't a valid URI: scheme isn't ws or wss"
    assert TOKEN.lower() not in redact_url(message)
    assert redact_url(message).endswith("<hidden> isn't a valid URI: scheme isn't ws or wss")
    assert redact_url("no url here") == "no url here"
    with pytest.raises(TypeError, match="text must be str"):
        redact_url(b"bytes")  # type: ignore[arg-type]


def test_an_async_send_is_refused_not_silently_dropped() -> None:
    # send=ws.send of an asyncio client returns a coroutine: called and never awaited,
    # every frame, the end frame included, would silently not be sent.
    class AsyncTransport:
        def __init__(self) -> None:
            self.sent: List[bytes] = []

        async def send(self, frame: bytes) -> None:
            self.sent.append(frame)

    transport = AsyncTransport()
    with pytest.raises(TypeError, match="send returned an awaitable"):
        signer(send=transport.send)
    # A plain callable that returns an awaitable is caught at the first send.
    s = signer(send=lambda frame: transport.send(frame))
    with pytest.raises(TypeError, match="send returned an awaitable"), s:
        s.send(event(1))
    assert transport.sent == []
    assert s.events_signed == 2 and s.ended  # the end frame was signed, and refused too
