"""Common exception types that AWS services send inside event streams (data only).

Each entry gives the HTTP status the service's API reference lists for the
exception, whether that reference (or the service's retry guidance) says to
retry, and the page it comes from.  Names are matched case-insensitively:
Bedrock sends lower-camel member names (``throttlingException``), Transcribe
upper-camel ones (``BadRequestException``).  The table is advisory: an
unlisted name is normal, and a service may use a listed name differently.
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Tuple

__all__ = ["ExceptionType", "EXCEPTION_TYPES", "exception_type_info"]


class ExceptionType(NamedTuple):
    name: str  # as a service sends it in :exception-type (or :error-code)
    http_status: int  # the status code the API reference lists
    retryable: bool  # the reference says to retry (later, with backoff, or elsewhere)
    services: Tuple[str, ...]
    source: str  # where the status and the retry advice come from


_BEDROCK = "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ResponseStream.html"
_CONVERSE = (
    "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html"
)
_TRANSCRIBE = (
    "https://docs.aws.amazon.com/transcribe/latest/APIReference/"
    "API_streaming_TranscriptResultStream.html"
)
_BEDROCK_SERVICES = (
    "bedrock-runtime InvokeModelWithResponseStream",
    "bedrock-runtime ConverseStream",
)
_TRANSCRIBE_SERVICES = ("transcribe-streaming",)

_ENTRIES = (
    # Bedrock runtime: ResponseStream (InvokeModelWithResponseStream) and
    # ConverseStreamOutput list the same members with the same codes.
    ExceptionType(
        "internalServerException", 500, True, _BEDROCK_SERVICES, f"{_BEDROCK}; {_CONVERSE}"
    ),
    ExceptionType(
        "modelStreamErrorException", 424, True, _BEDROCK_SERVICES, f"{_BEDROCK}; {_CONVERSE}"
    ),
    # The reference gives no retry advice for a model timeout.
    ExceptionType("modelTimeoutException", 408, False, _BEDROCK_SERVICES[:1], _BEDROCK),
    ExceptionType(
        "serviceUnavailableException",
        503,
        True,
        _BEDROCK_SERVICES + _TRANSCRIBE_SERVICES,
        f"{_BEDROCK}; {_CONVERSE}; {_TRANSCRIBE}",
    ),
    ExceptionType("throttlingException", 429, True, _BEDROCK_SERVICES, f"{_BEDROCK}; {_CONVERSE}"),
    ExceptionType("validationException", 400, False, _BEDROCK_SERVICES, f"{_BEDROCK}; {_CONVERSE}"),
    # Amazon Transcribe streaming: TranscriptResultStream.
    ExceptionType("BadRequestException", 400, False, _TRANSCRIBE_SERVICES, _TRANSCRIBE),
    # "A new stream started with the same session ID": retrying would end the other one.
    ExceptionType("ConflictException", 409, False, _TRANSCRIBE_SERVICES, _TRANSCRIBE),
    ExceptionType("InternalFailureException", 500, True, _TRANSCRIBE_SERVICES, _TRANSCRIBE),
    # "try your request again using an exponential backoff strategy".
    ExceptionType("LimitExceededException", 429, True, _TRANSCRIBE_SERVICES, _TRANSCRIBE),
)

EXCEPTION_TYPES: Dict[str, ExceptionType] = {entry.name.lower(): entry for entry in _ENTRIES}
"""The entries, keyed by lower-cased name."""


def exception_type_info(name: Optional[str]) -> Optional[ExceptionType]:
    """The table's entry for an ``:exception-type`` (or ``:error-code``), or ``None``."""
    if not name:
        return None
    return EXCEPTION_TYPES.get(name.lower())
