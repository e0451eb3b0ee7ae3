"""Every published SigV4 event-signing vector, reproduced byte for byte.

The vectors (tests/vectors/signing/eventstream_sigv4_vectors.json; sources and licences in
tests/vectors/SOURCE.txt, section 4) come from six SDK test suites.  Each event is checked
through ``chunk_signature``; the suites whose signed headers are just the ``:date`` of the
signing time are also replayed through ``EventSigner`` (signature, ``:date`` and payload of
every frame) and verified by ``EventVerifier``.
"""

from __future__ import annotations

import calendar
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import eventstream
from eventstream import HeaderType
from eventstream.sigv4 import (
    Credentials,
    EventSigner,
    EventVerifier,
    chunk_signature,
    date_header_bytes,
    sign_request,
)

VECTORS = Path(__file__).parent / "vectors" / "signing" / "eventstream_sigv4_vectors.json"
SUITES: List[Dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["suites"]


def _seconds(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def _credentials(suite: Dict[str, Any]) -> Credentials:
    creds = suite["credentials"]
    return Credentials(creds["access_key_id"], creds["secret_access_key"])


EVENTS: List[Tuple[str, int, Dict[str, Any], Dict[str, Any]]] = [
    (suite["id"], index, suite, event)
    for suite in SUITES
    for index, event in enumerate(suite["events"])
]


def _date_only(suite: Dict[str, Any]) -> bool:
    """True when every event's signed headers are exactly the ``:date`` of its signing time."""
    return all(
        bytes.fromhex(event["headers_hex"]) == date_header_bytes(_seconds(event["signing_time"]))
        for event in suite["events"]
    )


def test_the_vector_file_has_every_suite() -> None:
    assert len(SUITES) == 6
    assert len(EVENTS) == 15
    assert sum(event["signature_published"] for *_, event in EVENTS) == 13


@pytest.mark.parametrize(
    ("suite_id", "index", "suite", "event"),
    EVENTS,
    ids=[f"{suite_id}#{index}" for suite_id, index, _, _ in EVENTS],
)
def test_chunk_signature_reproduces_the_vector(
    suite_id: str, index: int, suite: Dict[str, Any], event: Dict[str, Any]
) -> None:
    signature = chunk_signature(
        _credentials(suite),
        suite["region"],
        suite["service"],
        _seconds(event["signing_time"]),
        event["prior_signature"],
        bytes.fromhex(event["headers_hex"]),
        bytes.fromhex(event["payload_hex"]),
    )
    assert signature.hex() == event["signature_hex"]
    assert len(signature) == 32


def test_the_events_of_each_suite_chain() -> None:
    for suite in SUITES:
        events = suite["events"]
        for before, after in zip(events, events[1:]):
            assert after["prior_signature"] == before["signature_hex"], suite["id"]


def test_a_callable_gives_the_same_signature() -> None:
    _, _, suite, event = EVENTS[0]
    args = (
        suite["region"],
        suite["service"],
        _seconds(event["signing_time"]),
        event["prior_signature"],
        bytes.fromhex(event["headers_hex"]),
        bytes.fromhex(event["payload_hex"]),
    )
    calls = []

    def provider() -> Credentials:
        calls.append(1)
        return _credentials(suite)

    assert chunk_signature(provider, *args).hex() == event["signature_hex"]
    assert calls == [1]


def test_fractional_seconds_are_floored() -> None:
    _, _, suite, event = EVENTS[0]
    when = _seconds(event["signing_time"]) + 0.999
    signature = chunk_signature(
        _credentials(suite),
        suite["region"],
        suite["service"],
        when,
        event["prior_signature"],
        bytes.fromhex(event["headers_hex"]),
        bytes.fromhex(event["payload_hex"]),
    )
    assert signature.hex() == event["signature_hex"]


DATE_ONLY_SUITES = [suite for suite in SUITES if _date_only(suite)]


def test_three_suites_sign_just_the_date() -> None:
    assert sorted(suite["id"].split("/")[0] for suite in DATE_ONLY_SUITES) == [
        "aws-c-auth",
        "aws-sdk-java-v2",
        "smithy-rs",
    ]


@pytest.mark.parametrize("suite", DATE_ONLY_SUITES, ids=[s["id"] for s in DATE_ONLY_SUITES])
def test_event_signer_reproduces_the_suite(suite: Dict[str, Any]) -> None:
    events = suite["events"]
    times = iter([_seconds(event["signing_time"]) + 0.25 for event in events])
    signer = EventSigner(
        _credentials(suite),
        suite["region"],
        suite["service"],
        events[0]["prior_signature"],
        clock=lambda: next(times),
    )
    verifier = EventVerifier(
        _credentials(suite), suite["region"], suite["service"], events[0]["prior_signature"]
    )
    for event in events:
        payload = bytes.fromhex(event["payload_hex"])
        frame = signer.sign(payload) if payload else signer.end()
        outer = eventstream.decode(frame)
        assert outer.headers.names() == [":date", ":chunk-signature"]
        assert outer.headers[0].type is HeaderType.TIMESTAMP
        assert outer.headers[":date"] == _seconds(event["signing_time"]) * 1000
        assert outer.headers[":chunk-signature"].hex() == event["signature_hex"]
        assert outer.payload == payload
        assert signer.signature == event["signature_hex"]
        assert verifier.check_payload(frame) == (payload or None)
    assert signer.ended == (events[-1]["payload_hex"] == "")
    if signer.ended:
        verifier.finish()


def test_aws_c_auth_request_signature_is_the_seed() -> None:
    suite = next(s for s in SUITES if s["id"].startswith("aws-c-auth"))
    request = suite["initial_request"]
    headers = dict(request["headers"])
    when = _seconds("1981-01-16T06:30:00Z")
    signed = sign_request(
        request["method"],
        "https://" + headers.pop("host") + request["path"],
        _credentials(suite),
        suite["region"],
        suite["service"],
        headers={"content-encoding": headers["content-encoding"]},
        clock=lambda: when,
    )
    assert signed.signature == request["signature_hex"]
    assert signed.headers["authorization"] == request["expected_authorization"]
    assert signed.headers["x-amz-date"] == headers["x-amz-date"]
    assert signed.headers["x-amz-content-sha256"] == headers["x-amz-content-sha256"]


def test_java_seed_reconstruction_matches_sign_request() -> None:
    suite = next(s for s in SUITES if s["id"].startswith("aws-sdk-java-v2"))
    when = _seconds("2020-01-01T23:59:59Z")
    signed = sign_request(
        "GET",
        "http://localhost:8080",
        _credentials(suite),
        suite["region"],
        suite["service"],
        clock=lambda: when,
    )
    assert signed.signature == suite["initial_request"]["signature_hex"]
    assert signed.signature == suite["events"][0]["prior_signature"]
