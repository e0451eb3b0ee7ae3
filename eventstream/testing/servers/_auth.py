"""Server-side SigV4 checks: a presigned WebSocket URL, a signed HTTP/2 request, a chain of
signed event frames.

:mod:`eventstream.sigv4` has no verifier for requests, so the URL and request checks re-sign
what the client sent with its public functions (:func:`~eventstream.sigv4.presign_url`,
:func:`~eventstream.sigv4.sign_request`) at the client's stated time and compare in constant
time; the event chain is checked by :class:`~eventstream.sigv4.EventVerifier`.  Failures
carry the HTTP status, the service's error type and message; secrets never appear in them.
"""

from __future__ import annotations

import calendar
import hmac
import time
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple, Union
from urllib.parse import parse_qsl, quote, urlsplit

from ...sigv4 import (
    Credentials,
    EventVerifier,
    VerificationError,
    presign_url,
    sign_request,
)
from ...types import Message

__all__ = ["AuthError", "EventChain", "check_presigned_url", "check_signed_request"]

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


class AuthError(Exception):
    """A request the service refuses: ``status``, ``error_type`` and the service's message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


class Verified(NamedTuple):
    seed_signature: str
    credentials: Credentials


def _parse_amz_date(text: str) -> int:
    try:
        return calendar.timegm(time.strptime(text, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        raise AuthError(
            400, "IncompleteSignatureException", f"Date must be in ISO-8601 basic format: {text!r}"
        ) from None


def _amz(seconds: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))


def _check_time(signed_at: int, now: float, window: float, expires: Optional[int]) -> None:
    if expires is not None and now > signed_at + expires:
        raise AuthError(
            403,
            "InvalidSignatureException",
            f"Signature expired: {_amz(signed_at + expires)} is now earlier than {_amz(now)}.",
        )
    if signed_at - now > window:
        raise AuthError(
            403,
            "InvalidSignatureException",
            f"Signature not yet current: {_amz(signed_at)} is still later than "
            f"{_amz(now + window)} ({_amz(now)} + {window / 60:g} min.)",
        )
    if expires is None and now - signed_at > window:
        raise AuthError(
            403,
            "InvalidSignatureException",
            f"Signature expired: {_amz(signed_at)} is now earlier than "
            f"{_amz(now - window)} ({_amz(now)} - {window / 60:g} min.)",
        )


def _check_scope(
    credential: str, credentials: Credentials, region: str, service: str
) -> Tuple[str, str]:
    """(access key, date) of a ``AKID/YYYYMMDD/region/service/aws4_request`` scope."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthError(
            403, "IncompleteSignatureException", f"Credential is malformed: {credential!r}"
        )
    access_key, date, got_region, got_service, _ = parts
    if access_key != credentials.access_key:
        raise AuthError(403, "UnrecognizedClientException", INVALID_TOKEN)
    if got_region != region:
        raise AuthError(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{got_region}'.",
        )
    if got_service != service:
        raise AuthError(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{service}'.",
        )
    return access_key, date


def _session_credentials(credentials: Credentials, token: Optional[str]) -> Credentials:
    """The credentials the client must have signed with, given the token it sent."""
    if (token or None) != credentials.session_token:
        raise AuthError(403, "UnrecognizedClientException", INVALID_TOKEN)
    return credentials


def check_presigned_url(
    target: str,
    host: str,
    credentials: Credentials,
    region: str,
    service: str,
    *,
    now: float,
    max_expires: int = 300,
    window: float = 300.0,
) -> Verified:
    """Check a presigned request target (``/path?query``) as received with ``host``."""
    parts = urlsplit(target)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    auth: Dict[str, str] = {}
    params: List[Tuple[str, str]] = []
    for key, value in pairs:
        if key.startswith("X-Amz-"):
            auth[key] = value
        else:
            params.append((key, value))
    required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires")
    missing = [k for k in (*required, "X-Amz-SignedHeaders", "X-Amz-Signature") if k not in auth]
    if missing:
        raise AuthError(
            403,
            "MissingAuthenticationTokenException",
            f"Missing Authentication Token (the URL lacks {', '.join(missing)})",
        )
    if auth["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise AuthError(
            403, "IncompleteSignatureException", "X-Amz-Algorithm must be AWS4-HMAC-SHA256."
        )
    _check_scope(auth["X-Amz-Credential"], credentials, region, service)
    signed_at = _parse_amz_date(auth["X-Amz-Date"])
    if auth["X-Amz-Credential"].split("/")[1] != auth["X-Amz-Date"][:8]:
        raise AuthError(
            403, "InvalidSignatureException", "The credential date is not X-Amz-Date's."
        )
    try:
        expires = int(auth["X-Amz-Expires"])
    except ValueError:
        raise AuthError(
            403, "InvalidSignatureException", "X-Amz-Expires must be a number."
        ) from None
    if not 1 <= expires <= max_expires:
        raise AuthError(
            403,
            "InvalidSignatureException",
            f"X-Amz-Expires must be between 1 and {max_expires} seconds, got {expires}.",
        )
    _check_time(signed_at, now, window, expires)
    if auth["X-Amz-SignedHeaders"] != "host":
        raise AuthError(
            403,
            "InvalidSignatureException",
            "A WebSocket request can sign only the host header (X-Amz-SignedHeaders=host).",
        )
    creds = _session_credentials(credentials, auth.get("X-Amz-Security-Token"))
    query = "&".join(f"{_q(k)}={_q(v)}" for k, v in params)
    url = f"http://{host}{parts.path}" + (f"?{query}" if query else "")
    expected_url = presign_url(
        url,
        creds,
        region,
        service,
        expires=expires,
        clock=lambda: float(signed_at),
    )
    expected = expected_url.rsplit("X-Amz-Signature=", 1)[1]
    if not hmac.compare_digest(expected.encode(), auth["X-Amz-Signature"].encode()):
        raise AuthError(403, "InvalidSignatureException", SIGNATURE_MISMATCH)
    return Verified(expected, creds)


def _q(text: str) -> str:
    return quote(text, safe="-_.~")


def check_signed_request(
    method: str,
    authority: str,
    path: str,
    headers: Mapping[str, str],
    credentials: Credentials,
    region: str,
    service: str,
    *,
    now: float,
    window: float = 300.0,
) -> Verified:
    """Check the ``Authorization`` header of a request (lower-case header names)."""
    authorization = headers.get("authorization")
    if not authorization:
        raise AuthError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    algorithm, _, rest = authorization.partition(" ")
    fields = dict(part.strip().partition("=")[::2] for part in rest.split(","))
    if algorithm != "AWS4-HMAC-SHA256" or not all(
        k in fields for k in ("Credential", "SignedHeaders", "Signature")
    ):
        raise AuthError(
            403,
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "with the AWS4-HMAC-SHA256 algorithm.",
        )
    _check_scope(fields["Credential"], credentials, region, service)
    amz_date = headers.get("x-amz-date", "")
    signed_at = _parse_amz_date(amz_date)
    _check_time(signed_at, now, window, None)
    creds = _session_credentials(credentials, headers.get("x-amz-security-token"))
    names = fields["SignedHeaders"].split(";")
    if "host" not in names:
        raise AuthError(403, "InvalidSignatureException", "The host header must be signed.")
    signed = {name: headers[name] for name in names if name in headers and name != "host"}
    signed["host"] = authority
    payload_hash = headers.get("x-amz-content-sha256", "")
    result = sign_request(
        method,
        f"http://{authority}{path}",
        creds,
        region,
        service,
        headers=signed,
        payload_hash=payload_hash or "UNSIGNED-PAYLOAD",
        clock=lambda: float(signed_at),
    )
    expected_names = result.headers["authorization"].split("SignedHeaders=", 1)[1].split(",")[0]
    if expected_names != fields["SignedHeaders"] or not payload_hash:
        raise AuthError(
            403,
            "InvalidSignatureException",
            f"{SIGNATURE_MISMATCH} (the test server re-signs the headers "
            f"{expected_names}; the request signed {fields['SignedHeaders']})",
        )
    if not hmac.compare_digest(result.signature.encode(), fields["Signature"].encode()):
        raise AuthError(403, "InvalidSignatureException", SIGNATURE_MISMATCH)
    return Verified(result.signature, creds)


class ChainError(Exception):
    """A signed frame that the service refuses, with the service's exception."""

    def __init__(self, exception_type: str, message: str) -> None:
        super().__init__(message)
        self.exception_type = exception_type
        self.message = message


class EventChain:
    """Verifies the chain of signed frames of one stream, as the service does.

    :class:`~eventstream.sigv4.EventVerifier` does the checking; this maps its reasons to
    the service's exceptions.  Like the service, it accepts a ``:date`` with milliseconds
    (the official Python SDK, ``amazon-transcribe``, writes one by default).
    """

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        service: str,
        seed_signature: str,
        *,
        clock: Callable[[], float] = time.time,
        window: float = 300.0,
    ) -> None:
        self._window = window
        self._verifier = EventVerifier(
            credentials,
            region,
            service,
            seed_signature,
            max_skew=window,
            clock=clock,
            allow_milliseconds=True,
        )

    @property
    def ended(self) -> bool:
        return self._verifier.ended

    @property
    def frames(self) -> int:
        return self._verifier.frames_checked

    def check(self, data: Union[Message, bytes]) -> Optional[Message]:
        """The inner event of a signed frame, or ``None`` for the empty end frame."""
        try:
            return self._verifier.check(data)
        except VerificationError as exc:
            raise ChainError("BadRequestException", self._service_message(exc)) from None

    def _service_message(self, error: VerificationError) -> str:
        reason = error.reason
        if reason == "after_end":
            return "An event was sent after the empty end frame."
        if reason in ("missing_signature", "missing_date"):
            return "Each event must be signed: ':date' (timestamp) and ':chunk-signature' headers."
        if reason == "clock_skew":
            return (
                f"Signature expired: the event's date is more than {self._window / 60:g} min. "
                "from the server's clock."
            )
        if reason == "malformed":
            return f"Could not decode the signed event: {error}"
        return SIGNATURE_MISMATCH
