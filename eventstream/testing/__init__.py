"""Test an event-stream client without an AWS account.

- Builders of realistic messages (:mod:`eventstream.testing.builders`) and stream mutators
  (:mod:`eventstream.testing.mutators`) need only the standard library.
- Offline servers that behave like Transcribe streaming and Bedrock's response streams,
  ``TranscribeServer`` and ``BedrockServer``, need the ``server`` extra
  (``pip install 'eventstream[server]'``); they are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .builders import (
    audio_event,
    bedrock_chunk,
    bedrock_event,
    converse_stream,
    error,
    event,
    exception,
    initial_response,
    invoke_stream,
    padding,
    signed_frame,
    signed_frames,
    stream,
    transcript_event,
    transcript_item,
    transcript_result,
)
from .mutators import (
    corrupt_message_crc,
    corrupt_prelude_crc,
    cut,
    cut_mid_frame,
    flip_bit,
    frame_spans,
    html_error_page,
    json_error_body,
    random_splits,
    splice,
    splice_error,
    splice_exception,
    split_at,
    splits,
)

if TYPE_CHECKING:
    from .servers.bedrock import BedrockServer
    from .servers.transcribe import TranscribeServer

_SERVERS = {"TranscribeServer": "transcribe", "BedrockServer": "bedrock"}


def __getattr__(name: str) -> Any:
    # The servers need third-party protocol libraries: import them only when asked for.
    module = _SERVERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".servers.{module}", __name__), name)


__all__ = [
    "BedrockServer",
    "TranscribeServer",
    # builders
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
    # mutators
    "corrupt_message_crc",
    "corrupt_prelude_crc",
    "cut",
    "cut_mid_frame",
    "flip_bit",
    "frame_spans",
    "html_error_page",
    "json_error_body",
    "random_splits",
    "splice",
    "splice_error",
    "splice_exception",
    "split_at",
    "splits",
]
