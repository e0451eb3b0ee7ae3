"""A drop-in for botocore's ``EventStreamBuffer``, checked against botocore itself.

Code written against ``botocore.eventstream.EventStreamBuffer`` (``add_data``,
then iterate for messages with ``.headers``, ``.payload`` and
``.to_response_dict()``) keeps working with :class:`EventStreamBuffer` below,
which is a thin layer over ``eventstream.Decoder``.  The script decodes the
sample Transcribe capture in 509-byte chunks with both and compares them.

    python examples/botocore_buffer.py [capture.eventstream]
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import eventstream

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "transcribe-session.eventstream"


class EventStreamMessage:
    """What botocore's buffer yields: ``headers`` as a dict, ``payload`` as bytes."""

    def __init__(self, message: eventstream.Message) -> None:
        # botocore gives UUID values as their 16 raw bytes.
        self.headers: Dict[str, Any] = {
            h.name: h.value.bytes if isinstance(h.value, uuid.UUID) else h.value
            for h in reversed(message.headers)  # the first of a duplicated name wins
        }
        self.payload = message.payload

    def to_response_dict(self, status_code: int = 200) -> Dict[str, Any]:
        if self.headers.get(":message-type") in ("error", "exception"):
            status_code = 400
        return {"status_code": status_code, "headers": self.headers, "body": self.payload}


class EventStreamBuffer:
    """``add_data(chunk)``, then iterate: the messages completed so far."""

    def __init__(self) -> None:
        self._decoder = eventstream.Decoder()
        self._ready: List[eventstream.Message] = []

    def add_data(self, data: bytes) -> None:
        self._ready += self._decoder.feed(data)

    def __iter__(self) -> Iterator[EventStreamMessage]:
        while self._ready:
            yield EventStreamMessage(self._ready.pop(0))

    def close(self) -> None:
        """What botocore lacks: raise TruncatedStreamError if a message was cut off."""
        self._decoder.close()


def decode_with(buffer_class: Any, data: bytes, size: int = 509) -> List[Dict[str, Any]]:
    buffer = buffer_class()
    out = []
    for start in range(0, len(data), size):
        buffer.add_data(data[start : start + size])
        out += [message.to_response_dict() for message in buffer]
    return out


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else SAMPLE).read_bytes()
    ours = decode_with(EventStreamBuffer, data)
    print(f"eventstream: {len(ours)} messages")
    try:
        import botocore.eventstream
    except ImportError:
        print("botocore is not installed: nothing to compare with")
        return
    theirs = decode_with(botocore.eventstream.EventStreamBuffer, data)
    print(f"botocore:    {len(theirs)} messages")
    assert ours == theirs, "the two buffers disagree"
    print("identical headers, payloads and status codes")

    # What differs: a cut-off tail is reported, not silently dropped.
    buffer = EventStreamBuffer()
    buffer.add_data(data[:-5])
    list(buffer)
    try:
        buffer.close()
    except eventstream.TruncatedStreamError as error:
        print(f"truncated tail reported: {error}")


if __name__ == "__main__":
    main()
