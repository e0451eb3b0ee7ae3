"""Checking the ``:chunk-signature`` chain of a signed stream (SigV4 event signing).

With ``--seed-signature`` (the signature of the request that opened the
stream), every frame that carries a ``:chunk-signature`` is verified in order
by :class:`eventstream.sigv4.EventVerifier`; a frame that fails, and a stream
that ends without its signed empty end frame, are faults like any other.
Credentials come from the environment (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), never from the command line,
and no secret appears in any message.
"""

from __future__ import annotations

from typing import Optional

from eventstream import sigv4

from .errors import usage_error
from .frames import Frame
from .scan import Fault


class ChainCheck:
    """One verifier for the signed frames of one input (across a capture's parts)."""

    def __init__(self, seed_signature: str, region: str, service: str) -> None:
        try:
            credentials = sigv4.Credentials.from_env()
            self.verifier = sigv4.EventVerifier(credentials, region, service, seed_signature)
        except (sigv4.SigningError, TypeError, ValueError) as exc:
            raise usage_error(f"cannot check the signatures: {exc}") from None
        self.failed = False
        self.checked = 0

    def check(self, frame: Frame) -> Optional[Fault]:
        if frame.message.headers.get(":chunk-signature") is None:
            return None
        self.checked += 1
        try:
            self.verifier.check_payload(frame.raw)
        except sigv4.VerificationError as exc:
            self.failed = True
            return Fault(
                f"signature_{exc.reason}",
                frame.offset,
                frame.offset,
                f"chunk signature chain: {exc} (the message starting at byte {frame.offset})",
                frame.number,
                True,
            )
        return None

    def finish(self, position: int, number: int) -> Optional[Fault]:
        """The fault of a stream that ended without its end frame, if it did."""
        if self.failed:
            return None
        try:
            self.verifier.finish()
        except sigv4.VerificationError as exc:
            return Fault(
                f"signature_{exc.reason}",
                position,
                position,
                f"chunk signature chain: {exc} (at byte {position}, the end of the input)",
                number,
                False,
            )
        return None
