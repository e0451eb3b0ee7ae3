"""Differential tests of eventstream.sigv4 against the AWS implementations, on random inputs.

Event signatures are compared with ``amazon_transcribe.eventstream.EventSigner`` (the official
Python Transcribe SDK); presigned URLs and request headers with botocore's ``SigV4QueryAuth`` and
``SigV4Auth``, at the same signing time.  Both are test-only dependencies (the ``test`` extra).
amazon-transcribe needs awscrt, which has no PyPy wheel (building it from source takes longer
than the whole CI run), so the extra installs it on CPython only and its comparison is skipped
only when it is absent under PyPy; on CPython a missing module fails the test.
"""

from __future__ import annotations

import datetime
import platform
import string
from typing import Any, Optional, Tuple
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eventstream
from eventstream.sigv4 import (
    STREAMING_EVENTS_PAYLOAD,
    Credentials,
    EventSigner,
    chunk_signature,
    date_header_bytes,
    presign_url,
    sign_request,
)

botocore_auth = pytest.importorskip("botocore.auth", reason="botocore is in the test extra")
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials as BotoCredentials  # noqa: E402

try:
    from amazon_transcribe.auth import Credentials as TranscribeCredentials
    from amazon_transcribe.eventstream import EventSigner as TranscribeEventSigner
    from amazon_transcribe.eventstream import EventStreamMessageSerializer
except ImportError:
    if platform.python_implementation() == "CPython":
        raise  # the test extra installs it on CPython: missing is a broken environment
    TranscribeEventSigner = None  # type: ignore[assignment,misc]

# PyPy runs these several times slower (no JIT warm-up in so few examples): fewer there.
SCALE = 1.0 if platform.python_implementation() == "CPython" else 0.3


def examples(count: int) -> int:
    return max(10, int(count * SCALE))


needs_transcribe_sdk = pytest.mark.skipif(
    TranscribeEventSigner is None,
    reason="amazon-transcribe needs awscrt, which has no PyPy wheel; the test extra installs "
    "it on CPython only, where this comparison runs",
)

# ---------------------------------------------------------------- strategies

KEY_CHARS = string.ascii_letters + string.digits + "/+=_-"
access_keys = st.text(string.ascii_uppercase + string.digits, min_size=4, max_size=24)
secrets = st.text(KEY_CHARS, min_size=1, max_size=48)
tokens = st.one_of(st.none(), st.text(KEY_CHARS, min_size=8, max_size=120))
regions = st.one_of(
    st.sampled_from(["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1", "us-gov-west-1"]),
    st.from_regex(r"[a-z]{2}-[a-z]{4,9}-[1-9]", fullmatch=True),
)
services = st.sampled_from(
    ["transcribe", "transcribestreaming", "bedrock", "sagemaker", "lex", "polly", "demo"]
)
DAY = 86400
# Seconds since the epoch, often within two seconds of a midnight (the signing key changes there).
times = st.one_of(
    st.integers(0, 4_102_444_800),
    st.builds(lambda day, off: day * DAY + off, st.integers(1, 47_000), st.integers(-2, 2)),
)
fractions = st.sampled_from([0.0, 0.001, 0.5, 0.999999])
# Mostly short payloads, some up to 64 KiB (a large audio chunk).
payloads = st.one_of(
    st.binary(max_size=64),
    st.integers(0, 64 * 1024).map(lambda n: bytes(i % 251 for i in range(n))),
)
seeds = st.binary(min_size=32, max_size=32)


def _credentials(access: str, secret: str, token: Optional[str]) -> Credentials:
    return Credentials(access, secret, token)


def _utc(seconds: int) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        seconds=seconds
    )


def _boto_now(seconds: int) -> Any:
    naive = _utc(seconds).replace(tzinfo=None)
    return mock.patch.object(botocore_auth, "get_current_datetime", lambda *a, **k: naive)


# ---------------------------------------------------------------- event signatures


@needs_transcribe_sdk
@settings(max_examples=examples(60), deadline=None)
@given(
    access=access_keys,
    secret=secrets,
    token=tokens,
    region=regions,
    service=services,
    start=times,
    fraction=fractions,
    seed=seeds,
    chain=st.lists(st.tuples(payloads, st.integers(0, 90_000)), min_size=1, max_size=3),
)
def test_event_signatures_equal_amazon_transcribe(
    access: str,
    secret: str,
    token: Optional[str],
    region: str,
    service: str,
    start: int,
    fraction: float,
    seed: bytes,
    chain: Tuple[Tuple[bytes, int], ...],
) -> None:
    ours = _credentials(access, secret, token)
    theirs = TranscribeCredentials(access, secret, token)
    now = [start]
    their_signer = TranscribeEventSigner(service, region, utc_now=lambda: _utc(now[0]))
    our_signer = EventSigner(ours, region, service, seed.hex(), clock=lambda: now[0] + fraction)
    serializer = EventStreamMessageSerializer()
    prior = seed
    for payload, step in chain:
        now[0] += step
        their_headers = their_signer.sign(payload, prior, theirs)
        expected = their_headers[":chunk-signature"]
        date_bytes = serializer.encode_headers({":date": their_headers[":date"]})
        assert date_bytes == date_header_bytes(now[0])
        assert (
            chunk_signature(
                ours, region, service, now[0] + fraction, prior.hex(), date_bytes, payload
            )
            == expected
        )
        frame = our_signer.sign(payload) if payload else our_signer.end()
        outer = eventstream.decode(frame)
        assert outer.headers[":chunk-signature"] == expected
        assert outer.headers[":date"] == now[0] * 1000
        assert outer.payload == payload
        prior = expected
        if not payload:
            break


# ---------------------------------------------------------------- presigned URLs

param_names = st.sampled_from(
    [
        "language-code",
        "media-encoding",
        "sample-rate",
        "vocabulary-name",
        "session-id",
        "show-speaker-label",
        "partial-results-stability",
        "pii-entity-types",
    ]
)
param_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
hosts = st.sampled_from(
    [
        "wss://transcribestreaming.{region}.amazonaws.com:8443",
        "wss://transcribestreaming.{region}.amazonaws.com",
        "https://runtime.{region}.example.com",
        "http://127.0.0.1:8081",
        "ws://LocalHost:9000",
    ]
)
paths = st.sampled_from(
    ["/stream-transcription-websocket", "/", "", "/a/b/../c", "/with%20space", "/a//b/"]
)


@settings(max_examples=examples(150), deadline=None)
@given(
    access=access_keys,
    secret=secrets,
    token=tokens,
    region=regions,
    service=services,
    when=times,
    fraction=fractions,
    host=hosts,
    path=paths,
    params=st.dictionaries(param_names, param_values, max_size=4),
    expires=st.integers(1, 604_800),
)
def test_presigned_urls_equal_botocore(
    access: str,
    secret: str,
    token: Optional[str],
    region: str,
    service: str,
    when: int,
    fraction: float,
    host: str,
    path: str,
    params: dict,
    expires: int,
) -> None:
    from urllib.parse import quote

    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
    url = host.format(region=region) + path + ("?" + query if query else "")
    ours = presign_url(
        url,
        _credentials(access, secret, token),
        region,
        service,
        expires=expires,
        clock=lambda: when + fraction,
    )
    request = AWSRequest(method="GET", url=url)
    with _boto_now(when):
        botocore_auth.SigV4QueryAuth(
            BotoCredentials(access, secret, token), service, region, expires=expires
        ).add_auth(request)
    assert ours == request.url


# ---------------------------------------------------------------- request headers

header_names = st.sampled_from(
    [
        "content-type",
        "x-amzn-transcribe-language-code",
        "x-amzn-transcribe-sample-rate",
        "X-Amz-Target",
        "User-Agent",
        "x-amzn-transcribe-session-id",
    ]
)
header_values = st.text(string.ascii_letters + string.digits + " .;=/-", min_size=1, max_size=30)


@settings(max_examples=examples(150), deadline=None)
@given(
    access=access_keys,
    secret=secrets,
    token=tokens,
    region=regions,
    service=services,
    when=times,
    host=hosts,
    path=paths,
    method=st.sampled_from(["POST", "GET", "PUT"]),
    headers=st.dictionaries(header_names, header_values, max_size=5),
)
def test_request_headers_equal_botocore(
    access: str,
    secret: str,
    token: Optional[str],
    region: str,
    service: str,
    when: int,
    host: str,
    path: str,
    method: str,
    headers: dict,
) -> None:
    url = host.format(region=region) + path
    ours = sign_request(
        method,
        url,
        _credentials(access, secret, token),
        region,
        service,
        headers=headers,
        clock=lambda: when,
    )
    request = AWSRequest(
        method=method,
        url=url,
        headers={**headers, "X-Amz-Content-SHA256": STREAMING_EVENTS_PAYLOAD},
        data=b"",
    )
    with _boto_now(when):
        botocore_auth.SigV4Auth(BotoCredentials(access, secret, token), service, region).add_auth(
            request
        )
    assert ours.headers["authorization"] == request.headers["Authorization"]
    assert ours.headers["x-amz-date"] == request.headers["X-Amz-Date"]
    assert ours.headers.get("x-amz-security-token") == request.headers.get("X-Amz-Security-Token")
    assert ours.headers["x-amz-content-sha256"] == STREAMING_EVENTS_PAYLOAD
    assert ours.signature == request.headers["Authorization"].rsplit("Signature=", 1)[1]
